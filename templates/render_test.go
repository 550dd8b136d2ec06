package templates

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"hash/crc32"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	seedA = []byte("deployment-secret-a")
	seedB = []byte("deployment-secret-b")
	data  = BaitData{Host: "api.internal.corvane.io:8443", BaseURL: "https://api.internal.corvane.io:8443"}
)

// generated reports whether a bait body calls a function whose value
// depends on the seed.
var generated = regexp.MustCompile(`\{\{[^}]*\b(secret|hex|alnum|password|uuid|ip|date|after|num|pick)\b`)

func TestEveryBaitRenders(t *testing.T) {
	for _, tpl := range List() {
		for _, b := range tpl.Bait {
			t.Run(tpl.Name+b.Path, func(t *testing.T) {
				a1, err := Render(b, data, seedA)
				if err != nil {
					t.Fatal(err)
				}
				a2, err := Render(b, data, seedA)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(a1, a2) {
					t.Error("the same seed gave different bytes")
				}
				bb, err := Render(b, data, seedB)
				if err != nil {
					t.Fatal(err)
				}
				if generated.MatchString(b.Body) && bytes.Equal(a1, bb) {
					t.Error("a different seed gave the same bytes")
				}
				if len(bytes.TrimSpace(a1)) == 0 {
					t.Error("empty body")
				}
				if bytes.Contains(a1, []byte("<no value>")) {
					t.Errorf("rendered body contains <no value>:\n%s", a1)
				}
				if strings.Contains(b.ContentType, "json") {
					for _, out := range [][]byte{a1, bb} {
						if !json.Valid(out) {
							t.Errorf("body is not valid JSON:\n%s", out)
						}
					}
				}
				checkNoPlaceholders(t, b.Path, string(a1))
			})
		}
	}
}

func TestRenderWithMinter(t *testing.T) {
	calls := map[string]int{}
	minted := BaitData{
		Host:    data.Host,
		BaseURL: data.BaseURL,
		Secret: func(kind, name string) string {
			calls[kind+"/"+name]++
			return "HONEYTOKEN-" + kind + "-" + name
		},
	}
	b := baitOf(t, "admin", "/.env")
	out, err := Render(b, minted, seedA)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"AWS_ACCESS_KEY_ID=HONEYTOKEN-aws-AWS_ACCESS_KEY_ID\n",
		"AWS_SECRET_ACCESS_KEY=HONEYTOKEN-aws-AWS_SECRET_ACCESS_KEY\n",
		"STRIPE_API_KEY=HONEYTOKEN-stripe-STRIPE_API_KEY\n",
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("rendered .env lacks %q", want)
		}
	}
	// The env endpoint mentions the same placement twice; the minter is asked once.
	calls = map[string]int{}
	if _, err := Render(baitOf(t, "admin", "/actuator/configprops"), minted, seedA); err != nil {
		t.Fatal(err)
	}
	for k, n := range calls {
		if n != 1 {
			t.Errorf("minter called %d times for %s, want 1", n, k)
		}
	}
	if len(calls) == 0 {
		t.Error("minter never called")
	}
}

func TestEverySecretPlacementReachesTheMinter(t *testing.T) {
	minted := BaitData{Host: data.Host, BaseURL: data.BaseURL, Secret: func(kind, name string) string { return "MINTED" }}
	for _, tpl := range List() {
		for _, b := range tpl.Bait {
			if !strings.Contains(b.Body, "secret ") {
				continue
			}
			out, err := Render(b, minted, seedA)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(out, []byte("MINTED")) {
				t.Errorf("%s %s: minted value missing", tpl.Name, b.Path)
			}
		}
	}
}

func TestRenderCleansAttackerHost(t *testing.T) {
	b := Bait{Path: "/t", Body: `{"host":"{{ .Host }}","url":"{{ .BaseURL }}","domain":"{{ domain "corvane.io" }}"}`}
	tests := []struct {
		host, base, want string
	}{
		{"api.internal.corvane.io:8080", "http://api.internal.corvane.io:8080", `{"host":"api.internal.corvane.io:8080","url":"http://api.internal.corvane.io:8080","domain":"internal.corvane.io"}`},
		{`evil"}<script>`, `https://evil"}`, `{"host":"localhost","url":"http://localhost","domain":"corvane.io"}`},
		{"10.2.3.4:8080", "javascript:alert(1)", `{"host":"10.2.3.4:8080","url":"http://10.2.3.4:8080","domain":"corvane.io"}`},
		{"", "", `{"host":"localhost","url":"http://localhost","domain":"corvane.io"}`},
		{"shop.larkspur.no", "https://shop.larkspur.no", `{"host":"shop.larkspur.no","url":"https://shop.larkspur.no","domain":"larkspur.no"}`},
		{"[::1]:8080", "http://[::1]:8080", `{"host":"[::1]:8080","url":"http://[::1]:8080","domain":"corvane.io"}`},
		{strings.Repeat("a", 300), "", `{"host":"localhost","url":"http://localhost","domain":"corvane.io"}`},
	}
	for _, tt := range tests {
		out, err := Render(b, BaitData{Host: tt.host, BaseURL: tt.base}, seedA)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != tt.want {
			t.Errorf("host %q base %q: got %s, want %s", tt.host, tt.base, out, tt.want)
		}
	}
}

func TestRenderNeverPanics(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		secret func(kind, name string) string
	}{
		{"unknown field", "{{ .Nope }}", nil},
		{"unknown function", `{{ exec "id" }}`, nil},
		{"wrong arity", `{{ secret "aws" }}`, nil},
		{"wrong type", `{{ hex "a" "b" }}`, nil},
		{"unclosed", `{{ hex "a" 4`, nil},
		{"panicking minter", `{{ secret "aws" "X" }}`, func(string, string) string { panic("minter down") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Render(Bait{Path: "/x", Body: tt.body}, BaitData{Secret: tt.secret}, seedA)
			if err == nil {
				t.Errorf("no error, output %q", out)
			}
		})
	}
}

func TestGeneratorValues(t *testing.T) {
	g := newGenerator(seedA, nil)
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	password := regexp.MustCompile(`^[A-Za-z0-9._!-]{20}$`)
	for i := range 200 {
		name := "n" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		if v := g.UUID(name); !uuid.MatchString(v) {
			t.Errorf("UUID %q", v)
		}
		if v := g.Password(name); !password.MatchString(v) || !strings.ContainsAny(v, upper) || !strings.ContainsAny(v, digits) || !strings.ContainsAny(v, lower) || !strings.ContainsAny(v, "-_.!") {
			t.Errorf("Password %q", v)
		}
		ip := net.ParseIP(g.IP(name))
		if ip == nil || !ip.IsPrivate() || ip.To4() == nil {
			t.Errorf("IP %q is not a private IPv4 address", g.IP(name))
		}
		d, err := time.Parse(time.RFC3339, g.Date(name))
		if err != nil || d.Year() < 2024 || d.Year() > 2025 {
			t.Errorf("Date %q", g.Date(name))
		}
		if n := g.Num(name, 5, 9); n < 5 || n > 9 {
			t.Errorf("Num = %d", n)
		}
		if v := g.Pick(name, "a", "b", "c"); v != "a" && v != "b" && v != "c" {
			t.Errorf("Pick = %q", v)
		}
	}
	if v := g.Hex("h", 10); len(v) != 10 || strings.Trim(v, lowerHex) != "" {
		t.Errorf("Hex = %q", v)
	}
	if v := g.Hex("h", 1<<30); len(v) != maxGenerated {
		t.Errorf("Hex did not clamp: %d", len(v))
	}
	if v := g.Alnum("h", 0); len(v) != 1 {
		t.Errorf("Alnum(0) = %q", v)
	}
	if g.Pick("p") != "" {
		t.Error("Pick with no choices")
	}
	if g.Num("same", 3, 3) != 3 || g.Num("rev", 9, 5) < 5 {
		t.Error("Num bounds")
	}
	if g.UUID("x") != g.UUID("x") || g.UUID("x") == g.UUID("y") {
		t.Error("UUID is not a function of its name")
	}
	if g.After("d", "6h") == g.Date("d") {
		t.Error("After did not add")
	}
}

func TestFakeSecretShapes(t *testing.T) {
	tests := []struct {
		kind, name string
		re         string
	}{
		{"aws", "AWS_ACCESS_KEY_ID", `^AKIA[A-Z2-7]{16}$`},
		{"aws", "AWS_SECRET_ACCESS_KEY", `^[A-Za-z0-9+/]{40}$`},
		{"aws", "STS_ACCESS_KEY_ID", `^ASIA[A-Z2-7]{16}$`},
		{"aws", "AWS_SESSION_TOKEN", `^IQoJb3JpZ2luX2VjE[A-Za-z0-9+/]+==$`},
		{"github", "GITHUB_TOKEN", `^ghp_[A-Za-z0-9]{36}$`},
		{"gitlab", "GITLAB_TOKEN", `^glpat-[A-Za-z0-9_-]{20}$`},
		{"slack", "SLACK_WEBHOOK_URL", `^https://hooks\.slack\.com/services/T[A-Z0-9]{8}/B[A-Z0-9]{10}/[A-Za-z0-9]{24}$`},
		{"slack", "SLACK_BOT", `^xoxb-[0-9]{12}-[0-9]{13}-[A-Za-z0-9]{24}$`},
		{"stripe", "STRIPE_API_KEY", `^sk_live_51[A-Za-z0-9]{97}$`},
		{"stripe", "STRIPE_PUBLISHABLE_KEY", `^pk_live_51[A-Za-z0-9]{97}$`},
		{"stripe", "STRIPE_WEBHOOK_SECRET", `^whsec_[A-Za-z0-9]{32}$`},
		{"npm", "NPM_TOKEN", `^npm_[A-Za-z0-9]{36}$`},
		{"openai", "OPENAI_API_KEY", `^sk-proj-[A-Za-z0-9_-]{74}T3BlbkFJ[A-Za-z0-9_-]{74}$`},
		{"google", "GOOGLE_MAPS_API_KEY", `^AIza[A-Za-z0-9_-]{35}$`},
		{"jwt", "TOKEN", `^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$`},
		{"apikey", "API_KEY", `^[0-9a-f]{40}$`},
		{"basic", "CREDENTIALS", `^[a-z-]+:[A-Za-z0-9]{18}$`},
		{"dburl", "DATABASE_URL", `^postgres://[a-z_]+:[A-Za-z0-9]{22}@10|172|192`},
		{"dburl", "MYSQL_URL", `^mysql://`},
		{"dburl", "REDIS_URL", `^redis://default:`},
		{"dburl", "MONGO_URI", `^mongodb://`},
		{"nosuchkind", "X", `^[0-9a-f]{40}$`},
	}
	g := newGenerator(seedA, nil)
	for _, tt := range tests {
		v := g.Secret(tt.kind, tt.name)
		if !regexp.MustCompile(tt.re).MatchString(v) {
			t.Errorf("secret %s %s = %q, want %s", tt.kind, tt.name, v, tt.re)
		}
	}
	gh := g.Secret("github", "GITHUB_TOKEN")
	if got, want := gh[34:], base62Pad(crc32.ChecksumIEEE([]byte(gh[4:34])), 6); got != want {
		t.Errorf("GitHub token checksum %q, want %q", got, want)
	}
	parts := strings.Split(g.Secret("jwt", "TOKEN"), ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || !json.Valid(payload) {
		t.Errorf("JWT payload %q: %v", payload, err)
	}
}

func TestDomain(t *testing.T) {
	tests := []struct{ host, want string }{
		{"api.internal.corp:8080", "internal.corp"},
		{"corvane.io", "corvane.io"},
		{"API.Corvane.IO", "corvane.io"},
		{"localhost:8080", "fallback.tld"},
		{"127.0.0.1", "fallback.tld"},
		{"[::1]:80", "fallback.tld"},
		{"intranet", "fallback.tld"},
		{"a..b", "fallback.tld"},
	}
	for _, tt := range tests {
		g := newGenerator(seedA, nil)
		g.host = tt.host
		if got := g.Domain("fallback.tld"); got != tt.want {
			t.Errorf("Domain for %q = %q, want %q", tt.host, got, tt.want)
		}
	}
}

func baitOf(t *testing.T, template, path string) Bait {
	t.Helper()
	tpl, ok := Get(template)
	if !ok {
		t.Fatalf("no template %s", template)
	}
	for _, b := range tpl.Bait {
		if b.Path == path {
			return b
		}
	}
	t.Fatalf("%s has no bait %s", template, path)
	return Bait{}
}

func FuzzRender(f *testing.F) {
	f.Add(`{{ .Host }} {{ secret "aws" "K" }} {{ hex "h" 8 }}`, "api.corp:80", []byte("s"))
	f.Add(`{{ range $i := 3 }}{{ num (printf "n%d" $i) 1 9 }}{{ end }}`, `"}`, []byte{})
	f.Add(`{{ after "d" "bogus" }}{{ domain "x.y" }}`, "[::1]", []byte("seed"))
	f.Fuzz(func(t *testing.T, body, host string, seed []byte) {
		if strings.Contains(body, "range") {
			t.Skip() // bodies are trusted; a fuzzed one may loop for a very long time
		}
		out, err := Render(Bait{Path: "/f", Body: body}, BaitData{Host: host, BaseURL: "http://" + host}, seed)
		if err == nil && strings.Contains(body, ".Host") && strings.ContainsAny(host, `"<>'`) && bytes.Contains(out, []byte(host)) {
			t.Errorf("attacker host %q reached the body", host)
		}
	})
}
