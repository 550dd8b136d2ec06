package tokens

import (
	"errors"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// FuzzSigV4 feeds VerifySigV4, ParseSigV4 and Detect requests made of an
// arbitrary method, request target (path and query), header block, host and
// body, seeded with valid SigV4 and SigV4a requests so that mutations reach
// the verification itself. Nothing may panic, results are one of the three
// values, and they agree with the errors.
func FuzzSigV4(f *testing.F) {
	m, fx, raws := loadSigV4aFixtures(f)
	creds := aws.Credentials{AccessKeyID: fx.KeyID, SecretAccessKey: fx.Secret}
	add := func(r *http.Request, body []byte) {
		var hs strings.Builder
		for k, vs := range r.Header {
			for _, v := range vs {
				hs.WriteString(k + ": " + v + "\n")
			}
		}
		f.Add(r.Method, r.RequestURI, hs.String(), r.Host, body, true)
	}
	for _, c := range sdkCases {
		add(serverView(f, onWire(f, c.sign(f, "honey.example.test", creds))))
	}
	for _, raw := range raws {
		add(serverView(f, raw))
	}
	f.Add("GET", "/?X-Amz-Credential="+fx.KeyID+"%2F2026%2Fs3%2Faws4_request&X-Amz-Signature=00", "", "h", []byte(nil), false)
	f.Add("GET", "/a/../b//c/./%zz?%zz=1;2&+=+", "Authorization: AWS4-HMAC-SHA256 Credential="+fx.KeyID+"/d/r/s/aws4_request,SignedHeaders=host;;x,Signature=00\n", "", []byte("x"), false)

	f.Fuzz(func(t *testing.T, method, target, headers, host string, body []byte, complete bool) {
		r := &http.Request{Method: method, RequestURI: target, Host: host, Header: http.Header{}, ContentLength: int64(len(body))}
		if !complete {
			r.ContentLength++
		}
		if u, err := url.ParseRequestURI(target); err == nil {
			r.URL = u
		} else {
			p, q, _ := strings.Cut(target, "?")
			r.URL = &url.URL{Path: p, RawQuery: q}
		}
		for line := range strings.SplitSeq(headers, "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			k = textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(k))
			r.Header[k] = append(r.Header[k], strings.TrimSpace(v))
		}

		a, perr := ParseSigV4(r)
		if errors.Is(perr, ErrNoSigV4) != (a == nil) {
			t.Fatalf("ParseSigV4 = %+v, %v", a, perr)
		}
		id, result, err := m.VerifySigV4(r, body, complete)
		switch result {
		case "", SignatureValid, SignatureInvalid:
		default:
			t.Fatalf("result %q", result)
		}
		if errors.Is(err, ErrNoSigV4) && (result != "" || id != "") {
			t.Fatalf("no signature, yet %q %q", id, result)
		}
		if result == SignatureValid && err != nil {
			t.Fatalf("valid with error %v", err)
		}
		if a != nil && id != a.AccessKeyID {
			t.Fatalf("key id %q, parsed %q", id, a.AccessKeyID)
		}
		if id2, result2, err2 := m.VerifySigV4(r, body, complete); id2 != id || result2 != result || (err2 == nil) != (err == nil) {
			t.Fatalf("not deterministic: %q %q %v then %q %q %v", id, result, err, id2, result2, err2)
		}
		for _, h := range m.Detect(r, body) {
			switch h.Signature {
			case "", SignatureValid, SignatureInvalid:
			default:
				t.Fatalf("hit %+v", h)
			}
			if h.Signature != "" && h.Kind != AWS {
				t.Fatalf("signature on a %s hit", h.Kind)
			}
		}
	})
}
