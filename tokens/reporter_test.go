package tokens

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// guardTokenRequest is a request to a real API carrying tok in an API-key header,
// and its hit.
func guardTokenRequest(t *testing.T, m *Minter, tok Token, path string) (*http.Request, []Hit) {
	t.Helper()
	r := httptest.NewRequest("GET", path, nil)
	r.Header.Set("X-Api-Key", tok.Value)
	hits := m.Detect(r, nil)
	if len(hits) != 1 {
		t.Fatalf("Detect found %d hits", len(hits))
	}
	return r, hits
}

func TestReporterRetriesThrough503sAnd429(t *testing.T) {
	m := guardMinter(t, guardSecret)
	tok := mintGuardToken(t, m, GitHub)
	rc := newSightingReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) int {
		switch n {
		case 1, 2:
			return http.StatusServiceUnavailable
		case 3:
			w.Header().Set("Retry-After", "1")
			return http.StatusTooManyRequests
		}
		return http.StatusCreated
	})
	rp := newGuardTestReporter(t, rc.srv.URL, ReporterOptions{})
	r, hits := guardTokenRequest(t, m, tok, "/v1/me")
	rp.Report(r, hits)
	closeGuardReporter(t, rp)

	at := rc.attemptTimes()
	if len(at) != 4 {
		t.Fatalf("%d attempts, want 4", len(at))
	}
	if gap := at[3].Sub(at[2]); gap < 990*time.Millisecond {
		t.Errorf("retried %v after a 429 with Retry-After: 1", gap)
	}
	got := rc.sightings()
	if len(got) != 1 || got[0].Text != tok.Value || got[0].Where != "header X-Api-Key" {
		t.Errorf("delivered %+v, want one sighting of the token", got)
	}
	rc.mu.Lock()
	keys := append([]string(nil), rc.keys...)
	rc.mu.Unlock()
	for _, k := range keys {
		if k == "" || k != keys[0] {
			t.Errorf("idempotency keys %q, want one key on every attempt", keys)
			break
		}
	}
	if st := rp.Stats(); st.Sent != 1 || st.Failed != 0 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

// A receiver that is down (connections refused) and then comes back gets
// every queued sighting.
func TestReporterReceiverDownThenRecovers(t *testing.T) {
	m := guardMinter(t, guardSecret)
	tok := mintGuardToken(t, m, Stripe)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	rp := newGuardTestReporter(t, "http://"+addr, ReporterOptions{Backoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, MaxAttempts: 100, Senders: 2})
	const n = 20
	for i := range n {
		r, hits := guardTokenRequest(t, m, tok, fmt.Sprintf("/v1/charges/%d", i))
		rp.Report(r, hits)
	}
	time.Sleep(300 * time.Millisecond)
	if st := rp.Stats(); st.Sent != 0 || st.Failed != 0 {
		t.Fatalf("while down: %+v", st)
	}

	rc := &sightingReceiver{}
	rc.srv = httptest.NewUnstartedServer(http.HandlerFunc(rc.serve))
	if rc.srv.Listener, err = net.Listen("tcp", addr); err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	rc.srv.Start()
	defer rc.srv.Close()
	closeGuardReporter(t, rp)

	paths := map[string]bool{}
	for _, s := range rc.sightings() {
		paths[s.Path] = true
	}
	if len(paths) != n {
		t.Errorf("received %d distinct sightings, want %d", len(paths), n)
	}
	if st := rp.Stats(); st.Sent != n || st.Failed != 0 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestReporterFullQueueDropsWithoutBlocking(t *testing.T) {
	m := guardMinter(t, guardSecret)
	tok := mintGuardToken(t, m, GitHub)
	release := make(chan struct{})
	rc := newSightingReceiver(t, func(int, http.ResponseWriter, *http.Request) int {
		<-release
		return http.StatusAccepted
	})
	rp := newGuardTestReporter(t, rc.srv.URL, ReporterOptions{Queue: 4, Senders: 1, Rate: -1})
	r, hits := guardTokenRequest(t, m, tok, "/")
	start := time.Now()
	const n = 200
	for range n {
		rp.Report(r, hits)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("%d reports took %v", n, d)
	}
	if st := rp.Stats(); st.Dropped < n-5 {
		t.Errorf("dropped %d of %d with a queue of 4", st.Dropped, n)
	}
	close(release)
	closeGuardReporter(t, rp)
	st := rp.Stats()
	if st.Sent+st.Dropped != n || st.Failed != 0 || st.Sent > 5 || len(rc.sightings()) != int(st.Sent) {
		t.Errorf("stats %+v, received %d", st, len(rc.sightings()))
	}
}

func TestReporterDoesNotFollowRedirects(t *testing.T) {
	m := guardMinter(t, guardSecret)
	tok := mintGuardToken(t, m, GitHub)
	elsewhere := newSightingReceiver(t, nil)
	rc := newSightingReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) int {
		w.Header().Set("Location", elsewhere.srv.URL+"/api/v1/sightings")
		return http.StatusTemporaryRedirect
	})
	rp := newGuardTestReporter(t, rc.srv.URL, ReporterOptions{})
	r, hits := guardTokenRequest(t, m, tok, "/")
	rp.Report(r, hits)
	closeGuardReporter(t, rp)
	if n := len(elsewhere.attemptTimes()); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
	if st := rp.Stats(); st.Failed != 1 || st.Sent != 0 || len(rc.attemptTimes()) != 1 {
		t.Errorf("stats %+v after %d attempts", st, len(rc.attemptTimes()))
	}
}

// A refusal (4xx other than 408 and 429) is not retried, and nothing secret
// reaches the log.
func TestReporterGivesUpOnRefusalAndLogsNoSecrets(t *testing.T) {
	m := guardMinter(t, guardSecret)
	tok := mintGuardToken(t, m, GitHub)
	rc := newSightingReceiver(t, func(int, http.ResponseWriter, *http.Request) int { return http.StatusBadRequest })
	var logBuf guardLogBuffer
	logger := zerolog.New(&logBuf).Level(zerolog.DebugLevel)
	rp := newGuardTestReporter(t, rc.srv.URL, ReporterOptions{Logger: &logger})
	r, hits := guardTokenRequest(t, m, tok, "/")
	r.Header.Set("Authorization", "Bearer real-user-session-secret")
	rp.Report(r, hits)
	closeGuardReporter(t, rp)
	if st := rp.Stats(); st.Failed != 1 || len(rc.attemptTimes()) != 1 {
		t.Errorf("stats %+v after %d attempts", st, len(rc.attemptTimes()))
	}
	out := logBuf.String()
	if !strings.Contains(out, "400") {
		t.Errorf("log does not say why: %s", out)
	}
	for _, secret := range []string{tok.Value, guardAdminToken, "real-user-session-secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains a secret: %s", out)
		}
	}
}

type guardLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *guardLogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *guardLogBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestReporterRetriesAfterTimeout(t *testing.T) {
	m := guardMinter(t, guardSecret)
	tok := mintGuardToken(t, m, GitHub)
	rc := newSightingReceiver(t, func(n int, _ http.ResponseWriter, r *http.Request) int {
		if n == 1 {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}
		return http.StatusAccepted
	})
	rp := newGuardTestReporter(t, rc.srv.URL, ReporterOptions{Timeout: 100 * time.Millisecond})
	r, hits := guardTokenRequest(t, m, tok, "/")
	start := time.Now()
	rp.Report(r, hits)
	closeGuardReporter(t, rp)
	if st := rp.Stats(); st.Sent != 1 || time.Since(start) > 3*time.Second {
		t.Errorf("stats %+v after %v", st, time.Since(start))
	}
}

func TestReporterCloseGivesUpAtDeadline(t *testing.T) {
	m := guardMinter(t, guardSecret)
	tok := mintGuardToken(t, m, GitHub)
	rc := newSightingReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) int {
		w.Header().Set("Retry-After", "120")
		return http.StatusServiceUnavailable
	})
	rp := newGuardTestReporter(t, rc.srv.URL, ReporterOptions{})
	r, hits := guardTokenRequest(t, m, tok, "/")
	for range 5 {
		rp.Report(r, hits)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := rp.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("Close = %v after %v", err, time.Since(start))
	}
	if st := rp.Stats(); st.Failed != 5 || st.Sent != 0 || st.Queued != 0 {
		t.Errorf("stats %+v", st)
	}
	rp.Report(r, hits)
	if st := rp.Stats(); st.Dropped != 1 {
		t.Errorf("a report after Close: %+v", st)
	}
	if err := rp.Close(context.Background()); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestNewReporterValidates(t *testing.T) {
	for _, o := range []ReporterOptions{
		{URL: "", Token: "x"},
		{URL: "ftp://h/", Token: "x"},
		{URL: "http://", Token: "x"},
		{URL: "http://127.0.0.1:8081"},
	} {
		if rp, err := NewReporter(o); err == nil {
			_ = rp.Close(context.Background())
			t.Errorf("NewReporter(%+v) accepted", o)
		}
	}
	rp, err := NewReporter(ReporterOptions{URL: "http://127.0.0.1:8081/admin/", Token: "x"})
	if err != nil {
		t.Fatal(err)
	}
	defer rp.Close(context.Background())
	if rp.url != "http://127.0.0.1:8081/admin/api/v1/sightings" {
		t.Errorf("url %q", rp.url)
	}
}

// Without the Minter (Report called directly), Text is the value found at
// the hit's place; with the guard's Minter it is exactly the token.
func TestReportWithoutMinter(t *testing.T) {
	m := guardMinter(t, guardSecret)
	gh, npm := mintGuardToken(t, m, GitHub), mintGuardToken(t, m, NPM)
	rc := newSightingReceiver(t, nil)
	rp := newGuardTestReporter(t, rc.srv.URL, ReporterOptions{})

	r := httptest.NewRequest("GET", "/?a=1", nil)
	r.Header.Set("Authorization", "token "+gh.Value)
	rp.Report(r, m.Detect(r, nil))

	body := []byte(`{"deploy":{"npmrc":"//registry.npmjs.org/:_authToken=` + npm.Value + `\nalways-auth=true"}}`)
	r = httptest.NewRequest("POST", "/", nil)
	r.Header.Set("Content-Type", "application/json")
	rp.ReportBody(r, body, m.Detect(r, body))
	closeGuardReporter(t, rp)

	got := rc.sightings()
	if len(got) != 2 {
		t.Fatalf("%d sightings", len(got))
	}
	texts := map[string]string{}
	for _, s := range got {
		texts[s.Where] = s.Text
	}
	if s := texts["header Authorization (token)"]; !strings.Contains(s, gh.Value) {
		t.Errorf("header text %q", s)
	}
	if s := texts["body field $.deploy.npmrc"]; !strings.Contains(s, npm.Value) || strings.Contains(s, "always-auth") {
		t.Errorf("body text %q", s)
	}
}

func TestSightedHeadersAreBounded(t *testing.T) {
	h := http.Header{}
	for i := range 500 {
		h.Set(fmt.Sprintf("X-Junk-%d", i), strings.Repeat("\x01", 4000))
	}
	hs := sightedHeaders(h, nil)
	total := 0
	for _, x := range hs {
		total += len(x.Name) + len(x.Value)
		if len(x.Value) > maxSightedHeaderValue {
			t.Errorf("value of %d bytes", len(x.Value))
		}
	}
	if len(hs) > maxSightedHeaders || total > maxSightedHeaderBytes+maxSightedHeaderValue+maxSightedShort {
		t.Errorf("%d headers, %d bytes", len(hs), total)
	}
	s := &Sighting{Text: strings.Repeat("\x02", MaxSightingText), Headers: hs, Path: strings.Repeat("\x03", maxSightedPath), Query: strings.Repeat("\x04", maxSightedQuery)}
	b, err := encodeSighting(s)
	if err != nil || len(b) > MaxSightingBody {
		t.Errorf("encoded sighting of %d bytes, %v", len(b), err)
	}
	var back Sighting
	if err := json.Unmarshal(b, &back); err != nil {
		t.Error(err)
	}
}

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct {
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"203.0.113.9:5555", []string{"1.2.3.4"}, nil, "203.0.113.9"},
		{"10.0.0.1:5555", []string{"1.2.3.4"}, nil, "10.0.0.1"},
		{"10.0.0.1:5555", []string{"1.2.3.4, 10.0.0.2"}, trusted, "1.2.3.4"},
		{"10.0.0.1:5555", []string{"6.6.6.6, 1.2.3.4, 10.0.0.2"}, trusted, "1.2.3.4"},
		{"10.0.0.1:5555", []string{"6.6.6.6", "1.2.3.4"}, trusted, "1.2.3.4"},
		{"203.0.113.9:5555", []string{"1.2.3.4"}, trusted, "203.0.113.9"},
		{"10.0.0.1:5555", []string{"junk, 10.0.0.2"}, trusted, "10.0.0.2"},
		{"10.0.0.1:5555", nil, trusted, "10.0.0.1"},
		{"[::1]:5555", []string{"2001:db8::1"}, trusted, "2001:db8::1"},
		{"[::ffff:198.51.100.7]:80", nil, nil, "198.51.100.7"},
		{"pipe", nil, trusted, "pipe"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := clientIP(r, tc.trusted); got != tc.want {
			t.Errorf("clientIP(%s, %q) = %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"-3":                            0,
		"2":                             2 * time.Second,
		"86400":                         MaxRetryAfter,
		"Sat, 21 Nov 2026 12:00:30 GMT": 30 * time.Second,
		"Sat, 21 Nov 2026 11:00:00 GMT": 0,
		"soon":                          0,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	rp := &Reporter{backoff: 100 * time.Millisecond, maxBackoff: time.Second}
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 5: time.Second, 80: time.Second} {
		for range 50 {
			if d := rp.backoffFor(attempt); d < want/2 || d > want {
				t.Errorf("backoffFor(%d) = %v, want in [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
}

func TestPowerOfTwoCrossed(t *testing.T) {
	var logged []uint64
	var total uint64
	for _, n := range []uint64{1, 1, 1, 1, 3, 1, 20, 1} {
		total += n
		if powerOfTwoCrossed(total, n) {
			logged = append(logged, total)
		}
	}
	if fmt.Sprint(logged) != "[1 2 4 8 28]" {
		t.Errorf("logged at %v", logged)
	}
}

// A honeytoken replayed in a loop makes a burst of sightings, then a
// trickle at the configured rate; the rest are dropped before being built.
func TestReporterRateCapsAFlood(t *testing.T) {
	m := guardMinter(t, guardSecret)
	tok := mintGuardToken(t, m, GitHub)
	rc := newSightingReceiver(t, nil)
	rp := newGuardTestReporter(t, rc.srv.URL, ReporterOptions{Rate: 10, Burst: 5, Queue: 1000})
	r, hits := guardTokenRequest(t, m, tok, "/")
	start := time.Now()
	for range 100 {
		rp.Report(r, hits)
	}
	elapsed := time.Since(start)
	closeGuardReporter(t, rp)
	st := rp.Stats()
	want := 5 + int(elapsed.Seconds()*10) // the burst, and what the rate allowed meanwhile
	if int(st.Sent) < 5 || int(st.Sent) > want+1 || st.Sent+st.Dropped != 100 || len(rc.sightings()) != int(st.Sent) {
		t.Errorf("stats %+v after %v, want %d sent", st, elapsed, want)
	}
}

func TestReporterAllow(t *testing.T) {
	rp := &Reporter{interval: int64(100 * time.Millisecond), tolerance: 2 * int64(100*time.Millisecond)} // 10/s, burst 3
	if !rp.allow(2) || !rp.allow(1) || rp.allow(1) {
		t.Fatal("a burst of 3 is not exactly 3")
	}
	if rp.allow(4) {
		t.Fatal("more than the burst at once")
	}
	time.Sleep(120 * time.Millisecond)
	if !rp.allow(1) || rp.allow(1) {
		t.Error("not one more after an interval")
	}
	unlimited := &Reporter{}
	for range 1000 {
		if !unlimited.allow(16) {
			t.Fatal("no cap, yet refused")
		}
	}
}

func TestReporterRetriesOnlyTransientAnswers(t *testing.T) {
	m := guardMinter(t, guardSecret)
	tok := mintGuardToken(t, m, GitHub)
	for status, retried := range map[int]bool{
		400: false, 401: false, 403: false, 413: false, 422: false, 501: false, 301: false,
		408: true, 429: true, 500: true, 502: true, 503: true, 504: true,
	} {
		rc := newSightingReceiver(t, func(n int, _ http.ResponseWriter, _ *http.Request) int {
			if n == 1 {
				return status
			}
			return http.StatusCreated
		})
		rp := newGuardTestReporter(t, rc.srv.URL, ReporterOptions{})
		r, hits := guardTokenRequest(t, m, tok, "/")
		rp.Report(r, hits)
		closeGuardReporter(t, rp)
		want := ReporterStats{Failed: 1}
		if retried {
			want = ReporterStats{Sent: 1}
		}
		if st := rp.Stats(); st != want {
			t.Errorf("after a %d: %+v, want %+v", status, st, want)
		}
	}
}
