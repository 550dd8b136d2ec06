package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/honeyapi/honeyapi/web"
)

// adminSurface are the admin listener's paths an attacker would try on the
// decoy listener.
var adminSurface = []string{
	"/api/v1/events",
	"/api/v1/tokens",
	"/metrics",
	"/ui/",
	"/ui/login",
	"/api/v1/openapi.yaml",
	"/healthz",
}

type answer struct {
	code   int
	header http.Header
	body   string
}

// fetch GETs url without following redirects; browser asks as a browser
// navigating would.
func fetch(t *testing.T, url, token string, browser bool) answer {
	t.Helper()
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if browser {
		req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
		req.Header.Set("Sec-Fetch-Mode", "navigate")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return answer{code: resp.StatusCode, header: resp.Header, body: string(b)}
}

// The admin surface (JSON API, metrics, dashboard, login form, API
// document, health check) answers only on the admin listener: on the
// decoy listener, with or without the admin token, those paths are decoy
// paths like any other.
func TestAdminSurfaceIsNotOnTheDecoyListener(t *testing.T) {
	s := startSensor(t, filepath.Join(t.TempDir(), "h.db"))

	// Something for the admin API to show.
	for _, p := range []string{"/api/v1/users", "/.env", "/actuator/env"} {
		fetch(t, "http://"+s.decoy+p, "", false)
	}
	waitForEvents(t, s, 3)

	// On the admin listener, with the token, each path is the admin's.
	admin := map[string]answer{}
	for _, p := range adminSurface {
		a := fetch(t, "http://"+s.admin+p, s.token, strings.HasPrefix(p, "/ui"))
		admin[p] = a
		t.Run("admin"+p, func(t *testing.T) {
			switch p {
			case "/api/v1/events":
				var list web.EventList
				if a.code != 200 || json.Unmarshal([]byte(a.body), &list) != nil || len(list.Events) < 3 {
					t.Errorf("%d %.200s", a.code, a.body)
				}
			case "/api/v1/tokens":
				if a.code != 200 || !strings.HasPrefix(a.body, `{"tokens":[`) {
					t.Errorf("%d %.200s", a.code, a.body)
				}
			case "/metrics":
				if a.code != 200 || !strings.Contains(a.body, "honeyapi_") {
					t.Errorf("%d %.200s (is metrics.New().Handler() passed as AdminOptions.Metrics in serve?)", a.code, a.body)
				}
			case "/ui/":
				// The dashboard, or the way to its login form.
				loc := a.header.Get("Location")
				if !(a.code == 200 && strings.Contains(a.body, "<html")) && !(a.code/100 == 3 && strings.HasPrefix(loc, "/ui/login")) {
					t.Errorf("%d Location %q %.200s", a.code, loc, a.body)
				}
			case "/ui/login":
				if a.code != 200 || !strings.Contains(a.body, "<form") || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
					t.Errorf("%d %q %.200s", a.code, a.header.Get("Content-Type"), a.body)
				}
			case "/api/v1/openapi.yaml":
				if a.code != 200 || !strings.HasPrefix(a.body, "openapi: 3.0") || !strings.Contains(a.body, "honeyapi admin API") {
					t.Errorf("%d %.200s", a.code, a.body)
				}
			case "/healthz":
				if a.code != 200 || strings.TrimSpace(a.body) != `{"status":"ok"}` {
					t.Errorf("%d %.200s", a.code, a.body)
				}
			}
		})
	}
	var events web.EventList
	json.Unmarshal([]byte(admin["/api/v1/events"].body), &events)

	// On the decoy listener, nothing of it, whoever asks and however.
	for _, p := range adminSurface {
		for _, tc := range []struct {
			name    string
			token   string
			browser bool
		}{
			{"anonymous", "", false},
			{"with the admin token", s.token, false},
			{"a browser", "", true},
			{"a browser with the admin token", s.token, true},
		} {
			t.Run("decoy"+p+"/"+tc.name, func(t *testing.T) {
				d := fetch(t, "http://"+s.decoy+p, tc.token, tc.browser)
				lower := strings.ToLower(d.body)
				if strings.Contains(lower, "honeyapi") {
					t.Errorf("the body names honeyapi: %d %.300s", d.code, d.body)
				}
				for name, vs := range d.header {
					for _, v := range vs {
						if strings.Contains(strings.ToLower(name+": "+v), "honeyapi") {
							t.Errorf("header %s: %s names honeyapi", name, v)
						}
					}
				}
				if strings.Contains(d.body, s.token) {
					t.Error("the body holds the admin token")
				}
				if strings.Contains(lower, "<form") || strings.Contains(lower, `type="password"`) {
					t.Errorf("a form: %.300s", d.body)
				}
				if a := admin[p]; a.body != "" && d.body == a.body {
					t.Errorf("the decoy answers exactly what the admin listener does: %.200s", d.body)
				}
				for _, ev := range events.Events {
					if strings.Contains(d.body, ev.ID.String()) {
						t.Errorf("the body holds the recorded event %s", ev.ID)
					}
				}
				if d.header.Get("WWW-Authenticate") == admin["/api/v1/events"].header.Get("WWW-Authenticate") && d.header.Get("WWW-Authenticate") != "" {
					t.Errorf("the admin's challenge: %q", d.header.Get("WWW-Authenticate"))
				}
				if csp := admin["/ui/login"].header.Get("Content-Security-Policy"); csp != "" && d.header.Get("Content-Security-Policy") == csp {
					t.Error("the dashboard's Content-Security-Policy")
				}
			})
		}
	}

	// The decoy recorded those requests as what they are: attacker traffic.
	var paths []string
	for _, ev := range s.events() {
		if ev.Listener == "decoy" {
			paths = append(paths, ev.Path)
		}
	}
	for _, p := range adminSurface {
		found := false
		for _, got := range paths {
			found = found || got == p
		}
		if !found {
			t.Errorf("the decoy did not record GET %s (recorded %v)", p, paths)
		}
	}
}

// waitForEvents waits until the admin API lists at least n events.
func waitForEvents(t *testing.T, s *sensor, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(s.events()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d events after 10s", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
