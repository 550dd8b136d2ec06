package web

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// The dashboard: server-rendered pages under /ui/ on the admin listener,
// behind a login form and a session cookie (the admin JSON API keeps its
// bearer token). Templates and static assets are embedded and parsed once
// when the admin handler is built; every response carries a strict
// Content-Security-Policy, so the pages run no inline script or style and
// charts are plain SVG.

//go:embed ui/templates/*.html ui/static/*
var uiFiles embed.FS

// uiCSP is the Content-Security-Policy of every dashboard response.
const uiCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// uiPageSize is the number of rows on one page of a dashboard list.
const uiPageSize = 50

// ui holds the dashboard's state: parsed templates, static assets, the
// session table and the login throttle. One exists per Admin; its handlers
// are registered on the admin mux by uiRoutes.
type ui struct {
	a        *Admin
	pages    map[string]*template.Template
	static   map[string]staticFile
	cssURL   string
	sessions *sessionTable
	limiter  *loginLimiter
	// loginKey signs the login form's CSRF tokens.
	loginKey []byte
	now      func() time.Time
}

// staticFile is one embedded asset, served under a URL holding its digest
// so it can be cached for ever.
type staticFile struct {
	data  []byte
	ctype string
	sum   string
}

// uiRoutes parses the dashboard's templates and registers its routes. It
// fails when a template does not parse, so a broken dashboard stops the
// server at start-up rather than on a click.
func (a *Admin) uiRoutes() error {
	u, err := newUI(a)
	if err != nil {
		return err
	}
	h := func(pattern string, fn http.HandlerFunc) { a.mux.Handle(pattern, u.secure(fn)) }

	// "/" sends browsers to the dashboard; API clients get what the
	// catch-all gives them (401 without the token, else 404).
	rootAPI := a.auth(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such admin route")
	})
	a.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if wantsHTML(r) {
			u.secure(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/ui/", http.StatusSeeOther)
			})(w, r)
			return
		}
		rootAPI.ServeHTTP(w, r)
	})

	h("GET /ui/static/{sum}/{name}", u.serveStatic)
	h("GET /ui/login", u.loginForm)
	h("POST /ui/login", u.login)
	h("POST /ui/logout", u.action(u.logout))

	h("GET /ui/{$}", u.page(u.overview))
	h("GET /ui/events", u.page(u.eventsPage))
	h("GET /ui/events/{id}", u.page(u.eventPage))
	h("GET /ui/actors", u.page(u.actorsPage))
	h("GET /ui/actors/{id}", u.page(u.actorPage))
	h("GET /ui/tokens", u.page(u.tokensPage))
	h("POST /ui/tokens", u.action(u.createToken))
	h("POST /ui/tokens/seed", u.action(u.seedDownload))
	h("GET /ui/tokens/{id}", u.page(u.tokenPage))
	h("POST /ui/tokens/{id}/revoke", u.action(u.revokeToken))
	h("GET /ui/alerts", u.page(u.alertsPage))
	h("POST /ui/alerts/{id}/retry", u.action(u.retryAlert))
	h("GET /ui/decoys", u.page(u.decoysPage))
	h("/ui/", u.notFound)
	h("/ui", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ui/", http.StatusSeeOther)
	})
	return nil
}

func newUI(a *Admin) (*ui, error) {
	u := &ui{a: a, pages: map[string]*template.Template{}, static: map[string]staticFile{},
		sessions: newSessionTable(maxSessions), limiter: newLoginLimiter(), now: time.Now}
	u.loginKey = make([]byte, 32)
	if _, err := rand.Read(u.loginKey); err != nil {
		return nil, fmt.Errorf("web: dashboard key: %w", err)
	}
	if err := u.loadStatic(); err != nil {
		return nil, err
	}
	if err := u.parseTemplates(); err != nil {
		return nil, err
	}
	return u, nil
}

func (u *ui) loadStatic() error {
	entries, err := fs.ReadDir(uiFiles, "ui/static")
	if err != nil {
		return fmt.Errorf("web: dashboard assets: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := fs.ReadFile(uiFiles, "ui/static/"+e.Name())
		if err != nil {
			return fmt.Errorf("web: dashboard asset %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(b)
		ctype := "application/octet-stream"
		switch path.Ext(e.Name()) {
		case ".css":
			ctype = "text/css; charset=utf-8"
		case ".js":
			ctype = "text/javascript; charset=utf-8"
		case ".svg":
			ctype = "image/svg+xml"
		}
		u.static[e.Name()] = staticFile{data: b, ctype: ctype, sum: hex.EncodeToString(sum[:6])}
	}
	css, ok := u.static["style.css"]
	if !ok {
		return errors.New("web: dashboard asset style.css is missing")
	}
	u.cssURL = "/ui/static/" + css.sum + "/style.css"
	return nil
}

// uiShared are parsed with every page: the layout and the partials.
var uiShared = []string{"ui/templates/layout.html", "ui/templates/partials.html"}

func (u *ui) parseTemplates() error {
	base, err := template.New("").Funcs(uiFuncs).ParseFS(uiFiles, uiShared...)
	if err != nil {
		return fmt.Errorf("web: dashboard templates: %w", err)
	}
	names, err := fs.Glob(uiFiles, "ui/templates/*.html")
	if err != nil {
		return fmt.Errorf("web: dashboard templates: %w", err)
	}
	for _, name := range names {
		if name == uiShared[0] || name == uiShared[1] {
			continue
		}
		t, err := base.Clone()
		if err != nil {
			return fmt.Errorf("web: dashboard template %s: %w", name, err)
		}
		if _, err := t.ParseFS(uiFiles, name); err != nil {
			return fmt.Errorf("web: dashboard template %s: %w", name, err)
		}
		if t.Lookup("content") == nil || t.Lookup("layout") == nil {
			return fmt.Errorf("web: dashboard template %s defines no content", name)
		}
		// html/template escapes a template on its first execution: run
		// each page once now, so an escaping error fails start-up rather
		// than the first request. (Errors from the empty data are fine.)
		var escErr *template.Error
		if err := t.ExecuteTemplate(io.Discard, "layout", pageData{}); errors.As(err, &escErr) {
			return fmt.Errorf("web: dashboard template %s: %w", name, err)
		}
		page := strings.TrimSuffix(path.Base(name), ".html")
		u.pages[page] = t
	}
	for _, want := range []string{"login", "error", "overview", "events", "event", "actors", "actor", "tokens", "token", "alerts", "decoys"} {
		if u.pages[want] == nil {
			return fmt.Errorf("web: dashboard template %s.html is missing", want)
		}
	}
	return nil
}

// secure sets the dashboard's security headers on every response.
func (u *ui) secure(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", uiCSP)
		// Same-origin referrers let the browser send Origin with the
		// dashboard's own forms; nothing leaves for other sites.
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		next(w, r)
	}
}

// wantsHTML reports whether r comes from a browser navigating.
func wantsHTML(r *http.Request) bool {
	return r.Header.Get("Sec-Fetch-Mode") == "navigate" || strings.Contains(r.Header.Get("Accept"), "text/html")
}

func (u *ui) serveStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := u.static[r.PathValue("name")]
	if !ok || f.sum != r.PathValue("sum") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.ctype)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(f.data)
}

// pageData is what every page template receives.
type pageData struct {
	Title string
	// Nav names the active section of the navigation bar.
	Nav string
	// CSRF is the session's form token, empty when logged out.
	CSRF     string
	LoggedIn bool
	CSS      string
	// Flash is a fixed message chosen by a redirect (never request text).
	Flash string
	Now   time.Time
	Data  any
}

// render executes a page into a buffer and writes it with status, or a
// plain 500 when the template fails (nothing half-written).
func (u *ui) render(w http.ResponseWriter, r *http.Request, status int, page string, sess *session, title, nav string, data any) {
	t := u.pages[page]
	pd := pageData{Title: title, Nav: nav, CSS: u.cssURL, Now: u.now().UTC(), Data: data, Flash: flashMessages[r.URL.Query().Get("msg")]}
	if sess != nil {
		pd.LoggedIn, pd.CSRF = true, sess.csrf
	}
	var buf bytes.Buffer
	if t == nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout", pd); err != nil {
		if u.a.opts.Logger != nil {
			u.a.opts.Logger.Error().Err(err).Str("page", page).Msg("dashboard template failed")
		}
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// flashMessages are the messages a redirect may ask a page to show.
var flashMessages = map[string]string{
	"created":    "Token created.",
	"revoked":    "Token revoked.",
	"retried":    "The dead deliveries are pending again.",
	"logged_out": "Logged out.",
}

// uiError is the body of the error page.
type uiError struct {
	Status  int
	Message string
}

// fail renders the error page.
func (u *ui) fail(w http.ResponseWriter, r *http.Request, sess *session, status int, msg string) {
	u.render(w, r, status, "error", sess, http.StatusText(status), "", uiError{Status: status, Message: msg})
}

func (u *ui) notFound(w http.ResponseWriter, r *http.Request) {
	sess := u.session(r)
	if sess == nil {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			u.toLogin(w, r)
			return
		}
		u.fail(w, r, nil, http.StatusForbidden, "Log in first.")
		return
	}
	u.fail(w, r, sess, http.StatusNotFound, "There is no such page.")
}

// page wraps a GET handler: without a session, the browser goes to the
// login form.
func (u *ui) page(fn func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := u.session(r)
		if sess == nil {
			u.toLogin(w, r)
			return
		}
		fn(w, r, sess)
	}
}

// toLogin redirects to the login form, remembering where to come back.
func (u *ui) toLogin(w http.ResponseWriter, r *http.Request) {
	target := "/ui/login"
	if next := r.URL.RequestURI(); safeNext(next) && next != "/ui/" {
		target += "?next=" + url.QueryEscape(next)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// safeNext reports whether next is a dashboard path to return to after
// login: local, under /ui/, not the login form itself.
func safeNext(next string) bool {
	if len(next) > 1024 || !strings.HasPrefix(next, "/ui/") || strings.HasPrefix(next, "/ui/login") ||
		strings.ContainsAny(next, "\\\r\n\t") || strings.Contains(next, "//") {
		return false
	}
	p, err := url.Parse(next)
	return err == nil && p.Scheme == "" && p.Host == "" && p.User == nil
}

// action wraps a POST handler: a same-origin request with a session and
// its CSRF token, or 403.
func (u *ui) action(fn func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !sameOrigin(r) {
			u.refuse(r, "cross-site form")
			u.fail(w, r, nil, http.StatusForbidden, "The form did not come from this dashboard.")
			return
		}
		sess := u.session(r)
		if sess == nil {
			u.refuse(r, "form without a session")
			u.fail(w, r, nil, http.StatusForbidden, "Your session has ended: log in again.")
			return
		}
		if !parseUIForm(w, r) || !sess.checkCSRF(r.PostForm.Get("csrf")) {
			u.refuse(r, "form without a valid CSRF token")
			u.fail(w, r, sess, http.StatusForbidden, "The form expired or did not come from this dashboard: reload the page and try again.")
			return
		}
		fn(w, r, sess)
	}
}

// maxUIForm bounds a dashboard form's body.
const maxUIForm = 64 << 10

func parseUIForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxUIForm)
	return r.ParseForm() == nil
}

// refuse logs a refused dashboard request (never a presented secret).
func (u *ui) refuse(r *http.Request, reason string) {
	if u.a.opts.Logger != nil {
		u.a.opts.Logger.Warn().Str("remote", r.RemoteAddr).Str("path", bounded(r.URL.Path, 256)).Str("reason", reason).Msg("dashboard request refused")
	}
}
