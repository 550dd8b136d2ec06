package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Dashboard sessions, CSRF tokens and the login throttle.

const (
	// sessionCookie names the dashboard's session cookie, loginCookie the
	// pre-session cookie that pairs with the login form's CSRF token.
	sessionCookie = "honeyapi_session"
	loginCookie   = "honeyapi_login"

	// sessionIdle and sessionMax end a session after an hour without a
	// request, and twelve hours after login whatever happens.
	sessionIdle = time.Hour
	sessionMax  = 12 * time.Hour
	// maxSessions bounds the session table; the least recently used
	// session makes room for a new one.
	maxSessions = 256
	// loginFormTTL is how long a login form stays usable.
	loginFormTTL = time.Hour
)

// session is one logged-in browser. Its copy is handed to handlers.
type session struct {
	key     [sha256.Size]byte // SHA-256 of the cookie value
	csrf    string
	created time.Time
	seen    time.Time
}

// checkCSRF compares a form's token with the session's in constant time.
func (s *session) checkCSRF(got string) bool {
	if got == "" || s.csrf == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(s.csrf))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// sessionTable is the server-side table of sessions, keyed by the SHA-256
// of the cookie value (the cookie itself is never kept).
type sessionTable struct {
	mu  sync.Mutex
	m   map[[sha256.Size]byte]*session
	max int
}

func newSessionTable(max int) *sessionTable {
	return &sessionTable{m: map[[sha256.Size]byte]*session{}, max: max}
}

// randomToken returns n random bytes as unpadded base64url.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// create starts a session and returns the cookie value for it.
func (t *sessionTable) create(now time.Time) (string, *session, error) {
	value, err := randomToken(32)
	if err != nil {
		return "", nil, err
	}
	csrf, err := randomToken(32)
	if err != nil {
		return "", nil, err
	}
	s := &session{key: sha256.Sum256([]byte(value)), csrf: csrf, created: now, seen: now}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) >= t.max {
		t.expire(now)
	}
	for len(t.m) >= t.max {
		var oldest *session
		for _, x := range t.m {
			if oldest == nil || x.seen.Before(oldest.seen) {
				oldest = x
			}
		}
		delete(t.m, oldest.key)
	}
	t.m[s.key] = s
	c := *s
	return value, &c, nil
}

// expire drops ended sessions; t.mu is held.
func (t *sessionTable) expire(now time.Time) {
	for k, s := range t.m {
		if !s.live(now) {
			delete(t.m, k)
		}
	}
}

func (s *session) live(now time.Time) bool {
	return now.Sub(s.seen) < sessionIdle && now.Sub(s.created) < sessionMax
}

// get returns the live session of a cookie value, marking it used.
func (t *sessionTable) get(value string, now time.Time) *session {
	if value == "" || len(value) > 128 {
		return nil
	}
	k := sha256.Sum256([]byte(value))
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.m[k]
	if s == nil {
		return nil
	}
	if !s.live(now) {
		delete(t.m, k)
		return nil
	}
	s.seen = now
	c := *s
	return &c
}

// end removes a session.
func (t *sessionTable) end(key [sha256.Size]byte) {
	t.mu.Lock()
	delete(t.m, key)
	t.mu.Unlock()
}

func (t *sessionTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// session returns r's live session, or nil.
func (u *ui) session(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	return u.sessions.get(c.Value, u.now())
}

// setCookie sets a dashboard cookie: Secure, HttpOnly, SameSite=Strict.
// Browsers keep Secure cookies from http://127.0.0.1 and http://localhost
// (potentially trustworthy origins), the admin listener's default.
func setCookie(w http.ResponseWriter, name, value, path string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// sameOrigin reports whether a POST may have come from the dashboard's own
// pages: browsers that send Sec-Fetch-Site must say same-origin (or none,
// for a request the user made themselves), and an Origin header must name
// this host. "Origin: null" (sent under a no-referrer policy, and by
// sandboxed frames) passes only when Sec-Fetch-Site vouches for it.
func sameOrigin(r *http.Request) bool {
	site := r.Header.Get("Sec-Fetch-Site")
	switch site {
	case "", "same-origin", "none":
	default:
		return false
	}
	origin := r.Header.Get("Origin")
	switch origin {
	case "":
		return true
	case "null":
		return site == "same-origin"
	}
	o, err := url.Parse(origin)
	if err != nil || (o.Scheme != "http" && o.Scheme != "https") || o.Host == "" {
		return false
	}
	return strings.EqualFold(o.Host, r.Host)
}

// The login form's CSRF token is a signed, expiring nonce that must match
// the nonce in the loginCookie (double submit): a page on another site can
// neither read the cookie nor forge the signature.

// newLoginToken returns a fresh nonce (for the cookie) and the form token.
func (u *ui) newLoginToken(now time.Time) (nonce, token string, err error) {
	nonce, err = randomToken(18)
	if err != nil {
		return "", "", err
	}
	exp := strconv.FormatInt(now.Add(loginFormTTL).Unix(), 10)
	return nonce, nonce + "." + exp + "." + u.signLogin(nonce, exp), nil
}

func (u *ui) signLogin(nonce, exp string) string {
	m := hmac.New(sha256.New, u.loginKey)
	m.Write([]byte("honeyapi-login\x00" + nonce + "\x00" + exp))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkLoginToken verifies a login form's token against the cookie.
func (u *ui) checkLoginToken(r *http.Request, token string, now time.Time) bool {
	c, err := r.Cookie(loginCookie)
	if err != nil || c.Value == "" || len(token) > 256 {
		return false
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	nonce, exp, sig := parts[0], parts[1], parts[2]
	if !hmac.Equal([]byte(sig), []byte(u.signLogin(nonce, exp))) {
		return false
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || now.Unix() > n {
		return false
	}
	a, b := sha256.Sum256([]byte(nonce)), sha256.Sum256([]byte(c.Value))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// The login throttle: every failed login makes the next attempt from the
// same client IP, and from anywhere, wait 1s, 2s, 4s … up to a minute.
// Attempts during the wait are answered 429 without looking at the token;
// an admitted attempt holds the slot until it is judged, so a burst of
// parallel guesses gets one try.

const (
	loginWaitMax = time.Minute
	// loginForget resets a failure count after this long without failures.
	loginForget = time.Hour
	// maxLoginIPs bounds the per-IP table.
	maxLoginIPs = 4096
)

// loginDelay is the wait after n consecutive failures.
func loginDelay(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	if n > 7 {
		return loginWaitMax
	}
	return min(time.Second<<(n-1), loginWaitMax)
}

type backoff struct {
	fails int
	last  time.Time // of the last failure
	// held is set while an admitted attempt is being judged.
	held time.Time
}

func (b *backoff) until(now time.Time) time.Time {
	if b.fails > 0 && now.Sub(b.last) > loginForget {
		b.fails = 0
	}
	t := b.held
	if b.fails > 0 {
		if p := b.last.Add(loginDelay(b.fails)); p.After(t) {
			t = p
		}
	}
	return t
}

type loginLimiter struct {
	mu     sync.Mutex
	ips    map[string]*backoff
	global backoff
}

func newLoginLimiter() *loginLimiter { return &loginLimiter{ips: map[string]*backoff{}} }

// admit returns how long ip must still wait, or 0 after reserving the
// attempt (which fail or succeed must then release).
func (l *loginLimiter) admit(ip string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.ips[ip]
	if b == nil {
		if len(l.ips) >= maxLoginIPs {
			l.prune(now)
		}
		b = &backoff{}
		l.ips[ip] = b
	}
	wait := max(b.until(now).Sub(now), l.global.until(now).Sub(now))
	if wait > 0 {
		return wait
	}
	hold := now.Add(loginWaitMax)
	b.held, l.global.held = hold, hold
	return 0
}

// prune drops the per-IP entries that no longer slow anyone down, and
// then, if the table is still full, arbitrary ones (the global backoff
// still applies to their IPs); l.mu is held.
func (l *loginLimiter) prune(now time.Time) {
	for ip, b := range l.ips {
		if !b.until(now).After(now) && b.held.IsZero() && (b.fails == 0 || now.Sub(b.last) > loginWaitMax) {
			delete(l.ips, ip)
		}
	}
	for ip := range l.ips {
		if len(l.ips) < maxLoginIPs {
			break
		}
		delete(l.ips, ip)
	}
}

// fail records a failed attempt by ip.
func (l *loginLimiter) fail(ip string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range []*backoff{l.ips[ip], &l.global} {
		if b == nil {
			continue
		}
		b.until(now) // forgets old failures
		b.fails++
		b.last, b.held = now, time.Time{}
	}
}

// succeed clears ip's failures and releases the global slot.
func (l *loginLimiter) succeed(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.ips, ip)
	l.global.held = time.Time{}
}

// clientIP is the peer address of r: the admin listener trusts no proxy
// header, so a client cannot pick its own throttle bucket.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
