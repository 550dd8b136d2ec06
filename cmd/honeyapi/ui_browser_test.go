package main

import (
	"archive/zip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/honeyapi/honeyapi/web"
)

// chromiumPath is where the browser test expects headless Chromium.
const chromiumPath = "/usr/bin/chromium"

// The dashboard, driven by a real headless Chromium against a real
// `honeyapi serve`: log in through the form (the Secure session cookie is
// kept over http://127.0.0.1), see a decoy request appear, create a token,
// download a seeded zip, and see a token's use appear on its page.
func TestDashboardInABrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but Chromium is not installed at %s: %v", chromiumPath, err)
		}
		t.Skipf("Chromium is not installed at %s; install it (apt-get install chromium) to run the dashboard's browser test", chromiumPath)
	}
	s := startSensor(t, filepath.Join(t.TempDir(), "ui.db"))
	base := "http://" + s.admin

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
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
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v\nserver log:\n%s", what, err, s.logs.String())
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		step("text of "+sel, err)
		return v
	}

	// Unauthenticated, the browser lands on the login form.
	step("open the events page", chromedp.Do(bctx, chromedp.Navigate(base+"/ui/events"), chromedp.WaitVisible(chromedp.CSS("form#login"))))
	loc, err := chromedp.Run(bctx, chromedp.Location())
	step("location", err)
	if !strings.Contains(loc, "/ui/login?next=") {
		t.Fatalf("not sent to the login form: %s", loc)
	}

	// Log in through the form; it returns to the page asked for.
	step("log in", chromedp.Do(bctx,
		chromedp.SendKeys(chromedp.CSS("#token"), s.token),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#event-filters")),
	))
	cookies, err := chromedp.Call(bctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/ui/"}})
	step("cookies", err)
	var sess *network.Cookie
	for _, c := range cookies.Cookies {
		if c.Name == "honeyapi_session" {
			sess = c
		}
	}
	if sess == nil || !sess.Secure || !sess.HTTPOnly || sess.SameSite != network.CookieSameSiteStrict || sess.Path != "/" {
		t.Fatalf("session cookie as Chromium keeps it: %+v", sess)
	}
	// The stylesheet loads under the CSP.
	sheets, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.styleSheets.length`))
	step("stylesheets", err)
	display, err := chromedp.Run(bctx, chromedp.Evaluate[string](`getComputedStyle(document.getElementById("top")).display`))
	step("computed style", err)
	if sheets != 1 || display != "flex" {
		t.Errorf("stylesheet not applied: %d sheets, header display %q", sheets, display)
	}

	// A real request to the decoy shows up on the events page.
	decoyGet(t, "http://"+s.decoy+"/api/v1/users?probe=dashboard-browser", "dashboard-probe/1.0", "")
	step("events page", chromedp.Do(bctx,
		chromedp.Navigate(base+"/ui/events"),
		chromedp.WaitVisible(chromedp.CSS(`#events tr[data-event-id]`)),
	))
	if got := text("#events"); !strings.Contains(got, "/api/v1/users?probe=dashboard-browser") {
		t.Fatalf("the decoy request is not listed:\n%s", got)
	}
	step("event page", chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`#events tr[data-event-id] a.event-link`)),
		chromedp.WaitVisible(chromedp.CSS("#headers")),
	))
	if got := text("#headers"); !strings.Contains(got, "dashboard-probe/1.0") {
		t.Errorf("the event's headers lack the user agent:\n%s", got)
	}

	// Create a token in the UI.
	step("create a token", chromedp.Do(bctx,
		chromedp.Navigate(base+"/ui/tokens"),
		chromedp.WaitVisible(chromedp.CSS("#create-token")),
		chromedp.SetValue(chromedp.CSS("#create-kind"), "github"),
		chromedp.SendKeys(chromedp.CSS("#create-note"), "planted by the browser test"),
		chromedp.Click(chromedp.CSS("#create-submit")),
		chromedp.WaitVisible(chromedp.CSS("#token-value")),
	))
	tokID, tokValue := strings.TrimSpace(text("#token-id")), strings.TrimSpace(text("#token-value"))
	// A GitHub token: ghp_, gho_ … or a fine-grained github_pat_.
	if len(tokID) != 16 || !(strings.HasPrefix(tokValue, "gh") || strings.HasPrefix(tokValue, "github_pat_")) || !strings.Contains(text("#token-note"), "planted by the browser test") {
		t.Fatalf("created token %q %q", tokID, tokValue)
	}

	// Download a seeded zip through the browser's own download.
	dir := t.TempDir()
	progress := chromedp.Events(bctx, browser.DownloadProgress)
	_, err = chromedp.Call(bctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: ptrTo(true)})
	step("download behaviour", err)
	step("seed download", chromedp.Do(bctx,
		chromedp.Navigate(base+"/ui/tokens"),
		chromedp.WaitVisible(chromedp.CSS("#seed-download")),
		chromedp.Click(chromedp.CSS("#seed-kind-aws")),
		chromedp.SendKeys(chromedp.CSS("#seed-label"), "browser test"),
		chromedp.Click(chromedp.CSS("#seed-submit")),
	))
	var zipPath string
	for ev, err := range progress {
		step("download progress", err)
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("the download was cancelled")
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			zipPath = filepath.Join(dir, ev.GUID)
			break
		}
	}
	files := readZip(t, zipPath)
	seeded := seededTokens(t, s)
	found := false
	for _, tok := range seeded {
		for name, body := range files {
			if tok.Kind == "aws" && strings.Contains(body, tok.Value) {
				found = true
				t.Logf("the zip's %s holds seeded token %s", name, tok.ID)
			}
		}
	}
	if !found {
		t.Fatalf("the downloaded zip (%d files) holds none of the %d seeded tokens", len(files), len(seeded))
	}

	// Present the created token to the decoy: the hit appears on its page.
	decoyGet(t, "http://"+s.decoy+"/api/v1/users", "curl/8.5.0", "Bearer "+tokValue)
	step("token page", chromedp.Do(bctx,
		chromedp.Navigate(base+"/ui/tokens/"+tokID),
		chromedp.WaitVisible(chromedp.CSS(`#token-hits tr[data-event-id]`)),
	))
	if got := strings.TrimSpace(text("#token-hit-count")); got != "1" {
		t.Errorf("hits on the token's page: %q, want 1", got)
	}

	// Log out: the dashboard asks for the token again.
	step("log out", chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS("#logout-submit")),
		chromedp.WaitVisible(chromedp.CSS("form#login")),
		chromedp.Navigate(base+"/ui/tokens"),
		chromedp.WaitVisible(chromedp.CSS("form#login")),
	))
}

func ptrTo[T any](v T) *T { return &v }

// decoyGet makes one request to the decoy and reads the answer.
func decoyGet(t *testing.T, target, ua, auth string) {
	t.Helper()
	req, err := http.NewRequest("GET", target, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", ua)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	client := &http.Client{Timeout: 20 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("decoy request: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// readZip returns the files of a zip archive by name.
func readZip(t *testing.T, path string) map[string]string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("the download is not a zip archive: %v", err)
	}
	defer zr.Close()
	out := map[string]string{}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(io.LimitReader(rc, 1<<20))
		rc.Close()
		out[f.Name] = string(b)
	}
	return out
}

// seededTokens lists the tokens the server saved from seeding, through
// the admin API.
func seededTokens(t *testing.T, s *sensor) []struct{ ID, Kind, Value string } {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+s.admin+"/api/v1/tokens?source=seed", nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list web.TokenList
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != 200 {
		t.Fatalf("token list: %d %v", resp.StatusCode, err)
	}
	var out []struct{ ID, Kind, Value string }
	for _, tok := range list.Tokens {
		out = append(out, struct{ ID, Kind, Value string }{tok.ID, tok.Kind, tok.Value})
	}
	return out
}
