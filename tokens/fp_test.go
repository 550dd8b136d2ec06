package tokens

import (
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
)

// fpSamples is the number of random strings per format in TestFalsePositives: 1,000,000
// normally; fewer under the race detector (race_test.go) and with -short.
var fpSamples = 1_000_000

type fpGen struct{ r *rand.ChaCha8 }

func (g fpGen) chars(b []byte, alpha string, n int) []byte {
	for range n {
		b = append(b, alpha[g.r.Uint64()%uint64(len(alpha))])
	}
	return b
}

func (g fpGen) digits(b []byte, n int) []byte {
	b = g.chars(b, digits[1:], 1)
	return g.chars(b, digits, n-1)
}

func (g fpGen) checksummed(prefix string) string {
	b := g.chars([]byte(prefix), base62, 30)
	return string(appendChecksum(b, string(b[len(prefix):])))
}

// randomOfFormat returns, per kind, a generator of uniformly random strings of exactly
// the token's format (provider checksum included, so only the MAC can reject them).
func randomOfFormat(g fpGen, jwtTemplate []string) map[string]func() string {
	return map[string]func() string{
		"aws/any": func() string { return string(g.chars([]byte("AKIA"), base32uc, 16)) },
		// Key ids inside our account range: only the 33-bit MAC separates them.
		"aws/in-range":   func() string { return awsKeyID(g.r.Uint64()>>24, g.r.Uint64()>>31) },
		"github/classic": func() string { return g.checksummed("ghp_") },
		"github/fine-grained": func() string {
			b := g.chars([]byte("github_pat_11"), base32uc, 7)
			b = g.chars(append(b, '0'), base62, 12)
			return string(g.chars(append(b, '_'), base62, 59))
		},
		"gitlab": func() string { return string(g.chars([]byte("glpat-"), base64u, 20)) },
		"slack/bot": func() string {
			b := g.digits([]byte("xoxb-"), 12)
			b = g.digits(append(b, '-'), 13)
			return string(g.chars(append(b, '-'), base62, 24))
		},
		"slack/user": func() string {
			b := g.digits([]byte("xoxp-"), 11)
			b = g.digits(append(b, '-'), 12)
			b = g.digits(append(b, '-'), 12)
			return string(g.chars(append(b, '-'), hexlc, 32))
		},
		"stripe": func() string { return string(g.chars([]byte("sk_live_51"), base62, 97)) },
		"npm":    func() string { return g.checksummed("npm_") },
		"openai": func() string {
			b := g.chars([]byte("sk-proj-"), base64u, 74)
			return string(g.chars(append(b, "T3BlbkFJ"...), base64u, 74))
		},
		"google": func() string { return string(g.chars([]byte("AIzaSy"), base64u, 33)) },
		"jwt": func() string {
			var u [16]byte
			for i := range u {
				u[i] = byte(g.r.Uint64())
			}
			u[6] = u[6]&0x0f | 0x40
			u[8] = u[8]&0x3f | 0x80
			p := jwtTemplate[1] + formatUUID(u) + jwtTemplate[2]
			return jwtTemplate[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(p)) + "." + jwtTemplate[3]
		},
		"apikey+git-credentials": func() string { return string(g.chars(nil, hexlc, 40)) },
		"basic+dburl password":   func() string { return string(g.chars(nil, base62, 24)) },
		"dburl": func() string {
			return "postgres://app:" + string(g.chars(nil, base62, 24)) + "@db.internal:5432/app"
		},
		"url":        func() string { return "https://api.internal.corp/share/" + string(g.chars(nil, base62, 22)) },
		"dns":        func() string { return string(g.chars(nil, base32lc, 26)) + ".t.example.net" },
		"kubeconfig": func() string { return string(g.chars(append(g.chars(nil, base36lc, 6), '.'), base36lc, 16)) },
		"docker":     func() string { return string(g.chars([]byte("dckr_pat_"), base64u, 27)) },
	}
}

// TestFalsePositives measures how many uniformly random strings of each token format
// Recognize accepts. The MACs are 33 to 43 bits, so the expected count per million is at
// most 1e6 * 2 * 2^-33 ~= 2.3e-4: any hit fails the test.
func TestFalsePositives(t *testing.T) {
	n := fpSamples
	if testing.Short() {
		n /= 100
	}
	m := newTestMinter(t, testSecret)
	tok, err := m.New(JWT)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok.Value, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	jti := tok.Fields["jti"]
	at := strings.Index(string(raw), jti)
	tmpl := []string{parts[0], string(raw[:at]), string(raw[at+len(jti):]), parts[2]}

	gens := randomOfFormat(fpGen{}, nil)
	for name := range gens {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var seed [32]byte
			copy(seed[:], name)
			g := fpGen{rand.NewChaCha8(seed)}
			gen := randomOfFormat(g, tmpl)[name]
			hits := 0
			for range n {
				s := gen()
				if _, _, ok := m.Recognize(s); ok {
					hits++
					t.Errorf("random %s string recognised: %q", name, s)
				}
			}
			t.Logf("%s: %d of %d random strings recognised", name, hits, n)
		})
	}
}
