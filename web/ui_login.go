package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// loginView is the body of the login page.
type loginView struct {
	CSRF  string
	Next  string
	Error string
	// PlainHTTP warns that the browser will not keep the Secure session
	// cookie: the page came over plain HTTP from a host that is not
	// loopback.
	PlainHTTP bool
}

// maxLoginForm bounds the login form's body.
const maxLoginForm = 8 << 10

// loginForm shows the login form, with a fresh pre-session CSRF token.
func (u *ui) loginForm(w http.ResponseWriter, r *http.Request) {
	if u.session(r) != nil {
		http.Redirect(w, r, u.next(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	u.showLogin(w, r, http.StatusOK, r.URL.Query().Get("next"), "")
}

func (u *ui) showLogin(w http.ResponseWriter, r *http.Request, status int, next, msg string) {
	nonce, tok, err := u.newLoginToken(u.now())
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	setCookie(w, loginCookie, nonce, "/ui/login", int(loginFormTTL/1e9))
	if !safeNext(next) {
		next = ""
	}
	u.render(w, r, status, "login", nil, "Log in", "", loginView{CSRF: tok, Next: next, Error: msg, PlainHTTP: plainHTTP(r)})
}

// plainHTTP reports whether r came over plain HTTP to a host other than
// loopback, where browsers drop Secure cookies.
func plainHTTP(r *http.Request) bool {
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return false
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err != nil || !ip.IsLoopback()
}

func (u *ui) next(next string) string {
	if safeNext(next) {
		return next
	}
	return "/ui/"
}

// login checks the admin token posted by the login form.
func (u *ui) login(w http.ResponseWriter, r *http.Request) {
	now := u.now()
	if !sameOrigin(r) {
		u.refuse(r, "cross-site login")
		u.fail(w, r, nil, http.StatusForbidden, "The login form did not come from this dashboard.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginForm)
	if err := r.ParseForm(); err != nil || !u.checkLoginToken(r, r.PostForm.Get("csrf"), now) {
		u.refuse(r, "login without a valid CSRF token")
		u.fail(w, r, nil, http.StatusForbidden, "The login form expired or did not come from this dashboard: reload it and try again.")
		return
	}
	next := r.PostForm.Get("next")
	ip := clientIP(r)
	if wait := u.limiter.admit(ip, now); wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		if u.a.opts.Logger != nil {
			u.a.opts.Logger.Warn().Str("remote", r.RemoteAddr).Int("retry_after_s", secs).Msg("dashboard login refused: too many failures, slowed down")
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		u.showLogin(w, r, http.StatusTooManyRequests, next, "Too many failed logins: wait "+strconv.Itoa(secs)+"s and try again.")
		return
	}
	got := sha256.Sum256([]byte(r.PostForm.Get("token")))
	if subtle.ConstantTimeCompare(got[:], u.a.token[:]) != 1 {
		u.limiter.fail(ip, now)
		if u.a.opts.Logger != nil {
			u.a.opts.Logger.Warn().Str("remote", r.RemoteAddr).Msg("dashboard login refused: wrong admin token")
		}
		u.showLogin(w, r, http.StatusUnauthorized, next, "That is not the admin token.")
		return
	}
	u.limiter.succeed(ip)
	if old, err := r.Cookie(sessionCookie); err == nil {
		u.sessions.end(sha256.Sum256([]byte(old.Value)))
	}
	value, _, err := u.sessions.create(now)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	setCookie(w, sessionCookie, value, "/", int(sessionMax/1e9))
	setCookie(w, loginCookie, "", "/ui/login", -1)
	if u.a.opts.Logger != nil {
		u.a.opts.Logger.Info().Str("remote", r.RemoteAddr).Msg("dashboard login")
	}
	http.Redirect(w, r, u.next(next), http.StatusSeeOther)
}

// logout ends the session.
func (u *ui) logout(w http.ResponseWriter, r *http.Request, sess *session) {
	u.sessions.end(sess.key)
	setCookie(w, sessionCookie, "", "/", -1)
	http.Redirect(w, r, "/ui/login?msg=logged_out", http.StatusSeeOther)
}
