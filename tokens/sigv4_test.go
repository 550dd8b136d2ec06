package tokens

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var sigV4TestTime = time.Date(2026, 1, 15, 12, 34, 56, 0, time.UTC)

func sigV4TestMinter(t testing.TB) (*Minter, aws.Credentials) {
	t.Helper()
	m, err := NewMinter([]byte("sigv4-test-deployment-secret-0123"), MinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := m.NewSeeded(AWS, []byte("sigv4-test"))
	if err != nil {
		t.Fatal(err)
	}
	secret, ok := m.AWSSecretFor(tk.Value)
	if !ok {
		t.Fatal("no secret for a minted AWS key")
	}
	return m, aws.Credentials{AccessKeyID: tk.Value, SecretAccessKey: secret}
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// sdkCase is a request signed by the AWS SDK for Go v2's SigV4 signer.
type sdkCase struct {
	name    string
	service string
	s3      bool // single-encoded path (DisableURIPathEscaping), as the S3 client signs
	presign bool
	method  string
	url     string
	headers map[string]string
	body    string
	payload string // the payload hash handed to the signer; "" = SHA-256 of the body
	token   string // session token
	// after signing, send this raw query instead of the one the signer
	// wrote (same parameters, another order: signers other than Go's keep
	// the caller's order).
	sendQuery  string
	bodySigned bool // the body is covered by the signature (tampering with it must fail)
}

var sdkCases = []sdkCase{
	{name: "s3 get unsigned payload", service: "s3", s3: true, method: "GET",
		url:     "http://HOST/honey-bucket/reports/2026%20Q1%20%28final%29.csv",
		headers: map[string]string{"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"}, payload: "UNSIGNED-PAYLOAD"},
	{name: "s3 put payload hash", service: "s3", s3: true, method: "PUT",
		url:     "http://HOST/honey-bucket/notes/today.txt",
		headers: map[string]string{"Content-Type": "text/plain", "X-Amz-Meta-Owner": "ops  team", "X-Amz-Content-Sha256": hexSHA256([]byte("hello, bucket\n"))},
		body:    "hello, bucket\n", bodySigned: true},
	{name: "s3 put streaming trailer", service: "s3", s3: true, method: "PUT",
		url: "http://HOST/honey-bucket/stream.log",
		headers: map[string]string{"X-Amz-Content-Sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "Content-Encoding": "aws-chunked",
			"X-Amz-Decoded-Content-Length": "5", "X-Amz-Trailer": "x-amz-checksum-crc32"},
		body:    "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n",
		payload: "STREAMING-UNSIGNED-PAYLOAD-TRAILER"},
	{name: "sts post form", service: "sts", method: "POST", url: "http://HOST/",
		headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
		body:    "Action=GetCallerIdentity&Version=2011-06-15", bodySigned: true},
	{name: "iam post form with session token", service: "iam", method: "POST", url: "http://HOST/",
		headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		body:    "Action=ListUsers&MaxItems=100&Version=2010-05-08", token: "FwoGZXIvYXdzEJr//////////wEaDH+honey", bodySigned: true},
	{name: "path needing escaping", service: "execute-api", method: "GET",
		url: "http://HOST/prod/items/a%20b+c/%C3%A9t%C3%A9/x%2Fy"},
	{name: "unsorted repeated query", service: "execute-api", method: "GET",
		url:       "http://HOST/prod/search?z=last&b=2&b=1&a=x%20y&c~=%2Fslash&empty&b=10",
		sendQuery: "z=last&b=2&b=1&a=x%20y&c~=%2Fslash&empty&b=10"},
	{name: "s3 list query", service: "s3", s3: true, method: "GET",
		url:     "http://HOST/honey-bucket?list-type=2&prefix=backups%2F2026&max-keys=50",
		headers: map[string]string{"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"}, payload: "UNSIGNED-PAYLOAD"},
	{name: "s3 presigned get", service: "s3", s3: true, presign: true, method: "GET",
		url: "http://HOST/honey-bucket/backups/db%20dump.sql.gz?X-Amz-Expires=900&response-content-disposition=attachment", payload: "UNSIGNED-PAYLOAD"},
	{name: "s3 presigned put", service: "s3", s3: true, presign: true, method: "PUT",
		url:     "http://HOST/honey-bucket/upload.bin?X-Amz-Expires=900",
		headers: map[string]string{"Content-Type": "application/octet-stream", "X-Amz-Meta-Source": "ci"},
		body:    "\x00\x01binary", payload: "UNSIGNED-PAYLOAD"},
	{name: "sts presigned get (EKS token)", service: "sts", presign: true, method: "GET",
		url:     "http://HOST/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60",
		headers: map[string]string{"X-K8s-Aws-Id": "prod-cluster"}},
}

// sdkCaseNamed returns the case of sdkCases with that name.
func sdkCaseNamed(t testing.TB, name string) sdkCase {
	t.Helper()
	for _, c := range sdkCases {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("no case %q", name)
	return sdkCase{}
}

// sign builds and signs the request of c for host, with creds.
func (c sdkCase) sign(t testing.TB, host string, creds aws.Credentials) *http.Request {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	r, err := http.NewRequest(c.method, strings.Replace(c.url, "HOST", host, 1), body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.headers {
		r.Header.Set(k, v)
	}
	payload := c.payload
	if payload == "" {
		payload = hexSHA256([]byte(c.body))
	}
	creds.SessionToken = c.token
	opt := func(o *v4.SignerOptions) { o.DisableURIPathEscaping = c.s3 }
	signer := v4.NewSigner()
	if !c.presign {
		if err := signer.SignHTTP(context.Background(), creds, r, payload, c.service, "eu-west-1", sigV4TestTime, opt); err != nil {
			t.Fatal(err)
		}
		if c.sendQuery != "" {
			r.URL.RawQuery = c.sendQuery
		}
		return r
	}
	u, signed, err := signer.PresignHTTP(context.Background(), creds, r, payload, c.service, "eu-west-1", sigV4TestTime, opt)
	if err != nil {
		t.Fatal(err)
	}
	p, err := http.NewRequest(c.method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range signed {
		if strings.EqualFold(k, "Host") {
			continue
		}
		p.Header[k] = vs
	}
	return p
}

// onWire returns the raw bytes a Go client sends for r.
func onWire(t testing.TB, r *http.Request) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// serverView parses raw request bytes as Go's server does.
func serverView(t testing.TB, raw []byte) (*http.Request, []byte) {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return r, body
}

// rawRequest is a request as text, to tamper with.
type rawRequest struct {
	method, target, proto string
	headers               []string // "Name: value"
	body                  string
}

func splitRaw(t testing.TB, raw []byte) rawRequest {
	t.Helper()
	head, body, ok := strings.Cut(string(raw), "\r\n\r\n")
	if !ok {
		t.Fatalf("no end of head in %q", raw)
	}
	lines := strings.Split(head, "\r\n")
	f := strings.SplitN(lines[0], " ", 3)
	if len(f) != 3 {
		t.Fatalf("bad request line %q", lines[0])
	}
	return rawRequest{method: f[0], target: f[1], proto: f[2], headers: lines[1:], body: body}
}

func (q rawRequest) bytes() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s\r\n", q.method, q.target, q.proto)
	for _, h := range q.headers {
		if strings.HasPrefix(strings.ToLower(h), "content-length:") {
			continue
		}
		b.WriteString(h + "\r\n")
	}
	if q.body != "" || q.method == "POST" || q.method == "PUT" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(q.body))
	}
	b.WriteString("\r\n" + q.body)
	return []byte(b.String())
}

// header returns the index of header name in q, or -1.
func (q rawRequest) header(name string) int {
	for i, h := range q.headers {
		if k, _, _ := strings.Cut(h, ":"); strings.EqualFold(strings.TrimSpace(k), name) {
			return i
		}
	}
	return -1
}

// tamperings returns altered copies of q that no signature of q covers.
func tamperings(q rawRequest, bodySigned bool) map[string]rawRequest {
	out := map[string]rawRequest{}
	m := q
	m.method = map[bool]string{true: "DELETE", false: "PATCH"}[q.method == "PATCH"]
	out["method"] = m

	p := q
	path, query, hasQuery := strings.Cut(q.target, "?")
	p.target = path + "x"
	if hasQuery {
		p.target += "?" + query
	}
	out["path"] = p

	qq := q
	if hasQuery {
		qq.target = q.target + "&extra=1"
	} else {
		qq.target = q.target + "?extra=1"
	}
	out["query"] = qq

	if i := q.header("X-Amz-Date"); i >= 0 {
		h := q
		h.headers = append([]string(nil), q.headers...)
		h.headers[i] = "X-Amz-Date: 20260115T123457Z"
		out["header x-amz-date"] = h
	} else if hasQuery && strings.Contains(query, "X-Amz-Date=") {
		h := q
		h.target = strings.Replace(q.target, "X-Amz-Date=20260115T123456Z", "X-Amz-Date=20260115T123457Z", 1)
		out["query x-amz-date"] = h
	}
	if i := q.header("Host"); i >= 0 {
		h := q
		h.headers = append([]string(nil), q.headers...)
		h.headers[i] = "Host: other.example.test"
		out["header host"] = h
	}

	if bodySigned {
		b := q
		b.body = q.body[:len(q.body)-1] + "X"
		out["body"] = b
	}

	s := q
	s.headers = append([]string(nil), q.headers...)
	if i := q.header("Authorization"); i >= 0 {
		s.headers[i] = flipSignature(q.headers[i], "Signature=")
	} else {
		s.target = flipSignature(q.target, "X-Amz-Signature=")
	}
	out["signature"] = s
	return out
}

// flipSignature changes the last hex digit of the signature after marker.
func flipSignature(s, marker string) string {
	i := strings.Index(s, marker)
	if i < 0 {
		return s
	}
	j := i + len(marker)
	for j < len(s) && strings.IndexByte("0123456789abcdefABCDEF", s[j]) >= 0 {
		j++
	}
	c := s[j-1]
	r := byte('0')
	if c == '0' {
		r = '1'
	}
	return s[:j-1] + string(r) + s[j:]
}

// verifyServer is a loopback HTTP server that verifies the signature of each
// request it receives and answers "keyID result err".
func verifyServer(t testing.TB, m *Minter) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		id, result, err := m.VerifySigV4(r, body, true)
		hits := m.Detect(r, body)
		sig := "-"
		for _, h := range hits {
			if h.Kind == AWS {
				sig = h.Signature
			}
		}
		fmt.Fprintf(w, "%s %s detect=%s err=%v", id, result, sig, err)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSigV4SDKRequestsOverLoopback(t *testing.T) {
	m, creds := sigV4TestMinter(t)
	srv := verifyServer(t, m)
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, c := range sdkCases {
		t.Run(c.name, func(t *testing.T) {
			r := c.sign(t, host, creds)
			resp, err := srv.Client().Do(r)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := creds.AccessKeyID + " valid detect=valid err=<nil>"
			if string(got) != want {
				t.Errorf("server saw %q, want %q", got, want)
			}
		})
	}
}

func TestSigV4SDKRequestsTampered(t *testing.T) {
	m, creds := sigV4TestMinter(t)
	for _, c := range sdkCases {
		t.Run(c.name, func(t *testing.T) {
			raw := onWire(t, c.sign(t, "honey.example.test", creds))
			r, body := serverView(t, raw)
			if id, res, err := m.VerifySigV4(r, body, true); id != creds.AccessKeyID || res != SignatureValid || err != nil {
				t.Fatalf("untampered: %q %q %v, want valid\n%s", id, res, err, raw)
			}
			for what, q := range tamperings(splitRaw(t, raw), c.bodySigned) {
				r, body := serverView(t, q.bytes())
				if _, res, err := m.VerifySigV4(r, body, true); res != SignatureInvalid || err != nil {
					t.Errorf("%s tampered: %q %v, want invalid", what, res, err)
				}
			}
			wrong := creds
			wrong.SecretAccessKey = strings.ToLower(creds.SecretAccessKey)
			r, body = serverView(t, onWire(t, c.sign(t, "honey.example.test", wrong)))
			if _, res, err := m.VerifySigV4(r, body, true); res != SignatureInvalid || err != nil {
				t.Errorf("wrong secret: %q %v, want invalid", res, err)
			}
		})
	}
}

// A request signed by the SDK and verified on the client's own
// *http.Request, before it is sent (no RequestURI; Content-Length only in
// ContentLength), as a Guard in front of an outgoing client would see it.
func TestSigV4ClientSideRequest(t *testing.T) {
	m, creds := sigV4TestMinter(t)
	for _, c := range sdkCases {
		if c.sendQuery != "" {
			continue
		}
		r := c.sign(t, "honey.example.test", creds)
		if _, res, err := m.VerifySigV4(r, []byte(c.body), true); res != SignatureValid || err != nil {
			t.Errorf("%s: %q %v, want valid", c.name, res, err)
		}
	}
}

func TestSigV4IncompleteBody(t *testing.T) {
	m, creds := sigV4TestMinter(t)
	for _, c := range sdkCases {
		r, body := serverView(t, onWire(t, c.sign(t, "honey.example.test", creds)))
		_, res, err := m.VerifySigV4(r, body[:len(body)/2], false)
		want := SignatureValid // the payload hash is in a header, or UNSIGNED-PAYLOAD
		if !c.presign && c.headers["X-Amz-Content-Sha256"] == "" {
			want = "" // cannot tell: the signature covers a body not read whole
		}
		if c.presign && c.payload == "" {
			want = "" // presigned with the hash of a body not read whole
		}
		if res != want || err != nil {
			t.Errorf("%s: %q %v, want %q", c.name, res, err, want)
		}
	}
}

func TestSigV4Detect(t *testing.T) {
	m, creds := sigV4TestMinter(t)
	id, _, _ := m.Recognize(creds.AccessKeyID)
	for _, tc := range []struct {
		name  string
		where string
	}{
		{"sts post form", "header Authorization (AWS4-HMAC-SHA256)"},
		{"s3 get unsigned payload", "header Authorization (AWS4-HMAC-SHA256)"},
		{"s3 presigned get", "query parameter X-Amz-Credential"},
		{"sts presigned get (EKS token)", "query parameter X-Amz-Credential"},
	} {
		c := sdkCaseNamed(t, tc.name)
		raw := onWire(t, c.sign(t, "honey.example.test", creds))
		check := func(label string, raw []byte, want string) {
			t.Helper()
			r, body := serverView(t, raw)
			hits := m.Detect(r, body)
			if len(hits) != 1 || hits[0].ID != id || hits[0].Where != tc.where || hits[0].Signature != want {
				t.Errorf("%s %s: hits %+v, want one at %q with signature %q", tc.name, label, hits, tc.where, want)
			}
		}
		check("valid", raw, SignatureValid)
		for what, q := range tamperings(splitRaw(t, raw), c.bodySigned) {
			check(what, q.bytes(), SignatureInvalid)
		}
	}

	// A body not read whole: cannot tell.
	c := sdkCaseNamed(t, "sts post form")
	r, body := serverView(t, onWire(t, c.sign(t, "honey.example.test", creds)))
	if hits := m.Detect(r, body[:10]); len(hits) != 1 || hits[0].Signature != "" {
		t.Errorf("truncated body: hits %+v, want signature \"\"", hits)
	}

	// A key id without a signature, and a garbled signature.
	r = httptest.NewRequest("GET", "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="+creds.AccessKeyID+"%2F20260115%2Fus-east-1%2Fs3%2Faws4_request", nil)
	if hits := m.Detect(r, nil); len(hits) != 1 || hits[0].Signature != "" {
		t.Errorf("presigned without signature: hits %+v, want signature \"\"", hits)
	}
	r = httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+creds.AccessKeyID+"/20261121/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
	if hits := m.Detect(r, nil); len(hits) != 1 || hits[0].Signature != SignatureInvalid {
		t.Errorf("garbled signature: hits %+v, want invalid", hits)
	}

	// The key id seen first elsewhere still gets the signature's verdict.
	r, body = serverView(t, onWire(t, c.sign(t, "honey.example.test", creds)))
	r.Header.Set("X-Leaked-Key", creds.AccessKeyID)
	hits := m.Detect(r, body)
	if len(hits) != 1 || hits[0].Signature != SignatureValid {
		t.Errorf("key also in another header: hits %+v, want valid", hits)
	}

	// A foreign deployment's key: a hit for neither, no verification.
	other, _ := NewMinter([]byte("another-deployment-secret-xyz"), MinterOptions{})
	foreign, _ := other.NewSeeded(AWS, []byte("x"))
	fs, _ := other.AWSSecretFor(foreign.Value)
	r, body = serverView(t, onWire(t, c.sign(t, "honey.example.test", aws.Credentials{AccessKeyID: foreign.Value, SecretAccessKey: fs})))
	if hits := m.Detect(r, body); len(hits) != 0 {
		t.Errorf("foreign key: hits %+v", hits)
	}
}

func TestParseSigV4(t *testing.T) {
	_, creds := sigV4TestMinter(t)
	c := sdkCaseNamed(t, "sts post form")
	r, _ := serverView(t, onWire(t, c.sign(t, "honey.example.test", creds)))
	a, err := ParseSigV4(r)
	if err != nil {
		t.Fatal(err)
	}
	if a.Algorithm != SigV4Algorithm || a.Presigned || a.AccessKeyID != creds.AccessKeyID ||
		a.Scope != "20260115/eu-west-1/sts/aws4_request" || a.Date != "20260115" || a.Region != "eu-west-1" ||
		a.Service != "sts" || a.Time != "20260115T123456Z" || a.SignedHeaders != "content-length;content-type;host;x-amz-date" ||
		len(a.Signature) != 64 {
		t.Errorf("parsed %+v", a)
	}

	r = httptest.NewRequest("GET", "/b/k?X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20260115%2Fs3%2Faws4_request"+
		"&X-Amz-Date=20260115T123456Z&X-Amz-SignedHeaders=host&X-Amz-Region-Set=us-east-1%2Ceu-west-1&X-Amz-Signature=3045", nil)
	a, err = ParseSigV4(r)
	if err != nil {
		t.Fatal(err)
	}
	if a.Algorithm != SigV4aAlgorithm || !a.Presigned || a.AccessKeyID != "AKIAEXAMPLE" || a.Scope != "20260115/s3/aws4_request" ||
		a.Region != "" || a.Service != "s3" || a.RegionSet != "us-east-1,eu-west-1" || a.Signature != "3045" {
		t.Errorf("parsed %+v", a)
	}

	if _, err := ParseSigV4(httptest.NewRequest("GET", "/?q=1", nil)); !errors.Is(err, ErrNoSigV4) {
		t.Errorf("plain request: %v, want ErrNoSigV4", err)
	}
}

func TestSigV4Errors(t *testing.T) {
	m, creds := sigV4TestMinter(t)
	key := creds.AccessKeyID
	auth := func(v string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-Amz-Date", "20260115T123456Z")
		r.Header.Set("Authorization", v)
		return r
	}
	many := strings.Repeat("x-a;", 70) + "host"
	for _, tc := range []struct {
		name   string
		r      *http.Request
		id     string
		result string
		err    error
	}{
		{"no signature at all", httptest.NewRequest("GET", "/", nil), "", "", ErrNoSigV4},
		{"bearer", auth("Bearer abc"), "", "", ErrNoSigV4},
		{"foreign key", auth("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260115/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + strings.Repeat("a", 64)), "AKIAIOSFODNN7EXAMPLE", "", ErrUnknownAccessKey},
		{"no credential", auth("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00"), "", SignatureInvalid, ErrMalformedSigV4},
		{"short scope", auth("AWS4-HMAC-SHA256 Credential=" + key + "/20260115/s3/aws4_request, SignedHeaders=host, Signature=00"), key, SignatureInvalid, ErrMalformedSigV4},
		{"v4a scope with region", auth("AWS4-ECDSA-P256-SHA256 Credential=" + key + "/20260115/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00"), key, SignatureInvalid, ErrMalformedSigV4},
		{"no signed headers", auth("AWS4-HMAC-SHA256 Credential=" + key + "/20260115/us-east-1/s3/aws4_request, Signature=00"), key, SignatureInvalid, ErrMalformedSigV4},
		{"too many signed headers", auth("AWS4-HMAC-SHA256 Credential=" + key + "/20260115/us-east-1/s3/aws4_request, SignedHeaders=" + many + ", Signature=00"), key, SignatureInvalid, ErrMalformedSigV4},
		{"repeated field", auth("AWS4-HMAC-SHA256 Credential=" + key + "/20260115/us-east-1/s3/aws4_request, Credential=x/y, SignedHeaders=host, Signature=00"), key, SignatureInvalid, ErrMalformedSigV4},
		{"no signature value", auth("AWS4-HMAC-SHA256 Credential=" + key + "/20260115/us-east-1/s3/aws4_request, SignedHeaders=host"), key, "", ErrMalformedSigV4},
		{"signature not hex", auth("AWS4-HMAC-SHA256 Credential=" + key + "/20260115/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=zz"), key, SignatureInvalid, ErrMalformedSigV4},
		{"signature wrong length", auth("AWS4-HMAC-SHA256 Credential=" + key + "/20260115/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=abcd"), key, SignatureInvalid, ErrMalformedSigV4},
		{"v4a signature not DER", auth("AWS4-ECDSA-P256-SHA256 Credential=" + key + "/20260115/s3/aws4_request, SignedHeaders=host, Signature=abcd"), key, SignatureInvalid, nil},
		{"header too long", auth("AWS4-HMAC-SHA256 Credential=" + key + "/20260115/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00, X=" + strings.Repeat("a", 9000)), "", SignatureInvalid, ErrMalformedSigV4},
		{"presigned without algorithm", httptest.NewRequest("GET", "/?X-Amz-Credential="+key+"%2F20260115%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=00&X-Amz-SignedHeaders=host&X-Amz-Date=20260115T123456Z", nil), key, SignatureInvalid, ErrMalformedSigV4},
		{"presigned too many parameters", httptest.NewRequest("GET", "/?X-Amz-Signature=00"+strings.Repeat("&a=1", 1100), nil), "", SignatureInvalid, ErrMalformedSigV4},
		{"nil request", nil, "", "", ErrNoSigV4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, result, err := m.VerifySigV4(tc.r, nil, true)
			if id != tc.id || result != tc.result || (tc.err == nil) != (err == nil) || tc.err != nil && !errors.Is(err, tc.err) {
				t.Errorf("got %q %q %v, want %q %q %v", id, result, err, tc.id, tc.result, tc.err)
			}
		})
	}
}

// The get-vanilla case of AWS's SigV4 test suite (aws-c-auth, botocore): a
// published key pair, request and signature.
func TestSigV4AWSTestSuiteVanilla(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.Host = "example.amazonaws.com"
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
	a, err := ParseSigV4(r)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	if res, err := verifySigV4With(r, a, secret, nil, true); res != SignatureValid || err != nil {
		t.Errorf("get-vanilla: %q %v, want valid", res, err)
	}
	if res, _ := verifySigV4With(r, a, secret+"x", nil, true); res != SignatureInvalid {
		t.Errorf("get-vanilla, wrong secret: %q, want invalid", res)
	}
}

// The SigV4a key of the test suite's key pair, as published with aws-c-auth's
// SigV4a tests (and the aws-crt bindings' tests).
func TestSigV4aKeyDerivationAWSTestSuite(t *testing.T) {
	priv, err := sigV4aPrivateKey("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := priv.PublicKey.Bytes() // 04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	const x = "b6618f6a65740a99e650b33b6b4b5bd0d43b176d721a3edfea7e7d2d56d936b1"
	const y = "865ed22a7eadc9c5cb9d2cbaca1b3699139fedc5043dc6661864218330c8e518"
	if got := hex.EncodeToString(pub[1:33]); got != x {
		t.Errorf("X = %s, want %s", got, x)
	}
	if got := hex.EncodeToString(pub[33:]); got != y {
		t.Errorf("Y = %s, want %s", got, y)
	}
}

// sigV4aFixtures are requests signed by AWS's JavaScript signers
// (testdata/sigv4a_fixtures.sh).
type sigV4aFixtures struct {
	Packages     map[string]string `json:"packages"`
	MinterSecret string            `json:"minter_secret"`
	Seed         string            `json:"seed"`
	KeyID        string            `json:"key_id"`
	Secret       string            `json:"secret"`
	Requests     []struct {
		Name    string      `json:"name"`
		Signer  string      `json:"signer"`
		Method  string      `json:"method"`
		Target  string      `json:"target"`
		Headers [][2]string `json:"headers"`
		Body    string      `json:"body"`
	} `json:"requests"`
}

func loadSigV4aFixtures(t testing.TB) (*Minter, *sigV4aFixtures, [][]byte) {
	t.Helper()
	b, err := os.ReadFile("testdata/sigv4a_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f sigV4aFixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	m, err := NewMinter([]byte(f.MinterSecret), MinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := m.NewSeeded(AWS, []byte(f.Seed))
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := m.AWSSecretFor(tk.Value); tk.Value != f.KeyID || s != f.Secret {
		t.Fatalf("the Minter now derives %s / %s, the fixtures were signed with %s / %s: regenerate them", tk.Value, s, f.KeyID, f.Secret)
	}
	raws := make([][]byte, len(f.Requests))
	for i, q := range f.Requests {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", q.Method, q.Target)
		hasLength := false
		for _, h := range q.Headers {
			fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
			hasLength = hasLength || strings.EqualFold(h[0], "content-length")
		}
		if q.Body != "" && !hasLength {
			fmt.Fprintf(&b, "Content-Length: %d\r\n", len(q.Body))
		}
		b.WriteString("\r\n" + q.Body)
		raws[i] = []byte(b.String())
	}
	return m, &f, raws
}

func TestSigV4aFixtures(t *testing.T) {
	m, f, raws := loadSigV4aFixtures(t)
	srv := verifyServer(t, m)
	addr := strings.TrimPrefix(srv.URL, "http://")
	v4a := 0
	for i, q := range f.Requests {
		t.Run(q.Name, func(t *testing.T) {
			raw := raws[i]
			if bytes.Contains(raw, []byte(SigV4aAlgorithm)) {
				v4a++
			}
			// Over loopback, exactly these bytes.
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write(raw); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := f.KeyID + " valid detect=valid err=<nil>"; string(got) != want {
				t.Errorf("server saw %q, want %q\n%s", got, want, raw)
			}
			bodySigned := q.Body != "" && !bytes.Contains(raw, []byte("UNSIGNED-PAYLOAD"))
			for what, tq := range tamperings(splitRaw(t, raw), bodySigned) {
				r, body := serverView(t, tq.bytes())
				if _, res, err := m.VerifySigV4(r, body, true); res != SignatureInvalid || err != nil {
					t.Errorf("%s tampered: %q %v, want invalid", what, res, err)
				}
			}
		})
	}
	if v4a < 6 {
		t.Errorf("%d SigV4a fixtures, want at least 6", v4a)
	}
}

// A SigV4a signature made with the secret of another key does not verify.
func TestSigV4aWrongKey(t *testing.T) {
	m, f, raws := loadSigV4aFixtures(t)
	other, err := m.NewSeeded(AWS, []byte("another key"))
	if err != nil {
		t.Fatal(err)
	}
	for i, raw := range raws {
		if !bytes.Contains(raw, []byte(SigV4aAlgorithm)) {
			continue
		}
		r, body := serverView(t, bytes.ReplaceAll(raw, []byte(f.KeyID), []byte(other.Value)))
		if id, res, err := m.VerifySigV4(r, body, true); id != other.Value || res != SignatureInvalid || err != nil {
			t.Errorf("%s under another key: %q %q %v, want invalid", f.Requests[i].Name, id, res, err)
		}
	}
}

// The bounds hold whatever the request: a huge but well-formed request is
// refused as malformed, not worked through.
func TestSigV4Bounds(t *testing.T) {
	m, creds := sigV4TestMinter(t)
	c := sdkCaseNamed(t, "s3 get unsigned payload")
	r, body := serverView(t, onWire(t, c.sign(t, "honey.example.test", creds)))
	r.URL.RawQuery = strings.Repeat("a=1&", 2000)
	if _, res, err := m.VerifySigV4(r, body, true); res != SignatureInvalid || !errors.Is(err, ErrMalformedSigV4) {
		t.Errorf("2000 query parameters: %q %v", res, err)
	}
	r, body = serverView(t, onWire(t, c.sign(t, "honey.example.test", creds)))
	r.Header.Set("X-Amz-Date", strings.Repeat("9", 70<<10))
	if _, res, err := m.VerifySigV4(r, body, true); res != SignatureInvalid || !errors.Is(err, ErrMalformedSigV4) {
		t.Errorf("70 KiB signed header: %q %v", res, err)
	}
}

func BenchmarkVerifySigV4(b *testing.B) {
	m, creds := sigV4TestMinter(b)
	c := sdkCaseNamed(b, "sts post form")
	r, body := serverView(b, onWire(b, c.sign(b, "honey.example.test", creds)))
	b.Run("v4", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, res, _ := m.VerifySigV4(r, body, true); res != SignatureValid {
				b.Fatal(res)
			}
		}
	})
	c = sdkCaseNamed(b, "s3 presigned get")
	pr, pbody := serverView(b, onWire(b, c.sign(b, "honey.example.test", creds)))
	b.Run("v4-presigned", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, res, _ := m.VerifySigV4(pr, pbody, true); res != SignatureValid {
				b.Fatal(res)
			}
		}
	})
	fm, f, raws := loadSigV4aFixtures(b)
	for i, q := range f.Requests {
		if q.Name != "smithy sts post form" {
			continue
		}
		r, body := serverView(b, raws[i])
		b.Run("v4a", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, res, _ := fm.VerifySigV4(r, body, true); res != SignatureValid {
					b.Fatal(res)
				}
			}
		})
		b.Run("v4a-uncached-key", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sigV4aKeys.Lock()
				sigV4aKeys.m = nil
				sigV4aKeys.Unlock()
				if _, res, _ := fm.VerifySigV4(r, body, true); res != SignatureValid {
					b.Fatal(res)
				}
			}
		})
	}
	b.Run("detect-v4", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if hits := m.Detect(r, body); len(hits) != 1 || hits[0].Signature != SignatureValid {
				b.Fatal(hits)
			}
		}
	})
}
