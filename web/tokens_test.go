package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/honeyapi/honeyapi/actors"
	"github.com/honeyapi/honeyapi/recorder"
	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/tokens"
)

func newTokenAdmin(t *testing.T) (*Admin, *store.Store, *tokens.Minter) {
	t.Helper()
	st, err := store.Open(store.Options{Path: filepath.Join(t.TempDir(), "h.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m, err := tokens.NewMinter([]byte("web-token-test-secret-0123"), tokens.MinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := recorder.New(recorder.Options{Store: st, Tracker: actors.New(actors.Options{}), Minter: m})
	a, err := NewAdmin(AdminOptions{Token: token, Store: st, Minter: m, Sighting: rec.Sighting})
	if err != nil {
		t.Fatal(err)
	}
	return a, st, m
}

func send(a http.Handler, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	return rec
}

func TestTokenRoutes(t *testing.T) {
	a, _, m := newTokenAdmin(t)

	// Mint on the server.
	rec := send(a, "POST", "/api/v1/tokens", `{"kind":"aws","note":"prod .env"}`)
	var minted store.Token
	if rec.Code != 201 || json.Unmarshal(rec.Body.Bytes(), &minted) != nil {
		t.Fatalf("mint: %d %s", rec.Code, rec.Body)
	}
	if id, kind, ok := m.Recognize(minted.Value); !ok || kind != tokens.AWS || id.String() != minted.ID ||
		minted.Fields["secret_access_key"] == "" || minted.Source != store.SourceAPI || minted.Note != "prod .env" {
		t.Fatalf("minted = %+v", minted)
	}
	// Register one minted elsewhere with this deployment's key, with placements.
	gh, _ := m.New(tokens.GitHub)
	body := fmt.Sprintf(`{"kind":"github","value":%q,"source":"seed","placements":[{"host":"build-01","repo":"git@example.com:acme/app.git","path":".env"}]}`, gh.Value)
	if rec := send(a, "POST", "/api/v1/tokens", body); rec.Code != 201 {
		t.Fatalf("register: %d %s", rec.Code, rec.Body)
	}
	// A value that is not ours, or of another kind, is refused.
	other, _ := tokens.NewMinter([]byte("some-other-deployment-key"), tokens.MinterOptions{})
	foreign, _ := other.New(tokens.GitHub)
	for _, b := range []string{
		fmt.Sprintf(`{"kind":"github","value":%q}`, foreign.Value),
		fmt.Sprintf(`{"kind":"gitlab","value":%q}`, gh.Value),
		`{"kind":"nope"}`,
	} {
		if rec := send(a, "POST", "/api/v1/tokens", b); rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", b, rec.Code)
		}
	}
	if rec := send(a, "POST", "/api/v1/tokens", "{"); rec.Code != http.StatusBadRequest {
		t.Errorf("bad JSON: %d", rec.Code)
	}
	if rec := send(a, "POST", "/api/v1/tokens", `{"kind":"aws","note":"`+strings.Repeat("x", 10<<10)+`"}`); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("huge body: %d", rec.Code)
	}

	var list TokenList
	rec = send(a, "GET", "/api/v1/tokens", "")
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &list) != nil || len(list.Tokens) != 2 || list.Tokens[0].ID != gh.ID.String() {
		t.Fatalf("list: %d %s", rec.Code, rec.Body)
	}
	if list.Tokens[0].Source != store.SourceSeed || list.Tokens[0].Placements[0].Host != "build-01" {
		t.Fatalf("registered token = %+v", list.Tokens[0])
	}
	rec = send(a, "GET", "/api/v1/tokens?kind=aws", "")
	json.Unmarshal(rec.Body.Bytes(), &list)
	if len(list.Tokens) != 1 || list.Tokens[0].ID != minted.ID {
		t.Fatalf("kind filter: %s", rec.Body)
	}

	// A sighting of the registered token is an event and a hit.
	sight := fmt.Sprintf(`{"text":"Authorization: token %s","source":"vector","where":"nginx access log","client_ip":"203.0.113.5"}`, gh.Value)
	rec = send(a, "POST", "/api/v1/sightings", sight)
	var res SightingResult
	if rec.Code != 201 || json.Unmarshal(rec.Body.Bytes(), &res) != nil || len(res.Tokens) != 1 || res.Tokens[0].ID != gh.ID.String() {
		t.Fatalf("sighting: %d %s", rec.Code, rec.Body)
	}
	var detail TokenDetail
	rec = send(a, "GET", "/api/v1/tokens/"+gh.ID.String(), "")
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &detail) != nil || detail.Token.Hits != 1 || len(detail.Hits) != 1 ||
		detail.Hits[0].ID.String() != res.Event || detail.Hits[0].ClientIP != "203.0.113.5" {
		t.Fatalf("token detail: %d %s", rec.Code, rec.Body)
	}
	if rec := send(a, "GET", "/api/v1/events?token="+gh.ID.String(), ""); !strings.Contains(rec.Body.String(), res.Event) {
		t.Fatalf("events?token=: %s", rec.Body)
	}
	for _, b := range []string{`{"text":"no token in this line at all, just words"}`, `{"text":""}`} {
		if rec := send(a, "POST", "/api/v1/sightings", b); rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", b, rec.Code)
		}
	}
	req := httptest.NewRequest("POST", "/api/v1/sightings", strings.NewReader(sight))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "text/plain")
	w := httptest.NewRecorder()
	a.ServeHTTP(w, req)
	if w.Code != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain sighting: %d", w.Code)
	}
	if rec := send(a, "POST", "/api/v1/sightings", `{"text":"`+strings.Repeat("a", tokens.MaxSightingBody)+`"}`); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("huge sighting: %d", rec.Code)
	}

	// Revoke.
	var revoked store.Token
	rec = send(a, "POST", "/api/v1/tokens/"+minted.ID+"/revoke", "")
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &revoked) != nil || revoked.Revoked.IsZero() {
		t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
	}
	if rec := send(a, "POST", "/api/v1/tokens/00000000000000ff/revoke", ""); rec.Code != 404 {
		t.Errorf("revoke unknown: %d", rec.Code)
	}
	if rec := send(a, "GET", "/api/v1/tokens/<script>", ""); rec.Code != 404 {
		t.Errorf("bad id: %d", rec.Code)
	}
	rec = send(a, "GET", "/api/v1/tokens?active=true", "")
	json.Unmarshal(rec.Body.Bytes(), &list)
	if len(list.Tokens) != 1 || list.Tokens[0].ID != gh.ID.String() {
		t.Fatalf("active tokens: %s", rec.Body)
	}
}
