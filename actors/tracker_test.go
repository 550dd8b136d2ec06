package actors

import (
	"strings"
	"testing"
	"time"

	"github.com/honeyapi/honeyapi/store"
)

var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

func ev(at time.Duration, ip, ja4, hfp, ua, path string, status int, tags ...string) *store.Event {
	e := &store.Event{Time: t0.Add(at), ClientIP: ip, Method: "GET", Path: path, Status: status, Tags: tags}
	if ja4 != "" {
		e.TLS = &store.TLS{JA4: ja4}
	}
	e.Client = store.Client{HeaderFP: hfp, UserAgent: ua, Family: "python"}
	e.Headers = []store.Header{{Name: "User-Agent", Value: ua}}
	return e
}

func TestRotatingIPsAndUserAgentsStayOneActor(t *testing.T) {
	tr := New(Options{})
	var actor string
	for i := 0; i < 50; i++ {
		ip := "198.51.100." + string(rune('0'+i%10)) + string(rune('0'+i/10))
		ua := "python-requests/2." + string(rune('0'+i%10))
		e := ev(time.Duration(i)*10*time.Second, ip, "t13d1516h2_8daaf6152771_b186095e22b6", "h1:abc", ua, "/api/v1/users", 200, TagOperation)
		tr.Observe(e, "")
		if actor == "" {
			actor = e.Actor
		}
		if e.Actor != actor {
			t.Fatalf("request %d from %s became actor %s, want %s", i, ip, e.Actor, actor)
		}
	}
}

func TestDifferentClientsAreDifferentActors(t *testing.T) {
	tr := New(Options{})
	a := ev(0, "198.51.100.1", "t13d1516h2_aaaaaaaaaaaa_bbbbbbbbbbbb", "h1:one", "curl/8.5.0", "/", 200)
	b := ev(time.Second, "203.0.113.9", "t13d1715h2_cccccccccccc_dddddddddddd", "h1:two", "Go-http-client/1.1", "/", 200)
	tr.Observe(a, "")
	tr.Observe(b, "")
	if a.Actor == b.Actor {
		t.Errorf("two unrelated clients share actor %s", a.Actor)
	}
	// The same fingerprint long after the window, from a new IP, is someone new.
	c := ev(3*time.Hour, "192.0.2.77", "t13d1516h2_aaaaaaaaaaaa_bbbbbbbbbbbb", "h1:one", "curl/8.5.0", "/", 200)
	tr.Observe(c, "")
	if c.Actor == a.Actor {
		t.Errorf("a common fingerprint three hours later from another IP joined the old actor")
	}
}

func TestSharedCredentialMergesActors(t *testing.T) {
	tr := New(Options{})
	a := ev(0, "198.51.100.1", "ja4-a", "h1:one", "curl/8", "/", 200)
	b := ev(time.Minute, "203.0.113.9", "ja4-b", "h1:two", "Go-http-client/1.1", "/", 200)
	tr.Observe(a, "Bearer leaked-token")
	tr.Observe(b, "")
	if a.Actor == b.Actor {
		t.Fatal("precondition: distinct actors")
	}
	// One request ties both identities together: b's IP with a's credential.
	c := ev(2*time.Minute, "203.0.113.9", "ja4-b", "h1:two", "Go-http-client/1.1", "/", 200)
	snap := tr.Observe(c, "Bearer leaked-token")
	if c.Actor != a.Actor {
		t.Errorf("merged actor is %s, want the older %s", c.Actor, a.Actor)
	}
	if snap.Events != 3 || len(snap.IPs) != 2 {
		t.Errorf("merged actor has %d events and IPs %v", snap.Events, snap.IPs)
	}
	gone := tr.TakeMerged()
	if len(gone) != 1 || gone[0].ID != b.Actor || gone[0].MergedInto != a.Actor {
		t.Errorf("merged-away actors: %+v", gone)
	}
	if again := tr.TakeMerged(); len(again) != 0 {
		t.Errorf("TakeMerged returned %d twice", len(again))
	}
}

func TestSessionsSplitOnInactivity(t *testing.T) {
	tr := New(Options{SessionGap: 10 * time.Minute})
	a := ev(0, "198.51.100.1", "", "h1:x", "curl/8", "/", 200)
	b := ev(5*time.Minute, "198.51.100.1", "", "h1:x", "curl/8", "/", 200)
	c := ev(30*time.Minute, "198.51.100.1", "", "h1:x", "curl/8", "/", 200)
	for _, e := range []*store.Event{a, b, c} {
		tr.Observe(e, "")
	}
	if a.Session != b.Session || b.Session == c.Session || a.Actor != c.Actor {
		t.Errorf("sessions %s %s %s (actors %s %s)", a.Session, b.Session, c.Session, a.Actor, c.Actor)
	}
}

func TestRiskAndStageAreExplained(t *testing.T) {
	tr := New(Options{})
	ip := "198.51.100.5"
	var last *store.Event
	step := func(path string, status int, query string, tags ...string) *store.Event {
		e := ev(time.Duration(len(path))*time.Second, ip, "", "h1:s", "sqlmap/1.8", path, status, tags...)
		e.Query = query
		tr.Observe(e, "")
		last = e
		return e
	}
	first := step("/v3/api-docs", 200, "", TagSpec)
	if first.Stage != Reconnaissance || !hasSignal(first.Signals, "spec_fetch") {
		t.Errorf("after the spec fetch: stage %q, signals %v", first.Stage, first.Signals)
	}
	step("/api/v1/users", 200, "", TagOperation)
	if !hasSignal(last.Signals, "spec_then_operations") {
		t.Errorf("operation after the spec: %v", last.Signals)
	}
	step("/.env", 200, "", TagBait)
	if last.Stage != CredentialAccess {
		t.Errorf("after the bait: stage %q", last.Stage)
	}
	inj := step("/api/v1/users", 200, "id=1%27%20OR%201%3D1--", TagOperation)
	if inj.Stage != Exploitation || !hasSignal(inj.Signals, "injection:sql") {
		t.Errorf("after an injection: stage %q, signals %v", inj.Stage, inj.Signals)
	}
	if inj.Risk < 60 || inj.Risk > 100 {
		t.Errorf("risk %d for spec fetch + bait + injection", inj.Risk)
	}
	for _, s := range inj.Signals {
		if !strings.Contains(s, ": ") {
			t.Errorf("signal without an explanation: %q", s)
		}
	}
}

func TestEnumerationRaisesRisk(t *testing.T) {
	tr := New(Options{})
	var e *store.Event
	for i := 0; i < 30; i++ {
		e = ev(time.Duration(i)*time.Second, "198.51.100.9", "", "h1:g", "gobuster/3.6", "/p"+string(rune('a'+i%26))+string(rune('a'+i/26)), 404, TagUnknown)
		tr.Observe(e, "")
	}
	if !hasSignal(e.Signals, "enumeration") || !hasSignal(e.Signals, "path_enumeration") {
		t.Errorf("30 distinct 404s: signals %v", e.Signals)
	}
}

func TestTrackerIsBounded(t *testing.T) {
	tr := New(Options{MaxActors: 100})
	for i := 0; i < 1000; i++ {
		e := ev(time.Duration(i)*time.Second, "10.0."+string(rune('0'+i/100))+"."+string(rune('0'+i%100/10))+string(rune('0'+i%10)), "", "", "x", "/", 200)
		tr.Observe(e, "")
	}
	if n := len(tr.actors); n > 100 {
		t.Errorf("%d actors held, bound 100", n)
	}
	if n := len(tr.keys); n > 1000 {
		t.Errorf("%d keys held", n)
	}
}

func hasSignal(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

func TestIgnoringRetryAfterRaisesRisk(t *testing.T) {
	tr := New(Options{})
	first := ev(0, "198.51.100.9", "", "hfp", "python-requests/2.31", "/v1/users", 200, TagOperation)
	before := tr.Observe(first, "").Risk
	limited := ev(time.Second, "198.51.100.9", "", "hfp", "python-requests/2.31", "/v1/users", 429, TagOperation, TagRateLimited)
	tr.Observe(limited, "")
	again := ev(2*time.Second, "198.51.100.9", "", "hfp", "python-requests/2.31", "/v1/users", 429, TagOperation, TagRateLimited, TagRetryIgnored)
	a := tr.Observe(again, "")
	if a.Risk < before+20 || !hasSignal(a.Signals, "ignores_rate_limit") {
		t.Fatalf("risk %d (was %d), signals %v", a.Risk, before, a.Signals)
	}
	w := tr.Tarpitted(a.ID, 1500*time.Millisecond, 1)
	if w == nil || w.WaitedMS != 1500 || w.Holds != 1 {
		t.Fatalf("tarpitted snapshot %+v", w)
	}
	if tr.Tarpitted("act_unknown", time.Second, 1) != nil {
		t.Fatal("an unknown actor got a snapshot")
	}
}
