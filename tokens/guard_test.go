package tokens

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"
)

var (
	guardSecret = []byte("guard test deployment secret 0123456789")
	guardOther  = []byte("a different deployment secret, not ours")
)

const guardAdminToken = "admin-token-for-tests"

func guardMinter(t testing.TB, secret []byte) *Minter {
	t.Helper()
	m, err := NewMinter(secret, MinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mintGuardToken(t testing.TB, m *Minter, k Kind) Token {
	t.Helper()
	tk, err := m.New(k)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// guardSeenRequest is what a real handler saw.
type guardSeenRequest struct {
	Method        string
	RequestURI    string
	Header        http.Header
	Body          []byte
	ContentLength int64
	ReadErr       string
}

// guardRealAPI is the user's real API: it records every request and answers
// with a body naming what it read.
type guardRealAPI struct {
	mu    sync.Mutex
	calls []guardSeenRequest
}

func (a *guardRealAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	s := guardSeenRequest{Method: r.Method, RequestURI: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body, ContentLength: r.ContentLength}
	if err != nil {
		s.ReadErr = err.Error()
	}
	a.mu.Lock()
	a.calls = append(a.calls, s)
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Real-Api", "yes")
	w.WriteHeader(http.StatusOK)
	sum := sha256.Sum256(body)
	fmt.Fprintf(w, `{"real":true,"read":%d,"sha":"%x"}`, len(body), sum[:8])
}

func (a *guardRealAPI) seen(t *testing.T) []guardSeenRequest {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]guardSeenRequest(nil), a.calls...)
}

// guardStack puts the guard in front of a real API the way a user would.
type guardStack struct {
	name  string
	build func(cfg GuardConfig, real http.Handler) http.Handler
}

var guardStacks = []guardStack{
	{"echo", func(cfg GuardConfig, real http.Handler) http.Handler {
		e := echo.New()
		e.HideBanner, e.HidePort = true, true
		e.Use(GuardWithConfig(cfg))
		e.Any("/*", echo.WrapHandler(real))
		return e
	}},
	{"net/http", func(cfg GuardConfig, real http.Handler) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("/", real)
		return GuardHandler(cfg, mux)
	}},
}

// sightingReceiver is a honeyapi admin API's POST /api/v1/sightings on loopback.
type sightingReceiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	got      []Sighting
	keys     []string
	attempts []time.Time
	// answer, when set, chooses the status (and headers) of attempt n (from 1).
	answer func(n int, w http.ResponseWriter, r *http.Request) int
}

func newSightingReceiver(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request) int) *sightingReceiver {
	t.Helper()
	rc := &sightingReceiver{answer: answer}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *sightingReceiver) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/v1/sightings" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+guardAdminToken {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	var s Sighting
	dec := json.NewDecoder(io.LimitReader(r.Body, MaxSightingBody+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil || s.Text == "" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		http.Error(w, "bad sighting", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.attempts = append(rc.attempts, time.Now())
	rc.keys = append(rc.keys, r.Header.Get("Idempotency-Key"))
	n := len(rc.attempts)
	rc.mu.Unlock()
	status := http.StatusAccepted
	if rc.answer != nil {
		status = rc.answer(n, w, r)
	}
	if status >= 200 && status < 300 {
		rc.mu.Lock()
		rc.got = append(rc.got, s)
		rc.mu.Unlock()
	}
	w.WriteHeader(status)
}

func (rc *sightingReceiver) sightings() []Sighting {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Sighting(nil), rc.got...)
}

func (rc *sightingReceiver) attemptTimes() []time.Time {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]time.Time(nil), rc.attempts...)
}

func newGuardTestReporter(t *testing.T, base string, opts ReporterOptions) *Reporter {
	t.Helper()
	opts.URL, opts.Token = base, guardAdminToken
	if opts.Backoff == 0 {
		opts.Backoff = 5 * time.Millisecond
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = 50 * time.Millisecond
	}
	if opts.Source == "" {
		opts.Source = "guard:test"
	}
	rp, err := NewReporter(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rp.Close(context.Background()) })
	return rp
}

func closeGuardReporter(t *testing.T, rp *Reporter) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rp.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// guardHitLog records OnHit calls.
type guardHitLog struct {
	mu    sync.Mutex
	calls [][]Hit
	body  [][]byte
}

func (l *guardHitLog) onHit(_ *http.Request, body []byte, hits []Hit) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, append([]Hit(nil), hits...))
	l.body = append(l.body, append([]byte(nil), body...))
}

func (l *guardHitLog) get() [][]Hit {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([][]Hit(nil), l.calls...)
}

// send makes the request built by build against base and returns the
// status and body of the response.
func guardSend(t *testing.T, client *http.Client, build func(base string) *http.Request, base string) (int, http.Header, string) {
	t.Helper()
	resp, err := client.Do(build(base))
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func guardReq(method, url string, body []byte, header ...string) *http.Request {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequest(method, url, rd)
	if err != nil {
		panic(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	return r
}

// guardSameRequest compares what the real handler saw with and without the guard.
func guardSameRequest(t *testing.T, guarded, bare guardSeenRequest) {
	t.Helper()
	if guarded.Method != bare.Method || guarded.RequestURI != bare.RequestURI {
		t.Errorf("guarded handler saw %s %s, bare %s %s", guarded.Method, guarded.RequestURI, bare.Method, bare.RequestURI)
	}
	if !reflect.DeepEqual(guarded.Header, bare.Header) {
		t.Errorf("guarded handler saw headers %v, bare %v", guarded.Header, bare.Header)
	}
	if !bytes.Equal(guarded.Body, bare.Body) {
		t.Errorf("guarded handler read %d body bytes (sha %x), bare %d (sha %x)", len(guarded.Body), sha256.Sum256(guarded.Body), len(bare.Body), sha256.Sum256(bare.Body))
	}
	if guarded.ContentLength != bare.ContentLength {
		t.Errorf("guarded ContentLength %d, bare %d", guarded.ContentLength, bare.ContentLength)
	}
	if guarded.ReadErr != bare.ReadErr {
		t.Errorf("guarded body read error %q, bare %q", guarded.ReadErr, bare.ReadErr)
	}
}

// observed runs one request through a bare server and a guarded one (in
// observe mode, with OnHit and a Reporter) and checks that the real handler
// and the client saw the same things. It returns the hits and sightings.
func guardObserved(t *testing.T, st guardStack, cfg GuardConfig, build func(base string) *http.Request) ([][]Hit, []Sighting) {
	t.Helper()
	bareAPI, guardedAPI := &guardRealAPI{}, &guardRealAPI{}
	bare := httptest.NewServer(bareAPI)
	defer bare.Close()

	rc := newSightingReceiver(t, nil)
	rp := newGuardTestReporter(t, rc.srv.URL, ReporterOptions{})
	log := &guardHitLog{}
	cfg.OnHit, cfg.Reporter = log.onHit, rp
	guarded := httptest.NewServer(st.build(cfg, guardedAPI))
	defer guarded.Close()

	bs, bh, bb := guardSend(t, bare.Client(), build, bare.URL)
	gs, gh, gb := guardSend(t, guarded.Client(), build, guarded.URL)
	if gs != bs || gb != bb || gh.Get("X-Real-Api") != "yes" || gh.Get("Content-Type") != bh.Get("Content-Type") {
		t.Errorf("client got %d %q from the guarded API, %d %q from the bare one", gs, gb, bs, bb)
	}
	gseen, bseen := guardedAPI.seen(t), bareAPI.seen(t)
	if len(gseen) != 1 || len(bseen) != 1 {
		t.Fatalf("real handler called %d times guarded, %d bare; want 1", len(gseen), len(bseen))
	}
	guardSameRequest(t, gseen[0], bseen[0])
	closeGuardReporter(t, rp)
	return log.get(), rc.sightings()
}

func TestGuardDetectsHoneytokensInEveryPlace(t *testing.T) {
	m := guardMinter(t, guardSecret)
	gh, basic, stripe, slack, npm, aws, gl := mintGuardToken(t, m, GitHub), mintGuardToken(t, m, Basic), mintGuardToken(t, m, Stripe), mintGuardToken(t, m, Slack), mintGuardToken(t, m, NPM), mintGuardToken(t, m, AWS), mintGuardToken(t, m, GitLab)
	basicAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(basic.Fields["username"]+":"+basic.Value))
	cases := []struct {
		name   string
		build  func(base string) *http.Request
		token  Token
		where  string
		header string // a header whose sighted value is checked
		want   string // its expected value
	}{
		{"authorization bearer", func(b string) *http.Request {
			return guardReq("GET", b+"/v1/me?x=1", nil, "Authorization", "Bearer "+gh.Value, "User-Agent", "curl/8.5.0")
		}, gh, "header Authorization (Bearer)", "Authorization", "Bearer " + gh.Value},
		{"authorization basic", func(b string) *http.Request {
			return guardReq("GET", b+"/v1/me", nil, "Authorization", basicAuth)
		}, basic, "header Authorization (Basic)", "", ""},
		{"authorization token", func(b string) *http.Request {
			return guardReq("DELETE", b+"/repos/acme/api", nil, "Authorization", "token "+gh.Value)
		}, gh, "header Authorization (token)", "", ""},
		{"authorization sigv4", func(b string) *http.Request {
			return guardReq("GET", b+"/bucket/key", nil, "Authorization", "AWS4-HMAC-SHA256 Credential="+aws.Value+"/20261121/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00")
		}, aws, "header Authorization (AWS4-HMAC-SHA256)", "", ""},
		{"api key header", func(b string) *http.Request {
			return guardReq("GET", b+"/v1/charges", nil, "X-Api-Key", stripe.Value, "Authorization", "Bearer real-session-abc")
		}, stripe, "header X-Api-Key", "Authorization", "Bearer [redacted]"},
		{"query parameter", func(b string) *http.Request {
			return guardReq("GET", b+"/api/chat.postMessage?channel=C1&token="+slack.Value, nil)
		}, slack, "query parameter token", "", ""},
		{"cookie", func(b string) *http.Request {
			return guardReq("GET", b+"/account", nil, "Cookie", "sid=real-session-0123456789; npm_session="+npm.Value)
		}, npm, "cookie npm_session", "Cookie", "sid=[redacted]; npm_session=" + npm.Value},
		{"json body", func(b string) *http.Request {
			return guardReq("POST", b+"/v1/deploy", []byte(`{"registry":{"url":"https://registry.npmjs.org","auth":"`+npm.Value+`"},"n":1}`), "Content-Type", "application/json")
		}, npm, "body field $.registry.auth", "", ""},
		{"json body without content type", func(b string) *http.Request {
			return guardReq("POST", b+"/v1/deploy", []byte(`{"token":"`+gl.Value+`"}`))
		}, gl, "body field $.token", "", ""},
		{"form body", func(b string) *http.Request {
			return guardReq("POST", b+"/oauth/token", []byte("grant_type=client_credentials&client_secret="+stripe.Value), "Content-Type", "application/x-www-form-urlencoded")
		}, stripe, "form field client_secret", "", ""},
		{"path", func(b string) *http.Request {
			return guardReq("GET", b+"/v1/keys/"+gh.Value+"/usage", nil)
		}, gh, "path", "", ""},
		{"text body", func(b string) *http.Request {
			return guardReq("PUT", b+"/v1/config", []byte("export GITHUB_TOKEN="+gh.Value+"\nexport X=1\n"), "Content-Type", "text/plain; charset=utf-8")
		}, gh, "body", "", ""},
	}
	for _, st := range guardStacks {
		for _, tc := range cases {
			t.Run(st.name+"/"+tc.name, func(t *testing.T) {
				if tc.where == "path" && len(m.Detect(httptest.NewRequest("GET", "/v1/keys/"+gh.Value, nil), nil)) == 0 {
					t.Skip("Detect does not look at paths")
				}
				cfg := DefaultGuardConfig
				cfg.Minter = m
				calls, got := guardObserved(t, st, cfg, tc.build)
				if len(calls) != 1 || len(calls[0]) != 1 || calls[0][0].ID != tc.token.ID || calls[0][0].Where != tc.where {
					t.Fatalf("OnHit calls %+v, want one hit of %s at %q", calls, tc.token.ID, tc.where)
				}
				if len(got) != 1 {
					t.Fatalf("receiver got %d sightings, want 1", len(got))
				}
				s := got[0]
				if !strings.Contains(s.Text, tc.token.Value) || len(s.Text) > len(tc.token.Value)+len(tc.token.Fields["username"])+1 {
					t.Errorf("sighting text %q, want the token %q", s.Text, tc.token.Value)
				}
				if id, _, ok := m.Recognize(s.Text); !ok || id != tc.token.ID {
					t.Errorf("sighting text %q is not recognised as the token", s.Text)
				}
				if s.Where != tc.where || s.ClientIP != "127.0.0.1" || s.Source != "guard:test" || s.Method == "" || s.Path == "" || s.Host == "" || s.Time.IsZero() || len(s.Headers) == 0 {
					t.Errorf("sighting %+v lacks request facts", s)
				}
				if tc.header != "" {
					var vals []string
					for _, h := range s.Headers {
						if h.Name == tc.header {
							vals = append(vals, h.Value)
						}
					}
					if len(vals) != 1 || vals[0] != tc.want {
						t.Errorf("sighted %s %q, want %q", tc.header, vals, tc.want)
					}
				}
			})
		}
	}
}

func TestGuardSightingCarriesRequestFacts(t *testing.T) {
	m := guardMinter(t, guardSecret)
	gh := mintGuardToken(t, m, GitHub)
	cfg := DefaultGuardConfig
	cfg.Minter = m
	_, got := guardObserved(t, guardStacks[1], cfg, func(b string) *http.Request {
		return guardReq("GET", b+"/v1/users/17?page=2", nil, "Authorization", "Bearer "+gh.Value, "User-Agent", "python-requests/2.32.3")
	})
	if len(got) != 1 {
		t.Fatalf("got %d sightings", len(got))
	}
	s := got[0]
	if s.Text != gh.Value || s.Method != "GET" || s.Path != "/v1/users/17" || s.Query != "page=2" || s.UserAgent != "python-requests/2.32.3" || !strings.HasPrefix(s.Host, "127.0.0.1:") {
		t.Errorf("sighting %+v", s)
	}
}

func TestGuardBodyBeyondMaxBody(t *testing.T) {
	m := guardMinter(t, guardSecret)
	npm, stripe := mintGuardToken(t, m, NPM), mintGuardToken(t, m, Stripe)
	pad := strings.Repeat("0123456789abcdef", 200<<10/16) // 200 KiB
	jsonBody := []byte(`{"auth":"` + npm.Value + `","pad":"` + pad + `"}`)
	formBody := []byte("client_secret=" + stripe.Value + "&pad=" + pad)
	late := []byte(`{"pad":"` + pad + `","auth":"` + npm.Value + `"}`)
	chunked := func(b []byte) io.Reader { return io.MultiReader(bytes.NewReader(b)) } // no length: sent chunked
	cases := []struct {
		name   string
		build  func(base string) *http.Request
		token  *Token
		where  string
		length int64
	}{
		{"json, known length", func(b string) *http.Request {
			return guardReq("POST", b+"/upload", jsonBody, "Content-Type", "application/json")
		}, &npm, "body", int64(len(jsonBody))},
		{"json, chunked", func(b string) *http.Request {
			r, _ := http.NewRequest("POST", b+"/upload", chunked(jsonBody))
			r.Header.Set("Content-Type", "application/json")
			return r
		}, &npm, "body", -1},
		{"form, known length", func(b string) *http.Request {
			return guardReq("POST", b+"/upload", formBody, "Content-Type", "application/x-www-form-urlencoded")
		}, &stripe, "form field client_secret", int64(len(formBody))},
		{"token after MaxBody is not inspected", func(b string) *http.Request {
			return guardReq("POST", b+"/upload", late, "Content-Type", "application/json")
		}, nil, "", int64(len(late))},
	}
	for _, st := range guardStacks {
		for _, tc := range cases {
			t.Run(st.name+"/"+tc.name, func(t *testing.T) {
				api := &guardRealAPI{}
				log := &guardHitLog{}
				cfg := DefaultGuardConfig
				cfg.Minter, cfg.OnHit = m, log.onHit
				srv := httptest.NewServer(st.build(cfg, api))
				defer srv.Close()
				req := tc.build(srv.URL)
				status, _, _ := guardSend(t, srv.Client(), func(string) *http.Request { return req }, "")
				seen := api.seen(t)
				if status != 200 || len(seen) != 1 {
					t.Fatalf("status %d, %d calls", status, len(seen))
				}
				want := tc.build("http://x")
				wantBody, _ := io.ReadAll(want.Body)
				if !bytes.Equal(seen[0].Body, wantBody) || seen[0].ContentLength != tc.length || seen[0].ReadErr != "" {
					t.Errorf("handler read %d bytes (ContentLength %d, err %q), want %d (ContentLength %d)", len(seen[0].Body), seen[0].ContentLength, seen[0].ReadErr, len(wantBody), tc.length)
				}
				calls := log.get()
				switch {
				case tc.token == nil && len(calls) != 0:
					t.Errorf("hits %+v beyond MaxBody", calls)
				case tc.token != nil && (len(calls) != 1 || calls[0][0].ID != tc.token.ID || calls[0][0].Where != tc.where):
					t.Errorf("hits %+v, want %s at %q", calls, tc.token.ID, tc.where)
				case tc.token != nil && len(log.body[0]) != DefaultGuardMaxBody:
					t.Errorf("OnHit got %d body bytes, want the %d inspected", len(log.body[0]), DefaultGuardMaxBody)
				}
			})
		}
	}
}

func TestGuardDenies(t *testing.T) {
	m := guardMinter(t, guardSecret)
	gh := mintGuardToken(t, m, GitHub)
	custom := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"error":"forbidden"}`)
	})
	for _, st := range guardStacks {
		for _, tc := range []struct {
			name    string
			handler http.Handler
			status  int
			body    string
		}{
			{"default", nil, 401, `{"message":"Bad credentials"}` + "\n"},
			{"custom", custom, 403, `{"error":"forbidden"}`},
		} {
			t.Run(st.name+"/"+tc.name, func(t *testing.T) {
				api := &guardRealAPI{}
				log := &guardHitLog{}
				rc := newSightingReceiver(t, nil)
				rp := newGuardTestReporter(t, rc.srv.URL, ReporterOptions{})
				cfg := GuardConfig{Minter: m, Action: GuardDeny, DenyHandler: tc.handler, OnHit: log.onHit, Reporter: rp}
				srv := httptest.NewServer(st.build(cfg, api))
				defer srv.Close()
				status, hdr, body := guardSend(t, srv.Client(), func(b string) *http.Request {
					return guardReq("POST", b+"/v1/repos", []byte(`{"name":"x"}`), "Authorization", "Bearer "+gh.Value, "Content-Type", "application/json")
				}, srv.URL)
				if status != tc.status || body != tc.body {
					t.Errorf("got %d %q, want %d %q", status, body, tc.status, tc.body)
				}
				if tc.handler == nil && hdr.Get("Content-Type") != "application/json; charset=utf-8" {
					t.Errorf("Content-Type %q", hdr.Get("Content-Type"))
				}
				if n := len(api.seen(t)); n != 0 {
					t.Errorf("real handler called %d times", n)
				}
				closeGuardReporter(t, rp)
				if len(log.get()) != 1 || len(rc.sightings()) != 1 {
					t.Errorf("OnHit calls %d, sightings %d; want 1 and 1", len(log.get()), len(rc.sightings()))
				}
				// An ordinary request still reaches the real API.
				if status, _, _ := guardSend(t, srv.Client(), func(b string) *http.Request { return guardReq("GET", b+"/v1/repos", nil) }, srv.URL); status != 200 || len(api.seen(t)) != 1 {
					t.Errorf("ordinary request: status %d, real calls %d", status, len(api.seen(t)))
				}
			})
		}
	}
}

func TestGuardDiverts(t *testing.T) {
	m := guardMinter(t, guardSecret)
	tok := mintGuardToken(t, m, OpenAI)
	body := []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"api_key":"` + tok.Value + `"}`)
	for _, st := range guardStacks {
		t.Run(st.name, func(t *testing.T) {
			api, decoy := &guardRealAPI{}, &guardRealAPI{}
			cfg := GuardConfig{Minter: m, Action: GuardDivert, Divert: decoy}
			srv := httptest.NewServer(st.build(cfg, api))
			defer srv.Close()
			status, _, _ := guardSend(t, srv.Client(), func(b string) *http.Request {
				return guardReq("POST", b+"/v1/chat/completions", body, "Content-Type", "application/json")
			}, srv.URL)
			if status != 200 {
				t.Errorf("status %d", status)
			}
			if n := len(api.seen(t)); n != 0 {
				t.Errorf("real handler called %d times", n)
			}
			d := decoy.seen(t)
			if len(d) != 1 || !bytes.Equal(d[0].Body, body) || d[0].ContentLength != int64(len(body)) || d[0].RequestURI != "/v1/chat/completions" {
				t.Fatalf("divert handler saw %+v", d)
			}
		})
	}
}

func TestGuardLeavesOrdinaryRequestsAlone(t *testing.T) {
	m := guardMinter(t, guardSecret)
	foreign := mintGuardToken(t, guardMinter(t, guardOther), GitHub)
	cases := []struct {
		name  string
		build func(base string) *http.Request
	}{
		{"no credential", func(b string) *http.Request { return guardReq("GET", b+"/v1/users?page=2", nil) }},
		{"ordinary bearer", func(b string) *http.Request {
			return guardReq("GET", b+"/v1/users", nil, "Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo")
		}},
		{"another deployment's token", func(b string) *http.Request {
			return guardReq("GET", b+"/v1/users?token="+foreign.Value, nil, "Authorization", "token "+foreign.Value, "Cookie", "t="+foreign.Value)
		}},
		{"json body with a password", func(b string) *http.Request {
			return guardReq("POST", b+"/v1/login", []byte(`{"user":"joe","password":"correct horse battery staple"}`), "Content-Type", "application/json")
		}},
		{"200 KiB json body", func(b string) *http.Request {
			return guardReq("POST", b+"/v1/import", []byte(`{"rows":["`+strings.Repeat("row-0123456789,", 200<<10/15)+`"]}`), "Content-Type", "application/json")
		}},
		{"10 MB nested json body", func(b string) *http.Request {
			return guardReq("POST", b+"/v1/import", bytes.Repeat([]byte("[{\"a\":"), 10<<20/6), "Content-Type", "application/json")
		}},
		{"binary upload", func(b string) *http.Request {
			junk := make([]byte, 100<<10)
			for i := range junk {
				junk[i] = byte(i * 7)
			}
			return guardReq("PUT", b+"/v1/blob", junk, "Content-Type", "application/octet-stream")
		}},
	}
	for _, st := range guardStacks {
		for _, tc := range cases {
			t.Run(st.name+"/"+tc.name, func(t *testing.T) {
				cfg := DefaultGuardConfig
				cfg.Minter = m
				calls, got := guardObserved(t, st, cfg, tc.build)
				if len(calls) != 0 || len(got) != 0 {
					t.Errorf("OnHit %+v, sightings %+v on an ordinary request", calls, got)
				}
			})
		}
	}
}

func TestGuardSkipper(t *testing.T) {
	m := guardMinter(t, guardSecret)
	gh := mintGuardToken(t, m, GitHub)
	log := &guardHitLog{}
	cfg := DefaultGuardConfig
	cfg.Minter, cfg.OnHit, cfg.Action = m, log.onHit, GuardDeny
	cfg.Skipper = func(c echo.Context) bool { return c.Request().URL.Path == "/healthz" }
	api := &guardRealAPI{}
	srv := httptest.NewServer(guardStacks[0].build(cfg, api))
	defer srv.Close()
	auth := func(path string) func(string) *http.Request {
		return func(b string) *http.Request { return guardReq("GET", b+path, nil, "Authorization", "Bearer "+gh.Value) }
	}
	if status, _, _ := guardSend(t, srv.Client(), auth("/healthz"), srv.URL); status != 200 {
		t.Errorf("skipped route: status %d", status)
	}
	if status, _, _ := guardSend(t, srv.Client(), auth("/v1/me"), srv.URL); status != 401 {
		t.Errorf("guarded route: status %d", status)
	}
	if len(log.get()) != 1 || len(api.seen(t)) != 1 {
		t.Errorf("OnHit %d, real calls %d; want 1 and 1", len(log.get()), len(api.seen(t)))
	}
}

func TestGuardDefaultConstructor(t *testing.T) {
	m := guardMinter(t, guardSecret)
	gh := mintGuardToken(t, m, GitHub)
	e := echo.New()
	e.Use(Guard(m))
	api := &guardRealAPI{}
	e.Any("/*", echo.WrapHandler(api))
	r := httptest.NewRequest("GET", "/x", nil)
	r.Header.Set("Authorization", "Bearer "+gh.Value)
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	if w.Code != 200 || len(api.seen(t)) != 1 {
		t.Errorf("Guard(m) in observe mode: %d, real calls %d", w.Code, len(api.seen(t)))
	}
}

func TestGuardConfigPanics(t *testing.T) {
	m := guardMinter(t, guardSecret)
	for name, f := range map[string]func(){
		"echo, no minter":        func() { GuardWithConfig(GuardConfig{}) },
		"net/http, no minter":    func() { GuardHandler(GuardConfig{}, http.NotFoundHandler()) },
		"Guard(nil)":             func() { Guard(nil) },
		"divert without handler": func() { GuardWithConfig(GuardConfig{Minter: m, Action: GuardDivert}) },
		"unknown action":         func() { GuardWithConfig(GuardConfig{Minter: m, Action: 7}) },
		"net/http, no next":      func() { GuardHandler(GuardConfig{Minter: m}, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			f()
		})
	}
}

// guardErrAfter yields n bytes, then fails.
type guardErrAfter struct {
	n   int
	err error
}

func (e *guardErrAfter) Read(p []byte) (int, error) {
	if e.n == 0 {
		return 0, e.err
	}
	k := min(len(p), e.n)
	for i := range k {
		p[i] = 'a'
	}
	e.n -= k
	return k, nil
}

func (e *guardErrAfter) Close() error { return nil }

func TestGuardReplaysBodyErrors(t *testing.T) {
	m := guardMinter(t, guardSecret)
	boom := errors.New("client went away")
	for _, n := range []int{0, 10, DefaultGuardMaxBody, DefaultGuardMaxBody + 10} {
		api := &guardRealAPI{}
		h := GuardHandler(GuardConfig{Minter: m}, api)
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("Content-Type", "application/json")
		r.Body, r.ContentLength = &guardErrAfter{n: n, err: boom}, -1
		h.ServeHTTP(httptest.NewRecorder(), r)
		seen := api.seen(t)
		if len(seen) != 1 || len(seen[0].Body) != n || seen[0].ReadErr != boom.Error() {
			t.Errorf("after %d bytes: handler read %d bytes, error %q", n, len(seen[0].Body), seen[0].ReadErr)
		}
	}
}

// guardAllocated returns the bytes the process allocated while f ran.
func guardAllocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// guardCountingHandler reads the body in small pieces without keeping it.
type guardCountingHandler struct{ n atomic.Int64 }

func (c *guardCountingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	buf := make([]byte, 4096)
	var total int64
	for {
		k, err := r.Body.Read(buf)
		total += int64(k)
		if err != nil {
			break
		}
	}
	c.n.Store(total)
	w.WriteHeader(http.StatusNoContent)
}

func TestGuardHostileInput(t *testing.T) {
	m := guardMinter(t, guardSecret)
	gh := mintGuardToken(t, m, GitHub)
	deep := strings.Repeat("[", 10<<20) // 10 MB of nesting with a JSON content type
	junk := make([]byte, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range junk {
		junk[i] = byte(rng.Uint32())
	}
	mb := strings.Repeat("A", 1<<20)
	nested := strings.Repeat(`{"a":`, 10000) + `"` + gh.Value + `"` + strings.Repeat("}", 10000)
	cases := []struct {
		name   string
		build  func() *http.Request
		hit    bool
		length int64
	}{
		{"10 MB nested json body", func() *http.Request {
			r := httptest.NewRequest("POST", "/", strings.NewReader(deep))
			r.Header.Set("Content-Type", "application/json")
			return r
		}, false, 10 << 20},
		{"10 MB nested json body with a token header", func() *http.Request {
			r := httptest.NewRequest("POST", "/", strings.NewReader(deep))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("X-Api-Key", gh.Value)
			return r
		}, true, 10 << 20},
		{"deeply nested objects", func() *http.Request {
			r := httptest.NewRequest("POST", "/", strings.NewReader(nested))
			r.Header.Set("Content-Type", "application/json")
			return r
		}, false, int64(len(nested))}, // Detect walks 32 levels deep: the token is not found
		{"binary junk as json", func() *http.Request {
			r := httptest.NewRequest("POST", "/", bytes.NewReader(junk))
			r.Header.Set("Content-Type", "application/json")
			return r
		}, false, 1 << 20},
		{"binary junk as form", func() *http.Request {
			r := httptest.NewRequest("POST", "/?%zz=%%", bytes.NewReader(junk))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, false, 1 << 20},
		{"1 MB headers", func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", "Bearer "+mb)
			r.Header.Set("Cookie", strings.Repeat("a=b; ", 200<<10))
			r.Header.Set("X-Junk", mb)
			for i := range 400 {
				r.Header.Add(fmt.Sprintf("X-H%d", i), mb[:500])
			}
			return r
		}, false, 0},
		{"1 MB headers with a token", func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("X-Junk", mb)
			// net/http parses at most 3000 cookies of a request (GODEBUG httpcookiemaxnum).
			r.Header.Set("Cookie", "session="+gh.Value+"; "+strings.Repeat("a=b; ", 2000))
			for i := range 400 {
				r.Header.Add(fmt.Sprintf("X-H%d", i), mb[:500])
			}
			return r
		}, true, 0},
	}
	rc := newSightingReceiver(t, nil)
	rp := newGuardTestReporter(t, rc.srv.URL, ReporterOptions{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := &guardCountingHandler{}
			var hits atomic.Int32
			h := GuardHandler(GuardConfig{Minter: m, Reporter: rp, OnHit: func(*http.Request, []byte, []Hit) { hits.Add(1) }}, api)
			r := tc.build()
			w := httptest.NewRecorder()
			start := time.Now()
			alloc := guardAllocated(func() { h.ServeHTTP(w, r) })
			elapsed := time.Since(start)
			if w.Code != http.StatusNoContent || api.n.Load() != tc.length {
				t.Errorf("status %d, handler read %d bytes, want %d", w.Code, api.n.Load(), tc.length)
			}
			if got := hits.Load() == 1; got != tc.hit {
				t.Errorf("hit %v, want %v", got, tc.hit)
			}
			// The guard reads at most MaxBody and Detect at most 512 values of
			// 4 KiB each; the 1 MB cookie header is parsed whole by
			// r.Cookies() (net/http), which is the largest cost here.
			if alloc > 16<<20 || elapsed > 5*time.Second {
				t.Errorf("allocated %d bytes, took %v", alloc, elapsed)
			}
			t.Logf("allocated %d KiB, took %v", alloc>>10, elapsed)
		})
	}
	closeGuardReporter(t, rp)
	for _, s := range rc.sightings() {
		if b, _ := json.Marshal(s); len(b) > MaxSightingBody || len(s.Headers) > maxSightedHeaders {
			t.Errorf("sighting of %d bytes, %d headers", len(b), len(s.Headers))
		}
		if s.Text != gh.Value {
			t.Errorf("sighting text %.64q", s.Text)
		}
	}
	if n := len(rc.sightings()); n != 2 {
		t.Errorf("%d sightings, want 2", n)
	}
}

// A body that is large but not inspectable is neither read ahead nor
// buffered: the guard allocates nothing for it.
func TestGuardStreamsUninspectedBodies(t *testing.T) {
	m := guardMinter(t, guardSecret)
	api := &guardCountingHandler{}
	h := GuardHandler(GuardConfig{Minter: m}, api)
	for _, ct := range []string{"application/octet-stream", "multipart/form-data; boundary=x", "image/png"} {
		r := httptest.NewRequest("PUT", "/", strings.NewReader(strings.Repeat("x", 8<<20)))
		r.Header.Set("Content-Type", ct)
		alloc := guardAllocated(func() { h.ServeHTTP(httptest.NewRecorder(), r) })
		if api.n.Load() != 8<<20 || alloc > 256<<10 {
			t.Errorf("%s: handler read %d, allocated %d bytes", ct, api.n.Load(), alloc)
		}
	}
	r := httptest.NewRequest("PUT", "/", strings.NewReader(strings.Repeat("x", 8<<20)))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Content-Encoding", "gzip")
	if alloc := guardAllocated(func() { h.ServeHTTP(httptest.NewRecorder(), r) }); alloc > 256<<10 {
		t.Errorf("gzip body: allocated %d bytes", alloc)
	}
}

func TestGuardMaxBodyNegativeSkipsBodies(t *testing.T) {
	m := guardMinter(t, guardSecret)
	npm := mintGuardToken(t, m, NPM)
	log := &guardHitLog{}
	api := &guardRealAPI{}
	h := GuardHandler(GuardConfig{Minter: m, MaxBody: -1, OnHit: log.onHit}, api)
	body := `{"auth":"` + npm.Value + `"}`
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if len(log.get()) != 0 || string(api.seen(t)[0].Body) != body {
		t.Errorf("hits %+v, body %q", log.get(), api.seen(t)[0].Body)
	}
}

func TestInspectable(t *testing.T) {
	for ct, want := range map[string]bool{
		"":                                  true,
		"application/json":                  true,
		"Application/JSON; charset=utf-8":   true,
		"application/vnd.api+json":          true,
		"application/x-www-form-urlencoded": true,
		"text/plain":                        true,
		"TEXT/HTML; charset=utf-8":          true,
		"application/octet-stream":          false,
		"multipart/form-data; boundary=x":   false,
		"image/png":                         false,
	} {
		h := http.Header{}
		if ct != "" {
			h.Set("Content-Type", ct)
		}
		if got := inspectable(h); got != want {
			t.Errorf("inspectable(%q) = %v, want %v", ct, got, want)
		}
	}
	if inspectable(http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}}) {
		t.Error("a gzip body is inspectable")
	}
	if !inspectable(http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"identity"}}) {
		t.Error("an identity-encoded body is not inspectable")
	}
}

// An escaped path and a repeated query parameter reach the real handler as
// they came.
func TestGuardKeepsURL(t *testing.T) {
	m := guardMinter(t, guardSecret)
	api := &guardRealAPI{}
	h := GuardHandler(GuardConfig{Minter: m}, api)
	r := httptest.NewRequest("GET", "/a%2Fb/c?q=%20x&q=y", nil)
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got := api.seen(t)[0].RequestURI; got != "/a%2Fb/c?q=%20x&q=y" {
		t.Errorf("RequestURI %q", got)
	}
}

// A panic in detection (here: a Minter without keys) must not take the real
// API down: the guard fails open and logs.
func TestGuardFailsOpenWhenDetectPanics(t *testing.T) {
	gh := mintGuardToken(t, guardMinter(t, guardSecret), GitHub)
	broken := &Minter{}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+gh.Value)
	func() {
		defer func() {
			if recover() == nil {
				t.Skip("Detect no longer panics on a Minter without keys; nothing to test")
			}
		}()
		broken.Detect(r, nil)
	}()
	rc := newSightingReceiver(t, nil)
	var logBuf guardLogBuffer
	logger := zerolog.New(&logBuf)
	rp := newGuardTestReporter(t, rc.srv.URL, ReporterOptions{Logger: &logger})
	api := &guardRealAPI{}
	w := httptest.NewRecorder()
	GuardHandler(GuardConfig{Minter: broken, Action: GuardDeny, Reporter: rp}, api).ServeHTTP(w, r)
	if w.Code != 200 || len(api.seen(t)) != 1 {
		t.Errorf("status %d, real calls %d", w.Code, len(api.seen(t)))
	}
	if out := logBuf.String(); !strings.Contains(out, "Detect panicked") || strings.Contains(out, gh.Value) {
		t.Errorf("log %q", out)
	}
}
