package alerts

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testWebhookSecret = "whsec-test-0123456789abcdef"

func testWebhookPayload() *Payload {
	t0 := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	return &Payload{
		Version:   PayloadVersion,
		ID:        "alr_01HX3Y8ZK2",
		Time:      t0,
		Severity:  Critical,
		Rule:      "token_used",
		Title:     "AWS key used <script>alert(1)</script>",
		Summary:   "A honeytoken planted in build-01 .env was used & verified",
		Count:     3,
		FirstSeen: t0.Add(-time.Minute),
		LastSeen:  t0,
		Token:     &TokenInfo{ID: "tok_1", Kind: "aws", Planted: "build-01 .env", Where: "header Authorization (AWS4-HMAC-SHA256)"},
		Client:    ClientInfo{IP: "203.0.113.9", Actor: "act_42", Risk: 90, UserAgent: "aws-cli/2.15 <x>", Signals: []string{"tor", "scanner"}},
		Request:   &RequestInfo{Event: "evt_9", Kind: "token_used", Method: "GET", Host: "api.example.com", Path: "/v1/users", Query: "a=1&b=<2>", Status: 403},
	}
}

func newTestWebhook(t *testing.T, rawURL string, mod func(*WebhookOptions)) *Webhook {
	t.Helper()
	opts := WebhookOptions{Name: "siem", URL: rawURL, Secret: testWebhookSecret, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&opts)
	}
	w, err := NewWebhook(opts)
	if err != nil {
		t.Fatalf("NewWebhook: %v", err)
	}
	return w
}

// delivery is what a test receiver saw of one request.
type delivery struct {
	method string
	path   string
	header http.Header
	body   []byte
}

// recorder is a receiver that records every request and answers with
// answer (200 when nil).
type recorder struct {
	mu     sync.Mutex
	got    []delivery
	answer func(w http.ResponseWriter, r *http.Request, n int)
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rc.mu.Lock()
	rc.got = append(rc.got, delivery{r.Method, r.URL.Path, r.Header.Clone(), body})
	n := len(rc.got)
	rc.mu.Unlock()
	if rc.answer != nil {
		rc.answer(w, r, n)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rc *recorder) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

func TestWebhookDelivers(t *testing.T) {
	p := testWebhookPayload()
	type result struct {
		header http.Header
		body   []byte
		err    error
	}
	results := make(chan result, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A receiver as the README shows it: the raw body, then the signature.
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err == nil {
			err = VerifySignature([]byte(testWebhookSecret), r.Header.Get(SignatureHeader), body, time.Now(), time.Minute)
		}
		results <- result{r.Header.Clone(), body, err}
		if err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()

	wh := newTestWebhook(t, srv.URL+"/hooks/honeyapi", func(o *WebhookOptions) {
		o.Headers = map[string]string{"authorization": "Bearer siem-token", "X-Team": "blue"}
	})
	if err := wh.Send(context.Background(), p); err != nil {
		t.Fatalf("Send: %v", err)
	}
	r := <-results
	if r.err != nil {
		t.Fatalf("receiver: %v", r.err)
	}
	for name, want := range map[string]string{
		"Content-Type":    "application/json",
		"User-Agent":      "honeyapi-webhook/1",
		EventHeader:       "alert",
		DeliveryHeader:    p.ID,
		"Idempotency-Key": p.ID,
		"Authorization":   "Bearer siem-token",
		"X-Team":          "blue",
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("header %s: got %q, want %q", name, got, want)
		}
	}
	var got Payload
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatalf("body does not decode: %v", err)
	}
	if !reflect.DeepEqual(&got, p) {
		t.Errorf("body decodes to\n%+v\nwant\n%+v", got, *p)
	}
	// The body keeps "<", ">" and "&" as they are (no HTML escaping).
	for _, s := range []string{"<script>", "a=1&b=<2>"} {
		if !bytes.Contains(r.body, []byte(s)) {
			t.Errorf("body lacks %q unescaped: %s", s, r.body)
		}
	}
	if bytes.HasSuffix(r.body, []byte("\n")) {
		t.Errorf("body ends with a newline")
	}
}

func TestWebhookSignatureTimeIsTheAttempts(t *testing.T) {
	rc := &recorder{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	wh := newTestWebhook(t, srv.URL, nil)
	at := time.Unix(1_900_000_000, 0)
	wh.now = func() time.Time { return at }
	if err := wh.Send(context.Background(), testWebhookPayload()); err != nil {
		t.Fatal(err)
	}
	d := rc.deliveries()[0]
	if want := Sign([]byte(testWebhookSecret), at, d.body); d.header.Get(SignatureHeader) != want {
		t.Errorf("signature: got %q, want %q", d.header.Get(SignatureHeader), want)
	}
	if !strings.HasPrefix(d.header.Get(SignatureHeader), "t=1900000000,v1=") {
		t.Errorf("signature %q does not carry the attempt's time", d.header.Get(SignatureHeader))
	}
}

func TestWebhookRotationSignsWithEverySecret(t *testing.T) {
	rc := &recorder{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	oldSecret := "old-secret-0123456789abcdef"
	wh := newTestWebhook(t, srv.URL, func(o *WebhookOptions) { o.PreviousSecrets = []string{oldSecret} })
	if err := wh.Send(context.Background(), testWebhookPayload()); err != nil {
		t.Fatal(err)
	}
	d := rc.deliveries()[0]
	h := d.header.Get(SignatureHeader)
	if n := strings.Count(h, "v1="); n != 2 {
		t.Fatalf("header %q: %d v1 entries, want 2", h, n)
	}
	for _, s := range []string{testWebhookSecret, oldSecret} {
		if err := VerifySignature([]byte(s), h, d.body, time.Now(), time.Minute); err != nil {
			t.Errorf("a receiver with secret %q: %v", s[:3], err)
		}
	}
}

func TestWebhookSameIdempotencyKeyAcrossRetries(t *testing.T) {
	rc := &recorder{answer: func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			w.WriteHeader(http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusOK)
		}
	}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	wh := newTestWebhook(t, srv.URL, nil)
	clock := time.Unix(1_800_000_000, 0)
	wh.now = func() time.Time { clock = clock.Add(time.Minute); return clock }
	p := testWebhookPayload()
	for i := range 3 {
		err := wh.Send(context.Background(), p)
		if i < 2 && (err == nil || IsPermanent(err)) {
			t.Fatalf("attempt %d: got %v, want a retryable error", i+1, err)
		}
		if i == 2 && err != nil {
			t.Fatalf("attempt 3: %v", err)
		}
	}
	ds := rc.deliveries()
	if len(ds) != 3 {
		t.Fatalf("%d deliveries, want 3", len(ds))
	}
	sigs := map[string]bool{}
	for i, d := range ds {
		if k := d.header.Get("Idempotency-Key"); k != p.ID {
			t.Errorf("attempt %d: Idempotency-Key %q, want %q", i+1, k, p.ID)
		}
		if k := d.header.Get(DeliveryHeader); k != p.ID {
			t.Errorf("attempt %d: %s %q, want %q", i+1, DeliveryHeader, k, p.ID)
		}
		if !bytes.Equal(d.body, ds[0].body) {
			t.Errorf("attempt %d: the body changed", i+1)
		}
		sigs[d.header.Get(SignatureHeader)] = true
	}
	if len(sigs) != 3 {
		t.Errorf("signatures of the 3 attempts: %d distinct, want 3 (each signed at its own time)", len(sigs))
	}
}

func statusServer(t *testing.T, code int, header map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, `{"error":"nope"}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestWebhookRetryAfter(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		code       int
		retryAfter string
		want       time.Duration
	}{
		{429, "3", 3 * time.Second},
		{429, now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{503, "120", 2 * time.Minute},
		{503, now.Add(time.Hour).Format(http.TimeFormat), time.Hour},
		{429, now.Add(-time.Hour).Format(http.TimeFormat), 0}, // a date past: retry now
		{429, "0", 0},
		{429, "999999999999999999999", webhookMaxRetryAfter},
	} {
		srv := statusServer(t, tc.code, map[string]string{"Retry-After": tc.retryAfter})
		wh := newTestWebhook(t, srv.URL, nil)
		wh.now = func() time.Time { return now }
		err := wh.Send(context.Background(), testWebhookPayload())
		var ra *RetryAfterError
		if !errors.As(err, &ra) {
			t.Errorf("%d Retry-After %q: got %v, want a *RetryAfterError", tc.code, tc.retryAfter, err)
			continue
		}
		if ra.After != tc.want {
			t.Errorf("%d Retry-After %q: After %s, want %s", tc.code, tc.retryAfter, ra.After, tc.want)
		}
		if IsPermanent(err) {
			t.Errorf("%d: a RetryAfterError is not permanent", tc.code)
		}
	}
}

func TestWebhookRetryable(t *testing.T) {
	for _, tc := range []struct {
		code       int
		retryAfter string
	}{
		{503, ""}, {500, ""}, {502, ""}, {504, ""}, {408, ""}, {429, ""}, {429, "soon"}, {503, "-5"},
	} {
		srv := statusServer(t, tc.code, map[string]string{"Retry-After": tc.retryAfter})
		err := newTestWebhook(t, srv.URL, nil).Send(context.Background(), testWebhookPayload())
		if err == nil || IsPermanent(err) {
			t.Errorf("%d: got %v, want a retryable error", tc.code, err)
		}
		if _, ok := RetryAfter(err); ok {
			t.Errorf("%d Retry-After %q: got a RetryAfterError: %v", tc.code, tc.retryAfter, err)
		}
		if err != nil && !strings.Contains(err.Error(), http.StatusText(tc.code)) {
			t.Errorf("%d: error %q does not name the status", tc.code, err)
		}
	}
}

func TestWebhookPermanent(t *testing.T) {
	for _, code := range []int{400, 401, 403, 404, 405, 410, 413, 422} {
		srv := statusServer(t, code, nil)
		err := newTestWebhook(t, srv.URL, nil).Send(context.Background(), testWebhookPayload())
		if !IsPermanent(err) {
			t.Errorf("%d: got %v, want a *PermanentError", code, err)
		}
	}
}

func TestWebhookRedirectSameOriginFollowed(t *testing.T) {
	for _, code := range []int{301, 302, 307, 308} {
		rc := &recorder{answer: func(w http.ResponseWriter, r *http.Request, n int) {
			if r.URL.Path == "/old" {
				w.Header().Set("Location", "/new?v=2")
				w.WriteHeader(code)
				return
			}
			w.WriteHeader(http.StatusOK)
		}}
		srv := httptest.NewServer(rc)
		wh := newTestWebhook(t, srv.URL+"/old", nil)
		p := testWebhookPayload()
		if err := wh.Send(context.Background(), p); err != nil {
			t.Errorf("%d: %v", code, err)
		}
		srv.Close()
		ds := rc.deliveries()
		if len(ds) != 2 {
			t.Errorf("%d: %d requests, want 2", code, len(ds))
			continue
		}
		final := ds[1]
		if final.method != http.MethodPost || final.path != "/new" {
			t.Errorf("%d: the redirect was followed with %s %s, want POST /new", code, final.method, final.path)
		}
		if !bytes.Equal(final.body, ds[0].body) || len(final.body) == 0 {
			t.Errorf("%d: the redirected POST lost its body", code)
		}
		if err := VerifySignature([]byte(testWebhookSecret), final.header.Get(SignatureHeader), final.body, time.Now(), time.Minute); err != nil {
			t.Errorf("%d: after the redirect: %v", code, err)
		}
		if final.header.Get("Idempotency-Key") != p.ID {
			t.Errorf("%d: the redirected POST lost its Idempotency-Key", code)
		}
	}
}

func TestWebhookRedirectLimit(t *testing.T) {
	// /r/N redirects to /r/N-1; /r/0 accepts.
	rc := &recorder{answer: func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == "/r/0" {
			w.WriteHeader(http.StatusOK)
			return
		}
		var k int
		for _, c := range strings.TrimPrefix(r.URL.Path, "/r/") {
			k = k*10 + int(c-'0')
		}
		// An absolute Location with the default form of the same origin.
		http.Redirect(w, r, "http://"+r.Host+"/r/"+string(rune('0'+k-1)), http.StatusTemporaryRedirect)
	}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	if err := newTestWebhook(t, srv.URL+"/r/3", nil).Send(context.Background(), testWebhookPayload()); err != nil {
		t.Errorf("3 redirects: %v", err)
	}
	err := newTestWebhook(t, srv.URL+"/r/4", nil).Send(context.Background(), testWebhookPayload())
	if !IsPermanent(err) || !strings.Contains(err.Error(), "redirects") {
		t.Errorf("4 redirects: got %v, want a permanent error", err)
	}
}

func TestWebhookRedirectElsewhereRefused(t *testing.T) {
	var stolen atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer other.Close()
	otherURL, _ := url.Parse(other.URL)

	var location atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", location.Load().(string))
		w.WriteHeader(http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	srvURL, _ := url.Parse(srv.URL)

	for _, tc := range []struct {
		location string
		wantHost string
	}{
		{other.URL + "/steal?key=stolen-query", otherURL.Host},                                      // another port
		{"http://localhost:" + srvURL.Port() + "/x?key=stolen-query", "localhost:" + srvURL.Port()}, // another host name
		{"https://" + srvURL.Host + "/x?key=stolen-query", srvURL.Host},                             // another scheme
	} {
		location.Store(tc.location)
		err := newTestWebhook(t, srv.URL+"/hook", nil).Send(context.Background(), testWebhookPayload())
		if !IsPermanent(err) {
			t.Errorf("redirect to %s: got %v, want a permanent error", tc.location, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.wantHost) {
			t.Errorf("error %q does not name the redirect's host %s", msg, tc.wantHost)
		}
		if strings.Contains(msg, "stolen-query") || strings.Contains(msg, "/steal") || strings.Contains(msg, "/x") {
			t.Errorf("error %q shows more of the redirect than its host", msg)
		}
	}
	if n := stolen.Load(); n != 0 {
		t.Errorf("the other host received %d requests", n)
	}
}

func TestWebhookOtherRedirectsArePermanent(t *testing.T) {
	for _, tc := range []struct {
		code     int
		location string
	}{
		{303, "/see-other"}, {300, "/choices"}, {304, ""}, {302, ""}, {307, "ftp://x/"}, {307, "http://[::1"},
	} {
		srv := statusServer(t, tc.code, map[string]string{"Location": tc.location})
		err := newTestWebhook(t, srv.URL, nil).Send(context.Background(), testWebhookPayload())
		if !IsPermanent(err) {
			t.Errorf("%d Location %q: got %v, want a permanent error", tc.code, tc.location, err)
		}
	}
}

func TestWebhookHTTPSWithClient(t *testing.T) {
	rc := &recorder{}
	srv := httptest.NewTLSServer(rc)
	defer srv.Close()
	base := srv.Client()
	wh := newTestWebhook(t, srv.URL, func(o *WebhookOptions) { o.HTTPClient = base })
	if err := wh.Send(context.Background(), testWebhookPayload()); err != nil {
		t.Fatal(err)
	}
	if len(rc.deliveries()) != 1 {
		t.Errorf("%d deliveries, want 1", len(rc.deliveries()))
	}
	if base.CheckRedirect != nil {
		t.Errorf("NewWebhook changed the caller's client")
	}
}

// rawServer runs a TCP server that hands each connection to serve, and
// returns its URL.
func rawServer(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + ln.Addr().String() + "/hook"
}

// readRequestHead reads up to the end of the request head.
func readRequestHead(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil || line == "\r\n" {
			return
		}
	}
}

// heapAllocDuring reports the bytes allocated while f ran (the whole
// process: the test servers too).
func heapAllocDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestWebhookSlowDripHeadTimesOut(t *testing.T) {
	u := rawServer(t, func(c net.Conn) {
		readRequestHead(c)
		for _, b := range []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(time.Second)
		}
	})
	wh := newTestWebhook(t, u, func(o *WebhookOptions) { o.Timeout = 2 * time.Second })
	start := time.Now()
	err := wh.Send(context.Background(), testWebhookPayload())
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("Send took %s with a 2s timeout", took)
	}
	if err == nil || IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want a retryable timeout", err)
	}
}

func TestWebhookSlowDripBodyDoesNotStall(t *testing.T) {
	for _, code := range []int{200, 500} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(code)
			for range 60 {
				if _, err := w.Write([]byte{'x'}); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(time.Second):
				}
			}
		}))
		wh := newTestWebhook(t, srv.URL, func(o *WebhookOptions) { o.Timeout = 5 * time.Second })
		start := time.Now()
		err := wh.Send(context.Background(), testWebhookPayload())
		took := time.Since(start)
		srv.Close()
		if took > 3*time.Second {
			t.Errorf("%d dripping its body: Send took %s", code, took)
		}
		if code == 200 && err != nil {
			t.Errorf("200 dripping its body: %v", err)
		}
		if code == 500 && (err == nil || IsPermanent(err)) {
			t.Errorf("500 dripping its body: got %v, want a retryable error", err)
		}
	}
}

func TestWebhookHugeResponse(t *testing.T) {
	chunk := bytes.Repeat([]byte("A"), 1<<20)
	for _, code := range []int{200, 500} {
		var written atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Length", "104857600")
			w.WriteHeader(code)
			for range 100 {
				n, err := w.Write(chunk)
				written.Add(int64(n))
				if err != nil {
					return
				}
			}
		}))
		wh := newTestWebhook(t, srv.URL, nil)
		var err error
		start := time.Now()
		alloc := heapAllocDuring(func() { err = wh.Send(context.Background(), testWebhookPayload()) })
		took := time.Since(start)
		srv.Close()
		if code == 200 && err != nil {
			t.Errorf("200 + 100 MB: %v", err)
		}
		if code == 500 && (err == nil || IsPermanent(err)) {
			t.Errorf("500 + 100 MB: got %v, want a retryable error", err)
		}
		if took > 3*time.Second {
			t.Errorf("%d + 100 MB: Send took %s", code, took)
		}
		if alloc > 16<<20 {
			t.Errorf("%d + 100 MB: %d bytes allocated during Send", code, alloc)
		}
		if w := written.Load(); w >= 100<<20 {
			t.Errorf("%d: the whole 100 MB was read", code)
		}
	}
}

func TestWebhookGarbageResponse(t *testing.T) {
	for name, serve := range map[string]func(net.Conn){
		"binary": func(c net.Conn) {
			readRequestHead(c)
			_, _ = c.Write([]byte("\x00\xff\x13garbage\r\n\r\n\x00"))
		},
		"endless head": func(c net.Conn) {
			readRequestHead(c)
			_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nX-Junk: "))
			junk := bytes.Repeat([]byte("A"), 64<<10)
			for range 1600 { // 100 MB
				if _, err := c.Write(junk); err != nil {
					return
				}
			}
		},
		"bad status": func(c net.Conn) {
			readRequestHead(c)
			_, _ = c.Write([]byte("HTTP/1.1 2x0 OK\r\n\r\n"))
		},
		"close at once": func(c net.Conn) { readRequestHead(c) },
	} {
		u := rawServer(t, serve)
		wh := newTestWebhook(t, u, func(o *WebhookOptions) { o.Timeout = 3 * time.Second })
		var err error
		start := time.Now()
		alloc := heapAllocDuring(func() { err = wh.Send(context.Background(), testWebhookPayload()) })
		if took := time.Since(start); took > 4*time.Second {
			t.Errorf("%s: Send took %s", name, took)
		}
		if err == nil || IsPermanent(err) {
			t.Errorf("%s: got %v, want a retryable error", name, err)
		}
		if alloc > 16<<20 {
			t.Errorf("%s: %d bytes allocated during Send", name, alloc)
		}
	}
}

func TestWebhookHangingReceiverTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	wh := newTestWebhook(t, srv.URL, func(o *WebhookOptions) { o.Timeout = time.Second })
	start := time.Now()
	err := wh.Send(context.Background(), testWebhookPayload())
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Send took %s with a 1s timeout", took)
	}
	if err == nil || IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want a retryable timeout", err)
	}
	if err != nil && !strings.Contains(err.Error(), "timeout 1s") {
		t.Errorf("error %q does not say it timed out", err)
	}
}

func TestWebhookNetworkErrorIsRetryable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	err = newTestWebhook(t, "http://"+addr+"/hook", nil).Send(context.Background(), testWebhookPayload())
	if err == nil || IsPermanent(err) {
		t.Errorf("connection refused: got %v, want a retryable error", err)
	}
}

func TestWebhookCallerCancel(t *testing.T) {
	srv := statusServer(t, 200, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := newTestWebhook(t, srv.URL, nil).Send(ctx, testWebhookPayload())
	if err == nil || IsPermanent(err) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v, want a retryable context.Canceled", err)
	}
}

func TestWebhookBadPayloadIsPermanent(t *testing.T) {
	rc := &recorder{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	wh := newTestWebhook(t, srv.URL, nil)
	noID := testWebhookPayload()
	noID.ID = ""
	badID := testWebhookPayload()
	badID.ID = "alr_1\r\nX-Evil: 1"
	badTime := testWebhookPayload()
	badTime.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) // JSON cannot encode it
	for name, p := range map[string]*Payload{"nil": nil, "no ID": noID, "ID with CRLF": badID, "year 10000": badTime} {
		if err := wh.Send(context.Background(), p); !IsPermanent(err) {
			t.Errorf("%s: got %v, want a permanent error", name, err)
		}
	}
	if n := len(rc.deliveries()); n != 0 {
		t.Errorf("%d requests sent for bad payloads", n)
	}
}

func TestNewWebhookValidation(t *testing.T) {
	valid := WebhookOptions{Name: "siem-1_a", URL: "https://hooks.example.com/x", Secret: testWebhookSecret}
	for _, tc := range []struct {
		name string
		mod  func(*WebhookOptions)
		want string // in the error; "" = valid
	}{
		{"valid", func(o *WebhookOptions) {}, ""},
		{"http localhost", func(o *WebhookOptions) { o.URL = "http://localhost:8080/x" }, ""},
		{"http LOCALHOST", func(o *WebhookOptions) { o.URL = "http://LOCALHOST/x" }, ""},
		{"http 127.0.0.1", func(o *WebhookOptions) { o.URL = "http://127.0.0.1/x" }, ""},
		{"http 127.8.9.10", func(o *WebhookOptions) { o.URL = "http://127.8.9.10:9/x" }, ""},
		{"http ::1", func(o *WebhookOptions) { o.URL = "http://[::1]:9/x" }, ""},
		{"https IP", func(o *WebhookOptions) { o.URL = "https://192.0.2.1:8443/x" }, ""},
		{"max name", func(o *WebhookOptions) { o.Name = strings.Repeat("a", 64) }, ""},
		{"headers", func(o *WebhookOptions) {
			o.Headers = map[string]string{"Authorization": "Bearer x", "x-tab": "a\tb", "User-Agent": "mine"}
		}, ""},
		{"severity", func(o *WebhookOptions) { o.MinSeverity = High }, ""},
		{"rotation", func(o *WebhookOptions) { o.PreviousSecrets = []string{"another-secret-1234"} }, ""},

		{"no name", func(o *WebhookOptions) { o.Name = "" }, "Name"},
		{"upper name", func(o *WebhookOptions) { o.Name = "Siem" }, "Name"},
		{"space name", func(o *WebhookOptions) { o.Name = "my siem" }, "Name"},
		{"long name", func(o *WebhookOptions) { o.Name = strings.Repeat("a", 65) }, "Name"},
		{"no URL", func(o *WebhookOptions) { o.URL = "" }, "URL is required"},
		{"ftp", func(o *WebhookOptions) { o.URL = "ftp://example.com/x" }, "http or https"},
		{"no scheme", func(o *WebhookOptions) { o.URL = "example.com/x" }, "http or https"},
		{"no host", func(o *WebhookOptions) { o.URL = "https:///x" }, "no host"},
		{"opaque", func(o *WebhookOptions) { o.URL = "https:example.com" }, "no host"},
		{"port only", func(o *WebhookOptions) { o.URL = "https://:443/x" }, "no host"},
		{"unparseable", func(o *WebhookOptions) { o.URL = "https://exa mple.com/x" }, "does not parse"},
		{"plain http", func(o *WebhookOptions) { o.URL = "http://hooks.example.com/x" }, "must be https"},
		{"plain http private", func(o *WebhookOptions) { o.URL = "http://10.0.0.1/x" }, "must be https"},
		{"plain http localhost lookalike", func(o *WebhookOptions) { o.URL = "http://localhost.example.com/x" }, "must be https"},
		{"no secret", func(o *WebhookOptions) { o.Secret = "" }, "at least 16 bytes"},
		{"short secret", func(o *WebhookOptions) { o.Secret = "short-secret-15" }, "at least 16 bytes"},
		{"short previous", func(o *WebhookOptions) { o.PreviousSecrets = []string{"short"} }, "PreviousSecrets[0]"},
		{"Host", func(o *WebhookOptions) { o.Headers = map[string]string{"host": "x"} }, "Host is set by the webhook"},
		{"Content-Length", func(o *WebhookOptions) { o.Headers = map[string]string{"Content-Length": "1"} }, "Content-Length"},
		{"Content-Type", func(o *WebhookOptions) { o.Headers = map[string]string{"content-type": "text/plain"} }, "Content-Type"},
		{"X-Honeyapi-Signature", func(o *WebhookOptions) { o.Headers = map[string]string{"x-honeyapi-signature": "t=1"} }, "X-Honeyapi-Signature"},
		{"X-Honeyapi-Other", func(o *WebhookOptions) { o.Headers = map[string]string{"X-HONEYAPI-FOO": "1"} }, "X-Honeyapi-Foo"},
		{"Idempotency-Key", func(o *WebhookOptions) { o.Headers = map[string]string{"idempotency-key": "k"} }, "Idempotency-Key"},
		{"Transfer-Encoding", func(o *WebhookOptions) { o.Headers = map[string]string{"Transfer-Encoding": "chunked"} }, "Transfer-Encoding"},
		{"CRLF value", func(o *WebhookOptions) { o.Headers = map[string]string{"X-A": "a\r\nHost: evil"} }, "control character"},
		{"LF value", func(o *WebhookOptions) { o.Headers = map[string]string{"X-A": "a\nb"} }, "control character"},
		{"NUL value", func(o *WebhookOptions) { o.Headers = map[string]string{"X-A": "a\x00b"} }, "control character"},
		{"CRLF name", func(o *WebhookOptions) { o.Headers = map[string]string{"X-A\r\nHost": "a"} }, "not a valid header name"},
		{"empty name", func(o *WebhookOptions) { o.Headers = map[string]string{"": "a"} }, "not a valid header name"},
		{"space name", func(o *WebhookOptions) { o.Headers = map[string]string{"X A": "a"} }, "not a valid header name"},
		{"duplicate", func(o *WebhookOptions) { o.Headers = map[string]string{"x-a": "1", "X-A": "2"} }, "twice"},
		{"negative timeout", func(o *WebhookOptions) { o.Timeout = -time.Second }, "Timeout"},
		{"unknown severity", func(o *WebhookOptions) { o.MinSeverity = "urgent" }, "MinSeverity"},
	} {
		opts := valid
		tc.mod(&opts)
		w, err := NewWebhook(opts)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && err == nil:
			t.Errorf("%s: accepted, want an error about %q", tc.name, tc.want)
		case tc.want != "" && !strings.Contains(err.Error(), tc.want):
			t.Errorf("%s: error %q does not mention %q", tc.name, err, tc.want)
		}
		if err != nil && opts.Secret != "" && strings.Contains(err.Error(), opts.Secret) {
			t.Errorf("%s: error %q contains the secret", tc.name, err)
		}
		if err != nil && strings.Contains(err.Error(), "evil") {
			t.Errorf("%s: error %q contains a header value", tc.name, err)
		}
		if w != nil && (w.timeout != DefaultWebhookTimeout || w.client == nil) {
			t.Errorf("%s: defaults not applied", tc.name)
		}
	}
}

func TestWebhookAccessors(t *testing.T) {
	w := newTestWebhook(t, "https://user:pass-in-url@hooks.example.com/api/webhooks/123/abcdefghijklmnopqrstuvwxyz0123?token=qs-secret#frag", nil)
	if w.Name() != "siem" {
		t.Errorf("Name %q", w.Name())
	}
	if w.MinSeverity() != Info {
		t.Errorf("default MinSeverity %q, want info", w.MinSeverity())
	}
	if got, want := w.RedactedURL(), "https://hooks.example.com/api/webhooks/123/[redacted]?[redacted]"; got != want {
		t.Errorf("RedactedURL: got %q, want %q", got, want)
	}
	if got := newTestWebhook(t, "https://hooks.example.com", nil).RedactedURL(); got != "https://hooks.example.com" {
		t.Errorf("RedactedURL without a path: %q", got)
	}
	if s := w.String(); strings.Contains(s, "pass-in-url") || strings.Contains(s, "qs-secret") {
		t.Errorf("String %q shows a credential", s)
	}
	w2 := newTestWebhook(t, "https://hooks.example.com/x", func(o *WebhookOptions) { o.MinSeverity = Critical })
	if w2.MinSeverity() != Critical {
		t.Errorf("MinSeverity %q, want critical", w2.MinSeverity())
	}
}

// TestWebhookErrorsNeverShowSecrets drives every kind of failure with a
// URL that carries credentials and checks no error shows any of them.
func TestWebhookErrorsNeverShowSecrets(t *testing.T) {
	const (
		urlPassword = "pw-in-userinfo"
		urlQuery    = "token-in-query"
		headerValue = "header-credential"
	)
	secrets := []string{testWebhookSecret, testWebhookSecret[:10], urlPassword, urlQuery, headerValue}
	var errs []error
	check := func(err error) { errs = append(errs, err) }

	var other atomic.Value
	other.Store("")
	release := make(chan struct{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the body lets the server notice the client hanging up.
		_, _ = io.Copy(io.Discard, r.Body)
		switch r.URL.Path {
		case "/404":
			w.WriteHeader(404)
		case "/500":
			w.WriteHeader(500)
		case "/429":
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(429)
		case "/elsewhere":
			http.Redirect(w, r, other.Load().(string)+"/x?"+urlQuery, http.StatusTemporaryRedirect)
		case "/303":
			http.Redirect(w, r, "/y?"+urlQuery, http.StatusSeeOther)
		case "/loop":
			http.Redirect(w, r, "/loop?"+urlQuery, http.StatusTemporaryRedirect)
		case "/hang":
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
	})
	srv := httptest.NewServer(handler)
	defer srv.Close()
	o := httptest.NewServer(handler)
	defer o.Close()
	defer close(release)
	other.Store(o.URL)

	base := strings.Replace(srv.URL, "http://", "http://user:"+urlPassword+"@", 1)
	for _, path := range []string{"/404", "/500", "/429", "/elsewhere", "/303", "/loop", "/hang"} {
		wh := newTestWebhook(t, base+path+"?key="+urlQuery, func(o *WebhookOptions) {
			o.Timeout = time.Second
			o.Headers = map[string]string{"Authorization": "Bearer " + headerValue}
		})
		check(wh.Send(context.Background(), testWebhookPayload()))
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := "http://user:" + urlPassword + "@" + ln.Addr().String() + "/x?" + urlQuery
	ln.Close()
	check(newTestWebhook(t, refused, nil).Send(context.Background(), testWebhookPayload()))
	_, err := NewWebhook(WebhookOptions{Name: "x", URL: "http://user:" + urlPassword + "@example.com/?" + urlQuery, Secret: testWebhookSecret})
	check(err)
	_, err = NewWebhook(WebhookOptions{Name: "x", URL: "https://user:" + urlPassword + "@exa mple.com/?" + urlQuery, Secret: testWebhookSecret})
	check(err)
	_, err = NewWebhook(WebhookOptions{Name: "x", URL: "https://example.com/", Secret: testWebhookSecret[:10]})
	check(err)

	for i, err := range errs {
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error %q contains %q", err, s)
			}
		}
	}
}

func TestParseWebhookRetryAfter(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"3", 3 * time.Second, true},
		{" 3 ", 3 * time.Second, true},
		{"0", 0, true},
		{"86400", 24 * time.Hour, true},
		{"86401", webhookMaxRetryAfter, true},
		{"99999999999999999999999", webhookMaxRetryAfter, true},
		{now.Add(10 * time.Second).Format(http.TimeFormat), 10 * time.Second, true},
		{"Tue, 01 Jan 2030 00:00:30 GMT", 30 * time.Second, true},
		{"Tuesday, 01-Jan-30 00:01:00 GMT", time.Minute, true}, // RFC 850
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"", 0, false},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"+3", 0, false},
		{"soon", 0, false},
	} {
		got, ok := parseWebhookRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%q: got %s %v, want %s %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestWebhookOptionsStringHidesSecrets(t *testing.T) {
	o := WebhookOptions{
		Name:            "siem",
		URL:             "https://user:pw-in-url@hooks.example.com/x?token=qs-secret",
		Secret:          testWebhookSecret,
		PreviousSecrets: []string{"old-secret-0123456789"},
		Headers:         map[string]string{"Authorization": "Bearer header-secret"},
	}
	for _, format := range []string{"%v", "%+v", "%s", "%#v"} {
		s := fmt.Sprintf(format, o)
		for _, leak := range []string{testWebhookSecret, "old-secret", "pw-in-url", "qs-secret", "header-secret"} {
			if strings.Contains(s, leak) {
				t.Errorf("%s: %q shows %q", format, s, leak)
			}
		}
		if !strings.Contains(s, "hooks.example.com/x") || !strings.Contains(s, "Authorization") {
			t.Errorf("%s: %q lost what is safe to show", format, s)
		}
	}
}
