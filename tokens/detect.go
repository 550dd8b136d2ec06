package tokens

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Hit is one honeytoken found in a request.
type Hit struct {
	ID    ID
	Kind  Kind
	Where string // "header Authorization (Bearer)", "query parameter api_key", "cookie session", "body field $.credentials.key" …
	// Signature is set for an AWS key id presented in a SigV4 or SigV4a
	// signature (Authorization header or presigned URL): SignatureValid when
	// the signature verifies under the key's derived secret (the caller holds
	// the secret, not just the scraped key id), SignatureInvalid otherwise.
	// Empty when the place carries no signature.
	Signature string
}

// Values of Hit.Signature.
const (
	SignatureValid   = "valid"
	SignatureInvalid = "invalid"
)

// Detection bounds: a request is attacker-controlled, so the work per
// request is bounded whatever it contains.
const (
	maxDetectValues = 512     // values examined per request
	maxDetectBody   = 1 << 20 // body bytes examined
	maxJSONDepth    = 32
)

// Detect finds this deployment's honeytokens in every place a request can
// carry a credential: the Authorization header (Bearer, Basic, token, AWS
// SigV4 and SigV4a Credential=), every other header (API-key headers,
// X-Amz-Security-Token …), query parameters (including presigned URLs'
// X-Amz-Credential), cookies, and JSON or form bodies. Each distinct token
// is reported once, at the first place it was found.
func (m *Minter) Detect(r *http.Request, body []byte) []Hit {
	d := detector{m: m, seen: map[ID]bool{}, r: r, body: body}
	if r.ContentLength >= 0 {
		d.bodyComplete = int64(len(body)) >= r.ContentLength
	} else {
		d.bodyComplete = len(body) < maxDetectBody
	}
	// The path: a canary URL fires when it is fetched (its carrier is the
	// last segment), and tokens travel in paths too (/keys/<key>).
	if p := r.URL.Path; len(p) <= 4096 {
		for n := 0; p != "" && n < 32; n++ { // segment by segment, no allocation
			var seg string
			seg, p, _ = strings.Cut(strings.TrimLeft(p, "/"), "/")
			if len(seg) >= 20 {
				d.check(seg, "path")
			}
		}
	}
	// The credential headers first: the value budget must not let padding
	// in other headers push a token out of sight (map order is random).
	for _, name := range [...]string{"Authorization", "Proxy-Authorization"} {
		for _, v := range r.Header[name] {
			d.authorization(name, v)
		}
	}
	for name, values := range r.Header {
		if name == "Authorization" || name == "Proxy-Authorization" || name == "Cookie" {
			continue // above, and cookies below by name
		}
		for _, v := range values {
			if strings.EqualFold(name, "Authorization") || strings.EqualFold(name, "Proxy-Authorization") {
				d.authorization(name, v) // a header map built by hand, not canonical
				continue
			}
			if strings.EqualFold(name, "Cookie") {
				continue
			}
			d.check(v, "header "+name)
		}
	}
	for _, c := range r.Cookies() {
		d.check(c.Value, "cookie "+bounded(c.Name, 64))
	}
	for name, values := range r.URL.Query() {
		for _, v := range values {
			if strings.EqualFold(name, "X-Amz-Credential") {
				d.checkSigned(strings.SplitN(v, "/", 2)[0], "query parameter "+name, func() string {
					return m.verifyPresigned(r, d.body, d.bodyComplete)
				})
				continue
			}
			d.check(v, "query parameter "+bounded(name, 64))
		}
	}
	if len(body) > maxDetectBody {
		body = body[:maxDetectBody]
	}
	if len(body) > 0 {
		ct := r.Header.Get("Content-Type")
		switch {
		case strings.Contains(ct, "json") || json.Valid(body):
			var v any
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			if dec.Decode(&v) == nil {
				d.walk(v, "$", 0)
			}
		case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
			if vals, err := url.ParseQuery(string(body)); err == nil {
				for k, vs := range vals {
					for _, v := range vs {
						d.check(v, "form field "+bounded(k, 64))
					}
				}
			}
		default:
			d.text(string(body), "body")
		}
	}
	return d.hits
}

type detector struct {
	m      *Minter
	seen   map[ID]bool
	hits   []Hit
	values int
	// The request and its whole body, as read, for SigV4 verification.
	r            *http.Request
	body         []byte
	bodyComplete bool
}

func (d *detector) check(v, where string) {
	if d.values >= maxDetectValues || v == "" {
		return
	}
	d.values++
	if len(v) > 4096 {
		v = v[:4096]
	}
	if id, kind, ok := d.m.Recognize(strings.TrimSpace(v)); ok && !d.seen[id] {
		d.seen[id] = true
		d.hits = append(d.hits, Hit{ID: id, Kind: kind, Where: where})
	}
}

// checkSigned is check for an AWS key id presented in a SigV4 or SigV4a
// signature: the hit for it (new here, or found earlier at another place)
// gets the signature's verdict, computed only for a honeytoken key id.
func (d *detector) checkSigned(keyID, where string, verdict func() string) {
	n := len(d.hits)
	d.check(keyID, where)
	i := len(d.hits) - 1
	if len(d.hits) == n {
		id, kind, ok := d.m.Recognize(strings.TrimSpace(bounded(keyID, 4096)))
		if !ok || kind != AWS {
			return
		}
		if i = slices.IndexFunc(d.hits, func(h Hit) bool { return h.ID == id }); i < 0 {
			return
		}
	}
	if h := &d.hits[i]; h.Kind == AWS && h.Signature == "" {
		h.Signature = verdict()
	}
}

// authorization understands the schemes credentials travel in.
func (d *detector) authorization(name, v string) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
	rest = strings.TrimSpace(rest)
	where := "header " + name + " (" + bounded(scheme, 32) + ")"
	switch strings.ToLower(scheme) {
	case "basic":
		if raw, err := base64.StdEncoding.DecodeString(rest); err == nil {
			d.check(string(raw), where)
			if user, pass, ok := strings.Cut(string(raw), ":"); ok {
				d.check(pass, where)
				d.check(user, where)
			}
		}
	case "aws4-hmac-sha256", "aws4-ecdsa-p256-sha256":
		// Credential=AKIA…/20260101/us-east-1/s3/aws4_request, …
		for _, part := range strings.Split(rest, ",") {
			k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
			if strings.EqualFold(k, "Credential") {
				d.checkSigned(strings.SplitN(val, "/", 2)[0], where, func() string {
					return d.m.verifyAuthorization(d.r, v, d.body, d.bodyComplete)
				})
			}
		}
	default:
		// Bearer, token, Token, Bot, or a bare credential.
		if rest != "" {
			d.check(rest, where)
		}
		d.check(v, where)
	}
}

// walk looks at every string in a JSON body.
func (d *detector) walk(v any, path string, depth int) {
	if depth > maxJSONDepth || d.values >= maxDetectValues {
		return
	}
	switch t := v.(type) {
	case string:
		d.text(t, "body field "+bounded(path, 128))
	case map[string]any:
		for k, x := range t {
			d.walk(x, path+"."+bounded(k, 64), depth+1)
		}
	case []any:
		for _, x := range t {
			d.walk(x, path+"[]", depth+1)
		}
	}
}

// text checks a free-text value whole and word by word (a token inside a
// config snippet, a log line or a connection string).
func (d *detector) text(s, where string) {
	d.check(s, where)
	for _, w := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\n' || r == '\r' || r == '\t' || r == '"' || r == '\'' || r == '=' || r == ',' || r == ';'
	}) {
		if len(w) >= 16 {
			d.check(w, where)
		}
	}
}

func bounded(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
