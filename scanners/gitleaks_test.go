package scanners

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/report"
	"github.com/zricethezav/gitleaks/v8/sources"

	"github.com/honeyapi/honeyapi/tokens"
)

// provider stands, in the expectations, for the dedicated gitleaks rule of the token's
// own format (see providerRule).
const provider = "(provider rule)"

// expectation says how gitleaks' default configuration must report one kind's token in one
// seeded file: under rule, or (rule == "") not at all, for the reason why.
type expectation struct {
	kind tokens.Kind
	path string
	rule string
	why  string
}

// Why gitleaks reports nothing for some placements, whatever the token: these are gaps in
// gitleaks' default rules, not in the token formats. A genuine credential in the same
// place is missed the same way.
const (
	whyURLUserinfo = "gitleaks v8.30.1 has no rule for credentials in a URL's userinfo (scheme://user:secret@host) " +
		"unless the secret has a provider rule of its own (ghp_…, glpat-… are reported there); generic-api-key " +
		"needs a keyword such as password/token/key right before '=' or ':' and a value without ':' or '/', " +
		"so a real database or Gitea password inside a URL is not reported either"
	whyCapabilityURL = "the secret is a path segment of an https URL on our own host: gitleaks only knows webhook " +
		"URLs of specific providers (slack-webhook-url, microsoft-teams-webhook); a real pre-signed or share " +
		"link on a company host is not reported either"
	whyDNS         = "a DNS name is a beacon, not a credential: no secret scanner rule matches a host name, and none should"
	whyDockerStdin = "gitleaks has no rule for Docker Hub tokens (dckr_pat_); on a 'docker login --password-stdin' " +
		"command line no keyword precedes the token, so a real Docker Hub token there is not reported either"
)

// expectations covers every (kind, file) placement of tokens.Minter.Seed; the test fails
// if seeding places a token somewhere this table does not mention, so it stays complete.
var expectations = []expectation{
	{tokens.AWS, ".env", "aws-access-token", ""},
	{tokens.AWS, "config/production.yaml", "aws-access-token", ""},
	{tokens.AWS, "terraform.tfvars", "aws-access-token", ""},
	{tokens.AWS, ".aws/credentials", "aws-access-token", ""},
	{tokens.AWS, ".bash_history", "aws-access-token", ""},

	{tokens.GitHub, ".env", provider, ""},
	{tokens.GitHub, "terraform.tfvars", provider, ""},
	{tokens.GitHub, ".git-credentials", provider, ""},
	{tokens.GitHub, ".bash_history", provider, ""},

	{tokens.GitLab, ".env", "gitlab-pat", ""},
	{tokens.GitLab, "terraform.tfvars", "gitlab-pat", ""},
	{tokens.GitLab, ".git-credentials", "gitlab-pat", ""},
	{tokens.GitLab, ".bash_history", "gitlab-pat", ""},

	{tokens.Slack, ".env", provider, ""},
	{tokens.Slack, "config/production.yaml", provider, ""},
	{tokens.Slack, ".bash_history", provider, ""},

	{tokens.Stripe, ".env", "stripe-access-token", ""},
	{tokens.Stripe, "config/production.yaml", "stripe-access-token", ""},
	{tokens.Stripe, ".bash_history", "stripe-access-token", ""},

	{tokens.NPM, ".env", "npm-access-token", ""},
	{tokens.NPM, ".npmrc", "npm-access-token", ""},
	{tokens.NPM, ".bash_history", "npm-access-token", ""},

	{tokens.OpenAI, ".env", "openai-api-key", ""},
	{tokens.OpenAI, "config/production.yaml", "openai-api-key", ""},
	{tokens.OpenAI, ".bash_history", "openai-api-key", ""},

	{tokens.Google, ".env", "gcp-api-key", ""},
	{tokens.Google, "config/production.yaml", "gcp-api-key", ""},

	{tokens.JWT, ".env", "jwt", ""},
	{tokens.JWT, "config/production.yaml", "jwt", ""},
	{tokens.JWT, ".bash_history", "jwt", ""},

	// No dedicated rules: what fires on a real secret in the same context.
	{tokens.APIKey, ".env", "generic-api-key", ""},                   // INTERNAL_API_KEY=
	{tokens.APIKey, "config/production.yaml", "generic-api-key", ""}, // api_key: "…"
	{tokens.APIKey, ".bash_history", "curl-auth-header", ""},         // curl -H "X-API-Key: …"

	{tokens.Basic, ".env", "generic-api-key", ""},                   // INTERNAL_API_PASSWORD=
	{tokens.Basic, "config/production.yaml", "generic-api-key", ""}, // password: "…"
	{tokens.Basic, ".bash_history", "curl-auth-user", ""},           // curl -u user:password

	{tokens.DBURL, ".env", "", whyURLUserinfo},                      // DATABASE_URL=postgres://…
	{tokens.DBURL, "config/production.yaml", "generic-api-key", ""}, // database.password
	{tokens.DBURL, "terraform.tfvars", "generic-api-key", ""},       // db_password = "…"
	{tokens.DBURL, ".bash_history", "", whyURLUserinfo},             // psql "postgres://…"

	{tokens.URL, ".env", "", whyCapabilityURL},
	{tokens.URL, "config/production.yaml", "", whyCapabilityURL},
	{tokens.URL, ".bash_history", "", whyCapabilityURL},

	{tokens.DNS, "config/production.yaml", "", whyDNS},
	{tokens.DNS, ".bash_history", "", whyDNS},

	{tokens.Kubeconfig, ".kube/config", "generic-api-key", ""},  // token: …
	{tokens.Kubeconfig, ".bash_history", "generic-api-key", ""}, // kubectl --token=…

	{tokens.Docker, ".env", "generic-api-key", ""},                // REGISTRY_TOKEN=
	{tokens.Docker, ".docker/config.json", "generic-api-key", ""}, // "auth": base64(user:token)
	{tokens.Docker, ".bash_history", "", whyDockerStdin},

	{tokens.GitCredentials, ".env", "generic-api-key", ""}, // GITEA_TOKEN=
	{tokens.GitCredentials, ".git-credentials", "", whyURLUserinfo},
	{tokens.GitCredentials, ".bash_history", "", whyURLUserinfo}, // git clone https://user:token@…
}

// providerRule is the rule a genuine credential of t's exact format triggers.
func providerRule(t tokens.Token) string {
	v := t.Value
	switch t.Kind {
	case tokens.GitHub:
		switch {
		case strings.HasPrefix(v, "ghp_"):
			return "github-pat"
		case strings.HasPrefix(v, "gho_"):
			return "github-oauth"
		case strings.HasPrefix(v, "ghs_"), strings.HasPrefix(v, "ghu_"):
			return "github-app-token"
		case strings.HasPrefix(v, "github_pat_"):
			return "github-fine-grained-pat"
		}
	case tokens.Slack:
		switch {
		case strings.HasPrefix(v, "xoxb-"):
			return "slack-bot-token"
		case strings.HasPrefix(v, "xoxp-"):
			return "slack-user-token"
		}
	}
	return "unknown format " + v[:min(len(v), 12)]
}

// knownMiss is a documented way for gitleaks to miss a token that a genuine credential of
// the same characters would not escape either. Each is counted and logged, never silent.
type knownMiss struct {
	name string
	// applies reports whether the miss explains why rule did not report t in content.
	applies func(d *detect.Detector, m *tokens.Minter, rule string, t tokens.Token, content string) (string, bool)
}

var knownMisses = []knownMiss{
	{
		// generic-api-key (and the curl rules) drop a secret whose Shannon entropy is at or
		// below the rule's threshold (40 hex characters: ~5% of random ones), that contains
		// one of ~1,500 "stopwords" (case-insensitively: "data", "code", "md5", "vpn", …), or
		// that an allowlist regex matches (generic-api-key: letters, '_', '.', '-' only;
		// curl-auth-user: a password starting with "x", "test", "pass", "pwd", "token").
		// The check runs the rule's own regex and the rule's and global allowlists.
		name: "rule allowlist or entropy",
		applies: func(d *detect.Detector, m *tokens.Minter, rule string, t tokens.Token, content string) (string, bool) {
			r, ok := d.Config.Rules[rule]
			if !ok || r.Regex == nil {
				return "", false
			}
			for _, g := range r.Regex.FindAllStringSubmatch(content, -1) {
				secret := secretOf(r, g)
				if !findingIsToken(m, t, secret) {
					continue
				}
				// 40-digit hex kinds are minted above the threshold: for them a
				// low-entropy miss is a failure, not an explanation.
				hex40 := (t.Kind == tokens.APIKey || t.Kind == tokens.GitCredentials) && secret == t.Value
				if r.Entropy != 0 && shannon(secret) <= r.Entropy && !hex40 {
					return fmt.Sprintf("entropy %.2f ≤ %.2f of %q", shannon(secret), r.Entropy, secret), true
				}
				for _, a := range slices.Concat(r.Allowlists, d.Config.Allowlists) {
					if ok, w := a.ContainsStopWord(secret); ok {
						return fmt.Sprintf("stopword %q in %q", w, secret), true
					}
					if a.RegexTarget == "" && a.RegexAllowed(secret) {
						return fmt.Sprintf("allowlist regex on %q", secret), true
					}
				}
			}
			return "", false
		},
	},
}

// secretOf extracts a match's secret as gitleaks does: the rule's secret group, or the
// first non-empty group, or the whole match.
func secretOf(r config.Rule, g []string) string {
	if r.SecretGroup > 0 && r.SecretGroup < len(g) {
		return g[r.SecretGroup]
	}
	for _, s := range g[1:] {
		if s != "" {
			return s
		}
	}
	return strings.Trim(g[0], "\n")
}

func shannon(s string) float64 {
	n := map[rune]int{}
	for _, c := range s {
		n[c]++
	}
	var h float64
	for _, c := range n {
		p := float64(c) / float64(len(s))
		h -= p * math.Log2(p)
	}
	return h
}

// findingIsToken reports whether a finding's secret is (or carries) token t: the token
// itself, a "user:password" pair, a URL, or base64 of "user:token" (docker auth).
func findingIsToken(m *tokens.Minter, t tokens.Token, secret string) bool {
	cands := []string{secret, strings.Trim(secret, `"'`)}
	if b, err := base64.StdEncoding.DecodeString(secret); err == nil {
		s := string(b)
		cands = append(cands, s)
		if _, pw, ok := strings.Cut(s, ":"); ok {
			cands = append(cands, pw)
		}
	}
	for _, c := range cands {
		if id, _, ok := m.Recognize(c); ok && id == t.ID {
			return true
		}
	}
	return false
}

// replaceCarriers replaces token t's secrets in content by those of other, a token of
// the same kind: its value, then the password or DNS label it carries.
func replaceCarriers(content string, t, other tokens.Token) string {
	content = strings.ReplaceAll(content, t.Value, other.Value)
	for _, f := range []string{"password", "label"} {
		if t.Fields[f] != "" && other.Fields[f] != "" {
			content = strings.ReplaceAll(content, t.Fields[f], other.Fields[f])
		}
	}
	return content
}

// gitleaksRounds is how many independent seedings (fresh deployment secret, fresh tokens)
// the test scans; HONEYAPI_SCANNER_ROUNDS overrides it.
func gitleaksRounds(t *testing.T) int {
	if s := os.Getenv("HONEYAPI_SCANNER_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("HONEYAPI_SCANNER_ROUNDS=%q: want a positive integer", s)
		}
		return n
	}
	if testing.Short() {
		return 5
	}
	return 40
}

// TestGitleaksFlagsSeededTokens seeds every kind into a directory, scans it with gitleaks'
// detector and default rules as `gitleaks dir` does (--max-decode-depth 5), and checks
// each placement against the expectations table.
func TestGitleaksFlagsSeededTokens(t *testing.T) {
	base, err := detect.NewDetectorDefaultConfig()
	if err != nil {
		t.Fatalf("gitleaks default config: %v", err)
	}
	rounds := gitleaksRounds(t)

	type key struct {
		kind tokens.Kind
		path string
	}
	want := map[key]expectation{}
	for _, e := range expectations {
		if _, dup := want[key{e.kind, e.path}]; dup {
			t.Fatalf("expectations: %s in %s listed twice", e.kind, e.path)
		}
		if (e.rule == "") == (e.why == "") {
			t.Fatalf("expectations: %s in %s needs exactly one of a rule or a reason", e.kind, e.path)
		}
		want[key{e.kind, e.path}] = e
	}

	matched := map[key]map[string]int{} // rules seen per placement, over all rounds
	misses := map[string][]string{}     // known miss name → occurrences
	hosts := []string{"", "api.payments-internal.net", "gateway.prod.example.org"}

	for round := range rounds {
		var secret [32]byte
		rand.Read(secret[:])
		m, err := tokens.NewMinter(secret[:], tokens.MinterOptions{
			DecoyHost: hosts[round%len(hosts)], DNSZone: "t.example.net"})
		if err != nil {
			t.Fatal(err)
		}
		rand.Read(secret[:])
		control, err := tokens.NewMinter(secret[:], tokens.MinterOptions{
			DecoyHost: hosts[round%len(hosts)], DNSZone: "t.example.net"})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		files, err := m.Seed(dir, tokens.SeedOptions{})
		if err != nil {
			t.Fatalf("round %d: Seed: %v", round, err)
		}

		d := detect.NewDetector(base.Config)
		d.MaxDecodeDepth = 5 // the gitleaks CLI default
		findings, err := d.DetectSource(context.Background(), &sources.Files{
			Config: &d.Config, Path: dir, Sema: d.Sema,
		})
		if err != nil {
			t.Fatalf("round %d: gitleaks: %v", round, err)
		}
		byFile := map[string][]report.Finding{}
		for _, f := range findings {
			rel, err := filepath.Rel(dir, f.File)
			if err != nil {
				t.Fatal(err)
			}
			byFile[filepath.ToSlash(rel)] = append(byFile[filepath.ToSlash(rel)], f)
		}

		placed := map[key]bool{}
		kindSeen := map[tokens.Kind]bool{}
		for _, sf := range files {
			content, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(sf.Path)))
			if err != nil {
				t.Fatal(err)
			}
			for _, tok := range sf.Tokens {
				kindSeen[tok.Kind] = true
				k := key{tok.Kind, sf.Path}
				placed[k] = true
				e, ok := want[k]
				if !ok {
					t.Errorf("round %d: Seed put a %s token in %s, which the expectations table does not cover", round, tok.Kind, sf.Path)
					continue
				}
				var rules []string
				for _, f := range byFile[sf.Path] {
					if findingIsToken(m, tok, f.Secret) || findingIsToken(m, tok, f.Match) {
						rules = append(rules, f.RuleID)
					}
				}
				if matched[k] == nil {
					matched[k] = map[string]int{}
				}
				for _, r := range rules {
					matched[k][r]++
				}

				if e.rule == "" {
					if len(rules) > 0 {
						t.Errorf("round %d: %s in %s is now reported by %v: move it from the exceptions to the expectations (was: %s)",
							round, tok.Kind, sf.Path, rules, e.why)
					}
					// The control: the same file with a credential of the same format
					// from another deployment (a stand-in for a genuine one) in place
					// of ours is not reported either.
					other, err := control.New(tok.Kind)
					if err != nil {
						t.Fatal(err)
					}
					ctl := replaceCarriers(string(content), tok, other)
					if ctl == string(content) {
						t.Fatalf("round %d: control for %s in %s replaced nothing", round, tok.Kind, sf.Path)
					}
					for _, f := range d.Detect(detect.Fragment{Raw: ctl, FilePath: filepath.Join(dir, filepath.FromSlash(sf.Path))}) {
						if findingIsToken(control, other, f.Secret) || findingIsToken(control, other, f.Match) {
							t.Errorf("round %d: exception %s in %s: a same-format credential there IS reported, by %s; the exception's reason (%s) is wrong",
								round, tok.Kind, sf.Path, f.RuleID, e.why)
						}
					}
					continue
				}
				rule := e.rule
				if rule == provider {
					rule = providerRule(tok)
				}
				if slices.Contains(rules, rule) {
					continue
				}
				// A 40-hex-digit secret is also the shape of a Sourcegraph
				// token, and gitleaks sometimes reports it there first (as
				// it would a real 40-hex key): still found as a secret.
				if rule == "generic-api-key" && slices.Contains(rules, "sourcegraph-access-token") && isHex40(tok.Value) {
					continue
				}
				explained := false
				for _, km := range knownMisses {
					if why, ok := km.applies(d, m, rule, tok, string(content)); ok {
						misses[km.name] = append(misses[km.name], fmt.Sprintf("%s in %s under %s: %s", tok.Kind, sf.Path, rule, why))
						explained = true
						break
					}
				}
				if !explained {
					t.Errorf("round %d: %s token %q in %s: not reported under %s (reported under %v)",
						round, tok.Kind, tok.Value, sf.Path, rule, rules)
				}
			}
		}
		for _, e := range expectations {
			if !placed[key{e.kind, e.path}] {
				t.Errorf("round %d: expectations list %s in %s, but Seed put no such token there: update the table", round, e.kind, e.path)
			}
		}
		for _, k := range tokens.Kinds() {
			if !kindSeen[k] {
				t.Errorf("round %d: no %s token in any seeded file", round, k)
			}
		}
	}

	// The report: rules matched per placement over all rounds, and every known miss.
	var keys []key
	for k := range matched {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].kind != keys[j].kind {
			return slices.Index(tokens.Kinds(), keys[i].kind) < slices.Index(tokens.Kinds(), keys[j].kind)
		}
		return keys[i].path < keys[j].path
	})
	var b strings.Builder
	fmt.Fprintf(&b, "gitleaks %d rounds, rules reporting each placement (count over rounds):\n", rounds)
	for _, k := range keys {
		var rs []string
		for r, n := range matched[k] {
			rs = append(rs, fmt.Sprintf("%s×%d", r, n))
		}
		sort.Strings(rs)
		e := want[k]
		note := ""
		if e.rule == "" {
			note = "  [exception]"
		}
		fmt.Fprintf(&b, "  %-16s %-24s %s%s\n", k.kind, k.path, strings.Join(rs, " "), note)
	}
	for _, km := range knownMisses {
		fmt.Fprintf(&b, "known miss %q: %d\n", km.name, len(misses[km.name]))
		for _, s := range misses[km.name] {
			fmt.Fprintf(&b, "    %s\n", s)
		}
	}
	t.Log(b.String())
}

func isHex40(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
