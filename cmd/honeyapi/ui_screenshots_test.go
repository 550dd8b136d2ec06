package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/honeyapi/honeyapi/alerts"
	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/web"
)

// TestDashboardScreenshots is a generator, not a check: it writes the
// README's screenshots of the dashboard and asserts nothing about them
// beyond the pages opening. It runs only when HONEYAPI_SCREENSHOTS_DIR
// names the directory to write them to (a relative path is taken from
// this package's directory):
//
//	HONEYAPI_SCREENSHOTS_DIR=$PWD/docs/screenshots go test -count=1 -run TestDashboardScreenshots ./cmd/honeyapi
//
// A real `honeyapi serve` (two decoys behind a trusted proxy, the adaptive
// tarpit, two alert webhooks) gets a few minutes' worth of believable
// traffic: a browser looking at the API description, curl probing and
// then using a planted Stripe key, sqlmap injecting, a scanner hunting for
// files, and the AWS CLI presenting a key from a seeded archive. Chromium
// then logs in and saves each page as a PNG 1280 pixels wide.
func TestDashboardScreenshots(t *testing.T) {
	out := os.Getenv("HONEYAPI_SCREENSHOTS_DIR")
	if out == "" {
		t.Skip("a generator, not a check: set HONEYAPI_SCREENSHOTS_DIR to write the dashboard's screenshots there")
	}
	requireChromium(t)
	out, err := filepath.Abs(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	db := filepath.Join(dir, "demo.db")
	rcv := newReceiver(t, "127.0.0.1:0")
	// The on-call bridge is down, so its (critical) alerts wait for a retry.
	down, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downAddr := down.Addr().String()
	down.Close()
	cfg := fmt.Sprintf(`alerts:
  dashboard_url: http://127.0.0.1:8081
  webhooks:
    - name: soc
      url: http://%s/hooks/honeyapi
      secret: %s
    - name: oncall
      url: http://%s/page
      secret: %s
      min_severity: critical
`, rcv.addr, hookSecret, downAddr, hookSecret)
	cfgPath := filepath.Join(dir, "honeyapi.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startSensor(t, db, "--config", cfgPath, "--spec", "payments", "--spec", "customers",
		"--trusted-proxy", "127.0.0.1/32", "--tarpit", "adaptive", "--tarpit-keepalive", "200ms", "--tarpit-max-hold", "3s",
		"--tarpit-max-delay", "1500ms", "--tarpit-drip-bytes", "256", "--tarpit-drip-interval", "250ms")

	// Tokens: one planted by hand, one planted and later revoked, and a
	// seeded archive for the build server.
	var stripe, slack store.Token
	adminJSON(t, s, "POST", "/api/v1/tokens", web.NewToken{Kind: "stripe", Note: "billing-service .env on build-01"}, &stripe)
	adminJSON(t, s, "POST", "/api/v1/tokens", web.NewToken{Kind: "slack", Note: "old #ops webhook in the wiki"}, &slack)
	adminJSON(t, s, "POST", "/api/v1/tokens/"+slack.ID+"/revoke", nil, nil)
	adminJSON(t, s, "POST", "/api/v1/tokens/seed", web.SeedRequest{Kinds: []string{"aws", "github", "dburl"}, Label: "build server", Note: "CI runner home directory"}, nil)
	var aws struct{ ID, Kind, Value string }
	for _, tok := range seededTokens(t, s) {
		if tok.Kind == "aws" {
			aws = tok
		}
	}
	if aws.Value == "" {
		t.Fatal("the seeded archive holds no AWS key")
	}

	const host = "api.example.com"
	chrome := func(ip, target string) string {
		return rawHTTP("GET", target, [][2]string{
			{"Host", host}, {"Connection", "keep-alive"},
			{"sec-ch-ua", `"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"`},
			{"sec-ch-ua-mobile", "?0"}, {"sec-ch-ua-platform", `"macOS"`}, {"Upgrade-Insecure-Requests", "1"},
			{"User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"},
			{"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8"},
			{"Sec-Fetch-Site", "none"}, {"Sec-Fetch-Mode", "navigate"}, {"Sec-Fetch-User", "?1"}, {"Sec-Fetch-Dest", "document"},
			{"Accept-Encoding", "gzip, deflate, br"}, {"Accept-Language", "en-GB,en;q=0.9"}, {"X-Forwarded-For", ip},
		}, "")
	}
	curl := func(ip, method, target, auth string) string {
		h := [][2]string{{"Host", host}, {"User-Agent", "curl/8.5.0"}, {"Accept", "*/*"}}
		if auth != "" {
			h = append(h, [2]string{"Authorization", auth})
		}
		return rawHTTP(method, target, append(h, [2]string{"X-Forwarded-For", ip}), "")
	}
	sqlmap := func(method, target, body string) string {
		h := [][2]string{{"Host", host}, {"Cache-Control", "no-cache"},
			{"User-Agent", "sqlmap/1.8.4#stable (https://sqlmap.org)"}, {"Accept", "*/*"}, {"Accept-Encoding", "gzip,deflate"}}
		if body != "" {
			h = append(h, [2]string{"Content-Type", "application/json"})
		}
		return rawHTTP(method, target, append(h, [2]string{"Connection", "close"}, [2]string{"X-Forwarded-For", "192.0.2.77"}), body)
	}
	scanner := func(target string) string {
		return rawHTTP("GET", target, [][2]string{{"Host", host},
			{"User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"},
			{"Connection", "close"}, {"Accept", "*/*"}, {"Accept-Language", "en"}, {"Accept-Encoding", "gzip"},
			{"X-Forwarded-For", "198.51.100.200"}}, "")
	}
	awsCLI := func() string {
		body := "Action=GetCallerIdentity&Version=2011-06-15"
		return rawHTTP("POST", "/", [][2]string{{"Host", "sts.amazonaws.com"}, {"Accept-Encoding", "identity"},
			{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
			{"User-Agent", "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-35-generic exe/x86_64.ubuntu.22 prompt/off command/sts.get-caller-identity"},
			{"X-Amz-Date", time.Now().UTC().Format("20060102T150405Z")},
			{"Authorization", "AWS4-HMAC-SHA256 Credential=" + aws.Value + "/" + time.Now().UTC().Format("20060102") +
				"/us-east-1/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"},
			{"X-Forwarded-For", "203.0.113.199"}}, body)
	}

	// Each client's requests in order; the clients side by side, so the
	// tarpit's holds overlap.
	clients := map[string][]string{
		"browser": {
			chrome("198.51.100.23", "/openapi.json"),
			chrome("198.51.100.23", "/api/v2/health"),
			chrome("198.51.100.23", "/v1/customers"),
		},
		"curl": {
			curl("203.0.113.45", "GET", "/openapi.yaml", ""),
			curl("203.0.113.45", "GET", "/v1/balance", ""),
			curl("203.0.113.45", "GET", "/v1/charges?limit=3", "Bearer "+stripe.Value),
			curl("203.0.113.45", "GET", "/v1/customers?email=finance%40example.com", ""),
		},
		"scanner": {
			scanner("/.env"), scanner("/.git/config"), scanner("/actuator/env"), scanner("/wp-login.php"),
			scanner("/api/v2/exports"), scanner("/server-status"),
		},
		"aws": {awsCLI()},
	}
	for i, req := range []string{
		sqlmap("GET", "/api/v2/customers?email=test%40example.com%27%20AND%201%3D1--%20-", ""),
		sqlmap("GET", "/api/v2/customers/1%20UNION%20ALL%20SELECT%20NULL,NULL,CONCAT(0x71,version(),0x71)--%20-", ""),
		sqlmap("GET", "/v1/charges?limit=10%27%20AND%20SLEEP(5)%20AND%20%27kQwz%27=%27kQwz", ""),
		sqlmap("GET", "/api/v2/orders?status=shipped%22%20OR%20%221%22=%221", ""),
		sqlmap("POST", "/api/v2/customers/search", `{"query":"' OR '1'='1' -- ","limit":10}`),
	} {
		clients[fmt.Sprintf("sqlmap %d", i)] = []string{req}
	}
	var wg sync.WaitGroup
	for name, reqs := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, raw := range reqs {
				if _, err := rawExchange(s.decoy, raw); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
		}()
	}
	wg.Wait()
	n := 0
	for _, reqs := range clients {
		n += len(reqs)
	}

	// The scanner comes back with the Stripe key the decoy's /.env served it.
	var crumbs web.TokenList
	adminJSON(t, s, "GET", "/api/v1/tokens?source="+store.SourceBreadcrumb, nil, &crumbs)
	for _, tok := range crumbs.Tokens {
		if tok.Kind == "stripe" && strings.Contains(tok.Note, "198.51.100.200") {
			if _, err := rawExchange(s.decoy, rawHTTP("GET", "/v1/balance", [][2]string{{"Host", host},
				{"User-Agent", "python-requests/2.31.0"}, {"Accept-Encoding", "gzip, deflate"}, {"Accept", "*/*"},
				{"Connection", "keep-alive"}, {"Authorization", "Bearer " + tok.Value}, {"X-Forwarded-For", "198.51.100.200"}}, "")); err != nil {
				t.Fatal(err)
			}
			n++
			break
		}
	}
	evs := waitEvents(t, s, n)
	rcv.wait("the alerts", func(got []alerts.Payload) bool { return len(got) >= 3 })
	// Let the deliveries due now finish, so the alerts page shows them
	// delivered (the on-call bridge's stay pending, and so do deliveries
	// the dispatcher has deferred).
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var list web.AlertList
		adminJSON(t, s, "GET", "/api/v1/alerts", nil, &list)
		due := 0
		for _, a := range list.Alerts {
			for _, d := range a.Deliveries {
				if d.Channel == "soc" && d.State == store.DeliveryPending && d.Next.Before(time.Now().Add(30*time.Second)) {
					due++
				}
			}
		}
		if due == 0 {
			break
		}
	}

	// The pages to show: the sqlmap UNION event and its actor, the Stripe
	// key's page.
	var union *store.Event
	for i := range evs {
		if evs[i].Client.Tool == "sqlmap" && strings.Contains(evs[i].Path, "UNION") {
			union = &evs[i]
		}
	}
	if union == nil {
		t.Fatal("the sqlmap UNION request is not stored")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bctx := newBrowser(t, ctx)
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	uiLogin(t, bctx, s)
	base := "http://" + s.admin
	for _, shot := range []struct {
		name, path, ready string
		maxHeight         int
	}{
		{"overview", "/ui/", "#chart-hourly", 1800},
		{"events", "/ui/events", "#events", 1800},
		{"event", "/ui/events/" + union.ID.String(), "#headers", 1800},
		{"actors", "/ui/actors", "#actors", 1800},
		{"actor", "/ui/actors/" + union.Actor, "#actor-events", 1800},
		{"tokens", "/ui/tokens", "#tokens", 1800},
		{"token", "/ui/tokens/" + stripe.ID, "#token-hits", 1800},
		{"alerts", "/ui/alerts", "#alerts", 1800},
		// Two documents of some forty operations each: the first one.
		{"decoys", "/ui/decoys", ".decoy-document", 1250},
	} {
		png := screenshotPage(t, bctx, base+shot.path, shot.ready, 1280, shot.maxHeight)
		file := filepath.Join(out, shot.name+".png")
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d KB", file, len(png)/1024)
	}
}

// screenshotPage opens target, waits for ready and captures the page,
// width wide and as tall as the page up to maxHeight, as a PNG.
func screenshotPage(t *testing.T, bctx context.Context, target, ready string, width, maxHeight int) []byte {
	t.Helper()
	if err := chromedp.Do(bctx, chromedp.Navigate(target), chromedp.WaitVisible(chromedp.CSS(ready))); err != nil {
		t.Fatalf("open %s: %v", target, err)
	}
	height, err := chromedp.Run(bctx, chromedp.Evaluate[int](`Math.ceil(document.documentElement.scrollHeight)`))
	if err != nil {
		t.Fatal(err)
	}
	height = min(height, maxHeight)
	shot, err := chromedp.Call(bctx, page.CaptureScreenshot, page.CaptureScreenshotParams{
		Format:                page.CaptureScreenshotFormatPng,
		Clip:                  &page.Viewport{Width: float64(width), Height: float64(height), Scale: 1},
		CaptureBeyondViewport: ptrTo(true),
		FromSurface:           ptrTo(true),
	})
	if err != nil {
		t.Fatalf("screenshot of %s: %v", target, err)
	}
	return shot.Data
}

// rawHTTP is a request as bytes on the wire, headers in the order given.
func rawHTTP(method, target string, headers [][2]string, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", method, target)
	for _, h := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	if body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return b.String()
}

// rawExchange sends raw on a new connection and reads the whole answer;
// unlike rawRequest it may run outside the test's goroutine.
func rawExchange(addr, raw string) (int, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}
