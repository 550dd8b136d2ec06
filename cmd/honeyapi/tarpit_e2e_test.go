package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/web"
)

func (s *sensor) adminJSON(path string, v any) {
	s.t.Helper()
	req, _ := http.NewRequest("GET", "http://"+s.admin+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		s.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		s.t.Fatal(err)
	}
}

// TestTarpitHoldsScannersAndAccounts drives a real server: a scanner is
// held with whitespace until max_hold and then answered, its event is on
// disk while it waits, and the wait is accounted on the event, the actor
// and the totals.
func TestTarpitHoldsScannersAndAccounts(t *testing.T) {
	db := filepath.Join(t.TempDir(), "tarpit.db")
	s := startSensor(t, db, "--spec", "payments", "--tarpit", "adaptive", "--tarpit-keepalive", "100ms", "--tarpit-max-hold", "2s")

	// A plausible client is answered promptly.
	start := time.Now()
	resp, err := http.Get("http://" + s.decoy + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if took := time.Since(start); took > 2*time.Second || resp.StatusCode != 200 {
		t.Fatalf("a plain client waited %v (status %d)", took, resp.StatusCode)
	}

	conn, err := net.Dial("tcp", s.decoy)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	start = time.Now()
	io.WriteString(conn, "GET /v1/customers?limit=1%27%20OR%201=1-- HTTP/1.1\r\nHost: api\r\nUser-Agent: sqlmap/1.8.2#stable (https://sqlmap.org)\r\nAccept: */*\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 401 && resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	// The event is on disk before the first byte, and the hold is live.
	var evs web.EventList
	s.adminJSON("/api/v1/events?limit=10", &evs)
	var held *store.Event
	for i := range evs.Events {
		if evs.Events[i].Client.Tool == "sqlmap" {
			held = &evs.Events[i]
		}
	}
	if held == nil || held.Tarpit != "endless" || held.TarpitEnd != "" {
		t.Fatalf("no endless event recorded before the head: %+v", evs.Events)
	}
	var rep web.TarpitReport
	s.adminJSON("/api/v1/tarpit", &rep)
	if rep.Live == nil || rep.Live.Held != 1 || rep.Live.HeldByIP["127.0.0.1"] != 1 {
		t.Fatalf("live tarpit figures while holding: %+v", rep.Live)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if took < 2*time.Second {
		t.Fatalf("the scanner was answered after %v, want it held for max_hold (2s)", took)
	}
	trimmed := strings.TrimLeft(string(body), " ")
	if len(trimmed) == len(body) || !json.Valid(body) {
		t.Fatalf("body %q: want whitespace, then a JSON document", body)
	}
	// The outcome is accounted on the event, the actor and the totals.
	var ev store.Event
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.adminJSON("/api/v1/events/"+held.ID.String(), &ev)
		if ev.TarpitEnd != "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ev.TarpitEnd != "max_hold" || ev.WaitedMS < 2000 {
		t.Fatalf("event after the hold: end %q waited %v", ev.TarpitEnd, ev.WaitedMS)
	}
	s.adminJSON("/api/v1/tarpit", &rep)
	if rep.Live.Held != 0 || rep.WaitedSecondsTotal < 2 || rep.HoldsTotal != 1 || len(rep.Actors) == 0 || rep.Actors[0].ID != ev.Actor || rep.Actors[0].WaitedMS < 2000 {
		t.Fatalf("tarpit report after the hold: %+v", rep)
	}
	var ad web.ActorDetail
	s.adminJSON("/api/v1/actors/"+ev.Actor, &ad)
	if ad.Actor.Holds != 1 || ad.Actor.WaitedMS < 2000 {
		t.Fatalf("actor account: holds %d waited %d ms", ad.Actor.Holds, ad.Actor.WaitedMS)
	}
	// And in the metrics Prometheus scrapes.
	req, _ := http.NewRequest("GET", "http://"+s.admin+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	mresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	var waited float64
	for _, line := range strings.Split(string(mb), "\n") {
		if v, ok := strings.CutPrefix(line, "honeyapi_tarpit_attacker_seconds_total "); ok {
			waited, _ = strconv.ParseFloat(v, 64)
		}
	}
	if waited < 2 || !strings.Contains(string(mb), "honeyapi_tarpit_held_connections 0") || !strings.Contains(string(mb), `honeyapi_requests_total{code=`) {
		t.Fatalf("metrics: attacker seconds %v\n%s", waited, mb)
	}
}

// TestRateLimitIgnoredRaisesRisk: past the limit a client gets 429 with
// Retry-After; coming back early raises its risk.
func TestRateLimitIgnoredRaisesRisk(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rate.db")
	s := startSensor(t, db, "--spec", "customers", "--rate-limit", "3", "--rate-window", "1m")
	var codes []int
	for i := 0; i < 6; i++ {
		resp, err := http.Get("http://" + s.decoy + "/openapi.json")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
		if i == 0 && resp.Header.Get("X-Ratelimit-Limit") != "3" {
			t.Fatalf("no limit announced: %v", resp.Header)
		}
		if i == 3 && resp.Header.Get("Retry-After") == "" {
			t.Fatalf("429 without Retry-After: %v", resp.Header)
		}
	}
	if codes[2] != 200 || codes[3] != 429 || codes[5] != 429 {
		t.Fatalf("codes %v", codes)
	}
	evs := s.events()
	last := evs[len(evs)-1]
	var ad web.ActorDetail
	s.adminJSON("/api/v1/actors/"+last.Actor, &ad)
	found := false
	for _, sig := range ad.Actor.Signals {
		found = found || strings.HasPrefix(sig, "ignores_rate_limit")
	}
	if !found || ad.Actor.Risk < 20 {
		t.Fatalf("actor after ignoring Retry-After: risk %d signals %v", ad.Actor.Risk, ad.Actor.Signals)
	}
}
