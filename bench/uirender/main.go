// Command uirender times the dashboard's pages on a store holding a
// million events: it fills a bbolt file (or reuses one), serves the admin
// handler on loopback, logs in through the login form like a browser, and
// fetches each page repeatedly, printing p50 and max per page.
//
//	go run ./bench/uirender -events 1000000 -db /tmp/ui-1m.db
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/web"
)

func main() {
	n := flag.Int("events", 1_000_000, "events to store")
	nActors := flag.Int("actors", 5000, "actors the events belong to")
	db := flag.String("db", "", "database file (reused when it already holds the events)")
	reps := flag.Int("n", 20, "fetches per page")
	flag.Parse()
	if *db == "" {
		log.Fatal("uirender: -db is required")
	}
	st, err := store.Open(store.Options{Path: *db, Durability: store.DurabilityAsync, MaxSize: 8 << 30, RetainFor: 365 * 24 * time.Hour, MaxBatch: 2048})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	if have := st.Stats().Events; have < int64(*n) {
		fill(st, *n-int(have), *nActors)
	}
	stats := st.Stats()
	fmt.Printf("store: %d events, %d actors, file %d MiB\n", stats.Events, stats.Actors, stats.FileBytes>>20)

	const token = "uirender-admin-token-0123456789abcdef"
	admin, err := web.NewAdmin(web.AdminOptions{Token: token, Store: st})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go http.Serve(ln, admin)
	base := "http://" + ln.Addr().String()
	cookie := login(base, token)

	evs, err := st.Events(store.Query{Limit: 1, Reverse: true})
	if err != nil || len(evs) == 0 {
		log.Fatal("no events")
	}
	mid, err := st.Events(store.Query{Limit: 1, Since: stats.Oldest.Add(stats.Newest.Sub(stats.Oldest) / 2)})
	if err != nil || len(mid) == 0 {
		log.Fatal("no middle event")
	}
	actor := evs[0].Actor
	pages := []string{
		"/ui/",
		"/ui/events",
		"/ui/events?cursor=" + mid[0].ID.String(),
		"/ui/events?actor=" + url.QueryEscape(actor),
		"/ui/events?ip=" + url.QueryEscape(evs[0].ClientIP),
		"/ui/events/" + mid[0].ID.String(),
		"/ui/actors",
		"/ui/actors/" + url.PathEscape(actor),
		"/ui/tokens",
		"/ui/alerts",
	}
	fmt.Printf("%-48s %10s %10s %10s\n", "page", "p50", "max", "bytes")
	for _, p := range pages {
		var ds []time.Duration
		size := 0
		for i := 0; i < *reps; i++ {
			req, _ := http.NewRequest("GET", base+p, nil)
			req.Header.Set("Cookie", cookie)
			start := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				log.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			ds = append(ds, time.Since(start))
			if resp.StatusCode != 200 {
				log.Fatalf("%s: %d %s", p, resp.StatusCode, b)
			}
			size = len(b)
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		fmt.Printf("%-48s %10s %10s %10d\n", p[:min(len(p), 48)], ds[len(ds)/2].Round(10*time.Microsecond), ds[len(ds)-1].Round(10*time.Microsecond), size)
	}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login goes through the form like a browser and returns the Cookie header.
func login(base, token string) string {
	resp, err := http.Get(base + "/ui/login")
	if err != nil {
		log.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRe.FindSubmatch(b)
	if m == nil {
		log.Fatalf("no csrf field in the login form:\n%s", b)
	}
	var cookies []string
	for _, c := range resp.Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	form := url.Values{"token": {token}, "csrf": {string(m[1])}}
	req, _ := http.NewRequest("POST", base+"/ui/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Cookie", strings.Join(cookies, "; "))
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = client.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "honeyapi_session" && c.Value != "" {
			return c.Name + "=" + c.Value
		}
	}
	log.Fatalf("login failed: %d", resp.StatusCode)
	return ""
}

// fill stores n events shaped like a scanner's requests, spread over the
// last 30 days, across nActors actors (with their records).
func fill(st *store.Store, n, nActors int) {
	ctx := context.Background()
	start := time.Now()
	paths := []string{"/api/v1/users", "/api/v1/users/%d", "/.env", "/actuator/env", "/api/v1/users/%d/keys", "/wp-login.php", "/v3/api-docs"}
	uas := []string{"sqlmap/1.8.2#stable (https://sqlmap.org)", "python-requests/2.31.0", "curl/8.5.0", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36", "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)"}
	for a := 0; a < nActors; a++ {
		ac := &store.Actor{ID: fmt.Sprintf("act_%016d", a), FirstSeen: start.Add(-30 * 24 * time.Hour), LastSeen: start.Add(-time.Duration(a) * time.Minute),
			Events: n / nActors, IPs: []string{ip(a)}, Families: []string{"scanner/sqlmap"}, Risk: a % 101, Stage: "reconnaissance",
			Signals: []string{"scanner:sqlmap: the client identifies as the scanner sqlmap"}, Keys: []string{"ip:" + ip(a)}}
		if err := st.SaveActors(ctx, ac); err != nil {
			log.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		a := rand.IntN(nActors)
		p := paths[i%len(paths)]
		if strings.Contains(p, "%d") {
			p = fmt.Sprintf(p, i%5000)
		}
		ua := uas[a%len(uas)]
		ev := &store.Event{
			Time: start.Add(-time.Duration(n-i) * (30 * 24 * time.Hour / time.Duration(n))), Kind: "request", Listener: "decoy",
			Remote: ip(a) + ":51234", ClientIP: ip(a), Proto: "HTTP/1.1", Method: "GET", Host: "api.internal", Path: p,
			Query: "id=1%27%20OR%201=1--", Document: "admin", Operation: "listUsers", Status: 200, RespBytes: 812, ServeMS: 0.4,
			Headers: []store.Header{{Name: "Host", Value: "api.internal"}, {Name: "User-Agent", Value: ua}, {Name: "Accept", Value: "*/*"}, {Name: "Authorization", Value: "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"}},
			RawHead: []byte("GET " + p + " HTTP/1.1\r\nHost: api.internal\r\nUser-Agent: " + ua + "\r\nAccept: */*\r\n\r\n"),
			Client:  store.Client{UserAgent: ua, Family: "scanner", Tool: "sqlmap"},
			Actor:   fmt.Sprintf("act_%016d", a), Risk: a % 101, Stage: "reconnaissance", Tags: []string{"operation"},
			Tarpit: "delay", DelayMS: 61, WaitedMS: 61, TarpitEnd: "done",
		}
		if _, err := st.Record(ctx, ev, nil); err != nil {
			log.Fatal(err)
		}
		if (i+1)%100_000 == 0 {
			fmt.Fprintf(os.Stderr, "filled %d events in %v\n", i+1, time.Since(start).Round(time.Second))
		}
	}
	if err := st.Sync(ctx); err != nil {
		log.Fatal(err)
	}
}

func ip(a int) string { return fmt.Sprintf("198.51.%d.%d", a/250, a%250+1) }
