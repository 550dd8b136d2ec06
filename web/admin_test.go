package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/honeyapi/honeyapi/store"
)

const token = "hapi_test-token-0123456789abcdef"

func newTestAdmin(t *testing.T) (*Admin, *store.Store) {
	t.Helper()
	st, err := store.Open(store.Options{Path: filepath.Join(t.TempDir(), "h.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a, err := NewAdmin(AdminOptions{Token: token, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	return a, st
}

func call(a http.Handler, method, path, auth string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	return rec
}

func TestHealthzIsOpen(t *testing.T) {
	a, _ := newTestAdmin(t)
	rec := call(a, "GET", "/healthz", "")
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"status":"ok"}` || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("healthz: %d %q %q", rec.Code, rec.Body.String(), rec.Header().Get("Content-Type"))
	}
	// Anything else without the token reveals nothing, not even a 405.
	if rec := call(a, "POST", "/healthz", ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("POST /healthz = %d, want 401", rec.Code)
	}
}

func TestEveryAPIRouteRequiresTheToken(t *testing.T) {
	a, _ := newTestAdmin(t)
	routes := []string{"GET /api/v1/events", "GET /api/v1/events/01JD0000000000000000000000", "GET /api/v1/actors", "GET /api/v1/actors/act_x",
		"GET /api/v1/tokens", "POST /api/v1/tokens", "GET /api/v1/tokens/0123456789abcdef", "POST /api/v1/tokens/0123456789abcdef/revoke",
		"POST /api/v1/sightings", "GET /api/v1/nothing", "GET /"}
	for _, route := range routes {
		method, p, _ := strings.Cut(route, " ")
		for _, auth := range []string{"", "Bearer wrong-token", "Basic " + token, "Bearer " + token + "x", "Bearer"} {
			rec := call(a, method, p, auth)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("GET %s with %q: %d, want 401", p, auth, rec.Code)
			}
			if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("GET %s: no Bearer challenge", p)
			}
		}
	}
	if rec := call(a, "GET", "/api/v1/events", "Bearer "+token); rec.Code != 200 {
		t.Errorf("the right token: %d %s", rec.Code, rec.Body.String())
	}
	if rec := call(a, "GET", "/api/v1/events", "bearer "+token); rec.Code != 200 {
		t.Errorf("the scheme is case-insensitive: %d", rec.Code)
	}
}

func TestEventsAndActorsAPI(t *testing.T) {
	a, st := newTestAdmin(t)
	ctx := context.Background()
	actor := &store.Actor{ID: "act_TEST", FirstSeen: time.Now(), LastSeen: time.Now(), Events: 3, Risk: 40, Stage: "reconnaissance"}
	var ids []store.ID
	for i, ip := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.1"} {
		id, err := st.Record(ctx, &store.Event{Method: "GET", Path: "/p" + string(rune('a'+i)), ClientIP: ip, Actor: actor.ID, Status: 200}, actor)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	var list EventList
	rec := call(a, "GET", "/api/v1/events?ip=198.51.100.1&order=asc", "Bearer "+token)
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || len(list.Events) != 2 || list.Events[0].Path != "/pa" || list.Events[1].Path != "/pc" {
		t.Errorf("events by ip: %d %s", rec.Code, rec.Body.String())
	}
	rec = call(a, "GET", "/api/v1/events?limit=2", "Bearer "+token)
	json.Unmarshal(rec.Body.Bytes(), &list)
	if len(list.Events) != 2 || list.Events[0].ID != ids[2] || list.Next != ids[1].String() {
		t.Fatalf("newest first with a cursor: %s", rec.Body.String())
	}
	rec = call(a, "GET", "/api/v1/events?limit=2&cursor="+list.Next, "Bearer "+token)
	json.Unmarshal(rec.Body.Bytes(), &list)
	if len(list.Events) != 1 || list.Events[0].ID != ids[0] {
		t.Errorf("second page: %s", rec.Body.String())
	}
	rec = call(a, "GET", "/api/v1/events/"+ids[1].String(), "Bearer "+token)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"/pb"`) {
		t.Errorf("one event: %d %s", rec.Code, rec.Body.String())
	}
	if rec := call(a, "GET", "/api/v1/events/not-an-id", "Bearer "+token); rec.Code != 404 {
		t.Errorf("bad id: %d", rec.Code)
	}
	var detail ActorDetail
	rec = call(a, "GET", "/api/v1/actors/act_TEST", "Bearer "+token)
	if err := json.Unmarshal(rec.Body.Bytes(), &detail); err != nil || detail.Actor.Risk != 40 || len(detail.Recent) != 3 {
		t.Errorf("actor detail: %d %s", rec.Code, rec.Body.String())
	}
	for _, q := range []string{"limit=0", "limit=5000", "since=yesterday", "order=sideways", "after=zzz"} {
		if rec := call(a, "GET", "/api/v1/events?"+q, "Bearer "+token); rec.Code != 400 {
			t.Errorf("%s: %d, want 400", q, rec.Code)
		}
	}
}
