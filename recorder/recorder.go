package recorder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/honeyapi/honeyapi/actors"
	"github.com/honeyapi/honeyapi/alerts"
	"github.com/honeyapi/honeyapi/decoys"
	"github.com/honeyapi/honeyapi/fingerprint"
	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/tarpit"
	"github.com/honeyapi/honeyapi/tokens"
)

// Options configure a Recorder.
type Options struct {
	Store    *store.Store
	Tracker  *actors.Tracker
	Listener string         // the listener's name in events, e.g. "decoy"
	Trusted  []netip.Prefix // proxies whose X-Forwarded-For / Forwarded are believed
	// Minter, when set, recognises this deployment's honeytokens in every
	// credential place of a request; an event carrying one is tagged
	// "token_used" and "token:<id>".
	Minter *tokens.Minter
	// Timeout bounds how long a response waits for its event to be
	// committed. Default 10s.
	Timeout time.Duration
	Logger  *zerolog.Logger
	// Alerts, when set, raises the alerts an event calls for; they are
	// committed in the event's transaction (the outbox), and Notify is
	// called after the commit to wake the dispatcher.
	Alerts *alerts.Raiser
	Notify func()
	// Tarpit, when set, decides how each decoy response is delayed from
	// the actor's risk and client family; the decision is recorded with
	// the event (before the first byte is released) and how the wait
	// ended is added when it ends (Store.AmendWait), with the actor's
	// attacker-seconds.
	Tarpit *tarpit.Tarpit
	// OnEvent, when set, is called with every event after it is stored
	// (for metrics).
	OnEvent func(*store.Event)
}

// Recorder records decoy interactions and malformed requests.
type Recorder struct{ opts Options }

// New returns a recorder.
func New(opts Options) *Recorder {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Listener == "" {
		opts.Listener = "decoy"
	}
	return &Recorder{opts: opts}
}

// Record is a decoys.Options.Record function: it builds the event, assigns
// its actor and stores both, returning once the store has committed them
// (strict durability) or queued them (async).
func (rec *Recorder) Record(in *decoys.Interaction) error {
	ev := rec.Event(in)
	actor := rec.opts.Tracker.Observe(ev, in.Credential)
	var plan *tarpit.Plan
	if tp := rec.opts.Tarpit; tp != nil {
		plan = tp.Decide(tarpit.Client{IP: ev.ClientIP, Actor: ev.Actor, Risk: ev.Risk, Family: ev.Client.Family, Tool: ev.Client.Tool}, in.Start)
		ev.Tarpit, ev.DelayMS = string(plan.Mode), ms(plan.Delay)
		var snap *store.Actor
		switch {
		case plan.Mode.Hijacks():
			snap = rec.opts.Tracker.Tarpitted(ev.Actor, 0, 1)
		case plan.Mode == tarpit.Delay:
			// The handler waits for it unless the client leaves first
			// (then OnDone corrects the record).
			ev.WaitedMS, ev.TarpitEnd = ev.DelayMS, tarpit.EndDone
			snap = rec.opts.Tracker.Tarpitted(ev.Actor, plan.Delay, 0)
		}
		if snap != nil {
			actor = snap
		}
	}
	id, err := rec.commit(ev, actor, rec.breadcrumbTokens(in, ev))
	if err != nil {
		plan.Cancel()
		return err
	}
	if plan != nil {
		plan.OnDone = rec.waitDone(id, ev.Actor, plan)
		in.Tarpit = plan
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// waitDone records how a tarpit wait ended: held connections always, an
// in-handler delay only when the client left before it ended.
func (rec *Recorder) waitDone(id store.ID, actor string, plan *tarpit.Plan) func(tarpit.Result) {
	return func(r tarpit.Result) {
		w := store.Wait{Event: id, Mode: string(r.Mode), Waited: r.Waited, End: r.End}
		switch {
		case plan.Mode.Hijacks():
			w.AddTotal = r.Waited
			w.Actor = rec.opts.Tracker.Tarpitted(actor, r.Waited, 0)
		case r.End != tarpit.EndDone:
			w.AddTotal = r.Waited - plan.Delay
			w.Actor = rec.opts.Tracker.Tarpitted(actor, r.Waited-plan.Delay, 0)
		default:
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), rec.opts.Timeout)
		defer cancel()
		if err := rec.opts.Store.AmendWait(ctx, w); err != nil && rec.opts.Logger != nil {
			rec.opts.Logger.Warn().Err(err).Msg("recording how a tarpit wait ended failed")
		}
	}
}

// commit stores the event, its actor, breadcrumb tokens and the alerts
// the event raises in one transaction.
func (rec *Recorder) commit(ev *store.Event, actor *store.Actor, toks []*store.Token) (store.ID, error) {
	ctx, cancel := context.WithTimeout(context.Background(), rec.opts.Timeout)
	defer cancel()
	rec.saveMerged(ctx)
	raised := rec.opts.Alerts.Raise(ev, actor)
	id, err := rec.opts.Store.RecordWithAlerts(ctx, ev, actor, raised, toks...)
	if err == nil && len(raised) > 0 && rec.opts.Notify != nil {
		rec.opts.Notify()
	}
	if err == nil && rec.opts.OnEvent != nil {
		rec.opts.OnEvent(ev)
	}
	return id, err
}

// saveMerged stores actors that were merged into others, so a lookup of
// the old id says where it went.
func (rec *Recorder) saveMerged(ctx context.Context) {
	if m := rec.opts.Tracker.TakeMerged(); len(m) > 0 {
		if err := rec.opts.Store.SaveActors(ctx, m...); err != nil && rec.opts.Logger != nil {
			rec.opts.Logger.Warn().Err(err).Msg("saving merged actors failed")
		}
	}
}

// Event builds the stored event for an interaction.
func (rec *Recorder) Event(in *decoys.Interaction) *store.Event {
	r := in.Request
	c := fingerprint.FromRequest(r)
	ev := &store.Event{
		Time:      in.Start,
		Kind:      "request",
		Listener:  rec.opts.Listener,
		Remote:    r.RemoteAddr,
		ClientIP:  fingerprint.ClientIP(r, rec.opts.Trusted),
		Proto:     r.Proto,
		Method:    r.Method,
		Host:      r.Host,
		Path:      r.URL.Path,
		Query:     r.URL.RawQuery,
		Document:  in.Document,
		Operation: in.Operation,
		Status:    in.Status,
		RespBytes: in.RespBytes,
		ServeMS:   float64(time.Since(in.Start).Microseconds()) / 1000,
		Tags:      append([]string(nil), in.Tags...),
	}
	if c.Proto != "" {
		ev.Proto = c.Proto
	}
	ev.RawHead = c.RawHead
	ev.Headers = wireHeaders(c, r)
	if c.Note != "" {
		ev.Note = c.Note
	}
	setBody(ev, in.Body, in.BodyLen)
	setClient(ev, c, r.UserAgent())
	if rec.opts.Minter != nil {
		tagHits(ev, rec.opts.Minter.Detect(r, in.Body))
	}
	return ev
}

// TagTokenUsed marks an event in which a honeytoken was presented.
const TagTokenUsed = "token_used"

// Malformed is a fingerprint.ListenerOptions.OnMalformed function: bytes
// that Go's server rejects without calling a handler still become events.
// They are queued without waiting: no response depends on them.
func (rec *Recorder) Malformed(c *fingerprint.Capture, reason string) {
	ev := &store.Event{
		Time:     time.Now(),
		Kind:     "malformed",
		Listener: rec.opts.Listener,
		Remote:   c.Remote,
		Proto:    c.Proto,
		RawHead:  c.RawHead,
		Note:     reason,
	}
	if ap, err := netip.ParseAddrPort(c.Remote); err == nil {
		ev.ClientIP = ap.Addr().Unmap().String()
	}
	if method, target, _, headers, err := fingerprint.ParseHead(c.RawHead); err == nil {
		ev.Method, ev.Path = method, target
		for _, h := range headers {
			ev.Headers = append(ev.Headers, store.Header{Name: h.Name, Value: h.Value})
		}
	} else {
		// Keep what can be read: the request line, and the headers the
		// capture parsed.
		line, _, _ := strings.Cut(string(c.RawHead), "\n")
		if f := strings.Fields(strings.TrimSuffix(line, "\r")); len(f) == 3 && strings.HasPrefix(f[2], "HTTP/") {
			ev.Method, ev.Path = f[0], f[1]
		}
		for _, h := range c.Headers {
			ev.Headers = append(ev.Headers, store.Header{Name: h.Name, Value: h.Value})
		}
	}
	ua := ""
	for _, h := range ev.Headers {
		if http.CanonicalHeaderKey(h.Name) == "User-Agent" {
			ua = h.Value
		}
	}
	setClient(ev, c, ua)
	actor := rec.opts.Tracker.Observe(ev, "")
	if _, err := rec.commit(ev, actor, nil); err != nil && rec.opts.Logger != nil {
		rec.opts.Logger.Error().Err(err).Msg("recording a malformed request failed")
	}
}

func setBody(ev *store.Event, body []byte, n int64) {
	if len(body) == 0 {
		return
	}
	sum := sha256.Sum256(body)
	ev.Body = body
	ev.BodyLen = n
	if ev.BodyLen < int64(len(body)) {
		ev.BodyLen = int64(len(body))
	}
	// The hash is of what was read; BodyLen says when that was not all.
	ev.BodySHA256 = hex.EncodeToString(sum[:])
}

func setClient(ev *store.Event, c *fingerprint.Capture, ua string) {
	if c.TLS != nil {
		ev.TLS = &store.TLS{
			Version: c.TLS.Version,
			Cipher:  c.TLS.CipherSuite,
			SNI:     c.TLS.SNI,
			ALPN:    c.TLS.ALPN,
			JA3:     c.TLS.JA3,
			JA3Hash: c.TLS.JA3Hash,
			JA4:     c.TLS.JA4,
		}
	}
	cl := fingerprint.Classify(c, ua)
	uap := fingerprint.ParseUserAgent(ua)
	hdrs := c.Headers
	if len(hdrs) == 0 {
		for _, h := range ev.Headers {
			hdrs = append(hdrs, fingerprint.Header{Name: h.Name, Value: h.Value})
		}
	}
	ev.Client = store.Client{
		HeaderFP:  fingerprint.HeaderFingerprint(hdrs),
		UserAgent: ua,
		UAFamily:  uap.Family,
		Family:    cl.Family,
		Tool:      cl.Tool,
		Claimed:   cl.Claimed,
		Mismatch:  cl.Mismatch,
		Reasons:   cl.Reasons,
	}
}

// wireHeaders are the request's headers in wire order when the capture
// listener saw them, else as Go parsed them.
func wireHeaders(c *fingerprint.Capture, r *http.Request) []store.Header {
	if len(c.Headers) == 0 {
		return headersOf(r)
	}
	out := make([]store.Header, len(c.Headers))
	for i, h := range c.Headers {
		out[i] = store.Header{Name: h.Name, Value: h.Value}
	}
	return out
}

// headersOf lists headers for requests that did not come through the
// capture listener (their wire order is unknown).
func headersOf(r *http.Request) []store.Header {
	var out []store.Header
	if r.Host != "" {
		out = append(out, store.Header{Name: "Host", Value: r.Host})
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			out = append(out, store.Header{Name: k, Value: v})
		}
	}
	return out
}
