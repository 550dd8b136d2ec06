package web

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/tokens"
)

func post(a http.Handler, path, ctype, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	return rec
}

func TestSeedDownload(t *testing.T) {
	f := newFixture(t)
	before, _ := f.st.Tokens(store.TokenQuery{Limit: 1000})
	rec := post(f.admin, "/api/v1/tokens/seed", "application/json", `{"kinds":["aws","github","aws"],"label":"build server","note":"q3 seeding"}`)
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	h := rec.Header()
	if h.Get("Content-Type") != "application/zip" || h.Get("Content-Disposition") != `attachment; filename="honeyapi-seed.zip"` {
		t.Errorf("headers %v", h)
	}
	zr, err := zip.NewReader(bytes.NewReader(rec.Body.Bytes()), int64(rec.Body.Len()))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, zf := range zr.File {
		if zf.Mode().IsDir() {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[zf.Name] = string(b)
	}
	after, _ := f.st.Tokens(store.TokenQuery{Limit: 1000})
	if len(after) != len(before)+2 {
		t.Fatalf("%d tokens saved, want 2 (aws once, github)", len(after)-len(before))
	}
	kinds := map[string]bool{}
	for _, tok := range after[:2] {
		kinds[tok.Kind] = true
		if tok.Source != store.SourceSeed || tok.Note != "q3 seeding" || len(tok.Placements) == 0 {
			t.Errorf("token %s: %+v", tok.ID, tok)
			continue
		}
		for _, p := range tok.Placements {
			if p.Repo != "build server" || !strings.Contains(files[p.Path], tok.Value) {
				t.Errorf("token %s placed in %q (%q), which does not hold it", tok.ID, p.Path, p.Repo)
			}
		}
		if id, kind, ok := f.minter.Recognize(tok.Value); !ok || id.String() != tok.ID || string(kind) != tok.Kind {
			t.Errorf("token %s is not recognised as this deployment's", tok.ID)
		}
	}
	if !kinds["aws"] || !kinds["github"] {
		t.Errorf("kinds %v", kinds)
	}
}

func TestSeedDownloadRefusals(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name, ctype, body string
		code              int
		has               string
	}{
		{"an unknown kind", "application/json", `{"kinds":["aws","mainframe"]}`, 400, string(tokens.GitCredentials)},
		{"too many kinds", "application/json", `{"kinds":[` + strings.Repeat(`"aws",`, 64) + `"aws"]}`, 400, "64"},
		{"not JSON", "application/json", `kinds=aws`, 400, "bad_json"},
		{"a form", "application/x-www-form-urlencoded", `kinds=aws`, 415, "content_type"},
		{"a huge body", "application/json", `{"note":"` + strings.Repeat("n", 9<<10) + `"}`, 413, "too_large"},
	} {
		before, _ := f.st.Tokens(store.TokenQuery{Limit: 1000})
		rec := post(f.admin, "/api/v1/tokens/seed", tc.ctype, tc.body)
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.has) || rec.Header().Get("Content-Disposition") != "" {
			t.Errorf("%s: %d %s", tc.name, rec.Code, rec.Body.String())
		}
		if after, _ := f.st.Tokens(store.TokenQuery{Limit: 1000}); len(after) != len(before) {
			t.Errorf("%s saved tokens", tc.name)
		}
	}
	// A DNS token needs a zone.
	m, err := tokens.NewMinter(bytes.Repeat([]byte{3}, 32), tokens.MinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, st := newTestAdmin(t)
	a.opts.Minter = m
	if rec := post(a, "/api/v1/tokens/seed", "application/json", `{"kinds":["dns"]}`); rec.Code != 422 || !strings.Contains(rec.Body.String(), "zone") {
		t.Errorf("dns without a zone: %d %s", rec.Code, rec.Body.String())
	}
	// Every kind by default (dns left out without a zone).
	rec := post(a, "/api/v1/tokens/seed", "", `{}`)
	if rec.Code != 200 {
		t.Fatalf("every kind: %d %s", rec.Code, rec.Body.String())
	}
	saved, _ := st.Tokens(store.TokenQuery{Limit: 1000})
	if len(saved) != len(tokens.Kinds())-1 {
		t.Errorf("%d tokens for every kind, want %d", len(saved), len(tokens.Kinds())-1)
	}
	// Without a minter the route says so, as POST /api/v1/tokens does.
	b, _ := newTestAdmin(t)
	if rec := post(b, "/api/v1/tokens/seed", "application/json", `{}`); rec.Code != http.StatusNotImplemented || !strings.Contains(rec.Body.String(), "no_minter") {
		t.Errorf("no minter: %d %s", rec.Code, rec.Body.String())
	}
	if rec := post(b, "/api/v1/tokens", "application/json", `{"kind":"aws"}`); rec.Code != http.StatusNotImplemented {
		t.Errorf("POST /api/v1/tokens without a minter: %d (the two routes should agree)", rec.Code)
	}
}
