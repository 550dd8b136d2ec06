package tokens

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"
)

// guardDiscardWriter is a ResponseWriter that costs nothing per request beyond
// what the handler does with it.
type guardDiscardWriter struct{ h http.Header }

func (w *guardDiscardWriter) Header() http.Header         { return w.h }
func (w *guardDiscardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *guardDiscardWriter) WriteHeader(int)             {}

var guardBenchUser = []byte(`{"id":17,"username":"jboyer","email":"joe.boyer@outlook.com","firstName":"Joe","lastName":"Boyer","status":"ACTIVE"}`)

// BenchmarkGuard measures the guard in front of a handler returning static
// JSON, beside the same handler without the guard, for net/http and Echo:
// a request without credentials, with an ordinary bearer token, with a
// honeytoken (observe mode: OnHit only; with a Reporter whose queue is
// drained and no rate cap, so every sighting is built and queued; with a
// Reporter of default options sending to a loopback sink, which after its
// burst drops what is over its rate; with a full queue), and a small JSON
// POST. detect-only is Minter.Detect alone on the same requests.
//
//	go test ./tokens -run '^$' -bench Guard -benchtime 2s
func BenchmarkGuard(b *testing.B) {
	m := guardMinter(b, guardSecret)
	gh := mintGuardToken(b, m, GitHub)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer rc.Close()
	rp, err := NewReporter(ReporterOptions{URL: rc.URL, Token: guardAdminToken})
	if err != nil {
		b.Fatal(err)
	}
	defer rp.Close(context.Background())

	// A Reporter whose queue is drained without sending: the request path's
	// cost of building and queueing a sighting, without the background HTTP.
	drained := &Reporter{source: "guard:bench", queue: make(chan *Sighting, 4096), done: make(chan struct{}), log: zerolog.Nop()}
	go func() {
		for range drained.queue {
		}
		close(drained.done)
	}()
	defer drained.Close(context.Background())
	// A Reporter whose queue stays full: the cost of dropping under a flood.
	full := &Reporter{source: "guard:bench", queue: make(chan *Sighting, 1), done: make(chan struct{}), log: zerolog.Nop()}
	full.queue <- &Sighting{}

	post := []byte(`{"name":"Joe Boyer","email":"joe.boyer@outlook.com","roles":["viewer"],"notify":true}`)
	cases := []struct {
		name     string
		auth     string
		body     []byte
		reporter *Reporter
	}{
		{"no-credential", "", nil, nil},
		{"ordinary-bearer", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxNyJ9.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo", nil, nil},
		{"honeytoken", "Bearer " + gh.Value, nil, nil},
		{"honeytoken-reported", "Bearer " + gh.Value, nil, drained},
		{"honeytoken-reporter-default", "Bearer " + gh.Value, nil, rp},
		{"honeytoken-queue-full", "Bearer " + gh.Value, nil, full},
		{"json-post", "", post, nil},
	}

	netHTTP := func(guarded bool, c GuardConfig) http.Handler {
		var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body != nil {
				_, _ = io.Copy(io.Discard, r.Body)
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(guardBenchUser)
		})
		if guarded {
			h = GuardHandler(c, h)
		}
		return h
	}
	echoAPI := func(guarded bool, c GuardConfig) http.Handler {
		e := echo.New()
		if guarded {
			e.Use(GuardWithConfig(c))
		}
		handler := func(c echo.Context) error {
			_, _ = io.Copy(io.Discard, c.Request().Body)
			return c.JSONBlob(http.StatusOK, guardBenchUser)
		}
		e.GET("/api/v1/users/:id", handler)
		e.POST("/api/v1/users/:id", handler)
		return e
	}

	// Detect alone on the same requests, to tell the guard's own cost from
	// the detector's.
	for _, tc := range cases {
		if tc.reporter != nil {
			continue
		}
		b.Run("detect-only/"+tc.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/api/v1/users/17", nil)
			r.Header.Set("User-Agent", "python-requests/2.32.3")
			r.Header.Set("Accept", "*/*")
			r.Header.Set("Accept-Encoding", "gzip, deflate")
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			if tc.body != nil {
				r.Method = "POST"
				r.Header.Set("Content-Type", "application/json")
				r.ContentLength = int64(len(tc.body))
			}
			b.ReportAllocs()
			for b.Loop() {
				m.Detect(r, tc.body)
			}
		})
	}

	for _, stack := range []struct {
		name  string
		build func(bool, GuardConfig) http.Handler
	}{{"net-http", netHTTP}, {"echo", echoAPI}} {
		for _, tc := range cases {
			for _, guarded := range []bool{false, true} {
				if !guarded && tc.reporter != nil {
					continue // the same bare figure as "honeytoken"
				}
				name := stack.name + "/" + tc.name + "/bare"
				if guarded {
					name = stack.name + "/" + tc.name + "/guarded"
				}
				b.Run(name, func(b *testing.B) {
					var hits int
					cfg := DefaultGuardConfig
					cfg.Minter, cfg.Reporter = m, tc.reporter
					cfg.OnHit = func(*http.Request, []byte, []Hit) { hits++ }
					h := stack.build(guarded, cfg)
					method := "GET"
					if tc.body != nil {
						method = "POST"
					}
					r := httptest.NewRequest(method, "/api/v1/users/17", nil)
					r.Header.Set("User-Agent", "python-requests/2.32.3")
					r.Header.Set("Accept", "*/*")
					r.Header.Set("Accept-Encoding", "gzip, deflate")
					if tc.auth != "" {
						r.Header.Set("Authorization", tc.auth)
					}
					if tc.body != nil {
						r.Header.Set("Content-Type", "application/json")
						r.ContentLength = int64(len(tc.body))
					}
					w := &guardDiscardWriter{h: http.Header{}}
					body := &bytes.Reader{}
					rb := io.NopCloser(body)
					b.ReportAllocs()
					for b.Loop() {
						if tc.body != nil {
							body.Reset(tc.body)
							r.Body = rb
						}
						h.ServeHTTP(w, r)
					}
					if guarded && tc.auth == "Bearer "+gh.Value && hits == 0 {
						b.Fatal("the honeytoken was not detected")
					}
				})
			}
		}
	}
}
