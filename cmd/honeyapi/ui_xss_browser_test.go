package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/tokens"
	"github.com/honeyapi/honeyapi/web"
)

// xssPayloads is the corpus the dashboard must show as text. Several are
// markers: were one ever parsed as markup it would leave an element whose
// id starts with "xss", change document.title or set data-xss on the body,
// which the page check looks for (under the CSP no script could run to
// tell, but injected markup would still be there).
var xssPayloads = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`'><img src=x onerror=alert(1)>`,
	`<svg onload=alert(1)>`,
	`<svg><script>alert(1)</script></svg>`,
	`javascript:alert(1)`,
	`'-alert(1)-'`,
	`";alert(1);//`,
	`</title><script>document.title='xss-marker'</script>`,
	`</textarea><script>alert(1)</script>`,
	`</pre><b id=xss-marker-pre>out of the pre</b>`,
	`<iframe srcdoc="<script>parent.document.title='xss-marker'</script>">`,
	`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
	`</style><script>alert(1)</script>`,
	`<style>*{background:url("javascript:alert(1)")}</style>`,
	`{{7*7}}`,
	`{{template "layout" .}}{{.CSRF}}`,
	`${alert(1)}`,
	"`${alert(1)}`",
	"${7*7}`-alert`1`-`",
	`data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==`,
	`<a href="data:text/html,<script>alert(1)</script>">click</a>`,
	"\u202e<script>alert(1)</script>\u202c",
	"invoice\u202efdp.exe <b id=xss-marker-bidi>",
	"<scr\x00ipt>alert(1)</scr\x00ipt>",
	"\u200b<scr\u200bipt>alert(1)</script>\ufeff",
	`&lt;script&gt;alert(1)&lt;/script&gt;`,
	`&#x3C;img src=x onerror=alert(1)&#x3E;`,
	`" onmouseover="alert(1)" x="`,
	`' onfocus='alert(1)' autofocus x='`,
	`<base href="//evil.example/">`,
	`<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`,
	`<link rel=import href="//evil.example/x.html">`,
	`<div style="width:expression(alert(1))">css</div>`,
	`<body onload=alert(1) data-xss=1>`,
	`<input autofocus onfocus=alert(1)>`,
	`<details open ontoggle=alert(1)>`,
	`<object data="javascript:alert(1)"></object>`,
	`<form action="javascript:alert(1)"><button>go</button></form>`,
	`<!--<img src="--><img src=x onerror=alert(1)//">`,
	`<![CDATA[<script>alert(1)</script>]]>`,
	`%3Cscript%3Ealert(1)%3C%2Fscript%3E`,
	"\uff1cscript\uff1ealert(1)\uff1c/script\uff1e",
	`<b id=xss-marker>injected</b>`,
	`<noscript><p title="</noscript><img src=x onerror=alert(1)>">`,
	`<a href="javas&#x09;cript:alert(1)">x</a>`,
	`<svg><a xlink:href="javascript:alert(1)"><text x=20 y=20>x</text></a></svg>`,
}

// The headless Chromium of the dashboard's browser tests.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but Chromium is not installed at %s: %v", chromiumPath, err)
		}
		t.Skipf("Chromium is not installed at %s; install it (apt-get install chromium) to run the dashboard's browser test", chromiumPath)
	}
}

// newBrowser starts Chromium as TestDashboardInABrowser does and returns
// the context of its tab; the browser ends with ctx or the test.
func newBrowser(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	return bctx
}

// uiLogin logs in through the dashboard's form and lands on the overview.
func uiLogin(t *testing.T, bctx context.Context, s *sensor) {
	t.Helper()
	if err := chromedp.Do(bctx,
		chromedp.Navigate("http://"+s.admin+"/ui/"),
		chromedp.WaitVisible(chromedp.CSS("form#login")),
		chromedp.SendKeys(chromedp.CSS("#token"), s.token),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#nav")),
	); err != nil {
		t.Fatalf("log in: %v\nserver log:\n%s", err, s.logs.String())
	}
}

// adminJSON calls the admin API with a JSON body (nil: none) and decodes
// a 2xx answer into out (nil: discarded).
func adminJSON(t *testing.T, s *sensor, method, path string, in, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+s.admin+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out == nil {
		io.Copy(io.Discard, resp.Body)
		return
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
}

// sendRaw writes raw bytes on a new connection to addr and reads one
// response (rawRequest), for requests Go's client would not send.
func sendRaw(t *testing.T, addr, raw string) int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return rawRequest(t, conn, raw)
}

// sendMalformed writes bytes the server refuses and reads until it closes.
func sendMalformed(t *testing.T, addr, raw string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, conn)
}

// waitEvents waits until the store holds at least n events.
func waitEvents(t *testing.T, s *sensor, n int) []store.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs := s.events()
		if len(evs) >= n {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events stored, want at least %d\nserver log:\n%s", len(evs), n, s.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// shownAs restates how the dashboard shows attacker text (visible in
// web/ui_view.go): invalid bytes and invisible or control characters,
// bidirectional overrides included, become \xNN or \uNNNN escapes.
func shownAs(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsPrint(r):
			b.WriteString(s[i : i+n])
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += n
	}
	return b.String()
}

// shownCut is the dashboard's trunc: at most n bytes, cut on a rune.
func shownCut(n int, s string) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// shownText reports whether the dashboard shows stored bytes as text
// (printableText in web/ui_view.go) rather than as a hex dump.
func shownText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r != '\n' && r != '\r' && r != '\t' && !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// wireEscape percent-encodes the bytes that cannot stand in a request
// target (controls, space, non-ASCII) and those in also; everything else,
// < > " ' ` { } included, goes on the wire as it is.
func wireEscape(s, also string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(also, c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// headerSafe is s without the control bytes no header value may hold
// (those go in a malformed request of their own).
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// xssHeaderName is a custom header whose name is itself a (valid token)
// payload.
const xssHeaderName = "X-Hdr'-alert`1`-'"

// xssRequest is one decoy request carrying a payload everywhere.
type xssRequest struct {
	payload string
	head    string // as written, request line to the blank line
	body    string
	// path and query as the server stores them: the path decoded, the
	// query raw.
	method, path, query string
	headers             [][2]string
}

func newXSSRequest(n int, host, p string) xssRequest {
	r := xssRequest{payload: p, method: "POST"}
	prefix := "/xss/"
	if n%2 == 0 {
		prefix = "/api/v1/users/"
	}
	r.path = prefix + p
	r.query = fmt.Sprintf("n=%02d&q=", n) + wireEscape(p, "#")
	ct := "application/x-www-form-urlencoded"
	if n%2 == 0 {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.Encode(map[string]any{"comment": p, "n": n})
		r.body, ct = strings.TrimSuffix(b.String(), "\n"), "application/json"
	} else {
		r.body = "comment=" + p + "&n=" + strconv.Itoa(n)
	}
	hv := headerSafe(p)
	r.headers = [][2]string{
		{"Host", host},
		{"User-Agent", hv},
		{"Referer", hv},
		{"X-Forwarded-For", hv},
		{xssHeaderName, hv},
		{"Cookie", "sid=" + hv},
		{"Authorization", "Bearer " + hv},
		{"Content-Type", ct},
		{"Content-Length", strconv.Itoa(len(r.body))},
	}
	var h strings.Builder
	fmt.Fprintf(&h, "%s %s?%s HTTP/1.1\r\n", r.method, prefix+wireEscape(p, "%?#"), r.query)
	for _, kv := range r.headers {
		fmt.Fprintf(&h, "%s: %s\r\n", kv[0], kv[1])
	}
	h.WriteString("\r\n")
	r.head = h.String()
	return r
}

// pageWatch collects what must never happen on a dashboard page: a
// JavaScript dialog, a console message, an uncaught exception, a browser
// log error (a CSP violation is one). Dialogs are dismissed at once so a
// page that opens one cannot stall the test.
type pageWatch struct {
	mu       sync.Mutex
	problems []string
}

func (w *pageWatch) add(format string, args ...any) {
	w.mu.Lock()
	w.problems = append(w.problems, fmt.Sprintf(format, args...))
	w.mu.Unlock()
}

// take returns the problems seen since the last call.
func (w *pageWatch) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.problems
	w.problems = nil
	return p
}

func watchPage(t *testing.T, bctx context.Context) *pageWatch {
	t.Helper()
	w := &pageWatch{}
	dialogs := make(chan struct{}, 64)
	err := chromedp.Listen(bctx, func(ev any) {
		switch e := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			w.add("JavaScript dialog %s %q opened on %s", e.Type, e.Message, e.URL)
			select {
			case dialogs <- struct{}{}:
			default:
			}
		case *runtime.EventConsoleAPICalled:
			var args []string
			for _, a := range e.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			w.add("console.%s(%s)", e.Type, strings.Join(args, ", "))
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			w.add("uncaught exception: %s (%s:%d)", msg, d.URL, d.LineNumber)
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError || e.Entry.Source == log.EntrySourceSecurity {
				w.add("console %s [%s]: %s (%s)", e.Entry.Level, e.Entry.Source, e.Entry.Text, e.Entry.URL)
			}
		}
	})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	go func() {
		for {
			select {
			case <-bctx.Done():
				return
			case <-dialogs:
				chromedp.Call(bctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}
		}
	}()
	return w
}

// pageCheckJS inspects the rendered DOM and lists what the dashboard's
// templates never produce: any element or attribute outside the ones they
// use (script, img, iframe, style, base, object, math …; on* handlers,
// srcdoc, style, http-equiv …), an element id or title marked by a
// payload, a link or form leaving the origin, a changed base URI, and a
// page without exactly its one stylesheet.
const pageCheckJS = `(() => {
	const tags = new Set(["html","head","meta","title","link","body","header","a","nav","form","input","button",
		"main","p","h1","h2","section","div","dl","dt","dd","span","table","thead","tbody","tr","th","td","ul","li",
		"pre","code","strong","br","svg","line","rect","text","label","select","option","fieldset","legend"]);
	const attrs = new Set(["action","aria-current","aria-label","autocomplete","autofocus","charset","checked","class",
		"content","for","height","href","id","inputmode","lang","maxlength","method","name","placeholder","rel",
		"required","role","selected","size","spellcheck","type","value","viewbox","width","x","y","x1","y1","x2","y2"]);
	const bad = [];
	for (const el of document.getElementsByTagName("*")) {
		const tag = el.localName;
		if (!tags.has(tag)) bad.push("element <" + tag + "> in " + (el.parentElement ? el.parentElement.localName : "document"));
		for (const a of el.attributes) {
			const n = a.name.toLowerCase();
			if (!attrs.has(n) && !n.startsWith("data-")) bad.push("attribute " + a.name + "=" + JSON.stringify(a.value) + " on <" + tag + ">");
			if (n === "data-xss") bad.push("data-xss on <" + tag + ">");
			if (n === "id" && /xss/i.test(a.value)) bad.push("element with the injected id " + a.value);
			if (n === "href" || n === "action") {
				if (tag === "link" && el.rel === "icon" && a.value === "data:,") continue;
				let u;
				try { u = new URL(a.value, location.href); } catch (e) { bad.push("unparseable " + n + " " + a.value); continue; }
				if (u.origin !== location.origin) bad.push(n + " leaving the origin on <" + tag + ">: " + a.value);
			}
		}
	}
	if (document.scripts.length !== 0) bad.push(document.scripts.length + " script elements");
	for (const s of document.querySelectorAll("svg")) if (s.id !== "chart-hourly") bad.push("an svg other than the chart");
	for (const m of document.querySelectorAll("meta[http-equiv]")) bad.push("meta http-equiv " + m.httpEquiv);
	for (const l of document.querySelectorAll("link")) if (l.rel !== "icon" && l.rel !== "stylesheet") bad.push("link rel=" + l.rel);
	if (document.querySelectorAll("link[rel=stylesheet]").length !== 1 || document.styleSheets.length !== 1) bad.push(document.styleSheets.length + " stylesheets");
	if (document.baseURI !== location.href) bad.push("base URI is " + document.baseURI);
	if (!/ · honeyapi$/.test(document.title) || /xss/i.test(document.title)) bad.push("title " + JSON.stringify(document.title));
	if (!document.getElementById("main")) bad.push("no #main: the page did not render");
	return bad;
})()`

// eventShown is what an event's page shows of the request.
type eventShown struct {
	UA      *string     `json:"ua"`
	Request *string     `json:"request"`
	Body    *string     `json:"body"`
	BodyHex *string     `json:"bodyHex"`
	Head    *string     `json:"head"`
	HeadHex *string     `json:"headHex"`
	Headers [][2]string `json:"headers"`
}

const eventShownJS = `(() => {
	// The text of an element the page renders (has boxes), else null.
	const g = id => { const e = document.getElementById(id); return e && e.getClientRects().length ? e.textContent : null; };
	return {ua: g("event-ua"), request: g("event-request"), body: g("body-text"), bodyHex: g("body-hex"),
		head: g("raw-head"), headHex: g("raw-head-hex"),
		headers: [...document.querySelectorAll("#headers tr")].map(r => [r.querySelector(".hname").textContent, r.querySelector(".hvalue").textContent])};
})()`

// The dashboard shows attacker-controlled text from every part of a
// request, from tokens and from sightings. Driven by a real headless
// Chromium against a real `honeyapi serve`, no page may run a script,
// open a dialog, log a console error or CSP violation, or carry an element
// or attribute a payload injected; and the payloads are shown, as text,
// exactly as they were sent.
func TestDashboardXSSInABrowser(t *testing.T) {
	requireChromium(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "xss.db")
	rcv := newReceiver(t, "127.0.0.1:0")
	s := startSensor(t, db, "--config", writeAlertConfig(t, dir, rcv.addr))
	base := "http://" + s.admin

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bctx := newBrowser(t, ctx)
	watch := watchPage(t, bctx)

	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v\nserver log:\n%s", what, err, s.logs.String())
		}
	}
	pages := 0
	// visitStatus opens a page and fails the test on anything pageCheckJS
	// or the watch reports. The evaluation comes after the load: the
	// events of the page's parsing are in by the time its answer is. An
	// error page (refused, 4xx, input) is logged by Chromium as a failed
	// load of the document itself; with refused set, only that is allowed.
	visitStatus := func(name, target string, refused bool) {
		t.Helper()
		step("open "+name, chromedp.Do(bctx, chromedp.Navigate(target), chromedp.WaitReady(chromedp.CSS("body"))))
		bad, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](pageCheckJS))
		step("inspect "+name, err)
		for _, p := range watch.take() {
			if refused && strings.HasPrefix(p, "console error [network]: Failed to load resource: the server responded with a status of 4") && strings.HasSuffix(p, "("+target+")") {
				continue
			}
			bad = append(bad, p)
		}
		if len(bad) > 0 {
			t.Errorf("%s (%s):\n  %s", name, target, strings.Join(bad, "\n  "))
		}
		pages++
	}
	visit := func(name, target string) { t.Helper(); visitStatus(name, target, false) }

	// First, the checks themselves: on pages of a throwaway server, an
	// inline script under the same CSP is reported as a violation, and
	// without a CSP its alert is seen (and dismissed); the DOM check
	// flags both scripts.
	canary := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Path == "/csp" {
			w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'")
		}
		io.WriteString(w, `<!DOCTYPE html><title>canary</title><script>alert("canary")</script>`)
	}))
	defer canary.Close()
	for _, p := range []struct{ path, want string }{{"/csp", "Content Security Policy"}, {"/dialog", "JavaScript dialog alert"}} {
		step("canary "+p.path, chromedp.Do(bctx, chromedp.Navigate(canary.URL+p.path)))
		bad, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](pageCheckJS))
		step("canary "+p.path, err)
		got := strings.Join(append(bad, watch.take()...), "\n")
		if !strings.Contains(got, p.want) || !strings.Contains(got, "1 script elements") {
			t.Fatalf("the page checks miss a script on %s; they report:\n%s", p.path, got)
		}
	}

	// Logged out, the login form reflects ?next=.
	for _, p := range xssPayloads[:3] {
		visit("login form with next", base+"/ui/login?next="+url.QueryEscape("/ui/events?ip="+p))
	}

	// The decoy gets every payload in the path, the query, the headers
	// (User-Agent, Referer, X-Forwarded-For, Cookie, Authorization and a
	// custom header whose name is a payload too) and the body (JSON and
	// form), over raw TCP: Go's client would escape or refuse the bytes.
	reqs := make([]xssRequest, len(xssPayloads))
	for i, p := range xssPayloads {
		reqs[i] = newXSSRequest(i, s.decoy, p)
		sendRaw(t, s.decoy, reqs[i].head+reqs[i].body)
	}
	// Bytes Go's server refuses become "malformed" events: a header name,
	// a NUL in a header value, a CR inside a value, a method, a NUL in the
	// target.
	malformed := []string{
		"GET /api/v1/users HTTP/1.1\r\nHost: h\r\n<script>alert(1)</script>: x\r\n\r\n",
		"GET /api/v1/users HTTP/1.1\r\nHost: h\r\nUser-Agent: <scr\x00ipt>alert(1)</scr\x00ipt>\r\n\r\n",
		"GET /api/v1/users HTTP/1.1\r\nHost: h\r\nX-Split: x\r<img src=x onerror=alert(1)>\r\n\r\n",
		"<svg/onload=alert(1)> /api/v1/users HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /<script>\x00alert(1)</script> HTTP/1.1\r\nHost: h\r\n\r\n",
	}
	for _, raw := range malformed {
		sendMalformed(t, s.decoy, raw)
	}

	// A token minted through the admin API with a payload for a note,
	// then presented to the decoy.
	note := `<script>alert(1)</script> "><img src=x onerror=alert(1)> ` + "\u202e" + ` {{7*7}} <b id=xss-marker-note>`
	var noted store.Token
	adminJSON(t, s, "POST", "/api/v1/tokens", web.NewToken{Kind: "github", Note: note}, &noted)
	useUA := `<svg onload=alert(1)> curl/8.5.0`
	sendRaw(t, s.decoy, "GET /api/v1/users HTTP/1.1\r\nHost: "+s.decoy+"\r\nUser-Agent: "+useUA+"\r\nAuthorization: Bearer "+noted.Value+"\r\n\r\n")

	// A token registered with payloads in its fields and placements.
	minted, err := minterFor(t, db).New(tokens.GitHub)
	step("mint", err)
	fields := map[string]string{`<img src=x onerror=alert(1)>`: `"><script>alert(1)</script>`, "note\u202e": "'-alert(1)-'"}
	placement := store.Placement{Host: `<svg onload=alert(1)>`, Repo: `javascript:alert(1)`, Path: `</title><script>alert(1)</script>`, Where: `" onmouseover="alert(1)`}
	var registered store.Token
	adminJSON(t, s, "POST", "/api/v1/tokens", web.NewToken{Kind: "github", Value: minted.Value, Note: `{{.CSRF}}`, Fields: fields, Placements: []store.Placement{placement}}, &registered)

	// A sighting of it, reported with payloads in every field.
	sighting := tokens.Sighting{
		Text:      "leaked " + minted.Value + " next to <script>alert(1)</script>",
		Source:    `<script>alert(1)</script>`,
		Where:     `"><img src=x onerror=alert(1)>`,
		ClientIP:  "203.0.113.9",
		Method:    `<svg onload=alert(1)>`,
		Host:      `</title><script>alert(1)</script>`,
		Path:      `/<iframe srcdoc="<script>alert(1)</script>">`,
		Query:     `q=<b id=xss-marker-sighting>`,
		UserAgent: `javascript:alert(1)`,
		Headers:   []tokens.SightedHeader{{Name: `<script>alert(1)</script>`, Value: `<img src=x onerror=alert(1)>`}},
		Note:      `${alert(1)}`,
	}
	var sighted web.SightingResult
	adminJSON(t, s, "POST", "/api/v1/sightings", sighting, &sighted)

	evs := waitEvents(t, s, len(reqs)+len(malformed)+2)
	byQuery := map[string]store.Event{}
	var tokenUse, sightingEv *store.Event
	for i := range evs {
		ev := &evs[i]
		switch {
		case strings.HasPrefix(ev.Query, "n="):
			byQuery[ev.Query] = *ev
		case ev.ID.String() == sighted.Event:
			sightingEv = ev
		case ev.Client.UserAgent == useUA:
			tokenUse = ev
		}
	}
	if tokenUse == nil || sightingEv == nil {
		t.Fatalf("the token use (%v) or the sighting (%v) is not stored", tokenUse != nil, sightingEv != nil)
	}

	uiLogin(t, bctx, s)
	visit("overview", base+"/ui/")

	// The events list, every page of it: each request's row shows its
	// target, escaped and cut as the list cuts it.
	targets := map[string]string{}
	next := base + "/ui/events"
	for next != "" {
		visit("events", next)
		rows, err := chromedp.Run(bctx, chromedp.Evaluate[[][2]string](
			`[...document.querySelectorAll("#events tr[data-event-id]")].map(r => [r.dataset.eventId, r.querySelector(".target").textContent])`))
		step("event rows", err)
		for _, r := range rows {
			targets[r[0]] = r[1]
		}
		href, err := chromedp.Run(bctx, chromedp.Evaluate[string](`(document.getElementById("next-page") || {href: ""}).href`))
		step("next page", err)
		next = href
	}
	if len(targets) != len(evs) {
		t.Errorf("the events pages list %d events, the store holds %d", len(targets), len(evs))
	}

	// Every event's page; the text of the decoy requests, the token use
	// and the sighting is compared with what was sent.
	byEvent := map[string]int{}
	for i, r := range reqs {
		ev, ok := byQuery[r.query]
		if !ok {
			t.Errorf("payload %d %q: no event stored for its request", i, r.payload)
			continue
		}
		byEvent[ev.ID.String()] = i
		if ev.Path != r.path {
			t.Errorf("payload %d: stored path %q, sent %q", i, ev.Path, r.path)
		}
		if got, want := targets[ev.ID.String()], shownCut(160, shownAs(r.path+"?"+r.query)); got != want {
			t.Errorf("payload %d: the events list shows the target\n %q\nwant\n %q", i, got, want)
		}
	}
	for _, ev := range evs {
		visit("event "+ev.ID.String(), base+"/ui/events/"+ev.ID.String())
		shown, err := chromedp.Run(bctx, chromedp.Evaluate[eventShown](eventShownJS))
		step("event text", err)
		if i, ok := byEvent[ev.ID.String()]; ok {
			r := reqs[i]
			checkShown(t, fmt.Sprintf("payload %d %q", i, r.payload), shown, headerSafe(r.payload), r.method+" "+r.path+"?"+r.query, "HTTP/1.1",
				r.headers, r.body, r.head)
			continue
		}
		switch {
		case ev.ID == sightingEv.ID:
			checkShown(t, "sighting", shown, sighting.UserAgent, sighting.Method+" "+sighting.Path+"?"+sighting.Query, "",
				[][2]string{{sighting.Headers[0].Name, sighting.Headers[0].Value}}, sighting.Text, "")
		case ev.ID == tokenUse.ID:
			checkShown(t, "token use", shown, useUA, "GET /api/v1/users", "HTTP/1.1", nil, "", "")
		case ev.Kind == "malformed":
			if (shown.Head == nil || *shown.Head == "") && (shown.HeadHex == nil || *shown.HeadHex == "") {
				t.Errorf("malformed event %s: the raw head is not shown", ev.ID)
			}
		default:
			t.Errorf("event %s (%s %s) was not sent by this test", ev.ID, ev.Method, ev.Path)
		}
	}

	// Actors, each actor's page.
	visit("actors", base+"/ui/actors")
	var actors web.ActorList
	adminJSON(t, s, "GET", "/api/v1/actors?limit=100", nil, &actors)
	if len(actors.Actors) < 2 {
		t.Errorf("%d actors, want the decoy's client and the sighting's", len(actors.Actors))
	}
	for _, a := range actors.Actors {
		visit("actor "+a.ID, base+"/ui/actors/"+url.PathEscape(a.ID))
	}

	// Tokens, each token's page: the note, fields and placements as text.
	visit("tokens", base+"/ui/tokens")
	var toks web.TokenList
	adminJSON(t, s, "GET", "/api/v1/tokens?limit=100", nil, &toks)
	for _, tok := range toks.Tokens {
		visit("token "+tok.ID, base+"/ui/tokens/"+tok.ID)
	}
	type tokenShown struct {
		Note       string      `json:"note"`
		Hits       int         `json:"hits"`
		Fields     [][2]string `json:"fields"`
		Placements []string    `json:"placements"`
	}
	const tokenShownJS = `({note: document.getElementById("token-note").textContent,
		hits: document.querySelectorAll("#token-hits tr[data-event-id]").length,
		fields: [...document.querySelectorAll("#token-fields tr")].map(r => [r.querySelector("th").textContent, r.querySelector("td").textContent]),
		placements: [...document.querySelectorAll("#placements tbody td")].map(td => td.textContent)})`
	step("noted token", chromedp.Do(bctx, chromedp.Navigate(base+"/ui/tokens/"+noted.ID)))
	ts, err := chromedp.Run(bctx, chromedp.Evaluate[tokenShown](tokenShownJS))
	step("noted token text", err)
	if ts.Note != shownAs(note) || ts.Hits != 1 {
		t.Errorf("token %s shows the note %q and %d hits; want %q and 1", noted.ID, ts.Note, ts.Hits, shownAs(note))
	}
	step("registered token", chromedp.Do(bctx, chromedp.Navigate(base+"/ui/tokens/"+registered.ID)))
	ts, err = chromedp.Run(bctx, chromedp.Evaluate[tokenShown](tokenShownJS))
	step("registered token text", err)
	for name, value := range fields {
		found := false
		for _, f := range ts.Fields {
			found = found || (f[0] == shownAs(name) && f[1] == value)
		}
		if !found {
			t.Errorf("token %s: field %q = %q not shown as text; fields shown: %q", registered.ID, name, value, ts.Fields)
		}
	}
	if got := strings.Join(ts.Placements[1:], "|"); got != strings.Join([]string{placement.Host, placement.Repo, placement.Path, placement.Where}, "|") || ts.Hits != 1 {
		t.Errorf("token %s: placements shown %q, %d hits", registered.ID, ts.Placements, ts.Hits)
	}
	if bad := watch.take(); len(bad) > 0 {
		t.Errorf("token pages: %s", strings.Join(bad, "; "))
	}

	// Alerts: the token uses' alerts carry the note and the sighting's
	// "where" in their text.
	visit("alerts", base+"/ui/alerts")
	alertText, err := chromedp.Run(bctx, chromedp.Evaluate[string](`(document.getElementById("alerts") || {textContent: ""}).textContent`))
	step("alerts text", err)
	for _, want := range []string{"Honeytoken used: github " + noted.ID + " (" + shownAs(note[:80]) + ")", " in " + shownAs(sighting.Where)} {
		if !strings.Contains(alertText, want) {
			t.Errorf("the alerts page lacks %q:\n%s", want, alertText)
		}
	}
	for _, st := range []string{"pending", "delivered", "dead"} {
		visit("alerts "+st, base+"/ui/alerts?state="+st)
	}
	visit("decoys", base+"/ui/decoys")

	// Payloads in the dashboard's own query strings and paths: filters,
	// cursors, flash keys and ids are reflected, or refused, as text.
	for _, p := range []string{xssPayloads[1], xssPayloads[2], xssPayloads[8], xssPayloads[29]} {
		q, seg := url.QueryEscape(p), url.PathEscape(p)
		for _, target := range []string{
			"/ui/events?actor=" + q + "&ip=" + q + "&since=" + q + "&until=" + q,
			"/ui/events?token=" + q,
			"/ui/events?cursor=" + q,
			"/ui/actors?min_risk=" + q,
			"/ui/actors?cursor=" + q,
			"/ui/tokens?kind=" + q + "&active=" + q,
			"/ui/alerts?state=" + q,
			"/ui/?msg=" + q,
			"/ui/events/" + seg,
			"/ui/actors/" + seg,
			"/ui/tokens/" + seg,
			"/ui/" + seg,
		} {
			visitStatus("reflected "+target, base+target, true)
		}
	}
	t.Logf("%d payloads through %d decoy requests, %d malformed requests, a token use and a sighting; %d pages checked",
		len(xssPayloads), len(reqs), len(malformed), pages)
}

// checkShown compares an event page's text with what was sent: the user
// agent and the request line escaped as the dashboard escapes, the
// headers in wire order, the body and the raw head byte for byte (as text
// or, when not printable, as the hex dump).
func checkShown(t *testing.T, what string, got eventShown, ua, request, proto string, headers [][2]string, body, head string) {
	t.Helper()
	if got.UA == nil || *got.UA != shownAs(ua) {
		t.Errorf("%s: user agent shown as %s, want %q", what, quote(got.UA), shownAs(ua))
	}
	method, target, _ := strings.Cut(request, " ")
	if want := shownAs(method) + " " + shownAs(target) + " " + proto; got.Request == nil || *got.Request != want {
		t.Errorf("%s: request shown as %s, want %q", what, quote(got.Request), want)
	}
	if headers != nil {
		var want [][2]string
		for _, h := range headers {
			want = append(want, [2]string{shownAs(h[0]), shownAs(h[1])})
		}
		if fmt.Sprint(got.Headers) != fmt.Sprint(want) {
			t.Errorf("%s: headers shown as\n %q\nwant\n %q", what, got.Headers, want)
		}
	}
	shownBlob(t, what+": body", got.Body, got.BodyHex, body)
	if head != "" {
		shownBlob(t, what+": raw head", got.Head, got.HeadHex, head)
	}
}

func shownBlob(t *testing.T, what string, text, dump *string, sent string) {
	t.Helper()
	switch {
	case sent == "":
	case shownText(sent):
		// The HTML parser reads CR LF as LF.
		if want := strings.ReplaceAll(sent, "\r\n", "\n"); text == nil || *text != want {
			t.Errorf("%s shown as %s, want %q", what, quote(text), want)
		}
	default:
		if want := hex.Dump([]byte(sent)); dump == nil || *dump != want {
			t.Errorf("%s shown as %s, want the hex dump\n%s", what, quote(dump), want)
		}
	}
}

func quote(s *string) string {
	if s == nil {
		return "nothing"
	}
	return strconv.Quote(*s)
}
