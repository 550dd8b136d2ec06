package decoys

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeCrumbs is an Options.Breadcrumb that derives values from its
// arguments, so the test can tell which call produced what.
type fakeCrumbs struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeCrumbs) crumb(r *http.Request, kind, name string, seed []byte) (string, Breadcrumb, bool) {
	f.mu.Lock()
	f.calls = append(f.calls, kind+" "+name)
	f.mu.Unlock()
	h := sha256.Sum256(append([]byte(kind+"\x00"+r.Header.Get("X-Client")+"\x00"), seed...))
	id := hex.EncodeToString(h[:8])
	b := Breadcrumb{TokenID: id, Kind: kind}
	switch kind {
	case "aws":
		keyID := "AKIA" + strings.ToUpper(strings.NewReplacer("0", "A", "1", "B", "8", "C", "9", "D").Replace(hex.EncodeToString(h[:8])))
		b.Value = keyID
		if strings.Contains(strings.ToLower(name), "secret") {
			return hex.EncodeToString(h[:20]), b, true
		}
		return keyID, b, true
	case "apikey":
		b.Value = "hv-not-a-vault-token-" + id // fails the client_token pattern
		return b.Value, b, true
	}
	b.Value = kind + "-" + id
	return b.Value, b, true
}

func TestBreadcrumbsInResponsesAndBait(t *testing.T) {
	doc, err := LoadTemplate("secrets")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeCrumbs{}
	var mu sync.Mutex
	var got []*Interaction
	d, err := New([]*Document{doc}, Options{Secret: []byte("crumbs"), Breadcrumb: f.crumb,
		Record: func(in *Interaction) error { mu.Lock(); got = append(got, in); mu.Unlock(); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d)
	defer srv.Close()
	get := func(path, client string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("X-Vault-Token", "hvs.CAESIJlWh1y7Y5m3G2wz4Yk0QzB0Z0xJd3NmYkFpc2Q")
		req.Header.Set("X-Client", client)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	status, body := get("/v1/aws/creds/deploy", "a")
	if status != 200 {
		t.Fatalf("aws creds: %d %s", status, body)
	}
	var creds struct {
		Data struct {
			AccessKey string `json:"access_key"`
			SecretKey string `json:"secret_key"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &creds); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(creds.Data.AccessKey, "AKIA") || len(creds.Data.SecretKey) != 40 {
		t.Fatalf("aws creds not from the breadcrumb hook: %s", body)
	}
	mu.Lock()
	last := got[len(got)-1]
	mu.Unlock()
	if len(last.Breadcrumbs) != 1 || last.Breadcrumbs[0].Value != creds.Data.AccessKey ||
		last.Breadcrumbs[0].Where != "GET /v1/aws/creds/deploy access_key" {
		t.Fatalf("interaction breadcrumbs = %+v", last.Breadcrumbs)
	}
	// The same client sees the same keys; another client other keys.
	if _, again := get("/v1/aws/creds/deploy", "a"); again != body {
		t.Fatalf("same client, different body:\n%s\n%s", body, again)
	}
	if _, other := get("/v1/aws/creds/deploy", "b"); strings.Contains(other, creds.Data.AccessKey) {
		t.Fatal("another client got the same key")
	}

	// A hook value that fails the property's schema is not used.
	status, body = get("/v1/auth/token/lookup-self", "a")
	var self struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
		Auth struct {
			ClientToken string `json:"client_token"`
		} `json:"auth"`
	}
	if err := json.Unmarshal([]byte(body), &self); status != 200 || err != nil {
		t.Fatalf("lookup-self: %d %v", status, err)
	}
	if !strings.HasPrefix(self.Data.ID, "hv-not-a-vault-token") {
		t.Fatalf("data.id (no pattern) did not take the breadcrumb: %q", self.Data.ID)
	}
	if strings.Contains(self.Auth.ClientToken, "hv-not-a-vault-token") || !strings.HasPrefix(self.Auth.ClientToken, "hv") {
		t.Fatalf("auth.client_token took a breadcrumb failing its pattern: %q", self.Auth.ClientToken)
	}

	// Bait bodies ask the hook too.
	_, env := get("/.env", "a")
	mu.Lock()
	last = got[len(got)-1]
	mu.Unlock()
	if len(last.Breadcrumbs) == 0 {
		t.Fatalf("no breadcrumbs in /.env: %s", env)
	}
	for _, c := range last.Breadcrumbs {
		if !strings.Contains(env, c.Value) || !strings.HasPrefix(c.Where, "GET /.env ") {
			t.Fatalf("breadcrumb %+v not in /.env body:\n%s", c, env)
		}
	}

	// The served document keeps none of honeyapi's own extensions.
	for _, p := range []string{"/v1/sys/internal/specs/openapi"} {
		status, spec := get(p, "a")
		if status != 200 || strings.Contains(spec, "x-honeyapi") || !strings.Contains(spec, "AwsCredentials") {
			t.Fatalf("%s: %d, contains x-honeyapi: %v", p, status, strings.Contains(spec, "x-honeyapi"))
		}
	}
}
