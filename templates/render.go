package templates

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// BaitData is what a bait body template sees.
type BaitData struct {
	// Host is the decoy's host as the client addressed it, e.g.
	// "api.internal.corp:8080". It is attacker-controlled: Render keeps it
	// only if it consists of host-name characters, and uses "localhost"
	// otherwise.
	Host string
	// BaseURL is scheme://host. Render keeps it only if the scheme is http
	// or https and the host passes the same check as Host.
	BaseURL string
	// Secret mints a credential of the given kind for the given placement
	// name (e.g. Secret "aws" "AWS_ACCESS_KEY_ID"). Nil means Render uses its
	// own deterministic fake values. Later a honeytoken minter is plugged in
	// here.
	Secret func(kind, name string) string
}

// SecretKinds returns the credential kinds that bait bodies ask for with
// {{ secret "KIND" "NAME" }} and that documents name in x-honeyapi-secret.
func SecretKinds() []string {
	return []string{"apikey", "aws", "basic", "dburl", "github", "gitlab", "google", "jwt", "npm", "openai", "slack", "stripe"}
}

// maxGenerated bounds the length of one hex or alnum value.
const maxGenerated = 4096

// maxRendered bounds the size of a rendered body.
const maxRendered = 1 << 20

// errTooLarge is returned when a rendered body exceeds maxRendered.
var errTooLarge = errors.New("rendered body exceeds 1 MiB")

// limitedBuffer is a bytes.Buffer that refuses to grow past maxRendered.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxRendered {
		return 0, errTooLarge
	}
	return b.Buffer.Write(p)
}

// Render renders a bait body. seed makes every generated value
// deterministic: the same seed and data give the same bytes, and the same
// NAME gives the same value everywhere in one body. Render never panics; a
// body that does not parse, fails to execute or grows past 1 MiB is an
// error.
//
// Template functions:
//
//	{{ .Host }} {{ .BaseURL }}
//	{{ secret "KIND" "NAME" }}   a credential of KIND (see SecretKinds); calls
//	                             Data.Secret when it is non-nil, otherwise a
//	                             deterministic value in that provider's shape
//	{{ hex "NAME" N }}           N lowercase hex digits
//	{{ alnum "NAME" N }}         N letters and digits
//	{{ password "NAME" }}        a 20-character password
//	{{ uuid "NAME" }}            a version 4 UUID
//	{{ ip "NAME" }}              a private-range IPv4 address
//	{{ date "NAME" }}            an RFC 3339 time in 2024–2025 (UTC)
//	{{ after "NAME" "6h" }}      the time of date "NAME" plus a Go duration
//	{{ num "NAME" MIN MAX }}     an integer in [MIN, MAX]
//	{{ pick "NAME" "a" "b" }}    one of the choices
//	{{ domain "FALLBACK" }}      the domain of Host (api.corp.net → corp.net),
//	                             or FALLBACK when Host is an address or a
//	                             single label
//
// Some kinds take a hint from NAME: aws gives a secret access key when NAME
// contains SECRET, a session token for SESSION or TOKEN, a temporary (ASIA)
// access key id for STS or TEMP and a long-term (AKIA) one otherwise; stripe gives a publishable
// key (PUBLISHABLE), a webhook signing secret (WEBHOOK) or a secret key;
// slack gives a webhook URL (WEBHOOK) or a bot token; dburl gives a MySQL,
// Redis, MongoDB or AMQP URL when NAME says so, PostgreSQL otherwise.
func Render(b Bait, data BaitData, seed []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("templates: render %s: panic: %v", b.Path, r)
		}
	}()
	host := cleanHost(data.Host)
	g := newGenerator(seed, data.Secret)
	g.host = host
	t, err := parseBody(b.Path, b.Body, g)
	if err != nil {
		return nil, fmt.Errorf("templates: render %s: %w", b.Path, err)
	}
	var buf limitedBuffer
	view := struct{ Host, BaseURL string }{Host: host, BaseURL: cleanBaseURL(data.BaseURL, host)}
	if err := t.Execute(&buf, view); err != nil {
		return nil, fmt.Errorf("templates: render %s: %w", b.Path, err)
	}
	return buf.Bytes(), nil
}

// cleanHost returns h if it is made of host-name characters (letters,
// digits, '.', '-', '_', ':', '[' and ']') and at most 255 bytes long, and
// "localhost" otherwise.
func cleanHost(h string) string {
	if h == "" || len(h) > 255 {
		return "localhost"
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '-', c == '_', c == ':', c == '[', c == ']':
		default:
			return "localhost"
		}
	}
	return h
}

// cleanBaseURL returns u if it is http(s)://host with a clean host, and
// http://host otherwise.
func cleanBaseURL(u, host string) string {
	for _, scheme := range []string{"https://", "http://"} {
		if rest, ok := strings.CutPrefix(u, scheme); ok && rest != "" && cleanHost(rest) == rest {
			return scheme + rest
		}
	}
	return "http://" + host
}

// generator derives every value of one rendering from the seed.
type generator struct {
	seed   []byte
	secret func(kind, name string) string
	host   string
	cache  map[string]string
}

func newGenerator(seed []byte, secret func(kind, name string) string) *generator {
	return &generator{seed: seed, secret: secret, cache: map[string]string{}}
}

func (g *generator) funcs() template.FuncMap {
	return template.FuncMap{
		"secret":   g.Secret,
		"hex":      g.Hex,
		"alnum":    g.Alnum,
		"password": g.Password,
		"uuid":     g.UUID,
		"ip":       g.IP,
		"date":     g.Date,
		"after":    g.After,
		"num":      g.Num,
		"pick":     g.Pick,
		"domain":   g.Domain,
	}
}

// rng returns a random source determined by the seed and label.
func (g *generator) rng(label ...string) *rand.Rand {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(g.seed)))
	h.Write(n[:])
	h.Write(g.seed)
	for _, l := range label {
		binary.BigEndian.PutUint64(n[:], uint64(len(l)))
		h.Write(n[:])
		h.Write([]byte(l))
	}
	var key [32]byte
	copy(key[:], h.Sum(nil))
	return rand.New(rand.NewChaCha8(key))
}

// memo returns the cached value for key, computing it once.
func (g *generator) memo(key string, f func() string) string {
	if v, ok := g.cache[key]; ok {
		return v
	}
	v := f()
	g.cache[key] = v
	return v
}

const (
	digits    = "0123456789"
	lowerHex  = "0123456789abcdef"
	lower     = "abcdefghijklmnopqrstuvwxyz"
	upper     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	alnumSet  = upper + lower + digits
	base62    = digits + upper + lower
	urlSafe   = alnumSet + "-_"
	base32Set = upper + "234567"
	b64Set    = alnumSet + "+/"
)

func draw(r *rand.Rand, set string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = set[r.IntN(len(set))]
	}
	return string(b)
}

func clampLen(n int) int {
	if n < 1 {
		return 1
	}
	if n > maxGenerated {
		return maxGenerated
	}
	return n
}

// Hex returns n lowercase hex digits named name.
func (g *generator) Hex(name string, n int) string {
	n = clampLen(n)
	return g.memo("hex\x00"+name+"\x00"+strconv.Itoa(n), func() string { return draw(g.rng("hex", name), lowerHex, n) })
}

// Alnum returns n letters and digits named name.
func (g *generator) Alnum(name string, n int) string {
	n = clampLen(n)
	return g.memo("alnum\x00"+name+"\x00"+strconv.Itoa(n), func() string { return draw(g.rng("alnum", name), alnumSet, n) })
}

// Password returns a 20-character password with upper and lower case
// letters, digits and a symbol that needs no quoting in URLs, shells or
// .env files.
func (g *generator) Password(name string) string {
	return g.memo("password\x00"+name, func() string {
		r := g.rng("password", name)
		b := []byte(draw(r, alnumSet, 20))
		b[r.IntN(6)] = upper[r.IntN(len(upper))]
		b[6+r.IntN(6)] = digits[r.IntN(len(digits))]
		b[12+r.IntN(4)] = lower[r.IntN(len(lower))]
		b[16+r.IntN(3)] = "-_.!"[r.IntN(4)]
		return string(b)
	})
}

// UUID returns a version 4 UUID named name.
func (g *generator) UUID(name string) string {
	return g.memo("uuid\x00"+name, func() string { return uuidFrom(g.rng("uuid", name)) })
}

func uuidFrom(r *rand.Rand) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], r.Uint64())
	binary.BigEndian.PutUint64(b[8:], r.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// IP returns a private-range IPv4 address named name.
func (g *generator) IP(name string) string {
	return g.memo("ip\x00"+name, func() string { return privateIP(g.rng("ip", name)) })
}

func privateIP(r *rand.Rand) string {
	last := 2 + r.IntN(252)
	switch n := r.IntN(10); {
	case n < 6:
		return fmt.Sprintf("10.%d.%d.%d", r.IntN(256), r.IntN(256), last)
	case n < 8:
		return fmt.Sprintf("172.%d.%d.%d", 16+r.IntN(16), r.IntN(256), last)
	default:
		return fmt.Sprintf("192.168.%d.%d", r.IntN(256), last)
	}
}

var (
	dateFrom = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	dateTo   = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Date returns an RFC 3339 time in 2024–2025, UTC, named name.
func (g *generator) Date(name string) string {
	return g.memo("date\x00"+name, func() string {
		span := int64(dateTo.Sub(dateFrom) / time.Second)
		return dateFrom.Add(time.Duration(g.rng("date", name).Int64N(span)) * time.Second).Format(time.RFC3339)
	})
}

// After returns the time of Date(name) plus the Go duration d (or that time
// itself when d does not parse).
func (g *generator) After(name, d string) string {
	t, _ := time.Parse(time.RFC3339, g.Date(name))
	if dur, err := time.ParseDuration(d); err == nil {
		t = t.Add(dur)
	}
	return t.UTC().Format(time.RFC3339)
}

// Num returns an integer in [lo, hi] named name.
func (g *generator) Num(name string, lo, hi int) int {
	if hi < lo {
		lo, hi = hi, lo
	}
	v := g.memo("num\x00"+name+"\x00"+strconv.Itoa(lo)+"\x00"+strconv.Itoa(hi), func() string {
		span := uint64(hi - lo)
		if span == 0 {
			return strconv.Itoa(lo)
		}
		r := g.rng("num", name)
		if span == ^uint64(0) {
			return strconv.Itoa(lo + int(r.Uint64()))
		}
		return strconv.Itoa(lo + int(r.Uint64N(span+1)))
	})
	n, _ := strconv.Atoi(v)
	return n
}

// Pick returns one of choices, the same one for the same name.
func (g *generator) Pick(name string, choices ...string) string {
	if len(choices) == 0 {
		return ""
	}
	return g.memo("pick\x00"+name+"\x00"+strings.Join(choices, "\x00"), func() string {
		return choices[g.rng("pick", name).IntN(len(choices))]
	})
}

// Domain returns the domain of the host the client addressed: the host
// without its port and, when it has three labels or more, without its first
// label. An IP address, a single label or "localhost" gives fallback.
func (g *generator) Domain(fallback string) string {
	h := g.host
	if hp, _, err := net.SplitHostPort(h); err == nil {
		h = hp
	}
	h = strings.Trim(strings.ToLower(h), ".[]")
	if h == "" || net.ParseIP(h) != nil || !strings.Contains(h, ".") || strings.HasSuffix(h, "localhost") {
		return fallback
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" {
			return fallback
		}
	}
	if len(labels) >= 3 {
		labels = labels[1:]
	}
	return strings.Join(labels, ".")
}

// Secret returns a credential of kind for the placement name: from the
// minter when one is set, otherwise a deterministic value in the shape of
// that provider's credentials.
func (g *generator) Secret(kind, name string) string {
	return g.memo("secret\x00"+kind+"\x00"+name, func() string {
		if g.secret != nil {
			return g.secret(kind, name)
		}
		return fakeSecret(g.rng("secret", kind, name), kind, strings.ToUpper(name))
	})
}

// fakeSecret returns a value in the shape of a kind's credentials.
func fakeSecret(r *rand.Rand, kind, name string) string {
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(name, w) {
				return true
			}
		}
		return false
	}
	switch kind {
	case "aws":
		switch {
		case has("SECRET"):
			return draw(r, b64Set, 40)
		case has("SESSION", "TOKEN"):
			return "IQoJb3JpZ2luX2VjE" + draw(r, b64Set, 380) + "=="
		case has("STS", "TEMP", "ASIA"):
			return "ASIA" + draw(r, base32Set, 16)
		}
		return "AKIA" + draw(r, base32Set, 16)
	case "github":
		body := draw(r, base62, 30)
		return "ghp_" + body + base62Pad(crc32.ChecksumIEEE([]byte(body)), 6)
	case "gitlab":
		return "glpat-" + draw(r, urlSafe, 20)
	case "slack":
		if has("WEBHOOK", "URL") {
			return "https://hooks.slack.com/services/T" + draw(r, upper+digits, 8) + "/B" + draw(r, upper+digits, 10) + "/" + draw(r, alnumSet, 24)
		}
		return "xoxb-" + draw(r, digits, 12) + "-" + draw(r, digits, 13) + "-" + draw(r, alnumSet, 24)
	case "stripe":
		switch {
		case has("PUBLISHABLE", "PUBLIC", "PK"):
			return "pk_live_51" + draw(r, alnumSet, 97)
		case has("WEBHOOK", "WHSEC", "SIGNING"):
			return "whsec_" + draw(r, alnumSet, 32)
		case has("RESTRICTED"):
			return "rk_live_51" + draw(r, alnumSet, 97)
		}
		return "sk_live_51" + draw(r, alnumSet, 97)
	case "npm":
		return "npm_" + draw(r, alnumSet, 36)
	case "openai":
		return "sk-proj-" + draw(r, urlSafe, 74) + "T3BlbkFJ" + draw(r, urlSafe, 74)
	case "google":
		return "AIza" + draw(r, urlSafe, 35)
	case "jwt":
		return fakeJWT(r)
	case "basic":
		user := []string{"svc-deploy", "svc-backup", "admin", "ops", "jenkins", "monitoring"}[r.IntN(6)]
		return user + ":" + draw(r, alnumSet, 18)
	case "dburl":
		host := privateIP(r)
		user := []string{"app", "svc_api", "backend", "reporting", "admin"}[r.IntN(5)]
		db := []string{"app", "core", "prod", "main", "platform"}[r.IntN(5)]
		pass := draw(r, alnumSet, 22)
		switch {
		case has("MYSQL", "MARIA"):
			return "mysql://" + user + ":" + pass + "@" + host + ":3306/" + db
		case has("REDIS", "CACHE"):
			return "redis://default:" + pass + "@" + host + ":6379/0"
		case has("MONGO"):
			return "mongodb://" + user + ":" + pass + "@" + host + ":27017/" + db + "?authSource=admin"
		case has("AMQP", "RABBIT", "BROKER"):
			return "amqp://" + user + ":" + pass + "@" + host + ":5672/" + db
		}
		return "postgres://" + user + ":" + pass + "@" + host + ":5432/" + db + "?sslmode=require"
	}
	return draw(r, lowerHex, 40)
}

// base62Pad encodes v in base 62, left-padded with zeros to width.
func base62Pad(v uint32, width int) string {
	b := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		b[i] = base62[v%62]
		v /= 62
	}
	return string(b)
}

// fakeJWT returns an HS256 JWT of a service account, issued in 2025.
func fakeJWT(r *rand.Rand) string {
	enc := base64.RawURLEncoding
	iat := dateFrom.Unix() + 365*86400 + r.Int64N(300*86400)
	sub := []string{"svc-billing", "svc-reporting", "svc-gateway", "svc-scheduler", "svc-admin"}[r.IntN(5)]
	header := `{"alg":"HS256","typ":"JWT"}`
	payload := fmt.Sprintf(`{"sub":"%s","scope":"read write","iat":%d,"exp":%d,"jti":"%s"}`, sub, iat, iat+365*86400, uuidFrom(r))
	sig := make([]byte, 32)
	for i := range sig {
		sig[i] = byte(r.IntN(256))
	}
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(sig)
}
