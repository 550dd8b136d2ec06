package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestMetricsRoute(t *testing.T) {
	a, st := newTestAdmin(t)
	// Without metrics: a JSON 404 behind the token.
	if rec := call(a, "GET", "/metrics", "Bearer "+token); rec.Code != 404 || !strings.Contains(rec.Body.String(), `"not_found"`) ||
		rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("no metrics: %d %q %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
	if rec := call(a, "GET", "/metrics", ""); rec.Code != 401 {
		t.Errorf("no metrics, no token: %d", rec.Code)
	}

	var seen *http.Request
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Write([]byte("honeyapi_store_events 3\n"))
	})
	a, err := NewAdmin(AdminOptions{Token: token, Store: st, Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	rec := call(a, "GET", "/metrics", "Bearer "+token)
	if rec.Code != 200 || rec.Body.String() != "honeyapi_store_events 3\n" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Errorf("metrics: %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
	if seen == nil || seen.URL.Path != "/metrics" {
		t.Errorf("the metrics handler saw %+v", seen)
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", rec.Header().Get("Cache-Control"))
	}
	// The token is required, and only GET (and HEAD) are served.
	seen = nil
	for _, auth := range []string{"", "Bearer nope", "Basic " + token} {
		if rec := call(a, "GET", "/metrics", auth); rec.Code != 401 || seen != nil || strings.Contains(rec.Body.String(), "honeyapi_") {
			t.Errorf("metrics with %q: %d %s", auth, rec.Code, rec.Body.String())
		}
	}
	if rec := call(a, "POST", "/metrics", "Bearer "+token); rec.Code != 404 || seen != nil {
		t.Errorf("POST /metrics: %d", rec.Code)
	}
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	rec = call(a, "DELETE", "/metrics", "")
	if json.Unmarshal(rec.Body.Bytes(), &e); rec.Code != 401 || e.Error.Code != "unauthorized" {
		t.Errorf("DELETE /metrics without the token: %d %s", rec.Code, rec.Body.String())
	}
}
