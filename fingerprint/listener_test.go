package fingerprint

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a handler that keeps the Capture of every request it serves.
type recorder struct {
	mu   sync.Mutex
	caps []*Capture
	skip string // requests to this path do not ask for their capture
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	if r.URL.Path != rec.skip || rec.skip == "" {
		c := FromRequest(r)
		if again := FromRequest(r.WithContext(context.WithValue(r.Context(), struct{}{}, 1))); again != c {
			panic("FromRequest returned a different Capture for the same request")
		}
		rec.mu.Lock()
		rec.caps = append(rec.caps, c)
		rec.mu.Unlock()
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "ok")
}

func (rec *recorder) all() []*Capture {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.caps)
}

// malformedLog collects OnMalformed calls.
type malformedLog struct {
	mu   sync.Mutex
	list []string
	caps []*Capture
}

func (m *malformedLog) add(c *Capture, reason string) {
	m.mu.Lock()
	m.list = append(m.list, reason)
	m.caps = append(m.caps, c)
	m.mu.Unlock()
}

func (m *malformedLog) wait(t *testing.T, n int) ([]string, []*Capture) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		m.mu.Lock()
		if len(m.list) >= n || time.Now().After(deadline) {
			l, c := slices.Clone(m.list), slices.Clone(m.caps)
			m.mu.Unlock()
			return l, c
		}
		m.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
}

type testServer struct {
	addr string
	srv  *http.Server
	done chan error
}

func startServer(t *testing.T, opts ListenerOptions, h http.Handler) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := NewListener(ln, opts)
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       10 * time.Second,
	}
	ts := &testServer{addr: ln.Addr().String(), srv: srv, done: make(chan error, 1)}
	go func() { ts.done <- Serve(srv, fl) }()
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) stop() {
	_ = ts.srv.Close()
	<-ts.done
	ts.done <- http.ErrServerClosed // make stop idempotent
}

func readResponses(t *testing.T, br *bufio.Reader, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i+1, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("response %d: status %d", i+1, resp.StatusCode)
		}
	}
}

// Requests with chosen header orders, cases and duplicates, and bodies in both framings.
var testRequests = []string{
	"GET /first?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nuser-agent: Probe/1.0\r\nX-Dup: a\r\nACCEPT: */*\r\nX-Dup: b\r\n\r\n",
	"POST /second HTTP/1.1\r\nHOST: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 27\r\nx-api-key: k\r\n\r\n{\"user\":\"a\",\"pass\":\"GET /\"}",
	"PUT /third HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nAccept-Language: de\r\n\r\n5;ext=1\r\nhello\r\n6\r\nGET / \r\n0\r\nTrailer-A: 1\r\n\r\n",
}

// headOf returns the head part (without body) of a test request.
func headOf(req string) string {
	i := strings.Index(req, "\r\n\r\n")
	return req[:i+4]
}

func checkCaptures(t *testing.T, caps []*Capture, reqs []string) {
	t.Helper()
	if len(caps) != len(reqs) {
		t.Fatalf("got %d captures, want %d", len(caps), len(reqs))
	}
	for i, c := range caps {
		head := headOf(reqs[i])
		if string(c.RawHead) != head {
			t.Errorf("request %d: RawHead = %q, want %q", i+1, c.RawHead, head)
		}
		_, _, _, want, err := ParseHead([]byte(head))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(c.Headers, want) {
			t.Errorf("request %d: Headers = %q, want %q", i+1, c.Headers, want)
		}
		if c.Seq != i+1 || c.Proto != "HTTP/1.1" || !c.WireOrder || c.Truncated || c.TLS != nil {
			t.Errorf("request %d: Seq %d Proto %q WireOrder %v Truncated %v TLS %v", i+1, c.Seq, c.Proto, c.WireOrder, c.Truncated, c.TLS)
		}
	}
}

func TestKeepAliveCaptures(t *testing.T) {
	rec := &recorder{}
	ts := startServer(t, ListenerOptions{}, rec)
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	for _, req := range testRequests {
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		readResponses(t, br, 1)
	}
	caps := rec.all()
	checkCaptures(t, caps, testRequests)
	if caps[0].ConnID != caps[2].ConnID || caps[0].Remote != conn.LocalAddr().String() {
		t.Errorf("ConnID %d/%d Remote %q, want one connection from %s", caps[0].ConnID, caps[2].ConnID, caps[0].Remote, conn.LocalAddr())
	}
}

func TestPipelinedCaptures(t *testing.T) {
	rec := &recorder{}
	ts := startServer(t, ListenerOptions{}, rec)
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, strings.Join(testRequests, "")); err != nil {
		t.Fatal(err)
	}
	readResponses(t, bufio.NewReader(conn), len(testRequests))
	checkCaptures(t, rec.all(), testRequests)
}

// TestSkippedCaptureDoesNotShift checks that a request whose handler never asks for its capture
// does not make the next request get the wrong head.
func TestSkippedCaptureDoesNotShift(t *testing.T) {
	rec := &recorder{skip: "/first"}
	ts := startServer(t, ListenerOptions{}, rec)
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, strings.Join(testRequests, ""))
	readResponses(t, bufio.NewReader(conn), len(testRequests))
	caps := rec.all()
	if len(caps) != 2 || string(caps[0].RawHead) != headOf(testRequests[1]) || caps[0].Seq != 2 {
		t.Fatalf("captures = %d, first %q seq %d; want the second request's head", len(caps), caps[0].RawHead, caps[0].Seq)
	}
}

func TestFromRequestWithoutListener(t *testing.T) {
	r, _ := http.NewRequest("GET", "http://x/", nil)
	r.RemoteAddr = "192.0.2.1:1234"
	c := FromRequest(r)
	if c == nil || c.Remote != "192.0.2.1:1234" || c.Headers != nil || c.RawHead != nil || c.Note == "" {
		t.Errorf("FromRequest = %+v", c)
	}
}

func tlsOptions(t *testing.T) ListenerOptions {
	t.Helper()
	cert, err := SelfSignedCertificate([]string{"localhost", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	return ListenerOptions{TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
}

// clientRecorder records the bytes a client writes, to check JA3/JA4 against what it really
// sent.
type clientRecorder struct {
	mu   sync.Mutex
	sent [][]byte
}

type recConn struct {
	net.Conn
	r *clientRecorder
	i int
}

func (c *recConn) Write(p []byte) (int, error) {
	c.r.mu.Lock()
	if len(c.r.sent[c.i]) < 1<<16 {
		c.r.sent[c.i] = append(c.r.sent[c.i], p...)
	}
	c.r.mu.Unlock()
	return c.Conn.Write(p)
}

func (r *clientRecorder) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.sent = append(r.sent, nil)
	i := len(r.sent) - 1
	r.mu.Unlock()
	return &recConn{Conn: c, r: r, i: i}, nil
}

func TestTLSCapturesGoClient(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		rec := &recorder{}
		ts := startServer(t, tlsOptions(t), rec)
		cr := &clientRecorder{}
		tr := &http.Transport{
			DialContext:     cr.dial,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"},
		}
		if h2 {
			tr.ForceAttemptHTTP2 = true
		} else {
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		client := &http.Client{Transport: tr}
		for i := 0; i < 2; i++ {
			resp, err := client.Get("https://" + ts.addr + "/tls")
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if got := resp.ProtoMajor == 2; got != h2 {
				t.Fatalf("h2=%v: response proto %s", h2, resp.Proto)
			}
			tr.CloseIdleConnections() // a new connection, hence a new ClientHello, each time
		}
		caps := rec.all()
		if len(caps) != 2 {
			t.Fatalf("h2=%v: %d captures", h2, len(caps))
		}
		for i, c := range caps {
			if c.TLS == nil || c.TLS.Hello == nil {
				t.Fatalf("h2=%v: capture %d has no TLS info", h2, i)
			}
			sent := mustHello(t, cr.sent[i])
			_, wantJA3 := JA3(sent)
			if c.TLS.JA4 != JA4(sent, 't') || c.TLS.JA3Hash != wantJA3 {
				t.Errorf("h2=%v: JA4 %s JA3 %s, the client sent %s %s", h2, c.TLS.JA4, c.TLS.JA3Hash, JA4(sent, 't'), wantJA3)
			}
			if c.TLS.SNI != "localhost" || c.TLS.Version != "TLS1.3" || c.TLS.CipherSuite == "" {
				t.Errorf("h2=%v: SNI %q Version %q Cipher %q", h2, c.TLS.SNI, c.TLS.Version, c.TLS.CipherSuite)
			}
		}
		if caps[0].TLS.JA4 != caps[1].TLS.JA4 || caps[0].TLS.JA3Hash != caps[1].TLS.JA3Hash {
			t.Errorf("h2=%v: fingerprints differ between connections: %s %s", h2, caps[0].TLS.JA4, caps[1].TLS.JA4)
		}
		c := caps[0]
		if h2 {
			if c.Proto != "HTTP/2.0" || c.TLS.ALPN != "h2" || c.WireOrder || c.Note == "" || c.RawHead != nil {
				t.Errorf("h2 capture: Proto %q ALPN %q WireOrder %v Note %q", c.Proto, c.TLS.ALPN, c.WireOrder, c.Note)
			}
			if !slices.Contains(c.Headers, Header{"User-Agent", "Go-http-client/2.0"}) {
				t.Errorf("h2 headers = %q", c.Headers)
			}
			if !strings.Contains(c.TLS.JA4, "h2_") {
				t.Errorf("h2 JA4 %s does not show ALPN h2", c.TLS.JA4)
			}
		} else {
			want := "GET /tls HTTP/1.1\r\nHost: " + ts.addr + "\r\nUser-Agent: Go-http-client/1.1\r\nAccept-Encoding: gzip\r\n\r\n"
			if string(c.RawHead) != want || c.TLS.ALPN != "" || !c.WireOrder { // Go offers no ALPN without HTTP/2
				t.Errorf("h1 capture: RawHead %q ALPN %q", c.RawHead, c.TLS.ALPN)
			}
		}
		tr.CloseIdleConnections()
		ts.stop()
	}
}

// TestTLSCapturesCurl drives the real curl binary against the TLS listener.
func TestTLSCapturesCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("curl is required in CI: apt-get install curl")
		}
		t.Skip("curl not installed; skipping the curl TLS capture test")
	}
	rec := &recorder{}
	ts := startServer(t, tlsOptions(t), rec)
	_, port, _ := net.SplitHostPort(ts.addr)
	for i := 0; i < 2; i++ {
		out, err := exec.Command(curl, "-sk", "--http1.1", "--resolve", "localhost:"+port+":127.0.0.1",
			"https://localhost:"+port+"/curl", "-H", "X-Trace: 1").CombinedOutput()
		if err != nil || string(out) != "ok" {
			t.Fatalf("curl: %v %q", err, out)
		}
	}
	caps := rec.all()
	if len(caps) != 2 {
		t.Fatalf("%d captures", len(caps))
	}
	c := caps[0]
	if c.TLS == nil || c.TLS.JA4 == "" || c.TLS.JA4 != caps[1].TLS.JA4 || c.TLS.JA3Hash != caps[1].TLS.JA3Hash {
		t.Fatalf("curl fingerprints not stable: %+v / %+v", c.TLS, caps[1].TLS)
	}
	if c.TLS.SNI != "localhost" || !strings.HasPrefix(c.TLS.JA4, "t13d") || c.TLS.Hello.HasGREASE() {
		t.Errorf("curl TLS: SNI %q JA4 %s", c.TLS.SNI, c.TLS.JA4)
	}
	var names []string
	for _, h := range c.Headers {
		names = append(names, h.Name)
	}
	if !slices.Equal(names, []string{"Host", "User-Agent", "Accept", "X-Trace"}) {
		t.Errorf("curl header order = %q", names)
	}
	if cl := Classify(c, ""); cl.Family != "curl" || cl.Mismatch {
		t.Errorf("Classify(curl) = %+v", cl)
	}
}

func TestMalformedInput(t *testing.T) {
	var log malformedLog
	oversized := "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 2000) + "\r\n\r\n"
	hello := readHello(t, "curl.hello")
	for _, tc := range []struct {
		name   string
		input  []byte
		reason string
		check  func(c *Capture) bool
	}{
		{"binary junk", []byte{0x00, 0xff, 0x13, 0x37, '\r', '\n', '\r', '\n'}, "binary data",
			func(c *Capture) bool {
				return bytes.Equal(c.RawHead, []byte{0x00, 0xff, 0x13, 0x37, '\r', '\n', '\r', '\n'})
			}},
		{"broken request line", []byte("GET\r\nHost: x\r\n\r\n"), "malformed request line",
			func(c *Capture) bool { return string(c.RawHead) == "GET\r\n" }},
		{"bad header", []byte("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n"), "malformed request head",
			func(c *Capture) bool { return c.Proto == "HTTP/1.1" }},
		{"oversized head", []byte(oversized), "exceeds 1024 bytes",
			func(c *Capture) bool { return c.Truncated && len(c.RawHead) == 1024 }},
		{"TLS hello on plaintext port", hello, "TLS handshake on a plaintext",
			func(c *Capture) bool {
				return c.TLS != nil && c.TLS.JA4 == "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6"
			}},
		{"no Host on HTTP/1.1", []byte("GET /admin HTTP/1.1\r\nUser-Agent: x\r\n\r\n"), "without a Host header",
			func(c *Capture) bool { return c.Seq == 1 && len(c.Headers) == 1 }},
		{"h2c preface", []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), "HTTP/2 connection preface",
			func(c *Capture) bool { return c.Proto == "HTTP/2.0" }},
		{"HTTP/0.9-style version", []byte("GET / HTTP/0.9\r\n\r\n"), "unsupported HTTP version",
			func(c *Capture) bool { return c.Proto == "HTTP/0.9" }},
		{"incomplete head then close", []byte("GET /slow HTTP/1.1\r\nHost: x\r\n"), "closed before",
			func(c *Capture) bool { return len(c.Headers) == 1 && c.Headers[0] == Header{"Host", "x"} }},
	} {
		log = malformedLog{}
		before := runtime.NumGoroutine()
		ts := startServer(t, ListenerOptions{MaxHeadBytes: 1024, OnMalformed: log.add}, &recorder{})
		conn, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = conn.Write(tc.input)
		if tc.name == "incomplete head then close" {
			time.Sleep(50 * time.Millisecond)
			conn.Close()
		} else {
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, _ = io.Copy(io.Discard, conn) // the server answers 4xx and closes, or we time out
			conn.Close()
		}
		reasons, caps := log.wait(t, 1)
		if len(reasons) == 0 || !strings.Contains(reasons[0], tc.reason) {
			t.Errorf("%s: OnMalformed reasons %q, want %q", tc.name, reasons, tc.reason)
		} else if !tc.check(caps[0]) {
			t.Errorf("%s: capture %+v", tc.name, caps[0])
		}
		ts.stop()
		waitGoroutines(t, tc.name, before)
	}
}

func TestMalformedTLS(t *testing.T) {
	var log malformedLog
	opts := tlsOptions(t)
	opts.OnMalformed = log.add
	opts.HandshakeTimeout = 2 * time.Second
	before := runtime.NumGoroutine()
	ts := startServer(t, opts, &recorder{})
	for _, input := range [][]byte{
		{22, 3, 1, 0, 8, 1, 0, 0, 4, 0xde, 0xad, 0xbe, 0xef}, // a handshake record that is not a ClientHello
		[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),          // plain HTTP to the TLS port
	} {
		conn, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = conn.Write(input)
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.Copy(io.Discard, conn)
		conn.Close()
	}
	reasons, caps := log.wait(t, 2)
	if len(reasons) != 2 {
		t.Fatalf("OnMalformed calls: %q", reasons)
	}
	for _, r := range reasons {
		if !strings.Contains(r, "tls handshake failed") {
			t.Errorf("reason %q", r)
		}
	}
	var plain *Capture
	for _, c := range caps {
		if c.Proto == "HTTP/1.1" {
			plain = c
		}
	}
	if plain == nil || len(plain.Headers) != 1 || !bytes.HasPrefix(plain.RawHead, []byte("GET / HTTP/1.1")) {
		t.Errorf("plain HTTP on the TLS port: captures %+v", caps)
	}
	ts.stop()
	waitGoroutines(t, "tls", before)
}

// TestHandshakeTimeout checks that a client that connects and sends nothing does not hold a
// goroutine past HandshakeTimeout.
func TestHandshakeTimeout(t *testing.T) {
	var log malformedLog
	opts := tlsOptions(t)
	opts.OnMalformed = log.add
	opts.HandshakeTimeout = 200 * time.Millisecond
	before := runtime.NumGoroutine()
	ts := startServer(t, opts, &recorder{})
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = conn.Write([]byte{22, 3, 1}) // a partial record header, then silence
	reasons, _ := log.wait(t, 1)
	if len(reasons) != 1 || !strings.Contains(reasons[0], "timeout") {
		t.Errorf("reasons %q, want a handshake timeout", reasons)
	}
	ts.stop()
	conn.Close()
	waitGoroutines(t, "handshake timeout", before)
}

func waitGoroutines(t *testing.T, name string, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			n := runtime.Stack(buf, true)
			t.Fatalf("%s: %d goroutines, baseline %d:\n%s", name, runtime.NumGoroutine(), before, buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestUpgradeStopsCapture checks that bytes after a 101 Switching Protocols are not parsed as
// request heads (no false OnMalformed).
func TestUpgradeStopsCapture(t *testing.T) {
	var log malformedLog
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hj, _ := w.(http.Hijacker)
		c, brw, err := hj.Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		buf := make([]byte, 8)
		_, _ = io.ReadFull(brw, buf)
		_, _ = c.Write(buf)
	})
	ts := startServer(t, ListenerOptions{OnMalformed: log.add}, h)
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", err, resp)
	}
	_, _ = conn.Write([]byte{0, 1, 2, 3, 0xff, 0xfe, '\r', '\n'})
	echo := make([]byte, 8)
	if _, err := io.ReadFull(br, echo); err != nil {
		t.Fatal(err)
	}
	if reasons, _ := log.wait(t, 0); len(reasons) != 0 {
		t.Errorf("OnMalformed after an upgrade: %q", reasons)
	}
}

func TestCaptureStreamStopsOnBadChunk(t *testing.T) {
	stream := "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
	res := runStream([]byte(stream), len(stream), DefaultMaxHeadBytes)
	if len(res.heads) != 1 || res.heads[0].target != "/a" || res.state != stDead {
		t.Errorf("heads %+v state %d: want only /a, then capture stopped", res.heads, res.state)
	}
}

func TestCaptureQueueBound(t *testing.T) {
	var stream strings.Builder
	for i := 1; i <= maxQueuedHeads+8; i++ {
		stream.WriteString("GET /" + strconv.Itoa(i) + " HTTP/1.1\r\nHost: x\r\n\r\n")
	}
	s := newConnState("192.0.2.1:1", 1, DefaultMaxHeadBytes, nil, nil)
	s.feed([]byte(stream.String()))
	if len(s.queue) != maxQueuedHeads || s.queue[0].seq != 9 || s.queue[maxQueuedHeads-1].seq != maxQueuedHeads+8 {
		t.Errorf("queue has %d heads from seq %d: want the newest %d", len(s.queue), s.queue[0].seq, maxQueuedHeads)
	}
}

func TestErrorPageReplacesGoCannedErrors(t *testing.T) {
	page := func(status int) []byte {
		body := fmt.Sprintf("<html><h1>%d</h1><hr><center>nginx</center></html>", status)
		return []byte(fmt.Sprintf("HTTP/1.1 %d %s\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", status, http.StatusText(status), len(body), body))
	}
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := NewListener(inner, ListenerOptions{ErrorPage: page})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), ReadHeaderTimeout: 5 * time.Second}
	go Serve(srv, ln)
	defer srv.Close()
	for _, raw := range []string{
		"GARBAGE\x00\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nX: \x1b\r\n\r\n",
		"GET / HTTP/1.1\r\n\r\n",
		"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
	} {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(conn, raw)
		got, _ := io.ReadAll(conn)
		conn.Close()
		if !strings.Contains(string(got), "Server: nginx") || strings.Contains(string(got), "text/plain") {
			t.Errorf("%q answered %q", raw, got)
		}
	}
	// A normal response is untouched.
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" {
		t.Errorf("normal response %q", b)
	}
}

// Slowloris: many connections dripping a request head neither starve a
// normal client nor outlive ReadHeaderTimeout, each is reported as
// malformed, and nothing is left behind.
func TestSlowlorisIsBoundedAndRecorded(t *testing.T) {
	before := runtime.NumGoroutine()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	malformed := 0
	ln := NewListener(inner, ListenerOptions{OnMalformed: func(*Capture, string) { mu.Lock(); malformed++; mu.Unlock() }})
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }),
		ReadHeaderTimeout: 500 * time.Millisecond,
	}
	go Serve(srv, ln)

	const slow = 100
	var wg sync.WaitGroup
	for i := 0; i < slow; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				return
			}
			defer c.Close()
			io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: x\r\nX-Drip: ")
			for j := 0; j < 30; j++ {
				time.Sleep(100 * time.Millisecond)
				if _, err := c.Write([]byte("a")); err != nil {
					return // the server hung up: good
				}
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatalf("a normal client was starved: %v", err)
	}
	resp.Body.Close()
	if d := time.Since(start); d > time.Second {
		t.Errorf("a normal request took %v beside %d slow connections", d, slow)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2500 * time.Millisecond):
		t.Fatal("slow connections outlived ReadHeaderTimeout")
	}
	srv.Close()
	deadline := time.Now().Add(3 * time.Second)
	for {
		mu.Lock()
		n := malformed
		mu.Unlock()
		if n >= slow || time.Now().After(deadline) {
			if n < slow {
				t.Errorf("%d of %d slow connections reported as malformed", n, slow)
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before+2 {
		t.Errorf("%d goroutines, baseline %d", g, before)
	}
}
