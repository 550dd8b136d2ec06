package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/web"
)

// TestTokensCLIOnTheFile runs the token commands with no server: they mint
// with the key file and keep records in the database file.
func TestTokensCLIOnTheFile(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	env := map[string]string{"HONEYAPI_ADMIN_LISTEN": "127.0.0.1:1"} // nothing answers there

	// check before any key exists is an error (2), not "not a token" (1).
	if code, _, errOut := runCLIEnv(t, env, "tokens", "check", "--db", db, "AKIAIOSFODNN7EXAMPLE"); code != 2 || !strings.Contains(errOut, "no deployment key") {
		t.Fatalf("check without a key: %d %q", code, errOut)
	}
	code, out, errOut := runCLIEnv(t, env, "tokens", "new", "github", "--db", db, "--note", "CI deploy key", "--json")
	if code != exitOK {
		t.Fatalf("tokens new: %d %q", code, errOut)
	}
	var gh store.Token
	if err := json.Unmarshal([]byte(out), &gh); err != nil || gh.Kind != "github" || gh.Note != "CI deploy key" || gh.Source != "cli" {
		t.Fatalf("tokens new --json: %q", out)
	}
	code, out, _ = runCLIEnv(t, env, "tokens", "new", "aws", "--db", db)
	if code != exitOK || !regexp.MustCompile(`(?m)^  value: AKIA[A-Z2-7]{16}$`).MatchString(out) || !strings.Contains(out, "secret_access_key: ") {
		t.Fatalf("tokens new aws: %d %q", code, out)
	}
	if code, _, errOut := runCLIEnv(t, env, "tokens", "new", "dns", "--db", db); code != exitUsage || !strings.Contains(errOut, "dns_zone") {
		t.Fatalf("dns without a zone: %d %q", code, errOut)
	}
	if code, _, _ := runCLIEnv(t, env, "tokens", "new", "nosuchkind", "--db", db); code != exitUsage {
		t.Fatalf("unknown kind: %d", code)
	}

	// check: 0 for ours, 1 for anything else.
	if code, out, _ := runCLIEnv(t, env, "tokens", "check", "--db", db, gh.Value); code != 0 || !strings.Contains(out, "github "+gh.ID) {
		t.Fatalf("check ours: %d %q", code, out)
	}
	if code, _, _ := runCLIEnv(t, env, "tokens", "check", "--db", db, "ghp_"+strings.Repeat("a", 36)); code != 1 {
		t.Fatalf("check foreign: %d", code)
	}

	// scan: FILE:LINE: KIND ID, exit 0; nothing found exits 1; a missing file 2.
	logf := filepath.Join(dir, "access.log")
	os.WriteFile(logf, []byte("GET / 200\nGET /repos 401 \"Authorization: token "+gh.Value+"\"\n"), 0o600)
	if code, out, _ := runCLIEnv(t, env, "tokens", "scan", "--db", db, logf); code != 0 || out != logf+":2: github "+gh.ID+"\n" {
		t.Fatalf("scan: %d %q", code, out)
	}
	empty := filepath.Join(dir, "empty.log")
	os.WriteFile(empty, []byte("nothing\n"), 0o600)
	if code, _, _ := runCLIEnv(t, env, "tokens", "scan", "--db", db, empty); code != 1 {
		t.Fatalf("scan of a clean file: %d", code)
	}
	if code, _, _ := runCLIEnv(t, env, "tokens", "scan", "--db", db, filepath.Join(dir, "missing")); code != 2 {
		t.Fatalf("scan of a missing file: %d", code)
	}

	// list, show, revoke.
	code, out, _ = runCLIEnv(t, env, "tokens", "list", "--db", db)
	if code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(out, gh.ID) || !strings.Contains(out, "CI deploy key") {
		t.Fatalf("list: %d %q", code, out)
	}
	if code, out, _ := runCLIEnv(t, env, "tokens", "show", "--db", db, gh.ID); code != 0 || !strings.Contains(out, "hits: 0") || !strings.Contains(out, gh.Value) {
		t.Fatalf("show: %d %q", code, out)
	}
	if code, out, _ := runCLIEnv(t, env, "tokens", "revoke", "--db", db, gh.ID); code != 0 || !strings.Contains(out, "revoked github token "+gh.ID) {
		t.Fatalf("revoke: %d %q", code, out)
	}
	code, out, _ = runCLIEnv(t, env, "tokens", "list", "--db", db, "--active")
	if code != 0 || strings.Contains(out, gh.ID) {
		t.Fatalf("list --active shows a revoked token: %q", out)
	}
	if code, _, errOut := runCLIEnv(t, env, "tokens", "show", "--db", db, "0000000000000000"); code != exitRuntime || !strings.Contains(errOut, "no token") {
		t.Fatalf("show unknown: %d %q", code, errOut)
	}
}

// TestTokensThroughTheRunningServer: breadcrumbs a decoy served are listed,
// a later use of one is a hit on it, and token commands go through the
// admin API while the server holds the database.
func TestTokensThroughTheRunningServer(t *testing.T) {
	db := filepath.Join(t.TempDir(), "h.db")
	s := startSensor(t, db, "--spec", "secrets")
	env := map[string]string{"HONEYAPI_ADMIN_LISTEN": s.admin}

	resp, err := http.Get("http://" + s.decoy + "/.env")
	if err != nil {
		t.Fatal(err)
	}
	envFile, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	key := regexp.MustCompile(`AWS_ACCESS_KEY_ID=(AKIA[A-Z2-7]{16})`).FindStringSubmatch(string(envFile))
	if key == nil {
		t.Fatalf("no AWS key in /.env:\n%s", envFile)
	}

	code, out, errOut := runCLIEnv(t, env, "tokens", "list", "--db", db, "--source", "breadcrumb", "--json")
	if code != 0 {
		t.Fatalf("list via the API: %d %q", code, errOut)
	}
	var crumb store.Token
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var tk store.Token
		if json.Unmarshal([]byte(line), &tk) == nil && tk.Value == key[1] {
			crumb = tk
		}
	}
	if crumb.ID == "" || crumb.Actor == "" || crumb.Event == "" || crumb.Placements[0].Where != "GET /.env AWS_ACCESS_KEY_ID" {
		t.Fatalf("the served key is not a recorded breadcrumb: %q", out)
	}

	// The attacker uses the key against the decoy, the way the AWS CLI would.
	req, _ := http.NewRequest("GET", "http://"+s.decoy+"/v1/sys/health", nil)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+key[1]+"/20261121/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	code, out, errOut = runCLIEnv(t, env, "tokens", "show", "--db", db, crumb.ID, "--json")
	var detail web.TokenDetail
	if code != 0 || json.Unmarshal([]byte(out), &detail) != nil {
		t.Fatalf("show via the API: %d %q %q", code, out, errOut)
	}
	if detail.Token.Hits != 1 || len(detail.Hits) != 1 || detail.Hits[0].Actor != crumb.Actor || detail.Hits[0].Tags[0] != "token_used" {
		t.Fatalf("the use did not lead back to the reconnaissance: %+v", detail)
	}

	// tokens new while the server runs registers through the API.
	code, out, errOut = runCLIEnv(t, env, "tokens", "new", "stripe", "--db", db, "--note", "billing .env", "--json")
	var tok store.Token
	if code != 0 || json.Unmarshal([]byte(out), &tok) != nil {
		t.Fatalf("new via the API: %d %q %q", code, out, errOut)
	}
	code, out, _ = runCLIEnv(t, env, "tokens", "list", "--db", db, "--kind", "stripe")
	if code != 0 || !strings.Contains(out, tok.ID) || !strings.Contains(out, "billing .env") {
		t.Fatalf("the token minted by the CLI is not on the server: %q", out)
	}
	if code, _, _ := runCLIEnv(t, env, "tokens", "revoke", "--db", db, tok.ID); code != 0 {
		t.Fatalf("revoke via the API: %d", code)
	}
}

// TestDNSBeaconThroughTheServer: a DNS token minted by the CLI fires when
// any resolver looks it up at the server's DNS listener.
func TestDNSBeaconThroughTheServer(t *testing.T) {
	db := filepath.Join(t.TempDir(), "h.db")
	s := startSensor(t, db, "--dns-zone", "t.example.test", "--dns-listen", "127.0.0.1:0", "--dns-answer", "192.0.2.10")
	dnsAddr, _ := s.startup["dns_listen"].(string)
	if dnsAddr == "" {
		t.Fatalf("no dns_listen in the startup line: %v", s.startup)
	}
	env := map[string]string{"HONEYAPI_ADMIN_LISTEN": s.admin, "HONEYAPI_DNS_ZONE": "t.example.test"}
	code, out, errOut := runCLIEnv(t, env, "tokens", "new", "dns", "--db", db, "--json", "--note", "wiki page")
	var tok store.Token
	if code != 0 || json.Unmarshal([]byte(out), &tok) != nil || !strings.HasSuffix(tok.Value, ".t.example.test") {
		t.Fatalf("tokens new dns: %d %q %q", code, out, errOut)
	}
	c := &dns.Client{Net: "udp", Timeout: 5 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(strings.ToUpper(tok.Value[:1])+tok.Value[1:]), dns.TypeA)
	r, _, err := c.Exchange(m, dnsAddr)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.10" || !r.Authoritative {
		t.Fatalf("answer: %v", r)
	}
	// The lookup is recorded (OnQuery runs off the answer path: wait for it).
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, out, _ = runCLIEnv(t, env, "tokens", "show", "--db", db, tok.ID, "--json")
		var detail web.TokenDetail
		if code == 0 && json.Unmarshal([]byte(out), &detail) == nil && len(detail.Hits) == 1 {
			h := detail.Hits[0]
			if h.Kind != "dns" || h.ClientIP != "127.0.0.1" || h.Method != "A" || !strings.Contains(h.Host, tok.Value[1:]) {
				t.Fatalf("dns hit event = %+v", h)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no hit recorded: %q", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTokensSeed(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	repo := filepath.Join(dir, "repo")
	os.MkdirAll(filepath.Join(repo, ".git"), 0o755)
	os.WriteFile(filepath.Join(repo, ".git", "config"), []byte("[core]\n\tbare = false\n[remote \"origin\"]\n\turl = https://deploy:hunter2@git.example.com/acme/billing.git\n"), 0o644)
	env := map[string]string{"HONEYAPI_ADMIN_LISTEN": "127.0.0.1:1"}

	code, out, errOut := runCLIEnv(t, env, "tokens", "seed", "--db", db, "--into", repo, "--kinds", "aws,github", "--kinds", "npm", "--note", "billing repo")
	if code != 0 {
		t.Fatalf("seed: %d %q %q", code, out, errOut)
	}
	if !strings.Contains(out, "wrote .aws/credentials (0600)") || !strings.Contains(out, "recorded 3 honeytokens") {
		t.Fatalf("seed output: %q", out)
	}
	fi, err := os.Stat(filepath.Join(repo, ".npmrc"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf(".npmrc: %v %v", fi, err)
	}
	code, out, _ = runCLIEnv(t, env, "tokens", "list", "--db", db, "--source", "seed", "--json")
	if code != 0 || strings.Count(out, "\n") != 3 {
		t.Fatalf("list: %d %q", code, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var tk store.Token
		if err := json.Unmarshal([]byte(line), &tk); err != nil {
			t.Fatal(err)
		}
		if tk.Note != "billing repo" || len(tk.Placements) == 0 {
			t.Fatalf("seeded token record: %+v", tk)
		}
		for _, p := range tk.Placements {
			if p.Repo != "https://git.example.com/acme/billing.git" || p.Path == "" || p.Host == "" {
				t.Fatalf("placement %+v (the remote's credential must not be kept)", p)
			}
			b, err := os.ReadFile(filepath.Join(repo, filepath.FromSlash(p.Path)))
			if err != nil || !strings.Contains(string(b), tk.Value) {
				t.Fatalf("%s does not hold %s token %s", p.Path, tk.Kind, tk.ID)
			}
		}
	}
	// Again without --force: refused, nothing new recorded.
	code, _, errOut = runCLIEnv(t, env, "tokens", "seed", "--db", db, "--into", repo, "--kinds", "aws")
	if code != exitRuntime || !strings.Contains(errOut, ".aws/credentials") {
		t.Fatalf("seed over existing files: %d %q", code, errOut)
	}
	_, out, _ = runCLIEnv(t, env, "tokens", "list", "--db", db, "--json")
	if strings.Count(out, "\n") != 3 {
		t.Fatalf("a refused seed recorded tokens: %q", out)
	}
	if code, _, errOut := runCLIEnv(t, env, "tokens", "seed", "--db", db, "--into", repo, "--kinds", "aws", "--force"); code != 0 {
		t.Fatalf("seed --force: %d %q", code, errOut)
	}
	if code, _, _ := runCLIEnv(t, env, "tokens", "seed", "--db", db, "--into", repo, "--kinds", "bogus"); code != exitUsage {
		t.Fatalf("unknown kind: %d", code)
	}
}
