package fingerprint

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"sync"
)

// Capture is what was captured for one request (or, for OnMalformed, for input that never became
// a request).
type Capture struct {
	// Remote is the peer address of the socket (ip:port). It is not the client IP behind a proxy;
	// see ClientIP.
	Remote string
	// ConnID numbers the connections accepted by one listener, from 1.
	ConnID uint64
	// Seq is the request's number on its connection, from 1 (0 when unknown).
	Seq int
	// Proto is "HTTP/1.1", "HTTP/1.0" or "HTTP/2.0".
	Proto string
	// RawHead is the request head exactly as received (request line, header lines and the
	// terminating empty line), at most ListenerOptions.MaxHeadBytes long.
	RawHead []byte
	// Truncated reports that the head was longer than MaxHeadBytes and RawHead holds its start.
	Truncated bool
	// Headers are parsed from RawHead in wire order with original case and duplicates. For
	// HTTP/2 they come from r.Header (see WireOrder and Note).
	Headers []Header
	// WireOrder is true when Headers are in wire order with their original case, which is the
	// case for captured HTTP/1.x heads.
	WireOrder bool
	// Note explains anything missing, e.g. "http/2: header order and case are not available".
	Note string
	// TLS holds the connection's TLS facts; nil for plaintext connections.
	TLS *TLSInfo
}

// TLSInfo holds the TLS facts of a connection that the listener terminated. All Captures of one
// connection share it; treat it as read-only.
type TLSInfo struct {
	// Hello is the parsed ClientHello; nil when it could not be parsed.
	Hello *ClientHello
	// JA3 is the JA3 string, JA3Hash its MD5, JA4 the JA4 fingerprint (TCP).
	JA3, JA3Hash, JA4 string
	// Version is the negotiated version, e.g. "TLS1.3"; empty when the handshake failed.
	Version string
	// CipherSuite is the negotiated cipher suite's name.
	CipherSuite string
	// ALPN is the negotiated application protocol ("h2", "http/1.1" or "").
	ALPN string
	// SNI is the server name the client asked for.
	SNI string
}

// Bounds on per-connection capture state.
const (
	// DefaultMaxHeadBytes is the default bound on one captured request head.
	DefaultMaxHeadBytes = 16 << 10
	maxQueuedHeads      = 32 // uncollected heads kept per connection; the oldest is dropped
	maxLineBytes        = 4 << 10
	maxTrailerBytes     = 16 << 10
	memoSize            = 16
)

type connStateKey struct{}

// scanner states.
const (
	stHead = iota
	stBody
	stChunkSize
	stChunkData
	stChunkCRLF
	stTrailer
	stPassthrough // the connection switched protocols (101, CONNECT, h2c): stop capturing
	stDead        // unparseable input: stop capturing rather than mis-attribute heads
)

type pendingHead struct {
	seq                   int
	head                  string
	method, target, proto string
	truncated             bool
}

type memoEntry struct {
	key uintptr
	hdr http.Header // keeps the map alive so its address cannot be reused while memoised
	c   *Capture
}

type event struct {
	c      *Capture
	reason string
}

// connState is the capture state of one connection.
type connState struct {
	remote      string
	id          uint64
	maxHead     int
	onMalformed func(*Capture, string)
	tls         *TLSInfo
	h2          bool

	mu sync.Mutex
	// stream scanner
	state     int
	started   bool // the current head has its first non-empty-line byte
	head      []byte
	truncated bool
	lineLen   int
	lastCR    bool
	lines     int
	remaining int64
	line      []byte
	trailer   int
	nextSeq   int
	closed    bool
	events    []event
	// collected heads and FromRequest memo
	queue    []pendingHead
	memo     [memoSize]memoEntry
	memoNext int
	reqSeq   int
}

func newConnState(remote string, id uint64, maxHead int, onMalformed func(*Capture, string), t *TLSInfo) *connState {
	return &connState{remote: remote, id: id, maxHead: maxHead, onMalformed: onMalformed, tls: t}
}

// feed runs bytes the server read from the connection through the capture parser.
func (s *connState) feed(p []byte) {
	s.mu.Lock()
	s.scan(p)
	evs := s.takeEvents()
	s.mu.Unlock()
	s.fire(evs)
}

func (s *connState) takeEvents() []event {
	if len(s.events) == 0 {
		return nil
	}
	evs := s.events
	s.events = nil
	return evs
}

func (s *connState) fire(evs []event) {
	if s.onMalformed == nil {
		return
	}
	for _, e := range evs {
		s.onMalformed(e.c, e.reason)
	}
}

// observeWrite watches responses for "101 Switching Protocols": after it the bytes are no longer
// HTTP/1.x heads.
func (s *connState) observeWrite(p []byte) {
	if len(p) < 12 || p[0] != 'H' {
		return
	}
	if bytes.HasPrefix(p, []byte("HTTP/1.1 101")) || bytes.HasPrefix(p, []byte("HTTP/1.0 101")) {
		s.mu.Lock()
		if s.state != stDead {
			s.state = stPassthrough
		}
		s.mu.Unlock()
	}
}

// closeConn reports a request head left incomplete when the connection closes (a slow or
// abandoned request, a probe that sent a few bytes).
func (s *connState) closeConn() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		if s.state == stHead && s.started && !s.truncated && len(s.head) > 0 {
			c := s.malformedCapture(string(s.head), false)
			s.events = append(s.events, event{c, "connection closed before the request head was complete"})
			s.state = stDead
		}
	}
	evs := s.takeEvents()
	s.mu.Unlock()
	s.fire(evs)
}

func (s *connState) scan(p []byte) {
	for len(p) > 0 {
		switch s.state {
		case stPassthrough, stDead:
			return
		case stHead:
			p = s.scanHead(p)
		case stBody:
			n := int64(len(p))
			if n > s.remaining {
				n = s.remaining
			}
			s.remaining -= n
			p = p[n:]
			if s.remaining == 0 {
				s.resetHead()
			}
		case stChunkSize, stTrailer:
			j := bytes.IndexByte(p, '\n')
			seg := p
			if j >= 0 {
				seg = p[:j]
			}
			p = p[len(seg):]
			limit := maxLineBytes
			if s.state == stTrailer {
				s.trailer += len(seg)
				if s.trailer > maxTrailerBytes {
					s.state = stDead
					return
				}
			}
			if len(s.line)+len(seg) > limit {
				s.state = stDead
				return
			}
			s.line = append(s.line, seg...)
			if j < 0 {
				continue
			}
			p = p[1:] // the '\n'
			line := bytes.TrimSuffix(s.line, []byte("\r"))
			s.line = s.line[:0]
			if s.state == stTrailer {
				if len(line) == 0 {
					s.resetHead()
				}
				continue
			}
			size, ok := parseChunkSize(line)
			if !ok {
				s.state = stDead
				return
			}
			if size == 0 {
				s.state = stTrailer
				s.trailer = 0
			} else {
				s.state = stChunkData
				s.remaining = size
			}
		case stChunkData:
			n := int64(len(p))
			if n > s.remaining {
				n = s.remaining
			}
			s.remaining -= n
			p = p[n:]
			if s.remaining == 0 {
				s.state = stChunkCRLF
				s.lastCR = false
			}
		case stChunkCRLF:
			switch {
			case p[0] == '\r' && !s.lastCR:
				s.lastCR = true
			case p[0] == '\n':
				s.lastCR = false
				s.state = stChunkSize
			default:
				s.state = stDead
				return
			}
			p = p[1:]
		}
	}
}

func parseChunkSize(line []byte) (int64, bool) {
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimRight(line, " \t")
	if len(line) == 0 || len(line) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range line {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return n, true
}

func (s *connState) resetHead() {
	s.state = stHead
	s.started = false
	s.head = s.head[:0]
	s.truncated = false
	s.lineLen = 0
	s.lastCR = false
	s.lines = 0
}

func (s *connState) appendHead(seg []byte) {
	room := s.maxHead - len(s.head)
	if len(seg) <= room {
		s.head = append(s.head, seg...)
		return
	}
	if room > 0 {
		s.head = append(s.head, seg[:room]...)
	}
	if !s.truncated {
		s.truncated = true
		c := s.malformedCapture(string(s.head), true)
		s.events = append(s.events, event{c, fmt.Sprintf("request head exceeds %d bytes (truncated)", s.maxHead)})
	}
}

// scanHead consumes bytes of a request head and returns the rest.
func (s *connState) scanHead(p []byte) []byte {
	if !s.started {
		k := 0
		for k < len(p) && (p[k] == '\r' || p[k] == '\n') {
			k++
		}
		p = p[k:]
		if len(p) == 0 {
			return p
		}
		s.started = true
		if !isTokenByte(p[0]) {
			s.appendHead(p[:min(len(p), s.maxHead)])
			s.state = stDead
			s.events = append(s.events, s.junkEvent())
			return nil
		}
	}
	j := bytes.IndexByte(p, '\n')
	seg := p
	if j >= 0 {
		seg = p[:j+1]
	}
	s.appendHead(seg)
	p = p[len(seg):]
	if j < 0 {
		s.lineLen += len(seg)
		s.lastCR = seg[len(seg)-1] == '\r'
		return p
	}
	n := s.lineLen + len(seg) - 1 // bytes before '\n'
	cr := (len(seg) >= 2 && seg[len(seg)-2] == '\r') || (len(seg) == 1 && s.lastCR)
	empty := n == 0 || (n == 1 && cr)
	s.lineLen = 0
	s.lastCR = false
	s.lines++
	if s.lines == 1 && !s.truncated {
		var h headInfo
		line := bytes.TrimRight(s.head, "\r\n")
		if err := parseRequestLine(string(line), &h); err != nil {
			s.state = stDead
			c := s.malformedCapture(string(s.head), false)
			s.events = append(s.events, event{c, "malformed request line: " + trimErr(err)})
			return nil
		}
	}
	if empty {
		s.finishHead()
	}
	return p
}

func trimErr(err error) string {
	msg := err.Error()
	if i := bytes.LastIndex([]byte(msg), []byte(": ")); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// junkEvent describes input that is not an HTTP request at all.
func (s *connState) junkEvent() event {
	c := s.malformedCapture(string(s.head), false)
	if len(s.head) > 0 && s.head[0] == 22 {
		if hello, err := ParseClientHello(s.head); hello != nil && err == nil {
			c.TLS = tlsInfoFromHello(hello)
		}
		return event{c, "TLS handshake on a plaintext HTTP port"}
	}
	return event{c, "binary data instead of an HTTP request"}
}

// finishHead is called when the empty line ending a head arrives.
func (s *connState) finishHead() {
	raw := string(s.head)
	truncated := s.truncated
	s.nextSeq++
	seq := s.nextSeq
	var h headInfo
	err := walkHead(raw, &h, false)
	switch {
	case truncated:
		// Framing headers may have been cut off: queue what we have, then stop capturing.
		if h.method != "" {
			s.push(pendingHead{seq: seq, head: raw, method: h.method, target: h.target, proto: h.proto, truncated: true})
		}
		s.state = stDead
		return
	case err != nil:
		s.state = stDead
		c := s.malformedCapture(raw, false)
		c.Seq = seq
		s.events = append(s.events, event{c, "malformed request head: " + trimErr(err)})
		return
	}
	// Requests that Go's http.Server refuses without calling a handler become events here.
	refuse := func(reason string) {
		s.state = stDead
		c := s.malformedCapture(raw, false)
		c.Seq = seq
		s.events = append(s.events, event{c, reason})
	}
	next := stHead
	switch {
	case h.method == "PRI" && h.proto == "HTTP/2.0":
		refuse("HTTP/2 connection preface (prior knowledge) on an HTTP/1.x listener")
		return
	case h.proto[5] != '1':
		refuse("unsupported HTTP version " + h.proto)
		return
	case h.proto == "HTTP/1.1" && h.hosts == 0:
		refuse("HTTP/1.1 request without a Host header")
		return
	case h.hosts > 1:
		refuse("several Host headers")
		return
	case h.method == "CONNECT":
		next = stPassthrough
	case h.hasTE && !h.chunked:
		refuse("unsupported Transfer-Encoding")
		return
	case h.hasTE:
		next = stChunkSize
	case h.clConflict:
		refuse("invalid Content-Length")
		return
	case h.contentLength > 0:
		next = stBody
	}
	s.push(pendingHead{seq: seq, head: raw, method: h.method, target: h.target, proto: h.proto})
	s.resetHead()
	s.state = next
	if next == stBody {
		s.remaining = h.contentLength
	}
	s.line = s.line[:0]
}

func (s *connState) push(p pendingHead) {
	if len(s.queue) >= maxQueuedHeads {
		n := copy(s.queue, s.queue[1:])
		s.queue[n] = pendingHead{}
		s.queue = s.queue[:n]
	}
	s.queue = append(s.queue, p)
}

// malformedCapture builds the Capture handed to OnMalformed from the bytes seen so far.
func (s *connState) malformedCapture(raw string, truncated bool) *Capture {
	c := &Capture{
		Remote:    s.remote,
		ConnID:    s.id,
		RawHead:   []byte(raw),
		Truncated: truncated,
		WireOrder: true,
		TLS:       s.tls,
	}
	var h headInfo
	_ = walkHead(raw, &h, true)
	c.Proto = h.proto
	c.Headers = h.headers
	return c
}

// take removes and returns the queued head of the request with this method and target, dropping
// older heads (their requests were served without asking for them).
func (s *connState) take(method, target string) (pendingHead, bool) {
	for i, p := range s.queue {
		if p.method != method {
			continue
		}
		if p.target == target || (p.truncated && len(p.target) < len(target) && target[:len(p.target)] == p.target) {
			n := copy(s.queue, s.queue[i+1:])
			clear(s.queue[n:])
			s.queue = s.queue[:n]
			return p, true
		}
	}
	return pendingHead{}, false
}

func headerKey(h http.Header) uintptr {
	if h == nil {
		return 0
	}
	return reflect.ValueOf(h).Pointer()
}

func (s *connState) memoGet(key uintptr) *Capture {
	if key == 0 {
		return nil
	}
	for i := range s.memo {
		if s.memo[i].key == key {
			return s.memo[i].c
		}
	}
	return nil
}

func (s *connState) memoPut(key uintptr, h http.Header, c *Capture) {
	if key == 0 {
		return
	}
	s.memo[s.memoNext] = memoEntry{key: key, hdr: h, c: c}
	s.memoNext = (s.memoNext + 1) % memoSize
}

// capture returns the Capture of request r on this connection.
func (s *connState) capture(r *http.Request) *Capture {
	key := headerKey(r.Header)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.memoGet(key); c != nil {
		return c
	}
	var c *Capture
	if s.h2 || r.ProtoMajor == 2 {
		s.reqSeq++
		c = h2Capture(r, s.reqSeq)
		c.Remote, c.ConnID, c.TLS = s.remote, s.id, s.tls
	} else if p, ok := s.take(r.Method, r.RequestURI); ok {
		c = &Capture{
			Remote:    s.remote,
			ConnID:    s.id,
			Seq:       p.seq,
			Proto:     p.proto,
			RawHead:   []byte(p.head),
			Truncated: p.truncated,
			WireOrder: true,
			TLS:       s.tls,
		}
		var h headInfo
		_ = walkHead(p.head, &h, true)
		c.Headers = h.headers
		if p.truncated {
			c.Note = "request head longer than " + strconv.Itoa(s.maxHead) + " bytes: truncated"
		}
	} else {
		c = &Capture{
			Remote: s.remote,
			ConnID: s.id,
			Proto:  r.Proto,
			TLS:    s.tls,
			Note:   "no raw head captured for this request: capture stopped on this connection",
		}
	}
	s.memoPut(key, r.Header, c)
	return c
}

// h2Capture builds a Capture from what Go exposes of an HTTP/2 request.
func h2Capture(r *http.Request, seq int) *Capture {
	keys := make([]string, 0, len(r.Header))
	n := 0
	for k, vs := range r.Header {
		keys = append(keys, k)
		n += len(vs)
	}
	slices.Sort(keys)
	hs := make([]Header, 0, n)
	for _, k := range keys {
		for _, v := range r.Header[k] {
			hs = append(hs, Header{Name: k, Value: v})
		}
	}
	return &Capture{
		Seq:     seq,
		Proto:   "HTTP/2.0",
		Headers: hs,
		Note:    "http/2: header order and case are not available; headers are Go's canonical names, sorted",
	}
}

// ConnContext is for http.Server.ConnContext: it makes the connection's captures reachable from
// its requests through FromRequest. Connections that did not come from NewListener are left
// alone. Serve installs it for you.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if cc, ok := c.(*captureConn); ok {
		return context.WithValue(ctx, connStateKey{}, cc.st)
	}
	return ctx
}

// FromRequest returns what was captured for this request. It never returns nil: for a request
// that did not come through NewListener (or whose head was not captured) the fields are empty
// except Remote, Proto and a Note saying why. For HTTP/1.x keep-alive and pipelined requests it
// returns the head of this request: heads are queued per connection in arrival order and matched
// by request line. For a request that came through NewListener, calling it again (also on a
// shallow copy such as r.WithContext) returns the same *Capture. Captures are shared: treat them
// as read-only.
func FromRequest(r *http.Request) *Capture {
	if st, ok := r.Context().Value(connStateKey{}).(*connState); ok && st != nil {
		return st.capture(r)
	}
	return &Capture{
		Remote: r.RemoteAddr,
		Proto:  r.Proto,
		Note:   "not captured: the request did not come through fingerprint.NewListener with fingerprint.ConnContext",
	}
}
