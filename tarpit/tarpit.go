package tarpit

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Tarpit decides and delivers delayed responses. It is safe for
// concurrent use; Close releases every held connection.
type Tarpit struct {
	cfg Config

	mu   sync.Mutex
	held int
	byIP map[string]int

	delayed   atomic.Int64
	holds     atomic.Int64
	refused   atomic.Int64
	waitedNS  atomic.Int64
	heldGauge atomic.Int64

	sched *scheduler
}

// New returns a tarpit; it starts the scheduler goroutine.
func New(cfg Config) (*Tarpit, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Tarpit{cfg: cfg.Defaults(), byIP: map[string]int{}}
	t.sched = newScheduler(t)
	go t.sched.run()
	return t, nil
}

// Config returns the configuration in use, defaults filled in.
func (t *Tarpit) Config() Config { return t.cfg }

// Decide plans the delivery of a response to c for a request that started
// at start. A plan that hijacks the connection holds a place under the
// caps until Deliver ends or Cancel is called.
func (t *Tarpit) Decide(c Client, start time.Time) *Plan {
	mode, d, why := t.cfg.policy(c)
	p := &Plan{Mode: mode, Delay: d, Start: start, Reason: why, Client: c, t: t,
		Chunk: t.cfg.DripBytes, Interval: t.cfg.DripInterval}
	if mode == Endless {
		p.Interval = t.cfg.KeepAlive
	}
	if mode == Delay && d > t.cfg.HandlerDelay {
		p.Delay = t.cfg.HandlerDelay
	}
	if !mode.Hijacks() {
		return p
	}
	t.mu.Lock()
	switch {
	case t.held >= t.cfg.MaxHeld:
		p.Reason = "cap: held connections"
	case t.byIP[c.IP] >= t.cfg.MaxHeldPerIP:
		p.Reason = "cap: held connections of " + c.IP
	default:
		t.held++
		t.byIP[c.IP]++
		p.slot = true
	}
	t.mu.Unlock()
	if !p.slot {
		// Past a cap the response is fast and normal.
		t.refused.Add(1)
		p.Mode, p.Delay = Delay, min(t.cfg.latency(), t.cfg.HandlerDelay)
	}
	return p
}

// Cancel releases a plan that will not be delivered.
func (p *Plan) Cancel() {
	if p != nil && p.t != nil {
		p.t.release(p)
	}
}

func (t *Tarpit) release(p *Plan) {
	t.mu.Lock()
	if p.slot {
		p.slot = false
		t.held--
		if n := t.byIP[p.Client.IP] - 1; n > 0 {
			t.byIP[p.Client.IP] = n
		} else {
			delete(t.byIP, p.Client.IP)
		}
	}
	t.mu.Unlock()
}

// Deliver sends a response by the plan: status, the headers already set on
// w, and body. A delay waits in the handler (from p.Start); hold, drip and
// endless hijack the connection and return at once, leaving the rest to the
// scheduler. Connections that cannot be hijacked (HTTP/2) get a delay of at
// most HandlerDelay instead; HEAD, 204 and 304 responses carry no body.
func (t *Tarpit) Deliver(w http.ResponseWriter, r *http.Request, p *Plan, status int, body []byte) {
	if p == nil || p.Mode == None {
		writeNow(w, r, status, body)
		if p != nil {
			p.done(Result{Mode: None, Waited: time.Since(p.Start), Sent: len(body), End: EndDone})
		}
		return
	}
	if p.Mode.Hijacks() {
		if t.hijack(w, r, p, status, body) {
			return
		}
		t.release(p)
		p.Mode, p.Delay = Delay, min(p.Delay, t.cfg.HandlerDelay)
	}
	end := EndDone
	if wait := time.Until(p.Start.Add(p.Delay)); wait > 0 {
		if t.delayed.Add(1) > int64(t.cfg.MaxDelayed) {
			wait = 0 // past the cap: fast and normal
		}
		if wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-timer.C:
			case <-r.Context().Done():
				timer.Stop()
				end = EndClientGone
			}
		}
		t.delayed.Add(-1)
	}
	sent := 0
	if end == EndDone {
		writeNow(w, r, status, body)
		sent = len(body)
	}
	waited := time.Since(p.Start)
	t.waitedNS.Add(int64(waited))
	p.done(Result{Mode: Delay, Waited: waited, Sent: sent, End: end})
}

func (p *Plan) done(r Result) {
	if p.OnDone != nil {
		p.OnDone(r)
	}
}

func writeNow(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	w.WriteHeader(status)
	if r.Method != http.MethodHead && len(body) > 0 {
		_, _ = w.Write(body)
	}
}

// hijack takes the connection from the server and hands it to the
// scheduler. It reports false when the connection cannot be hijacked.
func (t *Tarpit) hijack(w http.ResponseWriter, r *http.Request, p *Plan, status int, body []byte) bool {
	if r.ProtoMajor != 1 {
		return false
	}
	hdr := w.Header().Clone()
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false
	}
	// Bytes the client pipelined after this request are dropped: the
	// connection closes after the response.
	if brw != nil {
		brw.Reader.Reset(nil)
	}
	_ = conn.SetDeadline(time.Time{})
	if d, ok := conn.(interface{ Detach() net.Conn }); ok {
		// Drop a capturing wrapper's per-request state (fingerprint's
		// listener): held connections must cost as little as possible.
		conn = d.Detach()
	}
	h := &held{conn: conn, plan: p, start: p.Start}
	noBody := r.Method == http.MethodHead || status == http.StatusNoContent || status == http.StatusNotModified || status < 200
	if noBody {
		body = nil
	}
	chunked := p.Mode == Endless && !noBody && r.ProtoAtLeast(1, 1)
	length := !noBody && p.Mode != Endless // an HTTP/1.0 endless body ends at the close
	h.head = responseHead(r.ProtoAtLeast(1, 1), status, hdr, len(body), length, chunked, time.Now())
	h.body = body
	h.chunked = chunked
	if p.Mode == Endless && noBody {
		// Nothing to trickle: hold the head back as long as it waits.
		h.silent = true
	}
	t.holds.Add(1)
	t.heldGauge.Add(1)
	t.sched.add(h)
	return true
}

// responseHead writes the status line and headers as Go's server would
// (header map keys sorted, then Date and Content-Length), with
// Connection: close since the connection ends with the response.
func responseHead(is11 bool, status int, h http.Header, n int, length, chunked bool, now time.Time) []byte {
	var b bytes.Buffer
	if is11 {
		b.WriteString("HTTP/1.1 ")
	} else {
		b.WriteString("HTTP/1.0 ")
	}
	b.WriteString(strconv.Itoa(status))
	b.WriteByte(' ')
	b.WriteString(http.StatusText(status))
	b.WriteString("\r\n")
	for _, k := range []string{"Connection", "Transfer-Encoding", "Content-Length", "Keep-Alive"} {
		h.Del(k)
	}
	_ = h.Write(&b)
	if h.Get("Date") == "" {
		b.WriteString("Date: ")
		b.WriteString(now.UTC().Format(http.TimeFormat))
		b.WriteString("\r\n")
	}
	if length {
		b.WriteString("Content-Length: ")
		b.WriteString(strconv.Itoa(n))
		b.WriteString("\r\n")
	}
	b.WriteString("Connection: close\r\n")
	if chunked {
		b.WriteString("Transfer-Encoding: chunked\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// Stats are the tarpit's live figures.
type Stats struct {
	// Held is the number of connections held by the scheduler now;
	// HeldByIP the busiest client IPs among them (at most 20).
	Held     int
	HeldByIP map[string]int
	// InHandler is the number of delays in handlers now.
	InHandler int
	// Holds counts the connections held since New, Refused the holds that
	// the caps turned into normal responses.
	Holds, Refused int64
	// Waited is the client time spent waiting since New.
	Waited time.Duration
}

// Stats returns the live figures.
func (t *Tarpit) Stats() Stats {
	st := Stats{
		Held:      int(t.heldGauge.Load()),
		InHandler: int(t.delayed.Load()),
		Holds:     t.holds.Load(),
		Refused:   t.refused.Load(),
		Waited:    time.Duration(t.waitedNS.Load()),
	}
	type ipn struct {
		ip string
		n  int
	}
	t.mu.Lock()
	top := make([]ipn, 0, len(t.byIP))
	for ip, n := range t.byIP {
		top = append(top, ipn{ip, n})
	}
	t.mu.Unlock()
	sort.Slice(top, func(i, j int) bool { return top[i].n > top[j].n || top[i].n == top[j].n && top[i].ip < top[j].ip })
	if len(top) > 0 {
		st.HeldByIP = map[string]int{}
		for _, e := range top[:min(len(top), 20)] {
			st.HeldByIP[e.ip] = e.n
		}
	}
	return st
}

// Close ends every held connection (End "shutdown") and stops the
// scheduler. It waits at most until ctx ends.
func (t *Tarpit) Close(ctx context.Context) error {
	return t.sched.close(ctx)
}

// ErrClosed is returned by Close when it was already called.
var ErrClosed = errors.New("tarpit: closed")
