package tokens

import (
	"crypto/ecdsa"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"hash/crc32"
	"math/big"
	"regexp"
	"strings"
	"testing"
)

var (
	testSecret  = []byte("test deployment secret, 32 bytes")
	otherSecret = []byte("another deployment secret entirely")
	testOpts    = MinterOptions{DecoyHost: "api.internal.corp", DNSZone: "t.example.net"}
)

func newTestMinter(t testing.TB, secret []byte) *Minter {
	t.Helper()
	m, err := NewMinter(secret, testOpts)
	if err != nil {
		t.Fatalf("NewMinter: %v", err)
	}
	return m
}

// formats holds, per kind, the provider's published format as a regular expression.
// Sources:
//   - aws: gitleaks rule aws-access-token `\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b`;
//     secret: 40 characters of [A-Za-z0-9/+] (AWS IAM docs, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").
//   - github: gitleaks github-pat `ghp_[0-9a-zA-Z]{36}`, github-oauth `gho_[0-9a-zA-Z]{36}`,
//     github-app-token `(?:ghu|ghs)_[0-9a-zA-Z]{36}`, github-fine-grained-pat `github_pat_\w{82}`;
//     the classic layout (30 random + 6 CRC32 base62) is GitHub's blog post
//     "Behind GitHub's new authentication token formats" (2021-04-05).
//   - gitlab: gitleaks gitlab-pat `glpat-[\w-]{20}`.
//   - slack: gitleaks slack-bot-token `xoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9-]*`,
//     slack-user-token `xox[pe](?:-[0-9]{10,13}){3}-[a-zA-Z0-9-]{28,34}`.
//   - stripe: gitleaks stripe-access-token `(?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{10,99}`.
//   - npm: gitleaks npm-access-token `npm_[a-z0-9]{36}` (case-insensitive); the checksum is npm's
//     "Announcing npm's new access token format" (GitHub blog, 2021-09-23).
//   - openai: gitleaks openai-api-key
//     `sk-(?:proj|svcacct|admin)-(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})T3BlbkFJ(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})`.
//   - google: gitleaks gcp-api-key `AIza[\w-]{35}`.
//   - jwt: gitleaks jwt `ey[a-zA-Z0-9]{17,}\.ey[a-zA-Z0-9\/\\_-]{17,}\.(?:[a-zA-Z0-9\/\\_-]{10,}={0,2})?`.
//   - docker: Docker Hub personal access tokens, `dckr_pat_[a-zA-Z0-9_-]{27}` (trufflehog dockerhub detector).
//   - kubeconfig: kubeadm bootstrap tokens, `[a-z0-9]{6}\.[a-z0-9]{16}` (Kubernetes docs,
//     "Authenticating with Bootstrap Tokens").
//   - dns: RFC 1035 label, at most 63 characters of letters, digits and hyphens.
//   - apikey, git-credentials (Gitea-style access token), basic, dburl, url: our own generic shapes.
var formats = map[Kind]*regexp.Regexp{
	AWS:            regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`),
	GitHub:         regexp.MustCompile(`^(?:gh[pos]_[0-9a-zA-Z]{36}|github_pat_[0-9a-zA-Z]{22}_[0-9a-zA-Z]{59})$`),
	GitLab:         regexp.MustCompile(`^glpat-[\w-]{20}$`),
	Slack:          regexp.MustCompile(`^(?:xoxb-[0-9]{10,13}-[0-9]{10,13}-[a-zA-Z0-9]{24}|xoxp(?:-[0-9]{10,13}){3}-[a-f0-9]{32})$`),
	Stripe:         regexp.MustCompile(`^(?:sk|rk)_live_[a-zA-Z0-9]{99}$`),
	NPM:            regexp.MustCompile(`^npm_[a-zA-Z0-9]{36}$`),
	OpenAI:         regexp.MustCompile(`^sk-proj-[A-Za-z0-9_-]{74}T3BlbkFJ[A-Za-z0-9_-]{74}$`),
	Google:         regexp.MustCompile(`^AIza[\w-]{35}$`),
	JWT:            regexp.MustCompile(`^ey[a-zA-Z0-9]{17,}\.ey[a-zA-Z0-9_-]{17,}\.[a-zA-Z0-9_-]{86}$`),
	APIKey:         regexp.MustCompile(`^[0-9a-f]{40}$`),
	Basic:          regexp.MustCompile(`^[0-9A-Za-z]{24}$`),
	DBURL:          regexp.MustCompile(`^postgres://[a-z_-]+:[0-9A-Za-z]{24}@api\.internal\.corp:5432/[a-z]+$`),
	URL:            regexp.MustCompile(`^https://api\.internal\.corp/[a-z0-9/-]+/[0-9A-Za-z]{22}$`),
	DNS:            regexp.MustCompile(`^[a-z2-7]{26}\.t\.example\.net$`),
	Kubeconfig:     regexp.MustCompile(`^[a-z0-9]{6}\.[a-z0-9]{16}$`),
	Docker:         regexp.MustCompile(`^dckr_pat_[a-zA-Z0-9_-]{27}$`),
	GitCredentials: regexp.MustCompile(`^[0-9a-f]{40}$`),
}

// carrier returns the part of a token's Value that carries the MAC.
func carrier(tok Token) string {
	switch tok.Kind {
	case DBURL:
		return tok.Fields["password"]
	case URL:
		return tok.Value[strings.LastIndexByte(tok.Value, '/')+1:]
	case DNS:
		return tok.Fields["label"]
	case JWT:
		return tok.Fields["jti"]
	}
	return tok.Value
}

// mutate returns s with byte i changed to another character of the same class.
func mutate(s string, i int) string {
	b := []byte(s)
	switch c := b[i]; {
	case c >= '0' && c <= '9':
		b[i] = '0' + (c-'0'+1)%10
	case c >= 'a' && c <= 'z':
		b[i] = 'a' + (c-'a'+1)%26
	case c >= 'A' && c <= 'Z':
		b[i] = 'A' + (c-'A'+1)%26
	case c == '-':
		b[i] = '_'
	case c == '_':
		b[i] = '-'
	default:
		b[i] = 'x'
	}
	return string(b)
}

func TestEveryKind(t *testing.T) {
	m := newTestMinter(t, testSecret)
	other := newTestMinter(t, otherSecret)
	for _, kind := range Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			re := formats[kind]
			if re == nil {
				t.Fatalf("no format regexp for %s", kind)
			}
			seen := map[ID]bool{}
			for n := range 50 {
				tok, err := m.New(kind)
				if err != nil {
					t.Fatalf("New(%s): %v", kind, err)
				}
				if tok.Kind != kind || tok.ID.IsZero() {
					t.Fatalf("New(%s) = kind %q id %v", kind, tok.Kind, tok.ID)
				}
				if seen[tok.ID] {
					t.Fatalf("duplicate id %v", tok.ID)
				}
				seen[tok.ID] = true
				if !re.MatchString(tok.Value) {
					t.Fatalf("%q does not match the %s format %v", tok.Value, kind, re)
				}
				id, k, ok := m.Recognize(tok.Value)
				if !ok || id != tok.ID || k != kind {
					t.Fatalf("Recognize(%q) = %v %q %v, want %v %q true", tok.Value, id, k, ok, tok.ID, kind)
				}
				if _, _, ok := other.Recognize(tok.Value); ok {
					t.Fatalf("another deployment recognises %q", tok.Value)
				}
				if n > 4 {
					continue
				}
				if kind == JWT {
					testJWTMutations(t, m, tok)
					continue
				}
				c := carrier(tok)
				at := strings.Index(tok.Value, c)
				if at < 0 || c == "" {
					t.Fatalf("carrier %q not in %q", c, tok.Value)
				}
				for i := at; i < at+len(c); i++ {
					mut := tok.Value[:i] + mutate(tok.Value, i)[i:i+1] + tok.Value[i+1:]
					if _, _, ok := m.Recognize(mut); ok {
						t.Fatalf("mutation at %d recognised: %q (from %q)", i, mut, tok.Value)
					}
				}
			}
		})
	}
}

// The carrier alone (the password, URL segment, key) is recognised as well as the
// containing string, and the pair forms are recognised.
func TestRecognizeCarriers(t *testing.T) {
	m := newTestMinter(t, testSecret)
	db, _ := m.New(DBURL)
	for _, s := range []string{db.Fields["password"], db.Fields["username"] + ":" + db.Fields["password"],
		"postgresql://x:" + db.Fields["password"] + "@elsewhere/db?sslmode=require"} {
		if id, k, ok := m.Recognize(s); !ok || id != db.ID || k != DBURL {
			t.Errorf("Recognize(%q) = %v %q %v, want %v dburl", s, id, k, ok, db.ID)
		}
	}
	b, _ := m.New(Basic)
	if id, k, ok := m.Recognize(b.Fields["username"] + ":" + b.Value); !ok || id != b.ID || k != Basic {
		t.Errorf("user:password not recognised as basic: %v %q %v", id, k, ok)
	}
	g, _ := m.New(GitCredentials)
	u := "https://" + g.Fields["username"] + ":" + g.Value + "@" + m.DecoyHost()
	if id, k, ok := m.Recognize(u); !ok || id != g.ID || k != GitCredentials {
		t.Errorf("Recognize(%q) = %v %q %v", u, id, k, ok)
	}
	ut, _ := m.New(URL)
	for _, s := range []string{ut.Value + "?ref=mail", ut.Value + "/", carrier(ut)} {
		if id, k, ok := m.Recognize(s); !ok || id != ut.ID || k != URL {
			t.Errorf("Recognize(%q) = %v %q %v", s, id, k, ok)
		}
	}
	d, _ := m.New(DNS)
	up := strings.ToUpper(d.Value[:13]) + d.Value[13:] // resolvers may randomise case
	if id, k, ok := m.Recognize(up); !ok || id != d.ID || k != DNS {
		t.Errorf("Recognize(%q) = %v %q %v", up, id, k, ok)
	}
	if len(d.Fields["label"]) > 63 {
		t.Errorf("dns label %q longer than 63", d.Fields["label"])
	}
}

// githubChecksum is an independent implementation of GitHub's token checksum: CRC32 of the
// 30-character body, in base62 (0-9A-Za-z), left-padded with zeros to 6 characters.
func githubChecksum(body string) string {
	n := new(big.Int).SetUint64(uint64(crc32.ChecksumIEEE([]byte(body))))
	s := n.Text(62) // math/big's base62 digits are 0-9a-zA-Z: translate to 0-9A-Za-z
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return r
	}, s)
	return strings.Repeat("0", 6-len(s)) + s
}

func TestGitHubChecksum(t *testing.T) {
	// Known vector from CredSweeper's tests (tests/filters/test_value_github_check.py):
	// "gh?_" + 31 zeros + "4WZ4EQ" passes its check (CRC32 of the zeros, base62 0-9A-Za-z).
	if got := githubChecksum(strings.Repeat("0", 31)); got != "4WZ4EQ" {
		t.Fatalf("independent checksum of 31 zeros = %q, want 4WZ4EQ", got)
	}
	if got := string(appendChecksum(nil, strings.Repeat("0", 31))); got != "4WZ4EQ" {
		t.Fatalf("appendChecksum of 31 zeros = %q, want 4WZ4EQ", got)
	}
	m := newTestMinter(t, testSecret)
	for range 300 {
		for _, kind := range []Kind{GitHub, NPM} {
			tok, _ := m.New(kind)
			if strings.HasPrefix(tok.Value, "github_pat_") {
				continue
			}
			body, sum := tok.Value[4:34], tok.Value[34:]
			if want := githubChecksum(body); sum != want {
				t.Fatalf("%s: checksum %q, want %q", tok.Value, sum, want)
			}
			// A body change with the checksum recomputed is still rejected: the MAC catches it.
			mb := mutate(body, 10)
			forged := tok.Value[:4] + mb + githubChecksum(mb)
			if _, _, ok := m.Recognize(forged); ok {
				t.Fatalf("forged %q recognised", forged)
			}
		}
	}
}

func TestGitHubVariants(t *testing.T) {
	m := newTestMinter(t, testSecret)
	seen := map[string]bool{}
	for range 400 {
		tok, _ := m.New(GitHub)
		seen[tok.Value[:4]] = true
	}
	for _, p := range []string{"ghp_", "gho_", "ghs_", "gith"} {
		if !seen[p] {
			t.Errorf("no %q token in 400", p)
		}
	}
}

// awsAccountIndependent decodes the account of an AKIA key id the published way:
// base32-decode the 16 characters, take the first 6 bytes, mask 0x7fffffffff80, shift 7.
func awsAccountIndependent(t *testing.T, keyID string) uint64 {
	b, err := base32.StdEncoding.DecodeString(keyID[4:])
	if err != nil {
		t.Fatal(err)
	}
	var z uint64
	for _, c := range b[:6] {
		z = z<<8 | uint64(c)
	}
	return (z & 0x7fffffffff80) >> 7
}

func TestAWS(t *testing.T) {
	m := newTestMinter(t, testSecret)
	other := newTestMinter(t, otherSecret)
	awsKey, err := hkdf.Key(sha256.New, testSecret, nil, "honeyapi/tokens/v1/aws-secret", 32)
	if err != nil {
		t.Fatal(err)
	}
	secretRE := regexp.MustCompile(`^[A-Za-z0-9+/]{40}$`)
	for range 200 {
		tok, _ := m.New(AWS)
		acct := awsAccountIndependent(t, tok.Value)
		if acct < 1_000_000_000_000 || acct >= 1_000_000_000_000+1<<34 {
			t.Fatalf("%s decodes to account %d: want 13 digits in [1e12, 1e12+2^34)", tok.Value, acct)
		}
		if a, ok := awsAccount(tok.Value); !ok || a != acct {
			t.Fatalf("awsAccount(%s) = %d, want %d", tok.Value, a, acct)
		}
		if tok.Value[4] != '6' {
			t.Fatalf("%s: 5th character %q, want '6'", tok.Value, tok.Value[4])
		}
		sec := tok.Fields["secret_access_key"]
		if !secretRE.MatchString(sec) {
			t.Fatalf("secret %q not 40 base64 characters", sec)
		}
		mac := hmac.New(sha256.New, awsKey)
		mac.Write([]byte(tok.Value))
		if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)[:30]); sec != want {
			t.Fatalf("secret %q is not HMAC(key id): want %q", sec, want)
		}
		if got, ok := m.AWSSecretFor(tok.Value); !ok || got != sec {
			t.Fatalf("AWSSecretFor = %q %v, want %q", got, ok, sec)
		}
		if _, ok := other.AWSSecretFor(tok.Value); ok {
			t.Fatal("another deployment derives a secret")
		}
	}
	if _, ok := m.AWSSecretFor("AKIAIOSFODNN7EXAMPLE"); ok {
		t.Fatal("AWSSecretFor accepted AWS's documentation key id")
	}
	// The encoder against the published decoding, at the edges of the range.
	for _, nonce := range []uint64{0, 1, 1<<40 - 1} {
		id := awsKeyID(nonce, 1<<33-1)
		want := uint64(1_000_000_000_000) + nonce>>6
		if got := awsAccountIndependent(t, id); got != want {
			t.Errorf("awsKeyID(%d): account %d, want %d", nonce, got, want)
		}
	}
}

func TestJWT(t *testing.T) {
	m := newTestMinter(t, testSecret)
	same := newTestMinter(t, testSecret)
	if !m.JWTPublicKey().Equal(same.JWTPublicKey()) || m.JWTKeyID() != same.JWTKeyID() {
		t.Fatal("the JWT key is not a deterministic function of the secret")
	}
	tok, err := m.New(JWT)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok.Value, ".")
	if len(parts) != 3 {
		t.Fatalf("%q: want 3 segments", tok.Value)
	}
	var hdr struct{ Alg, Kid, Typ string }
	var claims struct {
		Iss, Sub, Aud, Jti, Scope string
		Exp, Nbf, Iat             int64
	}
	for i, v := range []any{&hdr, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatal(err)
		}
	}
	if hdr.Alg != "ES256" || hdr.Typ != "JWT" || hdr.Kid != m.JWTKeyID() {
		t.Errorf("header %+v", hdr)
	}
	if claims.Iss != "https://api.internal.corp" {
		t.Errorf("iss %q, want https://api.internal.corp", claims.Iss)
	}
	if claims.Exp <= claims.Iat || claims.Sub == "" || claims.Jti == "" {
		t.Errorf("claims %+v", claims)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(claims.Jti) {
		t.Errorf("jti %q is not a UUIDv4", claims.Jti)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature: %v, %d bytes", err, len(sig))
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(same.JWTPublicKey(), digest[:], r, s) {
		t.Fatal("JWT does not verify with the derived public key")
	}
}

// The allocation-free HMAC is HMAC-SHA256.
func TestHMAC(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	k := newHMACKey(key)
	for _, msg := range []string{"", "a", strings.Repeat("x", 55), strings.Repeat("y", maxMACInput), strings.Repeat("z", 300)} {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		want := h.Sum(nil)
		if got := sum(k, msg); string(got[:]) != string(want) {
			t.Errorf("sum(%d bytes) differs from crypto/hmac", len(msg))
		}
	}
}

func TestIDAndErrors(t *testing.T) {
	m := newTestMinter(t, testSecret)
	tok, _ := m.New(APIKey)
	p, err := ParseID(tok.ID.String())
	if err != nil || p != tok.ID {
		t.Fatalf("ParseID(%q) = %v, %v", tok.ID, p, err)
	}
	if _, err := ParseID("xyz"); err == nil {
		t.Error("ParseID accepted xyz")
	}
	if _, err := NewMinter([]byte("short"), MinterOptions{}); err == nil {
		t.Error("NewMinter accepted a 5-byte secret")
	}
	if _, err := m.New("nope"); err == nil {
		t.Error("New accepted an unknown kind")
	}
	nz, _ := NewMinter(testSecret, MinterOptions{})
	if _, err := nz.New(DNS); err != ErrNoDNSZone {
		t.Errorf("New(DNS) without a zone: %v, want ErrNoDNSZone", err)
	}
	if nz.DecoyHost() != DefaultDecoyHost {
		t.Errorf("default host %q", nz.DecoyHost())
	}
	if len(Kinds()) != 17 {
		t.Errorf("Kinds() has %d kinds", len(Kinds()))
	}
}

// testJWTMutations changes each character of the jti inside the decoded payload and
// re-encodes it (the signature is left as it was: Recognize does not verify signatures).
func testJWTMutations(t *testing.T, m *Minter, tok Token) {
	t.Helper()
	parts := strings.Split(tok.Value, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	jti := tok.Fields["jti"]
	at := strings.Index(string(raw), jti)
	if at < 0 {
		t.Fatalf("jti %q not in payload", jti)
	}
	for i := at; i < at+len(jti); i++ {
		if raw[i] == '-' {
			continue
		}
		mut := []byte(string(raw))
		mut[i] = "1234567890bcdefa"[strings.IndexByte("0123456789abcdef", raw[i])]
		v := parts[0] + "." + base64.RawURLEncoding.EncodeToString(mut) + "." + parts[2]
		if _, _, ok := m.Recognize(v); ok {
			t.Fatalf("jti mutation at %d recognised: %s", i-at, mut[at:at+len(jti)])
		}
	}
}
