package tokens

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"strings"
)

// MinSecretLen is the shortest deployment secret NewMinter accepts.
const MinSecretLen = 16

// DefaultDecoyHost is the host tokens point at when MinterOptions.DecoyHost is empty.
const DefaultDecoyHost = "api.internal.corp"

// ErrNoDNSZone is returned by New(DNS) when MinterOptions.DNSZone is empty: a DNS token is
// only useful under a zone whose queries this deployment sees.
var ErrNoDNSZone = errors.New("tokens: dns tokens need MinterOptions.DNSZone")

// MinterOptions configures a Minter. Both fields are optional.
type MinterOptions struct {
	// DecoyHost is the host that URL-bearing tokens (jwt iss, dburl, url, kubeconfig,
	// docker, git-credentials) point at. Default DefaultDecoyHost.
	DecoyHost string
	// DNSZone is the zone under which DNS tokens are minted (e.g. "t.example.net").
	// Default none: New(DNS) fails with ErrNoDNSZone.
	DNSZone string
}

// Minter mints honeytokens and recognises them. It holds keys derived with HKDF-SHA256 from
// the deployment secret; two Minters built from the same secret mint and recognise the same
// tokens. A Minter is safe for concurrent use.
type Minter struct {
	mac    *hmacKey // MAC hidden in every token body; also yields the ID
	seeds  []byte   // keys NewSeeded's random streams
	aws    *hmacKey // derives AWS secret access keys from key ids
	jwt    *ecdsa.PrivateKey
	kid    string
	host   string
	zone   string
	issuer string
}

// NewMinter derives a Minter's keys from the deployment secret (at least MinSecretLen bytes).
func NewMinter(secret []byte, opts MinterOptions) (*Minter, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("tokens: deployment secret is %d bytes, want at least %d", len(secret), MinSecretLen)
	}
	derive := func(info string) []byte {
		k, err := hkdf.Key(sha256.New, secret, nil, "honeyapi/tokens/v1/"+info, 32)
		if err != nil { // only for absurd lengths
			panic(err)
		}
		return k
	}
	m := &Minter{
		mac:   newHMACKey(derive("mac")),
		aws:   newHMACKey(derive("aws-secret")),
		seeds: derive("seeded"),
		host:  strings.ToLower(strings.TrimSuffix(opts.DecoyHost, ".")),
		zone:  strings.ToLower(strings.Trim(opts.DNSZone, ".")),
	}
	if m.host == "" {
		m.host = DefaultDecoyHost
	}
	m.issuer = "https://" + m.host
	// The JWT signing key: a P-256 scalar from HKDF, re-derived with a counter in the
	// (2^-32) case that it falls outside [1, n-1].
	for i := 0; ; i++ {
		k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), derive(fmt.Sprintf("jwt-es256/%d", i)))
		if err == nil {
			m.jwt = k
			break
		}
		if i > 16 {
			return nil, fmt.Errorf("tokens: derive jwt key: %w", err)
		}
	}
	pub, err := m.jwt.PublicKey.Bytes()
	if err != nil {
		return nil, fmt.Errorf("tokens: jwt public key: %w", err)
	}
	t := sha256.Sum256(pub)
	m.kid = base64.RawURLEncoding.EncodeToString(t[:12])
	return m, nil
}

// DecoyHost returns the host URL-bearing tokens point at.
func (m *Minter) DecoyHost() string { return m.host }

// JWTPublicKey returns the public half of the deployment's JWT signing key (ES256).
func (m *Minter) JWTPublicKey() *ecdsa.PublicKey { return &m.jwt.PublicKey }

// JWTKeyID returns the "kid" header of the deployment's JWTs.
func (m *Minter) JWTKeyID() string { return m.kid }

// New mints a honeytoken of the given kind from crypto/rand.
func (m *Minter) New(kind Kind) (Token, error) { return m.mint(rand.Reader, kind) }

// NewSeeded mints the honeytoken of the given kind that seed determines: the
// same (deployment, kind, seed) always gives the same token, so a decoy can
// show one client the same breadcrumb on every request while another client
// gets its own. Seeds must be unguessable to attackers (derive them with a
// keyed hash); a JWT's claims are seeded, its ES256 signature is not.
func (m *Minter) NewSeeded(kind Kind, seed []byte) (Token, error) {
	k := m.seedKey(kind, seed)
	return m.mint(mrand.NewChaCha8(k), kind)
}

// seedKey is HMAC-SHA256(seeds, kind || 0 || seed): a ChaCha8 key per
// (kind, seed) that nobody without the deployment secret can predict.
func (m *Minter) seedKey(kind Kind, seed []byte) [32]byte {
	mac := hmac.New(sha256.New, m.seeds)
	mac.Write([]byte(kind))
	mac.Write([]byte{0})
	mac.Write(seed)
	var k [32]byte
	mac.Sum(k[:0])
	return k
}

func (m *Minter) mint(g io.Reader, kind Kind) (Token, error) {
	switch kind {
	case AWS:
		return m.newAWS(g), nil
	case GitHub:
		return m.newGitHub(g), nil
	case GitLab:
		return m.newSimple(g, kind, "glpat-", base64u, 13, 7), nil
	case Slack:
		return m.newSlack(g), nil
	case Stripe:
		return m.newStripe(g), nil
	case NPM:
		return m.newNPM(g), nil
	case OpenAI:
		return m.newOpenAI(g), nil
	case Google:
		return m.newSimple(g, kind, "AIzaSy", base64u, 26, 7), nil
	case JWT:
		return m.newJWT(g)
	case APIKey:
		return m.newHighEntropyHex(g, kind), nil
	case Basic:
		t := m.newSimple(g, kind, "", base62, 17, 7)
		t.Fields = map[string]string{"username": pick(g, usernames), "password": t.Value}
		return t, nil
	case DBURL:
		return m.newDBURL(g), nil
	case URL:
		return m.newURL(g), nil
	case DNS:
		return m.newDNS(g)
	case Kubeconfig:
		return m.newKubeconfig(g), nil
	case Docker:
		t := m.newSimple(g, kind, "dckr_pat_", base64u, 20, 7)
		t.Fields = map[string]string{"server": m.host, "username": pick(g, usernames)}
		return t, nil
	case GitCredentials:
		t := m.newHighEntropyHex(g, kind)
		t.Fields = map[string]string{"url": "https://" + m.host, "username": pick(g, usernames)}
		return t, nil
	}
	return Token{}, fmt.Errorf("%w %q", ErrUnknownKind, kind)
}

// seal appends the MAC of head (for kind) to head and returns the token value and its ID.
func (m *Minter) seal(head []byte, kind Kind, alpha string, macLen int) (string, ID) {
	h := sum(m.mac, head)
	return string(appendMAC(head, macWord(&h, kind), alpha, macLen)), idOf(&h)
}

// newSimple mints prefix + n random characters of alpha + macLen MAC characters.
func (m *Minter) newSimple(g io.Reader, kind Kind, prefix, alpha string, n, macLen int) Token {
	b := make([]byte, 0, len(prefix)+n+macLen+8)
	b = append(b, prefix...)
	b = appendRandom(g, b, alpha, n)
	v, id := m.seal(b, kind, alpha, macLen)
	return Token{ID: id, Kind: kind, Value: v}
}

// verify is the common tail of recognition: the carrier c is head + MAC (macLen characters
// of alpha at c[len(c)-macLen:]); kinds are the candidate kinds of c's shape.
func (m *Minter) verify(c string, macLen int, alpha string, k1, k2 Kind) (ID, Kind, bool) {
	at := len(c) - macLen
	h := sum(m.mac, c[:at])
	if macMatches(c[at:], macWord(&h, k1), alpha) {
		return idOf(&h), k1, true
	}
	if k2 != "" && macMatches(c[at:], macWord(&h, k2), alpha) {
		return idOf(&h), k2, true
	}
	return ID{}, "", false
}

// pick returns a uniformly random element of list.
func pick(g io.Reader, list []string) string {
	var b [8]byte
	io.ReadFull(g, b[:])
	return list[binary.BigEndian.Uint64(b[:])%uint64(len(list))]
}

func randIntn(g io.Reader, n int) int {
	var b [8]byte
	io.ReadFull(g, b[:])
	return int(binary.BigEndian.Uint64(b[:]) % uint64(n))
}

var usernames = []string{"deploy", "svc-deploy", "ci-bot", "admin", "svc-backup", "jenkins",
	"app_rw", "reporting", "svc-etl", "ops"}
