package decoys

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// RateLimit makes the decoys announce and enforce a rate limit per client,
// like the API they imitate: every response carries the limit in the
// document's style, and a client past it gets 429 with Retry-After until
// its window resets.
type RateLimit struct {
	// Limit requests per Window; 0 disables rate limiting.
	Limit  int
	Window time.Duration
	// Style overrides how the limit is announced: "x-ratelimit", "github",
	// "gitlab", "ietf", "vault" or "none". Empty means the template's own
	// style, else "x-ratelimit".
	Style string
	// MaxClients bounds the clients tracked (default 100,000); past it new
	// clients are not limited.
	MaxClients int
}

type rlEntry struct {
	start time.Time
	n     int
	told  bool // a 429 was answered in this window
}

// limiter counts requests per client in fixed windows that start at the
// client's first request, as GitHub's and GitLab's limits do.
type limiter struct {
	cfg       RateLimit
	mu        sync.Mutex
	m         map[string]*rlEntry
	lastSweep time.Time
}

func newLimiter(cfg RateLimit) *limiter {
	if cfg.Limit <= 0 {
		return nil
	}
	if cfg.Window <= 0 {
		cfg.Window = time.Minute
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = 100_000
	}
	return &limiter{cfg: cfg, m: map[string]*rlEntry{}}
}

// rlState is what one request learned from the limiter.
type rlState struct {
	limit, remaining int
	reset            time.Time
	limited          bool // over the limit: answer 429
	ignored          bool // already told to wait in this window
}

func (l *limiter) take(key string, now time.Time) rlState {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.m[key]
	if e == nil {
		if len(l.m) >= l.cfg.MaxClients {
			l.sweep(now)
		}
		if len(l.m) >= l.cfg.MaxClients {
			return rlState{limit: l.cfg.Limit, remaining: l.cfg.Limit - 1, reset: now.Add(l.cfg.Window)}
		}
		e = &rlEntry{start: now}
		l.m[key] = e
	}
	if now.Sub(e.start) >= l.cfg.Window {
		*e = rlEntry{start: now}
	}
	st := rlState{limit: l.cfg.Limit, reset: e.start.Add(l.cfg.Window)}
	if e.n < l.cfg.Limit {
		e.n++
		st.remaining = l.cfg.Limit - e.n
		return st
	}
	st.limited, st.ignored = true, e.told
	e.told = true
	return st
}

// sweep forgets clients whose window has passed, at most once a second so
// a flood of new clients cannot make every request scan the table.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < time.Second {
		return
	}
	l.lastSweep = now
	for k, e := range l.m {
		if now.Sub(e.start) >= l.cfg.Window {
			delete(l.m, k)
		}
	}
}

// retryAfter is the whole seconds until the window resets (at least 1).
func (st rlState) retryAfter(now time.Time) int {
	s := int((st.reset.Sub(now) + time.Second - 1) / time.Second)
	return max(s, 1)
}

// setRateHeaders announces the limit in the style of the API imitated.
func setRateHeaders(h http.Header, style string, st rlState, now time.Time) {
	set := func(k, v string) { h[k] = []string{v} }
	epoch := strconv.FormatInt(st.reset.Unix(), 10)
	delta := strconv.Itoa(st.retryAfter(now))
	limit, remaining := strconv.Itoa(st.limit), strconv.Itoa(st.remaining)
	switch style {
	case "none":
	case "github":
		set("X-Ratelimit-Limit", limit)
		set("X-Ratelimit-Remaining", remaining)
		set("X-Ratelimit-Reset", epoch)
		set("X-Ratelimit-Resource", "core")
		set("X-Ratelimit-Used", strconv.Itoa(st.limit-st.remaining))
	case "gitlab":
		set("Ratelimit-Limit", limit)
		set("Ratelimit-Name", "throttle_authenticated_api")
		set("Ratelimit-Observed", strconv.Itoa(st.limit-st.remaining))
		set("Ratelimit-Remaining", remaining)
		set("Ratelimit-Reset", epoch)
		set("Ratelimit-Resettime", st.reset.UTC().Format(http.TimeFormat))
	case "ietf":
		set("Ratelimit-Limit", limit)
		set("Ratelimit-Remaining", remaining)
		set("Ratelimit-Reset", delta)
	case "vault":
		set("X-Ratelimit-Limit", limit)
		set("X-Ratelimit-Remaining", remaining)
		set("X-Ratelimit-Reset", delta)
	default:
		set("X-Ratelimit-Limit", limit)
		set("X-Ratelimit-Remaining", remaining)
		set("X-Ratelimit-Reset", epoch)
	}
}
