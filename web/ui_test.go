package web

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/honeyapi/honeyapi/actors"
	"github.com/honeyapi/honeyapi/decoys"
	"github.com/honeyapi/honeyapi/recorder"
	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/tokens"
)

// uiClient is a minimal browser for the dashboard: it keeps cookies and
// sends the headers a same-origin form submission carries.
type uiClient struct {
	t       *testing.T
	h       http.Handler
	remote  string
	cookies map[string]*http.Cookie
	// last is the last Set-Cookie of each name (to check flags).
	last map[string]*http.Cookie
}

func newUIClient(t *testing.T, h http.Handler) *uiClient {
	return &uiClient{t: t, h: h, remote: "192.0.2.10:40000", cookies: map[string]*http.Cookie{}, last: map[string]*http.Cookie{}}
}

func (c *uiClient) do(method, target string, form url.Values, hdr ...string) *httptest.ResponseRecorder {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	req.RemoteAddr = c.remote
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method == http.MethodPost {
		req.Header.Set("Origin", "http://"+req.Host)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	for _, ck := range c.cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	for _, ck := range rec.Result().Cookies() {
		c.last[ck.Name] = ck
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck
		}
	}
	return rec
}

func (c *uiClient) get(target string) *httptest.ResponseRecorder {
	c.t.Helper()
	return c.do(http.MethodGet, target, nil)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf returns the CSRF token of the first form on the page at target.
func (c *uiClient) csrfOf(target string) string {
	c.t.Helper()
	rec := c.get(target)
	m := csrfField.FindStringSubmatch(rec.Body.String())
	if m == nil {
		c.t.Fatalf("GET %s: %d, no csrf field in\n%s", target, rec.Code, rec.Body.String())
	}
	return m[1]
}

// login posts the login form with tok.
func (c *uiClient) login(tok string) *httptest.ResponseRecorder {
	c.t.Helper()
	csrf := c.csrfOf("/ui/login")
	return c.do(http.MethodPost, "/ui/login", url.Values{"csrf": {csrf}, "token": {tok}})
}

func (c *uiClient) mustLogin() {
	c.t.Helper()
	if rec := c.login(token); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/ui/" {
		c.t.Fatalf("login: %d %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
}

// newUIAdmin is an admin handler with a minter, a recorder and a decoy,
// logging into logs.
func newUIAdmin(t *testing.T, logs io.Writer) (*Admin, *store.Store, *tokens.Minter, *decoys.Decoy) {
	t.Helper()
	st, err := store.Open(store.Options{Path: filepath.Join(t.TempDir(), "h.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m, err := tokens.NewMinter([]byte("web-ui-test-secret-0123456789"), tokens.MinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := recorder.New(recorder.Options{Store: st, Tracker: actors.New(actors.Options{}), Minter: m})
	doc, err := decoys.LoadTemplate("admin")
	if err != nil {
		t.Fatal(err)
	}
	d, err := decoys.New([]*decoys.Document{doc}, decoys.Options{Record: rec.Record})
	if err != nil {
		t.Fatal(err)
	}
	if logs == nil {
		logs = io.Discard
	}
	log := zerolog.New(logs)
	a, err := NewAdmin(AdminOptions{Token: token, Store: st, Minter: m, Decoy: d, Logger: &log,
		Tarpit: func() TarpitStats { return TarpitStats{Held: 2, HeldByIP: map[string]int{"203.0.113.9": 2}, Holds: 5} }})
	if err != nil {
		t.Fatal(err)
	}
	return a, st, m, d
}

func TestUILoginSetsAStrictSessionCookie(t *testing.T) {
	a, _, _, _ := newUIAdmin(t, nil)
	c := newUIClient(t, a)
	if rec := c.get("/ui/"); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/ui/login" {
		t.Fatalf("GET /ui/ without a session: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	rec := c.get("/ui/login")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `<form id="login"`) || !strings.Contains(rec.Body.String(), `name="token"`) {
		t.Fatalf("login form: %d\n%s", rec.Code, rec.Body.String())
	}
	if lc := c.last[loginCookie]; lc == nil || !lc.Secure || !lc.HttpOnly || lc.SameSite != http.SameSiteStrictMode {
		t.Errorf("pre-session cookie %+v", lc)
	}
	c.mustLogin()
	ck := c.last[sessionCookie]
	if ck == nil {
		t.Fatal("no session cookie")
	}
	if !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" {
		t.Errorf("session cookie flags: %+v", ck)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(ck.Value); err != nil || len(raw) != 32 {
		t.Errorf("session cookie value %q: %d bytes, %v", ck.Value, len(raw), err)
	}
	if rec := c.get("/ui/"); rec.Code != 200 || !strings.Contains(rec.Body.String(), `id="nav-events"`) {
		t.Fatalf("overview after login: %d", rec.Code)
	}
	// The bearer-token API is unchanged, and the session does not open it.
	if rec := c.get("/api/v1/events"); rec.Code != http.StatusUnauthorized {
		t.Errorf("API with only a session cookie: %d, want 401", rec.Code)
	}
	if rec := call(a, "GET", "/api/v1/events", "Bearer "+token); rec.Code != 200 {
		t.Errorf("API with the token: %d", rec.Code)
	}
	// Log out: the session ends on the server, not just in the browser.
	old := ck.Value
	csrf := c.csrfOf("/ui/")
	if rec := c.do("POST", "/ui/logout", url.Values{"csrf": {csrf}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d", rec.Code)
	}
	c.cookies[sessionCookie] = &http.Cookie{Name: sessionCookie, Value: old}
	if rec := c.get("/ui/events"); rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/ui/login") {
		t.Errorf("the old cookie after logout: %d %q", rec.Code, rec.Header().Get("Location"))
	}
}

func TestUILoginWarnsAboutPlainHTTP(t *testing.T) {
	a, _, _, _ := newUIAdmin(t, nil)
	for host, warn := range map[string]bool{"127.0.0.1:8081": false, "localhost:8081": false, "[::1]:8081": false, "10.1.2.3:8081": true, "admin.corp.test": true} {
		req := httptest.NewRequest("GET", "http://"+host+"/ui/login", nil)
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		if got := strings.Contains(rec.Body.String(), `id="plain-http"`); got != warn {
			t.Errorf("Host %s: warning %v, want %v", host, got, warn)
		}
	}
}

func TestUILoginRedirectsBackToTheRequestedPage(t *testing.T) {
	a, _, _, _ := newUIAdmin(t, nil)
	c := newUIClient(t, a)
	rec := c.get("/ui/tokens?kind=aws")
	loc := rec.Header().Get("Location")
	if rec.Code != http.StatusSeeOther || loc != "/ui/login?next="+url.QueryEscape("/ui/tokens?kind=aws") {
		t.Fatalf("redirect: %d %q", rec.Code, loc)
	}
	csrf := c.csrfOf(loc)
	rec = c.do("POST", "/ui/login", url.Values{"csrf": {csrf}, "token": {token}, "next": {"/ui/tokens?kind=aws"}})
	if got := rec.Header().Get("Location"); got != "/ui/tokens?kind=aws" {
		t.Errorf("after login: %q", got)
	}
	for _, next := range []string{"//evil.test/ui/", "https://evil.test/", "/ui/\\evil", "/api/v1/events"} {
		c := newUIClient(t, a)
		csrf := c.csrfOf("/ui/login")
		rec := c.do("POST", "/ui/login", url.Values{"csrf": {csrf}, "token": {token}, "next": {next}})
		if got := rec.Header().Get("Location"); got != "/ui/" {
			t.Errorf("next=%q: redirected to %q", next, got)
		}
	}
}

func TestUILoginFailure(t *testing.T) {
	var logs bytes.Buffer
	a, _, _, _ := newUIAdmin(t, &logs)
	c := newUIClient(t, a)
	const guess = "hapi_guessed-token-do-not-log"
	rec := c.login(guess)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `id="login-error"`) {
		t.Fatalf("wrong token: %d\n%s", rec.Code, rec.Body.String())
	}
	if c.cookies[sessionCookie] != nil {
		t.Error("a wrong token got a session cookie")
	}
	if rec := c.get("/ui/"); rec.Code != http.StatusSeeOther {
		t.Errorf("overview after a failed login: %d", rec.Code)
	}
	if !strings.Contains(logs.String(), "dashboard login refused") {
		t.Errorf("refused login not logged: %s", logs.String())
	}
	if strings.Contains(logs.String(), guess) || strings.Contains(logs.String(), token) {
		t.Errorf("the log holds the presented token: %s", logs.String())
	}
}

func TestUILoginSlowsDownAfterFailures(t *testing.T) {
	a, _, _, _ := newUIAdmin(t, nil)
	c := newUIClient(t, a)
	if rec := c.login("wrong-1"); rec.Code != http.StatusUnauthorized {
		t.Fatalf("first failure: %d", rec.Code)
	}
	// During the wait even the right token is refused, unchecked.
	rec := c.login(token)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("right token during the wait: %d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if c.cookies[sessionCookie] != nil {
		t.Fatal("logged in during the wait")
	}
	// The slowdown is global too: another client IP waits as well.
	other := newUIClient(t, a)
	other.remote = "198.51.100.77:5555"
	if rec := other.login(token); rec.Code != http.StatusTooManyRequests {
		t.Errorf("another IP during the global wait: %d", rec.Code)
	}
	time.Sleep(1100 * time.Millisecond)
	if rec := c.login("wrong-2"); rec.Code != http.StatusUnauthorized {
		t.Fatalf("second failure: %d", rec.Code)
	}
	rec = c.login(token)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "2" {
		t.Errorf("after two failures: %d Retry-After %q, want 429 and 2", rec.Code, rec.Header().Get("Retry-After"))
	}
}

func TestLoginDelayDoublesUpToAMinute(t *testing.T) {
	want := []time.Duration{0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute, time.Minute}
	for n, w := range want {
		if got := loginDelay(n); got != w {
			t.Errorf("loginDelay(%d) = %v, want %v", n, got, w)
		}
	}
	if got := loginDelay(1 << 20); got != time.Minute {
		t.Errorf("loginDelay(huge) = %v", got)
	}
	// An admitted attempt holds the slot: a parallel guess waits.
	l := newLoginLimiter()
	now := time.Now()
	if w := l.admit("192.0.2.1", now); w != 0 {
		t.Fatalf("first attempt waits %v", w)
	}
	if w := l.admit("192.0.2.2", now); w == 0 {
		t.Error("a parallel attempt was admitted while one is judged")
	}
	l.succeed("192.0.2.1")
	if w := l.admit("192.0.2.2", now); w != 0 {
		t.Errorf("after a success: wait %v", w)
	}
}

func TestSessionsExpireAndAreBounded(t *testing.T) {
	tab := newSessionTable(3)
	now := time.Now()
	v, _, err := tab.create(now)
	if err != nil {
		t.Fatal(err)
	}
	if tab.get(v, now.Add(59*time.Minute)) == nil {
		t.Fatal("session gone before the idle timeout")
	}
	if tab.get(v, now.Add(59*time.Minute+sessionIdle)) != nil {
		t.Error("session alive after an idle hour")
	}
	v, _, _ = tab.create(now)
	for i := time.Duration(1); i <= 12; i++ {
		at := now.Add(i * 55 * time.Minute)
		s := tab.get(v, at)
		if (s != nil) != (i*55*time.Minute < sessionMax) {
			t.Errorf("at %v: alive %v", i*55*time.Minute, s != nil)
		}
	}
	for i := 0; i < 10; i++ {
		tab.create(now)
	}
	if n := tab.len(); n != 3 {
		t.Errorf("%d sessions, want at most 3", n)
	}
	if tab.get("not-a-session", now) != nil || tab.get("", now) != nil {
		t.Error("unknown cookie accepted")
	}
}

// uiGetPages are the dashboard's pages.
func uiGetPages(evID, tokID, actorID string) []string {
	return []string{"/ui/", "/ui/events", "/ui/events?ip=198.51.100.1", "/ui/events/" + evID, "/ui/actors", "/ui/actors/" + actorID,
		"/ui/tokens", "/ui/tokens/" + tokID, "/ui/alerts", "/ui/alerts?state=dead", "/ui/decoys"}
}

func TestUIPagesRedirectWithoutASession(t *testing.T) {
	a, _, _, _ := newUIAdmin(t, nil)
	for _, cookie := range []string{"", "forged-session-value"} {
		c := newUIClient(t, a)
		if cookie != "" {
			c.cookies[sessionCookie] = &http.Cookie{Name: sessionCookie, Value: cookie}
		}
		for _, p := range append(uiGetPages("01JD0000000000000000000000", "0123456789abcdef", "act_x"), "/ui/nothing-here") {
			rec := c.get(p)
			if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/ui/login") {
				t.Errorf("GET %s (cookie %q): %d %q, want a redirect to the login form", p, cookie, rec.Code, rec.Header().Get("Location"))
			}
			if rec.Header().Get("Content-Security-Policy") != uiCSP {
				t.Errorf("GET %s: no CSP on the redirect", p)
			}
		}
	}
}

// seedUI records a few events, a token and an alert.
func seedUI(t *testing.T, st *store.Store, m *tokens.Minter) (ev store.Event, tok *store.Token, alertID store.ID) {
	t.Helper()
	ctx := context.Background()
	gh, err := m.New(tokens.GitHub)
	if err != nil {
		t.Fatal(err)
	}
	tok = TokenRecord(m, gh, store.SourceAPI, "ui test")
	if err := st.SaveTokens(ctx, tok); err != nil {
		t.Fatal(err)
	}
	actor := &store.Actor{ID: "act_UI", FirstSeen: time.Now(), LastSeen: time.Now(), Events: 1, Risk: 75, Stage: "exploitation",
		IPs: []string{"198.51.100.1"}, Fingerprints: []string{"fp:abc"}, Families: []string{"curl"}, WaitedMS: 1500, Holds: 1}
	e := &store.Event{Method: "GET", Path: "/api/v1/users", ClientIP: "198.51.100.1", Actor: actor.ID, Status: 200, Risk: 75,
		Document: "admin", Operation: "listUsers", Tarpit: "delay", DelayMS: 200, WaitedMS: 210, TarpitEnd: "done",
		Headers: []store.Header{{Name: "host", Value: "decoy.test"}, {Name: "X-Zeta", Value: "1"}, {Name: "Authorization", Value: "Bearer " + gh.Value}},
		RawHead: []byte("GET /api/v1/users HTTP/1.1\r\nhost: decoy.test\r\n\r\n"), Body: []byte{0, 1, 2, 0xff},
		Tags: []string{store.TokenTagPrefix + "github:" + tok.ID}}
	id, err := st.Record(ctx, e, actor)
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.Event(id)
	if err != nil {
		t.Fatal(err)
	}
	alertID, err = st.SaveAlert(ctx, &store.Alert{Time: time.Now(), Severity: "critical", Rule: "token_used", Event: id, Actor: actor.ID,
		Payload:    []byte(`{"title":"GitHub token used","summary":"by act_UI"}`),
		Deliveries: []store.Delivery{{Channel: "webhook", State: store.DeliveryDead, Attempts: 8, LastError: "HTTP 500"}, {Channel: "slack", State: store.DeliveryDelivered, Attempts: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	return *got, tok, alertID
}

func TestUIPagesRenderWithCSP(t *testing.T) {
	a, st, m, _ := newUIAdmin(t, nil)
	ev, tok, _ := seedUI(t, st, m)
	c := newUIClient(t, a)
	c.mustLogin()
	for _, p := range uiGetPages(ev.ID.String(), tok.ID, ev.Actor) {
		rec := c.get(p)
		if rec.Code != 200 {
			t.Errorf("GET %s: %d\n%s", p, rec.Code, rec.Body.String())
			continue
		}
		if got := rec.Header().Get("Content-Security-Policy"); got != uiCSP {
			t.Errorf("GET %s: CSP %q", p, got)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", p, ct)
		}
		body := rec.Body.String()
		for _, bad := range []string{"<script", " style=", " onclick=", " onload=", "javascript:"} {
			if strings.Contains(body, bad) {
				t.Errorf("GET %s: the page holds %q", p, bad)
			}
		}
	}
	// The error page, the login form and the stylesheet too.
	for _, p := range []string{"/ui/nothing-here", "/ui/events/not-an-id", "/ui/tokens/0000000000000000"} {
		if rec := c.get(p); rec.Code != 404 || rec.Header().Get("Content-Security-Policy") != uiCSP {
			t.Errorf("GET %s: %d CSP %q", p, rec.Code, rec.Header().Get("Content-Security-Policy"))
		}
	}
	anon := newUIClient(t, a)
	rec := anon.get("/ui/login")
	if rec.Header().Get("Content-Security-Policy") != uiCSP {
		t.Error("login form without CSP")
	}
	css := regexp.MustCompile(`href="(/ui/static/[0-9a-f]+/style\.css)"`).FindStringSubmatch(rec.Body.String())
	if css == nil {
		t.Fatal("no stylesheet link")
	}
	rec = anon.get(css[1])
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/css") || rec.Header().Get("Content-Security-Policy") != uiCSP {
		t.Errorf("stylesheet: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if rec := anon.get("/ui/static/000000000000/style.css"); rec.Code != 404 {
		t.Errorf("stylesheet with a wrong digest: %d", rec.Code)
	}
}

func TestUIPagesShowTheData(t *testing.T) {
	a, st, m, _ := newUIAdmin(t, nil)
	ev, tok, alertID := seedUI(t, st, m)
	c := newUIClient(t, a)
	c.mustLogin()
	checks := map[string][]string{
		"/ui/": {`id="chart-hourly"`, `class="bar"`, `data-actor-id="act_UI"`, `data-token-id="` + tok.ID + `"`,
			`id="alerts-dead"`, `id="stat-events">1<`, `id="tarpit-held">2<`, `203.0.113.9`},
		"/ui/events":                 {`data-event-id="` + ev.ID.String() + `"`, `/api/v1/users`},
		"/ui/events?actor=act_UI":    {`data-event-id="` + ev.ID.String() + `"`},
		"/ui/events?token=" + tok.ID: {`data-event-id="` + ev.ID.String() + `"`},
		"/ui/events?ip=192.0.2.99":   {`No events.`},
		"/ui/events/" + ev.ID.String(): {`id="headers"`, `<th class="hname">host</th>`, `<th class="hname">X-Zeta</th>`,
			`id="raw-head"`, `id="body-hex"`, `00 01 02 ff`, `id="event-actor"`, `id="tarpit-mode">delay<`, `210 ms`},
		"/ui/actors":                 {`data-actor-id="act_UI"`},
		"/ui/actors/act_UI":          {`id="actor-stage">exploitation<`, `id="actor-holds">1<`, `fp:abc`, `data-event-id="` + ev.ID.String() + `"`},
		"/ui/tokens":                 {`data-token-id="` + tok.ID + `"`, `id="create-token"`, `id="seed-download"`, `id="seed-kind-aws"`},
		"/ui/tokens/" + tok.ID:       {`id="token-value"`, tok.Value, `id="revoke-token"`, `id="token-hits"`, `data-event-id="` + ev.ID.String() + `"`},
		"/ui/alerts?state=dead":      {`data-alert-id="` + alertID.String() + `"`, `class="retry-alert inline"`, `GitHub token used`, `HTTP 500`},
		"/ui/alerts?state=delivered": {`No alerts in state delivered.`},
		"/ui/decoys":                 {`data-document="admin"`, `data-operation="listUsers"`},
	}
	for p, wants := range checks {
		rec := c.get(p)
		for _, w := range wants {
			if !strings.Contains(rec.Body.String(), w) {
				t.Errorf("GET %s (%d): no %q", p, rec.Code, w)
			}
		}
	}
	if rec := c.get("/ui/events?since=yesterday"); rec.Code != 400 || !strings.Contains(rec.Body.String(), `id="events-error"`) {
		t.Errorf("bad filter: %d", rec.Code)
	}
}

func TestUIEventsArePaged(t *testing.T) {
	a, st, _, _ := newUIAdmin(t, nil)
	ctx := context.Background()
	var ids []store.ID
	for i := 0; i < 5; i++ {
		id, err := st.Record(ctx, &store.Event{Method: "GET", Path: "/p", ClientIP: "198.51.100.5"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	c := newUIClient(t, a)
	c.mustLogin()
	rows := regexp.MustCompile(`data-event-id="([0-9A-Z]+)"`)
	body := c.get("/ui/events?limit=2&ip=198.51.100.5").Body.String()
	got := rows.FindAllStringSubmatch(body, -1)
	if len(got) != 2 || got[0][1] != ids[4].String() || got[1][1] != ids[3].String() {
		t.Fatalf("first page %v", got)
	}
	next := regexp.MustCompile(`id="next-page" href="([^"]+)"`).FindStringSubmatch(body)
	if next == nil {
		t.Fatal("no next link")
	}
	body = c.get(strings.ReplaceAll(next[1], "&amp;", "&")).Body.String()
	got = rows.FindAllStringSubmatch(body, -1)
	if len(got) != 2 || got[0][1] != ids[2].String() {
		t.Errorf("second page %v (next %s)", got, next[1])
	}
}

func TestUIEscapesAttackerText(t *testing.T) {
	a, st, _, _ := newUIAdmin(t, nil)
	const xss = `<script>alert(1)</script>`
	id, err := st.Record(context.Background(), &store.Event{Method: "POST", Path: "/" + xss, Query: "q=" + xss, ClientIP: "198.51.100.9",
		Actor: `act_"><script>alert(1)</script>`, Status: 404, Tags: []string{xss},
		Headers: []store.Header{{Name: "User-Agent", Value: xss}, {Name: xss, Value: "v"}},
		Client:  store.Client{UserAgent: xss, Family: xss},
		RawHead: []byte("POST /" + xss + " HTTP/1.1\r\nUser-Agent: " + xss + "\r\n\r\n"), Body: []byte(xss)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := newUIClient(t, a)
	c.mustLogin()
	for _, p := range []string{"/ui/events", "/ui/events/" + id.String()} {
		body := c.get(p).Body.String()
		if strings.Contains(body, "<script") {
			t.Errorf("GET %s: unescaped markup in\n%s", p, body)
		}
		if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("GET %s: the escaped text is missing", p)
		}
	}
	body := c.get("/ui/events/" + id.String()).Body.String()
	for _, w := range []string{`id="body-text"`, `id="event-ua"`, `id="raw-head"`} {
		if !strings.Contains(body, w) {
			t.Errorf("event page: no %s", w)
		}
	}
	// Invisible characters are shown, not rendered: a bidi override in a
	// header cannot reorder what the page shows.
	if got := visible("a\u202eb\x00c\xff"); got != `a\u202eb\x00c\xff` {
		t.Errorf("visible = %q", got)
	}
}

func TestUIFormsRequireCSRF(t *testing.T) {
	a, st, m, _ := newUIAdmin(t, nil)
	_, tok, alertID := seedUI(t, st, m)
	c := newUIClient(t, a)
	c.mustLogin()
	good := c.csrfOf("/ui/tokens")
	posts := map[string]url.Values{
		"/ui/logout":                       {},
		"/ui/tokens":                       {"kind": {"aws"}, "note": {"x"}},
		"/ui/tokens/seed":                  {"kind": {"aws"}},
		"/ui/tokens/" + tok.ID + "/revoke": {},
		"/ui/alerts/" + alertID.String() + "/retry": {"channel": {"webhook"}},
	}
	for p, form := range posts {
		for _, csrf := range []string{"", "wrong", good + "x", strings.ToUpper(good)} {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if csrf != "" {
				f.Set("csrf", csrf)
			}
			if rec := c.do("POST", p, f); rec.Code != http.StatusForbidden {
				t.Errorf("POST %s with csrf %q: %d, want 403", p, csrf, rec.Code)
			}
		}
		// The right token from another site is refused too.
		f := url.Values{"csrf": {good}}
		for k, v := range form {
			f[k] = v
		}
		if rec := c.do("POST", p, f, "Origin", "http://evil.test"); rec.Code != http.StatusForbidden {
			t.Errorf("POST %s from another origin: %d", p, rec.Code)
		}
		if rec := c.do("POST", p, f, "Sec-Fetch-Site", "cross-site"); rec.Code != http.StatusForbidden {
			t.Errorf("POST %s cross-site: %d", p, rec.Code)
		}
		if rec := c.do("POST", p, f, "Origin", "null", "Sec-Fetch-Site", ""); rec.Code != http.StatusForbidden {
			t.Errorf("POST %s from an opaque origin: %d", p, rec.Code)
		}
		// And without a session.
		anon := newUIClient(t, a)
		if rec := anon.do("POST", p, f); rec.Code != http.StatusForbidden {
			t.Errorf("POST %s without a session: %d", p, rec.Code)
		}
	}
	// Nothing happened.
	if got, _ := st.Token(tok.ID); !got.Revoked.IsZero() {
		t.Error("the token was revoked")
	}
	if al, _ := st.Alert(alertID); al.State() != store.DeliveryDead {
		t.Errorf("the alert is %s", al.State())
	}
	if ts, _ := st.Tokens(store.TokenQuery{}); len(ts) != 1 {
		t.Errorf("%d tokens, want 1", len(ts))
	}
	if rec := c.get("/ui/"); rec.Code != 200 {
		t.Errorf("the session ended: %d", rec.Code)
	}

	// The login form: the token must be signed by this server and match
	// the pre-session cookie.
	anon := newUIClient(t, a)
	loginCSRF := anon.csrfOf("/ui/login")
	other := newUIClient(t, a)
	otherCSRF := other.csrfOf("/ui/login")
	for name, csrf := range map[string]string{"missing": "", "wrong": "wrong", "forged": "abc.9999999999.sig", "another browser's": otherCSRF} {
		f := url.Values{"token": {token}}
		if csrf != "" {
			f.Set("csrf", csrf)
		}
		if rec := anon.do("POST", "/ui/login", f); rec.Code != http.StatusForbidden {
			t.Errorf("login with a %s csrf token: %d, want 403", name, rec.Code)
		}
	}
	noCookie := newUIClient(t, a)
	if rec := noCookie.do("POST", "/ui/login", url.Values{"token": {token}, "csrf": {loginCSRF}}); rec.Code != http.StatusForbidden {
		t.Errorf("login without the pre-session cookie: %d", rec.Code)
	}
	if rec := anon.do("POST", "/ui/login", url.Values{"token": {token}, "csrf": {loginCSRF}}, "Sec-Fetch-Site", "cross-site"); rec.Code != http.StatusForbidden {
		t.Errorf("cross-site login: %d", rec.Code)
	}
	// None of these counted as failures: the right form still logs in.
	if rec := anon.do("POST", "/ui/login", url.Values{"token": {token}, "csrf": {loginCSRF}}); rec.Code != http.StatusSeeOther {
		t.Errorf("login with the right form: %d", rec.Code)
	}
}

func TestUITokenActions(t *testing.T) {
	a, st, m, _ := newUIAdmin(t, nil)
	c := newUIClient(t, a)
	c.mustLogin()
	csrf := c.csrfOf("/ui/tokens")
	rec := c.do("POST", "/ui/tokens", url.Values{"csrf": {csrf}, "kind": {"aws"}, "note": {"prod .env"}})
	loc := rec.Header().Get("Location")
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/ui/tokens/") {
		t.Fatalf("create: %d %q\n%s", rec.Code, loc, rec.Body.String())
	}
	id := strings.TrimPrefix(strings.Split(loc, "?")[0], "/ui/tokens/")
	saved, err := st.Token(id)
	if err != nil || saved.Kind != "aws" || saved.Note != "prod .env" || saved.Fields["secret_access_key"] == "" {
		t.Fatalf("saved %+v %v", saved, err)
	}
	if gotID, kind, ok := m.Recognize(saved.Value); !ok || kind != tokens.AWS || gotID.String() != id {
		t.Errorf("minted value not recognised")
	}
	page := c.get(loc).Body.String()
	if !strings.Contains(page, saved.Value) || !strings.Contains(page, `id="flash"`) {
		t.Errorf("token page lacks the value or the flash")
	}
	if rec := c.do("POST", "/ui/tokens", url.Values{"csrf": {csrf}, "kind": {"nope"}}); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("unknown kind: %d", rec.Code)
	}

	// Revoke.
	if rec := c.do("POST", "/ui/tokens/"+id+"/revoke", url.Values{"csrf": {csrf}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("revoke: %d", rec.Code)
	}
	if got, _ := st.Token(id); got.Revoked.IsZero() {
		t.Error("not revoked")
	}
	if strings.Contains(c.get("/ui/tokens/"+id).Body.String(), `id="revoke-token"`) {
		t.Error("a revoked token still has the revoke form")
	}

	// Seed as a download.
	rec = c.do("POST", "/ui/tokens/seed", url.Values{"csrf": {csrf}, "kind": {"aws", "github"}, "label": {"build server"}, "note": {"seeded"}})
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/zip" ||
		rec.Header().Get("Content-Disposition") != `attachment; filename="honeyapi-seed.zip"` {
		t.Fatalf("seed: %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Content-Disposition"))
	}
	zr, err := zip.NewReader(bytes.NewReader(rec.Body.Bytes()), int64(rec.Body.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, f := range zr.File {
		if rc, err := f.Open(); err == nil {
			io.Copy(&all, rc)
			rc.Close()
		}
	}
	seeded, _ := st.Tokens(store.TokenQuery{Source: store.SourceSeed})
	if len(seeded) != 2 {
		t.Fatalf("%d seeded tokens saved, want 2", len(seeded))
	}
	for _, s := range seeded {
		if !strings.Contains(all.String(), s.Value) || len(s.Placements) == 0 || s.Placements[0].Repo != "build server" || s.Note != "seeded" {
			t.Errorf("seeded token %s: %+v", s.ID, s)
		}
	}
}

func TestUIAlertRetry(t *testing.T) {
	notified := 0
	st, err := store.Open(store.Options{Path: filepath.Join(t.TempDir(), "h.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, _ := tokens.NewMinter([]byte("web-ui-test-secret-0123456789"), tokens.MinterOptions{})
	a, err := NewAdmin(AdminOptions{Token: token, Store: st, NotifyAlerts: func() { notified++ }})
	if err != nil {
		t.Fatal(err)
	}
	_, _, alertID := seedUI(t, st, m)
	c := newUIClient(t, a)
	c.mustLogin()
	csrf := c.csrfOf("/ui/alerts?state=dead")
	rec := c.do("POST", "/ui/alerts/"+alertID.String()+"/retry", url.Values{"csrf": {csrf}, "channel": {"webhook"}, "state": {"dead"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/ui/alerts?msg=retried&state=dead" {
		t.Fatalf("retry: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	al, _ := st.Alert(alertID)
	if al.State() != store.DeliveryPending || notified != 1 {
		t.Errorf("after retry: %s, notified %d", al.State(), notified)
	}
	if rec := c.do("POST", "/ui/alerts/"+alertID.String()+"/retry", url.Values{"csrf": {csrf}, "channel": {"pager"}}); rec.Code != 404 {
		t.Errorf("unknown channel: %d", rec.Code)
	}
	// Without a minter or a decoy the pages still render.
	for _, p := range []string{"/ui/tokens", "/ui/decoys", "/ui/"} {
		if rec := c.get(p); rec.Code != 200 {
			t.Errorf("GET %s: %d", p, rec.Code)
		}
	}
	if !strings.Contains(c.get("/ui/tokens").Body.String(), `id="no-minter"`) {
		t.Error("no notice that tokens cannot be minted")
	}
}

func TestRootSendsBrowsersToTheDashboard(t *testing.T) {
	a, _, _, _ := newUIAdmin(t, nil)
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/ui/" {
		t.Errorf("browser GET /: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := call(a, "GET", "/", ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("API GET /: %d, want 401", rec.Code)
	}
}

func TestDashboardTemplatesParse(t *testing.T) {
	u, err := newUI(&Admin{})
	if err != nil {
		t.Fatal(err)
	}
	if len(u.pages) < 11 {
		t.Errorf("%d pages", len(u.pages))
	}
}
