package fingerprint

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
)

// ListenerOptions configure NewListener. The zero value captures plaintext HTTP/1.x.
type ListenerOptions struct {
	// MaxHeadBytes bounds one captured request head. Longer heads are truncated (Capture.Truncated)
	// and reported to OnMalformed; capturing then stops for that connection, because the framing
	// headers may be in the part that was cut. Default DefaultMaxHeadBytes (16 KiB).
	MaxHeadBytes int
	// TLSConfig, when non-nil, makes the listener terminate TLS itself: it records and parses each
	// connection's ClientHello (Capture.TLS), performs the handshake, and returns connections whose
	// plaintext is captured like plaintext HTTP/1.x. It needs Certificates or GetCertificate.
	// When NextProtos is empty it offers "h2" and "http/1.1"; "h2" is only offered once HTTP/2 can
	// be served (H2Handler set, or the listener passed to Serve).
	TLSConfig *tls.Config
	// HandshakeTimeout bounds each TLS handshake. Default 10s.
	HandshakeTimeout time.Duration
	// OnMalformed is called, from the connection's goroutine, when bytes arrive that are not a
	// parseable HTTP/1.x request head (binary junk, a broken request line or header, an
	// oversized head, a head left incomplete when the connection closed, a ClientHello that fails
	// to parse, a failed handshake). Go's http.Server answers such input itself without calling
	// any handler, so this is how it still becomes an event. Whatever could be parsed is in the
	// Capture. It must not block for long. It may be nil.
	OnMalformed func(c *Capture, reason string)

	// ErrorPage, when set, replaces the plain-text answers net/http's
	// server writes on its own to requests it rejects before any handler
	// runs (a Go tell): it returns the complete HTTP response to send for
	// that status, e.g. the error page of the web server being imitated.
	ErrorPage func(status int) []byte
	// H2Handler serves TLS connections that negotiate HTTP/2 (ALPN "h2") with
	// golang.org/x/net/http2. Serve sets it from the http.Server; set it yourself only when not
	// using Serve. Requests on such connections get Captures with Proto "HTTP/2.0", TLS facts,
	// and headers without wire order (see Capture.Note).
	H2Handler http.Handler
	// MaxHandshakes bounds the TLS handshakes in progress at once; further connections wait in
	// the kernel's accept queue. Default 1024.
	MaxHandshakes int
}

const (
	defaultHandshakeTimeout = 10 * time.Second
	defaultMaxHandshakes    = 1024
	helloRecordLimit        = 16 << 10 // bytes of a connection's first TLS flight that are recorded
	h2GracePeriod           = 5 * time.Second
)

// NewListener wraps inner so that every accepted connection's request heads (and, with
// TLSConfig, its ClientHello) are captured. Pair it with http.Server.ConnContext = ConnContext,
// or use Serve, which does that and serves HTTP/2.
func NewListener(inner net.Listener, opts ListenerOptions) net.Listener {
	if opts.MaxHeadBytes <= 0 {
		opts.MaxHeadBytes = DefaultMaxHeadBytes
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = defaultHandshakeTimeout
	}
	if opts.MaxHandshakes <= 0 {
		opts.MaxHandshakes = defaultMaxHandshakes
	}
	l := &listener{inner: inner, opts: opts, closed: make(chan struct{})}
	if opts.TLSConfig != nil {
		l.cfgH2 = opts.TLSConfig.Clone()
		if len(l.cfgH2.NextProtos) == 0 {
			l.cfgH2.NextProtos = []string{"h2", "http/1.1"}
		}
		l.cfgH1 = l.cfgH2.Clone()
		l.cfgH1.NextProtos = slices.DeleteFunc(slices.Clone(l.cfgH1.NextProtos), func(p string) bool { return p == "h2" })
		if len(l.cfgH1.NextProtos) == 0 {
			l.cfgH1.NextProtos = []string{"http/1.1"}
		}
		l.ready = make(chan net.Conn)
		l.errs = make(chan error)
		l.sem = make(chan struct{}, opts.MaxHandshakes)
		l.pending = make(map[net.Conn]struct{})
		l.h2conns = make(map[net.Conn]struct{})
		if opts.H2Handler != nil {
			l.enableH2(nil, opts.H2Handler)
		}
	}
	return l
}

type listener struct {
	inner  net.Listener
	opts   ListenerOptions
	nextID atomic.Uint64

	closed    chan struct{}
	closeOnce sync.Once
	closeErr  error

	// TLS only.
	cfgH1, cfgH2 *tls.Config
	h2           atomic.Pointer[h2Serving]
	startOnce    sync.Once
	ready        chan net.Conn
	errs         chan error
	sem          chan struct{}
	mu           sync.Mutex
	pending      map[net.Conn]struct{} // connections in their handshake
	h2conns      map[net.Conn]struct{} // connections served as HTTP/2
}

type h2Serving struct {
	srv     *http2.Server
	base    *http.Server
	handler http.Handler
	// shut is a private http.Server configured with srv, so that shutting it down sends GOAWAY
	// to every HTTP/2 connection srv serves (x/net/http2 offers graceful shutdown only that way).
	shut *http.Server
}

var _ net.Listener = (*listener)(nil)

func (l *listener) Addr() net.Addr { return l.inner.Addr() }

func (l *listener) isClosed() bool {
	select {
	case <-l.closed:
		return true
	default:
		return false
	}
}

func (l *listener) Accept() (net.Conn, error) {
	if l.opts.TLSConfig == nil {
		c, err := l.inner.Accept()
		if err != nil {
			return nil, err
		}
		id := l.nextID.Add(1)
		st := newConnState(addrString(c.RemoteAddr()), id, l.opts.MaxHeadBytes, l.opts.OnMalformed, nil)
		return &captureConn{Conn: c, st: st, errorPage: l.opts.ErrorPage}, nil
	}
	l.startOnce.Do(func() { go l.acceptLoop() })
	select {
	case c := <-l.ready:
		return c, nil
	case err := <-l.errs:
		return nil, err
	case <-l.closed:
		return nil, &net.OpError{Op: "accept", Net: l.inner.Addr().Network(), Addr: l.inner.Addr(), Err: net.ErrClosed}
	}
}

// acceptLoop accepts raw connections and hands each to its own handshake goroutine, so that a
// slow client cannot stall Accept.
func (l *listener) acceptLoop() {
	var backoff time.Duration
	for {
		c, err := l.inner.Accept()
		if err != nil {
			if l.isClosed() {
				return
			}
			select {
			case l.errs <- err:
			case <-l.closed:
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return
		}
		backoff = 0
		select {
		case l.sem <- struct{}{}:
		case <-l.closed:
			c.Close()
			return
		}
		go func() {
			defer func() { <-l.sem }()
			l.handshake(c)
		}()
	}
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func (l *listener) track(set map[net.Conn]struct{}, c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.isClosed() {
		return false
	}
	set[c] = struct{}{}
	return true
}

func (l *listener) untrack(set map[net.Conn]struct{}, c net.Conn) {
	l.mu.Lock()
	delete(set, c)
	l.mu.Unlock()
}

func (l *listener) handshake(raw net.Conn) {
	id := l.nextID.Add(1)
	remote := addrString(raw.RemoteAddr())
	if !l.track(l.pending, raw) {
		raw.Close()
		return
	}
	h2 := l.h2.Load()
	cfg := l.cfgH1
	if h2 != nil {
		cfg = l.cfgH2
	}
	rec := &recordingConn{Conn: raw, limit: helloRecordLimit}
	tc := tls.Server(rec, cfg)
	_ = raw.SetDeadline(time.Now().Add(l.opts.HandshakeTimeout))
	err := tc.Handshake()
	_ = raw.SetDeadline(time.Time{})
	l.untrack(l.pending, raw)
	recorded := rec.stop()

	info, perr := buildTLSInfo(recorded)
	if err == nil {
		cs := tc.ConnectionState()
		if info == nil {
			info = &TLSInfo{}
		}
		info.Version = tlsVersionName(cs.Version)
		info.CipherSuite = tls.CipherSuiteName(cs.CipherSuite)
		info.ALPN = cs.NegotiatedProtocol
		if info.SNI == "" {
			info.SNI = cs.ServerName
		}
	}
	if err != nil {
		raw.Close()
		if l.opts.OnMalformed != nil && !l.isClosed() && len(recorded) > 0 {
			c := &Capture{Remote: remote, ConnID: id, TLS: info}
			if recorded[0] != 22 {
				// Not TLS at all, typically plain HTTP sent to the TLS port.
				head := recorded[:min(len(recorded), l.opts.MaxHeadBytes)]
				c.RawHead = head
				c.Truncated = len(head) < len(recorded)
				c.WireOrder = true
				var h headInfo
				_ = walkHead(string(head), &h, true)
				c.Proto, c.Headers = h.proto, h.headers
			}
			l.opts.OnMalformed(c, "tls handshake failed: "+err.Error())
		}
		return
	}
	if perr != nil && l.opts.OnMalformed != nil {
		l.opts.OnMalformed(&Capture{Remote: remote, ConnID: id, TLS: info}, "unparseable TLS ClientHello: "+trimErr(perr))
	}
	st := newConnState(remote, id, l.opts.MaxHeadBytes, l.opts.OnMalformed, info)
	if info.ALPN == "h2" && h2 != nil {
		st.h2 = true
		l.serveH2(tc, st, h2)
		return
	}
	cc := &captureConn{Conn: tc, st: st, errorPage: l.opts.ErrorPage}
	select {
	case l.ready <- cc:
	case <-l.closed:
		tc.Close()
	}
}

func (l *listener) serveH2(tc *tls.Conn, st *connState, h *h2Serving) {
	if !l.track(l.h2conns, tc) {
		tc.Close()
		return
	}
	defer l.untrack(l.h2conns, tc)
	defer tc.Close()
	ctx := context.Background()
	if h.base != nil && h.base.ConnContext != nil {
		ctx = h.base.ConnContext(ctx, tc)
	}
	ctx = context.WithValue(ctx, connStateKey{}, st)
	h.srv.ServeConn(tc, &http2.ServeConnOpts{Context: ctx, BaseConfig: h.base, Handler: h.handler})
}

func (l *listener) enableH2(base *http.Server, handler http.Handler) {
	if handler == nil {
		handler = http.DefaultServeMux
	}
	h := &h2Serving{srv: &http2.Server{}, base: base, handler: handler, shut: &http.Server{}}
	if base != nil {
		h.srv.IdleTimeout = base.IdleTimeout
	}
	// ConfigureServer only fails for unusable TLSConfig cipher lists; shut has none.
	_ = http2.ConfigureServer(h.shut, h.srv)
	l.h2.Store(h)
}

// Close stops accepting, aborts handshakes in progress, and asks HTTP/2 connections to finish
// (GOAWAY); those still open after a grace period are closed. HTTP/1.x connections belong to the
// http.Server, which closes them.
func (l *listener) Close() error {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		close(l.closed)
		for c := range l.pending {
			c.Close()
		}
		l.mu.Unlock()
		l.closeErr = l.inner.Close()
		if h := l.h2.Load(); h != nil && l.h2conns != nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = h.shut.Shutdown(ctx) // runs the GOAWAY hook; returns at once, it tracks no conns
			cancel()
			go l.reapH2()
		}
	})
	return l.closeErr
}

// reapH2 closes HTTP/2 connections still open after the grace period.
func (l *listener) reapH2() {
	deadline := time.Now().Add(h2GracePeriod)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		n := len(l.h2conns)
		l.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	l.mu.Lock()
	for c := range l.h2conns {
		c.Close()
	}
	l.mu.Unlock()
}

// Serve is srv.Serve(ln) for a listener from NewListener. It chains ConnContext into
// srv.ConnContext (keeping any function already there) and, when the listener terminates TLS,
// serves connections that negotiate HTTP/2 with srv.Handler (http.DefaultServeMux when nil) and
// srv's timeouts, through golang.org/x/net/http2. srv's ConnState hook is not called for HTTP/2
// connections. It returns what srv.Serve returns.
func Serve(srv *http.Server, ln net.Listener) error {
	if l, ok := ln.(*listener); ok && l.opts.TLSConfig != nil {
		l.enableH2(srv, srv.Handler)
	}
	prev := srv.ConnContext
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if prev != nil {
			ctx = prev(ctx, c)
		}
		return ConnContext(ctx, c)
	}
	return srv.Serve(ln)
}

// captureConn is the connection Accept returns: reads are fed to the capture parser.
type captureConn struct {
	net.Conn
	st        *connState
	errorPage func(status int) []byte
}

func (c *captureConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.st.feed(p[:n])
	}
	return n, err
}

func (c *captureConn) Write(p []byte) (int, error) {
	c.st.observeWrite(p)
	if page := c.errorPage; page != nil {
		if status, ok := goCannedError(p); ok {
			if b := page(status); b != nil {
				// The whole canned answer is replaced; report it written.
				if _, err := c.Conn.Write(b); err != nil {
					return 0, err
				}
				return len(p), nil
			}
		}
	}
	return c.Conn.Write(p)
}

// goErrorHeaders is what net/http's server writes between the status line
// and the text of the errors it answers without calling a handler (bad
// request lines, oversized heads, unsupported versions…).
const goErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// goCannedError recognises one of those answers and returns its status.
func goCannedError(p []byte) (int, bool) {
	s := string(p)
	if !strings.HasPrefix(s, "HTTP/1.1 ") || len(s) < 12 {
		return 0, false
	}
	i := strings.Index(s, goErrorHeaders)
	if i < 0 || strings.Contains(s[:i], "\r\n") {
		return 0, false
	}
	status, err := strconv.Atoi(s[9:12])
	if err != nil || status < 400 || status > 599 {
		return 0, false
	}
	// The body is the status text, sometimes with a detail after it.
	if body := s[i+len(goErrorHeaders):]; !strings.HasPrefix(body, s[9:i]) && !strings.HasPrefix(body, "unsupported") && !strings.HasPrefix(body, "missing") {
		return 0, false
	}
	return status, true
}

func (c *captureConn) Close() error {
	c.st.closeConn()
	return c.Conn.Close()
}

// Detach ends capturing on the connection, as Close would without closing it, and returns the
// wrapped connection. A handler that hijacked the connection and keeps it (the tarpit) then holds
// no capture state: the request's head, headers and memo are freed.
func (c *captureConn) Detach() net.Conn {
	c.st.closeConn()
	return c.Conn
}

// NetConn returns the wrapped connection (a *tls.Conn when the listener terminates TLS).
func (c *captureConn) NetConn() net.Conn { return c.Conn }

// recordingConn records the first bytes read from a connection (its first TLS flight).
type recordingConn struct {
	net.Conn
	buf   []byte
	limit int
	off   bool
}

func (r *recordingConn) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	if !r.off && n > 0 {
		if room := r.limit - len(r.buf); room > 0 {
			r.buf = append(r.buf, p[:min(n, room)]...)
		}
	}
	return n, err
}

// stop ends recording and returns what was recorded. It is called by the handshake goroutine
// before the connection is handed to anyone else.
func (r *recordingConn) stop() []byte {
	r.off = true
	b := r.buf
	r.buf = nil
	return b
}

// buildTLSInfo parses recorded ClientHello bytes into TLSInfo. It returns nil info when the
// bytes are not a ClientHello at all.
func buildTLSInfo(recorded []byte) (*TLSInfo, error) {
	hello, err := ParseClientHello(recorded)
	if hello == nil {
		if len(recorded) > 0 && recorded[0] == 22 {
			return &TLSInfo{}, err
		}
		return nil, err
	}
	info := tlsInfoFromHello(hello)
	return info, err
}

func tlsInfoFromHello(h *ClientHello) *TLSInfo {
	info := &TLSInfo{Hello: h, SNI: h.SNI}
	info.JA3, info.JA3Hash = JA3(h)
	info.JA4 = JA4(h, 't')
	return info
}

func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLS1.3"
	case tls.VersionTLS12:
		return "TLS1.2"
	case tls.VersionTLS11:
		return "TLS1.1"
	case tls.VersionTLS10:
		return "TLS1.0"
	}
	return ""
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
