package tokens

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// GuardAction is what the guard does with a request that carries a honeytoken.
type GuardAction int

const (
	// GuardObserve (the default) reports the hit and lets the real API answer
	// exactly as it would without the guard.
	GuardObserve GuardAction = iota
	// GuardDeny answers with GuardConfig.DenyHandler, or a minimal 401
	// {"message":"Bad credentials"}; the real handler is not called.
	GuardDeny
	// GuardDivert hands the request (body intact) to GuardConfig.Divert, for
	// example a honeyapi decoy, so the attacker keeps talking to a decoy; the
	// real handler is not called.
	GuardDivert
)

func (a GuardAction) String() string {
	switch a {
	case GuardObserve:
		return "observe"
	case GuardDeny:
		return "deny"
	case GuardDivert:
		return "divert"
	}
	return fmt.Sprintf("GuardAction(%d)", int(a))
}

// DefaultGuardMaxBody is how much of a request body the guard inspects by default.
const DefaultGuardMaxBody = 64 << 10

// maxGuardBody caps GuardConfig.MaxBody: Detect looks at no more than 1 MiB
// of a body, so reading more would only delay the real handler.
const maxGuardBody = 1 << 20

// GuardConfig configures the honeytoken guard in front of a real API (see
// Guard, GuardWithConfig and GuardHandler).
type GuardConfig struct {
	// Skipper returns true for requests the guard must not look at (Echo
	// middleware only: its type is Echo's middleware.Skipper, spelled out so
	// that this package does not import echo/v4/middleware; GuardHandler
	// ignores it: wrap only the handlers to guard). Default: none skipped.
	Skipper func(c echo.Context) bool

	// Minter recognises the deployment's honeytokens. Required.
	Minter *Minter

	// OnHit, when set, is called synchronously, before the Action is
	// taken, for every request carrying at least one honeytoken. body is
	// the inspected prefix of the request body (nil if none was read); it is
	// what the real handler will read first, so OnHit must not modify it.
	// Keep OnHit fast: the request waits for it. Default none.
	OnHit func(r *http.Request, body []byte, hits []Hit)

	// Reporter, when set, is given every hit (after OnHit) and sends
	// sightings to a honeyapi server in the background; it never delays the
	// request. Default none.
	Reporter *Reporter

	// Action is what happens to a request that carries a honeytoken.
	// Default GuardObserve.
	Action GuardAction

	// DenyHandler answers denied requests (Action GuardDeny). Default: status
	// 401, Content-Type application/json; charset=utf-8, body
	// {"message":"Bad credentials"}.
	DenyHandler http.Handler

	// Divert receives the requests that carry a honeytoken when Action is
	// GuardDivert, with their bodies intact. Required for GuardDivert.
	Divert http.Handler

	// MaxBody is how many bytes of a request body are inspected. Bodies are
	// read only when their Content-Type is JSON (any media type containing
	// "json"), application/x-www-form-urlencoded, text/*, or absent, and
	// their Content-Encoding is absent or identity. The real handler reads
	// the same bytes, followed by the rest of the body streamed from the
	// client, with ContentLength unchanged. Default DefaultGuardMaxBody
	// (64 KiB); at most 1 MiB; negative: bodies are not inspected.
	MaxBody int64
}

// DefaultGuardConfig is the configuration Guard uses, apart from the Minter.
var DefaultGuardConfig = GuardConfig{
	Skipper: func(echo.Context) bool { return false },
	Action:  GuardObserve,
	MaxBody: DefaultGuardMaxBody,
}

// Guard returns Echo middleware that finds this deployment's honeytokens in
// requests to a real API, with DefaultGuardConfig: it observes only (set
// OnHit or a Reporter with GuardWithConfig to hear of hits).
//
// The guard runs Minter.Detect on every request: the Authorization header
// and every other header, cookies, query parameters, and the first MaxBody
// bytes of a JSON, form or text body (a body cut there is searched as text,
// or up to its last complete form field). Detect bounds its own work (512
// values, 4 KiB each, 32 levels of JSON), so the guard's cost does not grow
// with what an attacker sends; the one wait it can add is for the client to
// send the first MaxBody bytes of an inspected body, which the real handler
// would wait for too. A request with no honeytoken reaches the real handler
// unchanged; a panic inside detection lets the request through unchecked.
func Guard(m *Minter) echo.MiddlewareFunc {
	cfg := DefaultGuardConfig
	cfg.Minter = m
	return GuardWithConfig(cfg)
}

// GuardWithConfig returns the guard as Echo middleware. It panics, as Echo's
// middleware constructors do, when the configuration cannot work: no
// Minter, GuardDivert without Divert, or an unknown Action.
func GuardWithConfig(cfg GuardConfig) echo.MiddlewareFunc {
	g := newGuard(cfg)
	skip := cfg.Skipper
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if skip != nil && skip(c) {
				return next(c)
			}
			if h := g.check(c.Request()); h != nil {
				h.ServeHTTP(c.Response(), c.Request())
				return nil
			}
			return next(c)
		}
	}
}

// GuardHandler is the guard for net/http: it inspects each request and then
// calls next, or the deny or divert handler. GuardConfig.Skipper is not used.
// It panics on the configurations GuardWithConfig panics on.
func GuardHandler(cfg GuardConfig, next http.Handler) http.Handler {
	if next == nil {
		panic("tokens: GuardHandler needs a next handler")
	}
	return &guardHandler{g: newGuard(cfg), next: next}
}

type guardHandler struct {
	g    *guard
	next http.Handler
}

var _ http.Handler = (*guardHandler)(nil)

func (h *guardHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if x := h.g.check(r); x != nil {
		x.ServeHTTP(w, r)
		return
	}
	h.next.ServeHTTP(w, r)
}

// guard is the core shared by the Echo and net/http forms; it only knows
// net/http types.
type guard struct {
	m        *Minter
	onHit    func(*http.Request, []byte, []Hit)
	reporter *Reporter
	action   http.Handler // nil for GuardObserve
	maxBody  int64
}

func newGuard(cfg GuardConfig) *guard {
	if cfg.Minter == nil {
		panic("tokens: the guard needs GuardConfig.Minter")
	}
	g := &guard{m: cfg.Minter, onHit: cfg.OnHit, reporter: cfg.Reporter, maxBody: cfg.MaxBody}
	switch {
	case g.maxBody == 0:
		g.maxBody = DefaultGuardMaxBody
	case g.maxBody > maxGuardBody:
		g.maxBody = maxGuardBody
	}
	switch cfg.Action {
	case GuardObserve:
	case GuardDeny:
		g.action = cfg.DenyHandler
		if g.action == nil {
			g.action = http.HandlerFunc(denyBadCredentials)
		}
	case GuardDivert:
		if cfg.Divert == nil {
			panic("tokens: GuardDivert needs GuardConfig.Divert")
		}
		g.action = cfg.Divert
	default:
		panic("tokens: unknown " + cfg.Action.String())
	}
	return g
}

var badCredentials = []byte(`{"message":"Bad credentials"}` + "\n")

func denyBadCredentials(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write(badCredentials)
}

// check inspects r (restoring its body) and returns the handler that must
// answer instead of the real one, or nil to go on to the real handler.
func (g *guard) check(r *http.Request) http.Handler {
	if r.URL == nil { // not a server request; nothing to inspect
		return nil
	}
	body, truncated := g.readBody(r)
	hits := g.detectSafely(r, body, truncated)
	if len(hits) == 0 {
		return nil
	}
	if g.onHit != nil {
		g.onHit(r, body, hits)
	}
	if g.reporter != nil {
		g.reporter.report(r, body, hits, g.m)
	}
	return g.action
}

// detectSafely fails open: a bug in detection must not take the real API
// down with it. The panic is logged through the Reporter's logger, if any.
func (g *guard) detectSafely(r *http.Request, body []byte, truncated bool) (hits []Hit) {
	defer func() {
		if v := recover(); v != nil {
			hits = nil
			if g.reporter != nil {
				g.reporter.log.Error().Str("panic", clip(fmt.Sprint(v), 256)).Msg("tokens: Detect panicked; the request went on unchecked")
			}
		}
	}()
	return g.detect(r, body, truncated)
}

// detect runs Detect on the request and the inspected body. A body cut at
// MaxBody is no longer a valid JSON document (and a form may end in half a
// field), so a cut JSON body is searched as text and a cut form up to its
// last complete field.
func (g *guard) detect(r *http.Request, body []byte, truncated bool) []Hit {
	if !truncated || len(body) == 0 {
		return g.m.Detect(r, body)
	}
	ct := r.Header.Get("Content-Type")
	switch {
	case isForm(ct):
		if i := bytes.LastIndexByte(body, '&'); i >= 0 {
			body = body[:i]
		}
		return g.m.Detect(r, body)
	case containsFold(ct, "json"):
		hits := g.m.Detect(r, nil)
		asText := &http.Request{Method: r.Method, URL: &url.URL{}, Header: http.Header{"Content-Type": {"text/plain"}}}
		for _, h := range g.m.Detect(asText, body) {
			if !hasHit(hits, h.ID) {
				hits = append(hits, h)
			}
		}
		return hits
	default:
		return g.m.Detect(r, body)
	}
}

func hasHit(hits []Hit, id ID) bool {
	for _, h := range hits {
		if h.ID == id {
			return true
		}
	}
	return false
}

// readBody reads up to maxBody bytes of an inspectable body and puts back a
// body that yields exactly the same bytes, then the rest from the client,
// then the same end (EOF or error) the original would have given.
// truncated reports that the body may go on beyond what was read.
func (g *guard) readBody(r *http.Request) (body []byte, truncated bool) {
	if g.maxBody <= 0 || r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 || !inspectable(r.Header) {
		return nil, false
	}
	limit := g.maxBody
	if r.ContentLength > 0 && r.ContentLength < limit {
		limit = r.ContentLength
	}
	var buf []byte
	if r.ContentLength > 0 {
		buf = make([]byte, 0, limit)
	} else {
		buf = make([]byte, 0, min(limit, 4<<10)) // unknown length: grow as bytes arrive
	}
	var err error
	for stalls := 0; int64(len(buf)) < limit && err == nil; {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(2*int64(cap(buf)), limit))
			copy(grown, buf)
			buf = grown
		}
		var n int
		n, err = r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if n == 0 && err == nil {
			if stalls++; stalls > 100 { // a Reader that neither reads nor fails
				break
			}
		}
	}
	r.Body = &replayBody{buf: buf, end: err, rest: r.Body}
	if err != nil {
		return buf, false
	}
	return buf, r.ContentLength < 0 || int64(len(buf)) < r.ContentLength
}

// replayBody gives back the inspected prefix of a body, then the rest.
type replayBody struct {
	buf  []byte
	off  int
	end  error // how reading the prefix ended (io.EOF or an error); nil: more to read
	rest io.ReadCloser
}

func (b *replayBody) Read(p []byte) (int, error) {
	if b.off < len(b.buf) {
		n := copy(p, b.buf[b.off:])
		b.off += n
		return n, nil
	}
	if b.end != nil {
		return 0, b.end
	}
	return b.rest.Read(p)
}

func (b *replayBody) Close() error { return b.rest.Close() }

// inspectable reports whether the body's Content-Type and Content-Encoding
// are ones the guard reads. An absent Content-Type counts: scripts often
// POST JSON or form data without one.
func inspectable(h http.Header) bool {
	if ce := h["Content-Encoding"]; len(ce) > 0 {
		for _, v := range ce {
			if v = strings.TrimSpace(v); v != "" && !strings.EqualFold(v, "identity") {
				return false
			}
		}
	}
	ct := h["Content-Type"]
	if len(ct) == 0 {
		return true
	}
	mt := ct[0]
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	mt = strings.TrimSpace(mt)
	return mt == "" || containsFold(mt, "json") || isForm(mt) || hasPrefixFold(mt, "text/")
}

func isForm(ct string) bool { return hasPrefixFold(ct, "application/x-www-form-urlencoded") }

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// containsFold reports whether s contains the lowercase ASCII word sub,
// ignoring case, without allocating.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
