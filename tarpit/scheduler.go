package tarpit

import (
	"container/heap"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// held is one connection in the scheduler's care.
type held struct {
	conn  net.Conn
	raw   syscall.RawConn // the TCP socket under any wrapper; nil when unknown
	tls   bool            // writes must go through conn (encryption)
	plan  *Plan
	start time.Time

	head, body []byte
	chunked    bool
	silent     bool // endless without a body: only the head, held back
	started    bool // the head is queued
	off        int  // body bytes queued so far (drip)
	final      bool // everything is queued; close once written
	end        string
	out        []byte // queued, not yet accepted by the socket
	stallSince time.Time
	sent       int

	next time.Time
	idx  int
}

type heldHeap []*held

func (q heldHeap) Len() int           { return len(q) }
func (q heldHeap) Less(i, j int) bool { return q[i].next.Before(q[j].next) }
func (q heldHeap) Swap(i, j int)      { q[i], q[j] = q[j], q[i]; q[i].idx = i; q[j].idx = j }
func (q *heldHeap) Push(x any)        { h := x.(*held); h.idx = len(*q); *q = append(*q, h) }
func (q *heldHeap) Pop() any {
	old := *q
	h := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	h.idx = -1
	return h
}

// scheduler owns every held connection: one goroutine, one timer.
type scheduler struct {
	t       *Tarpit
	mu      sync.Mutex
	q       heldHeap
	wake    chan struct{}
	closing chan struct{}
	once    sync.Once
	done    chan struct{}
	results chan func()
	resDone chan struct{}
	scratch []byte
	due     []*held
}

func newScheduler(t *Tarpit) *scheduler {
	s := &scheduler{t: t, wake: make(chan struct{}, 1), closing: make(chan struct{}), done: make(chan struct{}),
		results: make(chan func(), 4096), resDone: make(chan struct{}), scratch: make([]byte, 2048)}
	go func() {
		defer close(s.resDone)
		for f := range s.results {
			f()
		}
	}()
	return s
}

func (s *scheduler) add(h *held) {
	h.raw, h.tls = rawConn(h.conn)
	if tc := tcpConn(h.conn); tc != nil {
		_ = tc.SetWriteBuffer(s.t.cfg.SocketBuffer)
		_ = tc.SetReadBuffer(s.t.cfg.SocketBuffer)
	}
	h.next = h.start.Add(h.plan.Delay)
	if h.plan.Mode == Drip && len(h.body) > 0 {
		// Fit the drip into MaxDrip with larger pieces if need be.
		steps := max(int(s.t.cfg.MaxDrip/max(h.plan.Interval, time.Millisecond)), 1)
		if need := (len(h.body) + steps - 1) / steps; need > h.plan.Chunk {
			h.plan.Chunk = need
		}
	}
	s.mu.Lock()
	select {
	case <-s.closing:
		s.mu.Unlock()
		s.finish(h, EndShutdown, time.Now())
		return
	default:
	}
	heap.Push(&s.q, h)
	first := h.idx == 0
	s.mu.Unlock()
	if first {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (s *scheduler) run() {
	defer close(s.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		s.mu.Lock()
		s.due = s.due[:0]
		for len(s.q) > 0 && !s.q[0].next.After(now) {
			s.due = append(s.due, heap.Pop(&s.q).(*held))
		}
		s.mu.Unlock()
		for _, h := range s.due {
			if s.step(h, now) {
				s.mu.Lock()
				heap.Push(&s.q, h)
				s.mu.Unlock()
			}
		}
		s.mu.Lock()
		wait := time.Hour
		if len(s.q) > 0 {
			wait = max(time.Until(s.q[0].next), 0)
		}
		s.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-s.wake:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		case <-s.closing:
			s.mu.Lock()
			all := s.q
			s.q = nil
			s.mu.Unlock()
			now := time.Now()
			for _, h := range all {
				s.finish(h, EndShutdown, now)
			}
			return
		}
	}
}

// step advances one connection; it reports whether to keep it (h.next set).
func (s *scheduler) step(h *held, now time.Time) bool {
	cfg := &s.t.cfg
	if gone := s.gone(h); gone {
		s.finish(h, EndClientGone, now)
		return false
	}
	if len(h.out) == 0 && !h.final {
		switch {
		case h.silent:
			if now.Sub(h.start) < cfg.MaxHold {
				h.next = now.Add(cfg.KeepAlive)
				return true
			}
			h.queue(h.head)
			h.final, h.end = true, EndMaxHold
		case !h.started:
			h.started = true
			h.queue(h.head)
			h.head = nil
			switch h.plan.Mode {
			case Hold:
				h.queue(h.body)
				h.final, h.end = true, EndDone
			case Drip:
				h.dripNext()
			case Endless:
				h.whitespace()
			}
		case h.plan.Mode == Drip:
			h.dripNext()
		case h.plan.Mode == Endless:
			if now.Sub(h.start) >= cfg.MaxHold {
				h.finalBody()
				h.final, h.end = true, EndMaxHold
			} else {
				h.whitespace()
			}
		}
	}
	if err := s.flush(h); err != nil {
		s.finish(h, EndClientGone, now)
		return false
	}
	if len(h.out) > 0 {
		if h.stallSince.IsZero() {
			h.stallSince = now
		} else if now.Sub(h.stallSince) >= cfg.WriteTimeout {
			s.finish(h, EndWriteTimeout, now)
			return false
		}
		// Try again soon, still on the plan's rhythm at most.
		h.next = now.Add(min(h.plan.Interval, 250*time.Millisecond))
		return true
	}
	h.stallSince = time.Time{}
	if h.final {
		s.finish(h, h.end, now)
		return false
	}
	h.next = now.Add(h.plan.Interval)
	return true
}

func (h *held) queue(p []byte) {
	if len(p) > 0 {
		h.out = append(h.out, p...)
	}
}

func (h *held) dripNext() {
	n := min(h.plan.Chunk, len(h.body)-h.off)
	h.queue(h.body[h.off : h.off+n])
	h.off += n
	if h.off >= len(h.body) {
		h.final, h.end = true, EndDone
	}
}

var (
	chunkSpace = []byte("1\r\n \r\n")
	space      = []byte(" ")
)

func (h *held) whitespace() {
	if h.chunked {
		h.queue(chunkSpace)
	} else {
		h.queue(space)
	}
}

func (h *held) finalBody() {
	if !h.chunked {
		h.queue(h.body)
		return
	}
	if len(h.body) > 0 {
		h.queue([]byte(strconv.FormatInt(int64(len(h.body)), 16) + "\r\n"))
		h.queue(h.body)
		h.queue([]byte("\r\n"))
	}
	h.queue([]byte("0\r\n\r\n"))
}

// flush writes what the socket accepts without blocking.
func (s *scheduler) flush(h *held) error {
	if len(h.out) == 0 {
		return nil
	}
	var n int
	var err error
	if h.raw != nil && !h.tls {
		n, err = rawWrite(h.raw, h.out)
	} else {
		// Through the TLS layer: a short deadline bounds a full socket.
		_ = h.conn.SetWriteDeadline(time.Now().Add(5 * time.Millisecond))
		n, err = h.conn.Write(h.out)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return err // a record may be half written: the stream is broken
		}
	}
	h.sent += n
	if n == len(h.out) {
		// Nothing is kept between writes: a held connection's memory is
		// its body and little else.
		h.out = nil
	} else {
		h.out = append(h.out[:0], h.out[n:]...)
	}
	return err
}

// gone reads and discards what the client sent; it reports a close (or a
// half-close: like a proxy that sees its client leave, the tarpit stops) or
// a reset.
func (s *scheduler) gone(h *held) bool {
	if h.raw == nil {
		return false
	}
	for i := 0; i < 8; i++ {
		n, eof, err := rawRead(h.raw, s.scratch)
		if err != nil || eof {
			return true
		}
		if n < len(s.scratch) {
			return false
		}
	}
	return false
}

func (s *scheduler) finish(h *held, end string, now time.Time) {
	_ = h.conn.Close()
	s.t.release(h.plan)
	s.t.heldGauge.Add(-1)
	waited := now.Sub(h.start)
	s.t.waitedNS.Add(int64(waited))
	if h.plan.OnDone != nil {
		p, r := h.plan, Result{Mode: h.plan.Mode, Waited: waited, Sent: h.sent, End: end}
		s.results <- func() { p.OnDone(r) }
	}
	h.conn, h.body, h.head, h.out, h.raw = nil, nil, nil, nil, nil
}

func (s *scheduler) close(ctx context.Context) error {
	first := false
	s.once.Do(func() { first = true; close(s.closing) })
	if !first {
		return ErrClosed
	}
	select {
	case <-s.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	close(s.results)
	select {
	case <-s.resDone:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// unwrap follows NetConn() to the innermost connection, noting TLS.
func unwrap(c net.Conn) (net.Conn, bool) {
	isTLS := false
	for i := 0; i < 8; i++ {
		if _, ok := c.(*tls.Conn); ok {
			isTLS = true
		}
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		c = u.NetConn()
	}
	return c, isTLS
}

func tcpConn(c net.Conn) *net.TCPConn {
	inner, _ := unwrap(c)
	tc, _ := inner.(*net.TCPConn)
	return tc
}

func rawConn(c net.Conn) (syscall.RawConn, bool) {
	inner, isTLS := unwrap(c)
	if !rawIO {
		return nil, isTLS
	}
	sc, ok := inner.(syscall.Conn)
	if !ok {
		return nil, isTLS
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, isTLS
	}
	return rc, isTLS
}
