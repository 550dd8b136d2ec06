package tokens

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Reporter defaults.
const (
	DefaultReporterQueue       = 1024
	DefaultReporterSenders     = 2
	DefaultReporterTimeout     = 10 * time.Second
	DefaultReporterBackoff     = 500 * time.Millisecond
	DefaultReporterMaxBackoff  = 30 * time.Second
	DefaultReporterMaxAttempts = 8
	DefaultReporterRate        = 100 // sightings per second
	DefaultReporterBurst       = 200
	// MaxRetryAfter caps how long a server's Retry-After pauses the reporter.
	MaxRetryAfter = 5 * time.Minute
)

// Bounds on what one request contributes to its sightings: the request is
// attacker-controlled, and the server accepts at most MaxSightingBody bytes.
const (
	maxSightingsPerRequest = 16
	maxSightedHeaders      = 64
	maxSightedHeaderValue  = 1024
	maxSightedHeaderBytes  = 16 << 10
	maxSightedPath         = 2048
	maxSightedQuery        = 4096
	maxSightedShort        = 256 // Host, Where, User-Agent, client IP
	maxTextCandidates      = 2048
	maxJSONNodes           = 20000
)

// ReporterOptions configure a Reporter.
type ReporterOptions struct {
	// URL is the base URL of the honeyapi admin API, e.g.
	// "http://127.0.0.1:8081"; sightings go to URL + "/api/v1/sightings".
	// Required; http or https.
	URL string
	// Token is the admin API's bearer token. Required. It is sent only in
	// the Authorization header and never logged.
	Token string
	// Client sends the sightings. Redirects are never followed whatever its
	// CheckRedirect says (a copy of it is used). Default: a client with its
	// own copy of http.DefaultTransport.
	Client *http.Client
	// Queue is how many sightings may wait to be sent; beyond it Report
	// drops them and counts them in Stats().Dropped. Default
	// DefaultReporterQueue.
	Queue int
	// Senders is the number of goroutines sending sightings. Default
	// DefaultReporterSenders.
	Senders int
	// Timeout bounds each attempt to send one sighting. Default
	// DefaultReporterTimeout.
	Timeout time.Duration
	// Backoff is the wait before the first retry; it doubles with each
	// attempt up to MaxBackoff, and each wait is drawn at random from its
	// upper half (jitter). A Retry-After from the server (429 or 503) pauses
	// every sender at least that long, at most MaxRetryAfter. Defaults
	// DefaultReporterBackoff and DefaultReporterMaxBackoff.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// MaxAttempts is how many times one sighting is tried before it counts
	// as failed. Retried: network errors, timeouts, 408, 429 and 5xx but
	// 501; any other non-2xx answer (a 3xx included) fails at once. Default DefaultReporterMaxAttempts.
	MaxAttempts int
	// Logger receives delivery failures (never a token, header value or
	// the admin token). Default: no logging.
	Logger *zerolog.Logger
	// Source names this reporter in every sighting, e.g. "guard:billing-api".
	// Default "guard".
	Source string
	// TrustedProxies are the addresses of reverse proxies in front of the
	// API. When the connection comes from one of them, the client IP is the
	// rightmost X-Forwarded-For address that is not a trusted proxy.
	// Default none: the client IP is the connection's, and X-Forwarded-For
	// is only reported as a header.
	TrustedProxies []netip.Prefix
	// Rate caps the sightings queued per second, with bursts of up to Burst:
	// an attacker replaying a honeytoken in a loop must not make the API
	// send a sighting per request (the first ones say all there is to say;
	// the server aggregates them anyway). Sightings over the rate are
	// dropped before they are built and counted in Stats().Dropped. The cap
	// is shared by all tokens and clients, so during a flood other tokens'
	// sightings beyond the burst are dropped too (OnHit still sees every
	// hit). Defaults DefaultReporterRate and DefaultReporterBurst; a
	// negative Rate removes the cap.
	Rate  float64
	Burst int
}

// ReporterStats counts what a Reporter did with its sightings.
type ReporterStats struct {
	Sent    uint64 // accepted by the server (2xx)
	Failed  uint64 // given up: refused, out of attempts, unbuildable, or still queued when Close gave up
	Dropped uint64 // not queued: over the rate, the queue full, or the reporter closed
	Queued  int    // waiting now
}

// Reporter sends Sightings of honeytokens to a honeyapi server's admin API
// (POST /api/v1/sightings) from a bounded in-memory queue, in the
// background. Report never blocks. Delivery is at least once per sighting
// while the reporter runs (each carries an Idempotency-Key header, the same
// on every attempt); nothing survives a restart. Close flushes. A Reporter
// is safe for concurrent use.
//
// Each hit becomes one sighting (at most 16 per request). Its Text is the
// token itself when the Guard reports (the guard's Minter finds the exact
// string it recognised: "ghp_…", or "user:password" for Basic), and the
// credential-bearing value(s) at the hit's place, one per line, when Report
// or ReportBody is called directly. Where, Signature, Method, Host, Path,
// Query and User-Agent come from the hit and the request; ClientIP from the
// connection (see TrustedProxies). Headers are sent in r.Header's iteration
// order (Go does not keep the wire order), at most 64 values of at most
// 1 KiB and 16 KiB in all, as they came except for other credentials: an
// Authorization or Proxy-Authorization header that carried no honeytoken
// keeps only its scheme ("Bearer [redacted]"), and in the Cookie header
// only cookies that carried one keep their value ("sid=[redacted];
// session=<token>"). Other headers, including API-key headers that held no
// honeytoken, and the query string are sent as they came (bounded): the
// server is the deployment's own and stores the request anyway. The encoded sighting stays under
// MaxSightingBody. Nothing of a sighting is ever logged beyond its Where.
type Reporter struct {
	url         string
	auth        string
	source      string
	client      *http.Client
	log         zerolog.Logger
	trusted     []netip.Prefix
	timeout     time.Duration
	backoff     time.Duration
	maxBackoff  time.Duration
	maxAttempts int

	mu     sync.RWMutex // held for writing only to close queue
	closed bool
	queue  chan *Sighting
	ctx    context.Context // cancelled when Close gives up
	cancel context.CancelFunc
	done   chan struct{} // closed when every sender has returned
	pause  atomic.Int64  // unix nanoseconds before which no sender posts

	// The rate cap, as a generic cell rate algorithm: tat is the
	// theoretical arrival time (unix ns) of the next sighting; one is
	// allowed when now >= tat - tolerance. interval 0: no cap.
	tat       atomic.Int64
	interval  int64
	tolerance int64

	sent, failed, dropped atomic.Uint64
	unlocated             atomic.Uint64 // hits whose text was not found
	ownClient             bool
}

// NewReporter starts a Reporter's senders. Call Close to flush and stop them.
func NewReporter(opts ReporterOptions) (*Reporter, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("tokens: ReporterOptions.URL must be an http or https URL of the admin API")
	}
	if opts.Token == "" {
		return nil, errors.New("tokens: ReporterOptions.Token (the admin token) is required")
	}
	rp := &Reporter{
		url:         u.JoinPath("api/v1/sightings").String(),
		auth:        "Bearer " + opts.Token,
		source:      opts.Source,
		trusted:     append([]netip.Prefix(nil), opts.TrustedProxies...),
		timeout:     positive(opts.Timeout, DefaultReporterTimeout),
		backoff:     positive(opts.Backoff, DefaultReporterBackoff),
		maxBackoff:  positive(opts.MaxBackoff, DefaultReporterMaxBackoff),
		maxAttempts: positive(opts.MaxAttempts, DefaultReporterMaxAttempts),
		queue:       make(chan *Sighting, positive(opts.Queue, DefaultReporterQueue)),
		done:        make(chan struct{}),
		log:         zerolog.Nop(),
	}
	if opts.Rate >= 0 {
		rate := opts.Rate
		if rate == 0 {
			rate = DefaultReporterRate
		}
		rp.interval = max(int64(float64(time.Second)/rate), 1)
		rp.tolerance = int64(positive(opts.Burst, DefaultReporterBurst)-1) * rp.interval
	}
	if rp.source == "" {
		rp.source = "guard"
	}
	if opts.Logger != nil {
		rp.log = *opts.Logger
	}
	if opts.Client != nil {
		c := *opts.Client
		rp.client = &c
	} else {
		rp.client, rp.ownClient = &http.Client{}, true
		if t, ok := http.DefaultTransport.(*http.Transport); ok {
			rp.client.Transport = t.Clone()
		}
	}
	rp.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	rp.ctx, rp.cancel = context.WithCancel(context.Background())

	var wg sync.WaitGroup
	for range positive(opts.Senders, DefaultReporterSenders) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range rp.queue {
				rp.deliver(s)
			}
		}()
	}
	go func() { wg.Wait(); close(rp.done) }()
	return rp, nil
}

func positive[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Report queues one sighting per hit (at most 16 per request) found in the
// request's headers, cookies or query. It never blocks: when the queue is
// full the sightings are dropped and counted. Hits found in a body need the
// body: use ReportBody.
func (rp *Reporter) Report(r *http.Request, hits []Hit) { rp.report(r, nil, hits, nil) }

// ReportBody is Report for hits that may have been found in body (the bytes
// given to Detect).
func (rp *Reporter) ReportBody(r *http.Request, body []byte, hits []Hit) {
	rp.report(r, body, hits, nil)
}

// Stats returns the reporter's counters.
func (rp *Reporter) Stats() ReporterStats {
	return ReporterStats{Sent: rp.sent.Load(), Failed: rp.failed.Load(), Dropped: rp.dropped.Load(), Queued: len(rp.queue)}
}

// Close stops accepting sightings and waits until the queued ones are
// delivered or have failed. If ctx ends first, in-flight attempts are
// abandoned, what is still queued counts as failed, and Close returns an
// error wrapping ctx.Err(). Close may be called more than once.
func (rp *Reporter) Close(ctx context.Context) error {
	rp.mu.Lock()
	if !rp.closed {
		rp.closed = true
		close(rp.queue)
	}
	rp.mu.Unlock()
	var err error
	select {
	case <-rp.done:
	case <-ctx.Done():
		rp.cancel()
		<-rp.done
		err = fmt.Errorf("tokens: reporter closed before every sighting was delivered: %w", ctx.Err())
	}
	if rp.ownClient {
		rp.client.CloseIdleConnections()
	}
	return err
}

// report builds the sightings of one request and queues them. With m, each
// sighting's Text is exactly the token Detect recognised; without, it is
// the credential-bearing value(s) at the hit's place.
func (rp *Reporter) report(r *http.Request, body []byte, hits []Hit, m *Minter) {
	if len(hits) == 0 {
		return
	}
	// A flood: do not build what cannot be queued.
	if len(rp.queue) == cap(rp.queue) || !rp.allow(min(len(hits), maxSightingsPerRequest)) {
		rp.drop(len(hits))
		return
	}
	base := Sighting{
		Source:    rp.source,
		Time:      time.Now(),
		ClientIP:  clip(clientIP(r, rp.trusted), maxSightedShort),
		Method:    clip(r.Method, 32),
		Host:      clip(r.Host, maxSightedShort),
		UserAgent: clip(r.Header.Get("User-Agent"), maxSightedShort),
		Headers:   sightedHeaders(r.Header, hits),
	}
	if r.URL != nil {
		base.Path = clip(r.URL.Path, maxSightedPath)
		base.Query = clip(r.URL.RawQuery, maxSightedQuery)
	}
	for i, h := range hits {
		if i == maxSightingsPerRequest {
			rp.drop(len(hits) - i)
			return
		}
		s := base
		s.Where = clip(h.Where, maxSightedShort)
		s.Signature = h.Signature
		s.Text = hitText(m, r, body, h)
		if s.Text == "" {
			rp.failed.Add(1)
			if powerOfTwoCrossed(rp.unlocated.Add(1), 1) {
				rp.log.Warn().Str("where", s.Where).Msg("tokens: sighting not sent: the token is not where the hit says (a body hit given to Report instead of ReportBody?)")
			}
			continue
		}
		rp.enqueue(&s)
	}
}

// allow takes n sightings from the rate cap, or none if they do not all fit.
func (rp *Reporter) allow(n int) bool {
	if rp.interval == 0 {
		return true
	}
	now := time.Now().UnixNano()
	for {
		tat := rp.tat.Load()
		start := max(tat, now)
		next := start + int64(n)*rp.interval
		if next-rp.interval-rp.tolerance > now {
			return false
		}
		if rp.tat.CompareAndSwap(tat, next) {
			return true
		}
	}
}

func (rp *Reporter) enqueue(s *Sighting) {
	rp.mu.RLock()
	defer rp.mu.RUnlock()
	if rp.closed {
		rp.drop(1)
		return
	}
	select {
	case rp.queue <- s:
	default:
		rp.drop(1)
	}
}

func (rp *Reporter) drop(n int) {
	total := rp.dropped.Add(uint64(n))
	if powerOfTwoCrossed(total, uint64(n)) {
		rp.log.Warn().Uint64("dropped_total", total).Msg("tokens: sighting queue full or closed, sightings dropped")
	}
}

// powerOfTwoCrossed reports whether a counter that grew by n to total passed
// a power of two: logging only then keeps a flood from flooding the log.
func powerOfTwoCrossed(total, n uint64) bool { return bits.Len64(total) != bits.Len64(total-n) }

// deliver sends one sighting, retrying as ReporterOptions describe.
func (rp *Reporter) deliver(s *Sighting) {
	body, err := encodeSighting(s)
	if err != nil {
		rp.failed.Add(1)
		rp.log.Warn().Err(err).Msg("tokens: sighting not sent")
		return
	}
	key := crand.Text()
	for attempt := 1; ; attempt++ {
		if !rp.waitPause() {
			rp.failed.Add(1)
			return
		}
		retry, after, err := rp.post(body, key)
		if err == nil {
			rp.sent.Add(1)
			return
		}
		if rp.ctx.Err() != nil {
			rp.failed.Add(1)
			return
		}
		if !retry || attempt >= rp.maxAttempts {
			rp.failed.Add(1)
			rp.log.Warn().Err(err).Int("attempts", attempt).Str("where", s.Where).Msg("tokens: sighting not delivered")
			return
		}
		wait := rp.backoffFor(attempt)
		if after > 0 {
			after = min(after, MaxRetryAfter)
			rp.pauseFor(after)
			wait = max(wait, after)
		}
		rp.log.Debug().Err(err).Int("attempt", attempt).Dur("retry_in", wait).Msg("tokens: sighting delivery failed, retrying")
		if !rp.sleep(wait) {
			rp.failed.Add(1)
			return
		}
	}
}

// post makes one attempt. It returns nil when the server accepted the
// sighting, else whether to retry and the server's Retry-After.
func (rp *Reporter) post(body []byte, key string) (retry bool, after time.Duration, err error) {
	ctx, cancel := context.WithTimeout(rp.ctx, rp.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rp.url, bytes.NewReader(body))
	if err != nil {
		return false, 0, fmt.Errorf("tokens: sighting request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", rp.auth)
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("User-Agent", "honeyapi-guard")
	resp, err := rp.client.Do(req)
	if err != nil {
		return true, 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return false, 0, nil
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		return true, retryAfter(resp.Header.Get("Retry-After"), time.Now()), fmt.Errorf("tokens: sightings server answered %d", code)
	case code == http.StatusNotImplemented: // a server that takes no sightings
		return false, 0, fmt.Errorf("tokens: sightings server answered %d", code)
	case code >= 500 || code == http.StatusRequestTimeout:
		return true, 0, fmt.Errorf("tokens: sightings server answered %d", code)
	default:
		return false, 0, fmt.Errorf("tokens: sightings server refused the sighting with %d", code)
	}
}

// retryAfter parses a Retry-After value: delay seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), MaxRetryAfter)
	}
	return 0
}

// backoffFor is the wait after a failed attempt: Backoff·2^(attempt-1), at
// most MaxBackoff, drawn from [d/2, d].
func (rp *Reporter) backoffFor(attempt int) time.Duration {
	d := rp.maxBackoff
	if attempt-1 < 32 {
		if x := rp.backoff << (attempt - 1); x > 0 && x < d {
			d = x
		}
	}
	half := d / 2
	return half + mrand.N(d-half+1)
}

func (rp *Reporter) pauseFor(d time.Duration) {
	until := time.Now().Add(d).UnixNano()
	for {
		cur := rp.pause.Load()
		if cur >= until || rp.pause.CompareAndSwap(cur, until) {
			return
		}
	}
}

// waitPause waits out a server's Retry-After; false if the reporter is aborting.
func (rp *Reporter) waitPause() bool {
	for {
		wait := time.Until(time.Unix(0, rp.pause.Load()))
		if wait <= 0 {
			return rp.ctx.Err() == nil
		}
		if !rp.sleep(wait) {
			return false
		}
	}
}

func (rp *Reporter) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-rp.ctx.Done():
		return false
	}
}

// encodeSighting marshals s, shedding headers and then text if escaping
// made it larger than the server accepts.
func encodeSighting(s *Sighting) ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil || len(b) <= MaxSightingBody {
		return b, err
	}
	c := *s
	c.Headers = nil
	if b, err = json.Marshal(&c); err != nil || len(b) <= MaxSightingBody {
		return b, err
	}
	c.Text = clip(c.Text, 8<<10)
	c.Path, c.Query = clip(c.Path, 256), clip(c.Query, 256)
	return json.Marshal(&c)
}

// clientIP is the connection's address, or, from a trusted proxy, the
// rightmost X-Forwarded-For address that is not a trusted proxy.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	addr = addr.Unmap()
	if !inPrefixes(addr, trusted) {
		return addr.String()
	}
	vals := r.Header.Values("X-Forwarded-For")
	for i, hops := len(vals)-1, 0; i >= 0; i-- {
		list := vals[i]
		for list != "" && hops < 32 {
			hops++
			var hop string
			if j := strings.LastIndexByte(list, ','); j >= 0 {
				list, hop = list[:j], list[j+1:]
			} else {
				list, hop = "", list
			}
			a, err := netip.ParseAddr(strings.TrimSpace(hop))
			if err != nil {
				return addr.String() // a malformed hop: trust nothing beyond it
			}
			addr = a.Unmap()
			if !inPrefixes(addr, trusted) {
				return addr.String()
			}
		}
	}
	return addr.String()
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// sightedHeaders copies the request's headers, in r.Header's iteration
// order, bounded. Credentials other than honeytokens are not sent: an
// Authorization or Proxy-Authorization header that carried no hit keeps
// only its scheme ("Bearer [redacted]"), and a cookie that carried no hit
// only its name ("sid=[redacted]"). Other headers are sent as they came.
func sightedHeaders(h http.Header, hits []Hit) []SightedHeader {
	out := make([]SightedHeader, 0, min(len(h), maxSightedHeaders))
	total := 0
	for name, vals := range h {
		for _, v := range vals {
			if len(out) == maxSightedHeaders || total >= maxSightedHeaderBytes {
				return out
			}
			switch {
			case strings.EqualFold(name, "Authorization") || strings.EqualFold(name, "Proxy-Authorization"):
				if !carriedByHeader(hits, name) {
					v = redactAuthorization(v)
				}
			case strings.EqualFold(name, "Cookie"):
				v = redactCookies(clip(v, 4*maxSightedHeaderValue), hits)
			}
			v = clip(v, maxSightedHeaderValue)
			n := clip(name, maxSightedShort)
			out = append(out, SightedHeader{Name: n, Value: v})
			total += len(n) + len(v)
		}
	}
	return out
}

func carriedByHeader(hits []Hit, name string) bool {
	for _, h := range hits {
		if rest, ok := strings.CutPrefix(h.Where, "header "); ok {
			if n, _, _ := strings.Cut(rest, " "); n == name {
				return true
			}
		}
	}
	return false
}

func redactAuthorization(v string) string {
	scheme, _, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return "[redacted]"
	}
	return clip(scheme, 32) + " [redacted]"
}

func redactCookies(v string, hits []Hit) string {
	var b strings.Builder
	for part := range strings.SplitSeq(v, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		name, _, _ := strings.Cut(part, "=")
		if hasWhere(hits, "cookie "+clip(name, 64)) {
			b.WriteString(part)
		} else {
			b.WriteString(name)
			b.WriteString("=[redacted]")
		}
	}
	return b.String()
}

func hasWhere(hits []Hit, where string) bool {
	for _, h := range hits {
		if h.Where == where {
			return true
		}
	}
	return false
}

// hitText finds the text of hit h in the request. With m it returns exactly
// the string m recognised as h's token; without, every credential-bearing
// value at h's place, one per line.
func hitText(m *Minter, r *http.Request, body []byte, h Hit) string {
	t := textFinder{m: m, id: h.ID}
	t.place(r, body, h.Where)
	if t.found == "" && m != nil {
		t.everywhere(r, body) // a place this code does not know yet
	}
	if m != nil {
		return t.found
	}
	return clip(t.all.String(), MaxSightingText)
}

type textFinder struct {
	m     *Minter
	id    ID
	found string
	all   strings.Builder
	seen  int
}

// offer is given each candidate; it returns true when the search is over.
func (t *textFinder) offer(c string) bool {
	if t.seen >= maxTextCandidates {
		return true
	}
	t.seen++
	if len(c) > 4096 {
		c = c[:4096]
	}
	c = strings.TrimSpace(c)
	if c == "" {
		return false
	}
	if t.m == nil {
		if t.all.Len()+len(c)+1 > MaxSightingText {
			return true
		}
		if t.all.Len() > 0 {
			t.all.WriteByte('\n')
		}
		t.all.WriteString(c)
		return false
	}
	if id, _, ok := t.m.Recognize(c); ok && id == t.id {
		t.found = c
		return true
	}
	return false
}

func (t *textFinder) place(r *http.Request, body []byte, where string) {
	switch {
	case strings.HasPrefix(where, "header "):
		name, _, _ := strings.Cut(where[len("header "):], " ")
		auth := strings.EqualFold(name, "Authorization") || strings.EqualFold(name, "Proxy-Authorization")
		for _, v := range r.Header[name] {
			if auth && t.authorization(v) || !auth && t.offer(v) {
				return
			}
		}
	case strings.HasPrefix(where, "cookie "):
		name := where[len("cookie "):]
		for _, c := range r.Cookies() {
			if clip(c.Name, 64) == name && t.offer(c.Value) {
				return
			}
		}
	case strings.HasPrefix(where, "query parameter "):
		if r.URL != nil {
			t.query(r.URL.Query(), where[len("query parameter "):])
		}
	case strings.HasPrefix(where, "form field "):
		vals, _ := url.ParseQuery(string(body)) // the complete fields, even if one is cut
		t.query(vals, where[len("form field "):])
	case strings.HasPrefix(where, "body field "):
		var v any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if dec.Decode(&v) != nil {
			t.text(string(body))
			return
		}
		nodes := 0
		t.jsonPath(v, "$", 0, where[len("body field "):], &nodes)
	case where == "body":
		t.text(string(body))
	case where == "path":
		if r.URL != nil {
			t.pathSegments(r.URL.Path)
		}
	}
}

func (t *textFinder) pathSegments(p string) bool {
	for seg := range strings.SplitSeq(strings.Trim(clip(p, 4096), "/"), "/") {
		if t.offer(seg) {
			return true
		}
	}
	return false
}

func (t *textFinder) query(vals url.Values, name string) {
	for k, vs := range vals {
		if k != name && clip(k, 64) != name {
			continue
		}
		for _, v := range vs {
			if strings.EqualFold(k, "X-Amz-Credential") {
				v, _, _ = strings.Cut(v, "/")
			}
			if t.offer(v) {
				return
			}
		}
	}
}

// authorization offers what Detect looks at in an Authorization value.
func (t *textFinder) authorization(v string) bool {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(clip(v, 8<<10)), " ")
	rest = strings.TrimSpace(rest)
	switch {
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return false
		}
		if t.offer(string(raw)) {
			return true
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		return ok && (t.offer(pass) || t.offer(user))
	case strings.EqualFold(scheme, "AWS4-HMAC-SHA256") || strings.EqualFold(scheme, "AWS4-ECDSA-P256-SHA256"):
		for part := range strings.SplitSeq(rest, ",") {
			k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
			if strings.EqualFold(k, "Credential") {
				id, _, _ := strings.Cut(val, "/")
				if t.offer(id) {
					return true
				}
			}
		}
		return false
	default:
		return rest != "" && t.offer(rest) || t.offer(v)
	}
}

// text offers free text whole and word by word, split as Detect splits it.
func (t *textFinder) text(s string) bool {
	if t.m != nil && t.offer(s) {
		return true
	}
	for w := range strings.FieldsFuncSeq(s, isTextSeparator) {
		if len(w) >= 16 && t.offer(w) {
			return true
		}
	}
	return false
}

func isTextSeparator(r rune) bool {
	return r == ' ' || r == '\n' || r == '\r' || r == '\t' || r == '"' || r == '\'' || r == '=' || r == ',' || r == ';'
}

// jsonPath offers the strings at the JSON path Detect reported (paths are
// built and bounded as Detect builds them).
func (t *textFinder) jsonPath(v any, path string, depth int, want string, nodes *int) bool {
	if *nodes++; *nodes > maxJSONNodes || depth > 32 {
		return true
	}
	switch x := v.(type) {
	case string:
		if clip(path, 128) == want {
			return t.text(x)
		}
	case map[string]any:
		for k, e := range x {
			if t.jsonPath(e, path+"."+clip(k, 64), depth+1, want, nodes) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if t.jsonPath(e, path+"[]", depth+1, want, nodes) {
				return true
			}
		}
	}
	return false
}

// everywhere offers every value of the request (with a Minter only).
func (t *textFinder) everywhere(r *http.Request, body []byte) {
	for name, vals := range r.Header {
		auth := strings.EqualFold(name, "Authorization") || strings.EqualFold(name, "Proxy-Authorization")
		for _, v := range vals {
			if auth && t.authorization(v) || t.text(v) {
				return
			}
		}
	}
	for _, c := range r.Cookies() {
		if t.offer(c.Value) {
			return
		}
	}
	if r.URL != nil {
		if t.pathSegments(r.URL.Path) {
			return
		}
		for k, vs := range r.URL.Query() {
			for _, v := range vs {
				if strings.EqualFold(k, "X-Amz-Credential") {
					v, _, _ = strings.Cut(v, "/")
				}
				if t.offer(v) {
					return
				}
			}
		}
	}
	t.text(string(body))
}

// clip cuts s to at most n bytes, as Detect bounds the names in Hit.Where.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
