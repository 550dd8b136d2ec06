package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/honeyapi/honeyapi/metrics"
	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/web"
)

// The metrics handler mounted on the admin listener, as serve mounts it:
// scraped with the admin token as Prometheus's bearer token.
func TestScrapeThroughTheAdminHandler(t *testing.T) {
	st, err := store.Open(store.Options{Path: filepath.Join(t.TempDir(), "m.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := metrics.New()
	m.SetStore(st.Stats)
	m.Request("decoy", 404)
	const tok = "hapi_metrics-test-token-0123456789"
	admin, err := web.NewAdmin(web.AdminOptions{Token: tok, Store: st, Metrics: m.Handler()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(admin)
	defer srv.Close()

	get := func(auth string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get("Bearer " + tok)
	if code != 200 {
		t.Fatalf("scrape: %d %s", code, body)
	}
	for _, s := range []string{`honeyapi_requests_total{code="404",listener="decoy"} 1`, "honeyapi_store_events 0", "honeyapi_store_file_bytes ", "go_goroutines "} {
		if !strings.Contains(body, s) {
			t.Errorf("the scrape lacks %q", s)
		}
	}
	if code, body := get("Bearer wrong"); code != 401 || strings.Contains(body, "honeyapi_") {
		t.Errorf("a wrong token: %d %s", code, body)
	}
}
