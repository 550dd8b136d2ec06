package tarpit

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

func newTarpit(t *testing.T, cfg Config) *Tarpit {
	t.Helper()
	tp, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tp.Close(ctx)
	})
	return tp
}

func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

func TestPolicyByRiskAndFamily(t *testing.T) {
	tp := newTarpit(t, Config{})
	draw := func(c Client) (map[Mode]int, time.Duration) {
		modes := map[Mode]int{}
		var ds []time.Duration
		for i := 0; i < 2000; i++ {
			p := tp.Decide(c, time.Now())
			modes[p.Mode]++
			ds = append(ds, p.Delay)
			p.Cancel()
		}
		return modes, median(ds)
	}
	human, hMed := draw(Client{IP: "10.0.0.1", Family: "browser"})
	if human[Delay] != 2000 || hMed < 45*time.Millisecond || hMed > 80*time.Millisecond {
		t.Fatalf("a plausible human: modes %v median %v; want only in-handler delays around 60ms", human, hMed)
	}
	script, sMed := draw(Client{IP: "10.0.0.1", Family: "python", Risk: 20})
	if script[Delay] == 0 || sMed < 4*hMed {
		t.Fatalf("a risk-20 script: modes %v median %v; want clearly slower than a human (%v)", script, sMed, hMed)
	}
	risky, rMed := draw(Client{IP: "10.0.0.2", Family: "curl", Risk: 45})
	if risky[Hold] < 1000 || rMed < time.Second {
		t.Fatalf("a risk-45 client: modes %v median %v; want mostly held beyond a second", risky, rMed)
	}
	drip, _ := draw(Client{IP: "10.0.0.3", Family: "curl", Risk: 75})
	if drip[Drip] != 2000 {
		t.Fatalf("a risk-75 client: modes %v, want drip", drip)
	}
	scan, _ := draw(Client{IP: "10.0.0.4", Family: "scanner", Tool: "sqlmap"})
	if scan[Endless] != 2000 {
		t.Fatalf("sqlmap: modes %v, want endless", scan)
	}
	p := tp.Decide(Client{IP: "10.0.0.4", Family: "scanner", Tool: "nuclei"}, time.Now())
	if p.Reason != "scanner nuclei" {
		t.Fatalf("reason %q", p.Reason)
	}
	p.Cancel()
	// Timing is not a tell: the human latencies vary like a real service's.
	var ds []time.Duration
	for i := 0; i < 1000; i++ {
		p := tp.Decide(Client{Family: "browser"}, time.Now())
		ds = append(ds, p.Delay)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	if p10, p90 := ds[100], ds[900]; p90 < 2*p10 {
		t.Fatalf("latencies barely vary: p10 %v p90 %v", p10, p90)
	}

	off := newTarpit(t, Config{Off: true})
	if p := off.Decide(Client{Family: "scanner", Risk: 90}, time.Now()); p.Mode != None || p.Delay != 0 {
		t.Fatalf("off: %+v", p)
	}
	only := newTarpit(t, Config{Scanners: Delay, DripRisk: 101})
	if p := only.Decide(Client{Family: "scanner"}, time.Now()); p.Mode != Delay || p.Delay > time.Second {
		t.Fatalf("scanners: delay: %+v", p)
	}
	if p := only.Decide(Client{Family: "curl", Risk: 90}, time.Now()); p.Mode != Hold {
		t.Fatalf("drip disabled: risk 90 → %s, want hold", p.Mode)
	}
	if _, err := New(Config{Scanners: "forever"}); err == nil {
		t.Fatal("an unknown scanner mode was accepted")
	}
}

func TestCaps(t *testing.T) {
	tp := newTarpit(t, Config{MaxHeld: 3, MaxHeldPerIP: 2})
	scanner := func(ip string) *Plan { return tp.Decide(Client{IP: ip, Family: "scanner"}, time.Now()) }
	a1, a2, a3 := scanner("192.0.2.1"), scanner("192.0.2.1"), scanner("192.0.2.1")
	if a1.Mode != Endless || a2.Mode != Endless {
		t.Fatalf("first two: %s %s", a1.Mode, a2.Mode)
	}
	if a3.Mode != Delay || !strings.HasPrefix(a3.Reason, "cap: held connections of") || a3.Delay > time.Second {
		t.Fatalf("third from one IP: %s %v %q; want a normal response", a3.Mode, a3.Delay, a3.Reason)
	}
	b1, b2 := scanner("192.0.2.2"), scanner("192.0.2.3")
	if b1.Mode != Endless || b2.Mode != Delay || b2.Reason != "cap: held connections" {
		t.Fatalf("global cap: %s, %s %q", b1.Mode, b2.Mode, b2.Reason)
	}
	if st := tp.Stats(); st.Refused != 2 {
		t.Fatalf("refused %d, want 2", st.Refused)
	}
	a1.Cancel()
	a1.Cancel() // twice is harmless
	if c := scanner("192.0.2.3"); c.Mode != Endless {
		t.Fatalf("after a release: %s", c.Mode)
	}
}

// serve runs a real server whose handler answers JSON through the tarpit
// with the plan mk returns.
func serve(t *testing.T, tp *Tarpit, body string, mk func(r *http.Request) *Plan) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := mk(r)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "abc")
		tp.Deliver(w, r, p, http.StatusOK, []byte(body))
	}))
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func TestDeliveryModes(t *testing.T) {
	tp := newTarpit(t, Config{DripBytes: 3, DripInterval: 20 * time.Millisecond, KeepAlive: 20 * time.Millisecond, MaxHold: 300 * time.Millisecond})
	body := `{"id":"cus_123","name":"Ada"}`
	var mu sync.Mutex
	var results []Result
	plan := func(mode Mode, delay time.Duration) func(*http.Request) *Plan {
		return func(r *http.Request) *Plan {
			p := tp.Decide(Client{IP: "127.0.0.1", Family: "scanner"}, time.Now())
			p.Mode, p.Delay = mode, delay
			if mode == Drip {
				p.Interval = 20 * time.Millisecond
			}
			p.OnDone = func(res Result) { mu.Lock(); results = append(results, res); mu.Unlock() }
			return p
		}
	}
	for _, tc := range []struct {
		mode    Mode
		delay   time.Duration
		atLeast time.Duration
	}{
		{Delay, 150 * time.Millisecond, 150 * time.Millisecond},
		{Hold, 300 * time.Millisecond, 300 * time.Millisecond},
		{Drip, 50 * time.Millisecond, 50*time.Millisecond + 9*20*time.Millisecond},
		{Endless, 10 * time.Millisecond, 300 * time.Millisecond},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			srv := serve(t, tp, body, plan(tc.mode, tc.delay))
			start := time.Now()
			resp, err := http.Get(srv.URL + "/v1/customers/cus_123")
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			if took < tc.atLeast {
				t.Fatalf("answered in %v, want at least %v", took, tc.atLeast)
			}
			var v map[string]any
			if err := json.Unmarshal(b, &v); err != nil || v["id"] != "cus_123" {
				t.Fatalf("body %q does not decode: %v", b, err)
			}
			if tc.mode != Endless && string(b) != body {
				t.Fatalf("body %q, want %q", b, body)
			}
			if resp.Header.Get("X-Request-Id") != "abc" || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Date") == "" {
				t.Fatalf("headers %v", resp.Header)
			}
			if tc.mode.Hijacks() && !resp.Close {
				t.Fatal("a held response must close its connection")
			}
		})
	}
	waitFor(t, "four results", func() bool { mu.Lock(); defer mu.Unlock(); return len(results) == 4 })
	mu.Lock()
	defer mu.Unlock()
	for _, r := range results {
		if r.Mode == Endless && r.End != EndMaxHold || r.Mode != Endless && r.End != EndDone {
			t.Errorf("%s ended %q", r.Mode, r.End)
		}
		if r.Waited <= 0 {
			t.Errorf("%s waited %v", r.Mode, r.Waited)
		}
	}
}

func TestDripTrickles(t *testing.T) {
	tp := newTarpit(t, Config{DripBytes: 2, DripInterval: 30 * time.Millisecond})
	body := strings.Repeat("x", 20)
	srv := serve(t, tp, body, func(r *http.Request) *Plan {
		p := tp.Decide(Client{IP: "127.0.0.1", Risk: 90, Family: "curl"}, time.Now())
		p.Delay = 0
		return p
	})
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reads []int
	buf := make([]byte, 64)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			reads = append(reads, n)
		}
		if err != nil {
			break
		}
	}
	if len(reads) < 6 {
		t.Fatalf("the body arrived in %d reads (%v), want a trickle of 2-byte pieces", len(reads), reads)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd here: " + err.Error())
	}
	return len(ents)
}

// TestHostileClientsLeaveNothingBehind holds connections of clients that
// never read, half-close or reset, and checks that goroutines and file
// descriptors return to their baseline.
func TestHostileClientsLeaveNothingBehind(t *testing.T) {
	tp := newTarpit(t, Config{KeepAlive: 10 * time.Millisecond, WriteTimeout: 300 * time.Millisecond, SocketBuffer: 1024, MaxHeldPerIP: 1000})
	big := strings.Repeat("A", 1<<20) // more than socket buffers hold
	var mu sync.Mutex
	ends := map[string]int{}
	srv := serve(t, tp, big, func(r *http.Request) *Plan {
		p := tp.Decide(Client{IP: "127.0.0.1", Family: "scanner"}, time.Now())
		p.OnDone = func(r Result) { mu.Lock(); ends[r.End]++; mu.Unlock() }
		switch r.URL.Path {
		case "/hold":
			p.Mode, p.Delay = Hold, 0
		default:
			p.Delay = 0
		}
		return p
	})
	addr := strings.TrimPrefix(srv.URL, "http://")
	http.DefaultClient.CloseIdleConnections()
	time.Sleep(50 * time.Millisecond)
	baseG, baseFD := runtime.NumGoroutine(), openFDs(t)

	const n = 30
	var conns []net.Conn
	dial := func(path string) net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.(*net.TCPConn).SetReadBuffer(1024)
		if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\nUser-Agent: sqlmap/1.8\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		return c
	}
	// Clients that never read a 1 MiB held response.
	for i := 0; i < n; i++ {
		conns = append(conns, dial("/hold"))
	}
	// Clients that half-close after the request.
	for i := 0; i < n; i++ {
		c := dial("/endless")
		c.(*net.TCPConn).CloseWrite()
		conns = append(conns, c)
	}
	// Clients that reset.
	var resets []net.Conn
	for i := 0; i < n; i++ {
		resets = append(resets, dial("/endless"))
	}
	waitFor(t, "all connections held", func() bool { return tp.Stats().Holds >= 3*n })
	// Holding costs no goroutine per connection.
	if g := runtime.NumGoroutine(); g-baseG > 20 {
		t.Fatalf("%d goroutines while holding %d connections (baseline %d)", g, 3*n, baseG)
	}
	for _, c := range resets {
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	}
	waitFor(t, "the half-closed and reset connections to be released", func() bool { return tp.Stats().Held <= n })
	waitFor(t, "the never-reading connections to time out", func() bool { return tp.Stats().Held == 0 })
	for _, c := range conns {
		c.Close()
	}
	waitFor(t, "every outcome", func() bool { mu.Lock(); defer mu.Unlock(); return ends[EndWriteTimeout]+ends[EndClientGone] == 3*n })
	mu.Lock()
	if ends[EndWriteTimeout] != n || ends[EndClientGone] != 2*n {
		t.Errorf("ends %v, want %d write timeouts (never read) and %d gone (half-close, reset)", ends, n, 2*n)
	}
	mu.Unlock()
	waitFor(t, "goroutines and descriptors back to baseline", func() bool {
		return runtime.NumGoroutine() <= baseG && openFDs(t) <= baseFD
	})
}

// TestNoGoroutinePerHeldConnection holds many connections at once.
func TestNoGoroutinePerHeldConnection(t *testing.T) {
	tp := newTarpit(t, Config{KeepAlive: time.Second, MaxHeldPerIP: 1000})
	srv := serve(t, tp, `{"ok":true}`, func(r *http.Request) *Plan {
		p := tp.Decide(Client{IP: "127.0.0.1", Family: "scanner"}, time.Now())
		p.Delay = 0
		return p
	})
	addr := strings.TrimPrefix(srv.URL, "http://")
	base := runtime.NumGoroutine()
	const n = 300
	var conns []net.Conn
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		conns = append(conns, c)
	}
	waitFor(t, "all held", func() bool { return tp.Stats().Held == n })
	// Every client got the head and is now waiting on whitespace.
	br := bufio.NewReader(conns[0])
	line, _ := br.ReadString('\n')
	if !strings.HasPrefix(line, "HTTP/1.1 200 OK") {
		t.Fatalf("status line %q", line)
	}
	if g := runtime.NumGoroutine(); g-base > 10 {
		t.Fatalf("%d goroutines hold %d connections (baseline %d)", g, n, base)
	}
	for _, c := range conns {
		c.Close()
	}
	waitFor(t, "released", func() bool { return tp.Stats().Held == 0 })
	if st := tp.Stats(); st.Holds != n || st.Waited <= 0 {
		t.Fatalf("stats %+v", st)
	}
}
