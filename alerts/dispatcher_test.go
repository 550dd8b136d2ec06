package alerts

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/honeyapi/honeyapi/store"
)

const dispatchSecret = "dispatch-secret-0123456789"

// hook is a loopback webhook receiver whose behaviour the test switches.
type hook struct {
	mu      sync.Mutex
	mode    string // "ok", "429", "down", "404", "hang"
	keys    map[string]int
	arrived []time.Time
	srv     *httptest.Server
}

func newHook(t *testing.T, mode string) *hook {
	h := &hook{mode: mode, keys: map[string]int{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		mode := h.mode
		h.mu.Unlock()
		switch mode {
		case "429":
			h.mu.Lock()
			h.mode = "ok"
			h.mu.Unlock()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		case "down":
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		case "404":
			w.WriteHeader(http.StatusNotFound)
			return
		case "hang":
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return
		}
		if err := VerifySignature([]byte(dispatchSecret), r.Header.Get("X-Honeyapi-Signature"), body, time.Now(), time.Minute); err != nil {
			t.Errorf("signature: %v", err)
		}
		var p Payload
		json.Unmarshal(body, &p)
		h.mu.Lock()
		h.keys[r.Header.Get("Idempotency-Key")]++
		h.arrived = append(h.arrived, time.Now())
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) set(mode string) { h.mu.Lock(); h.mode = mode; h.mu.Unlock() }
func (h *hook) count() int      { h.mu.Lock(); defer h.mu.Unlock(); return len(h.keys) }

func dispatchFixture(t *testing.T, hooks map[string]*hook) (*store.Store, *Dispatcher, func()) {
	t.Helper()
	st, err := store.Open(store.Options{Path: filepath.Join(t.TempDir(), "d.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var ds []Dispatch
	for name, h := range hooks {
		ch, err := NewWebhook(WebhookOptions{Name: name, URL: h.srv.URL + "/hook", Secret: dispatchSecret, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, Dispatch{Channel: ch})
	}
	d, err := NewDispatcher(DispatcherOptions{Store: st, Channels: ds, BaseBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, SendTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return st, d, stop
}

func raise(t *testing.T, st *store.Store, d *Dispatcher, channels ...string) store.ID {
	t.Helper()
	var routes []Route
	for _, c := range channels {
		routes = append(routes, Route{Name: c})
	}
	a, err := TestAlert(routes, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	id, err := st.SaveAlert(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	d.Notify()
	return id
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDispatcherHonoursRetryAfter(t *testing.T) {
	h := newHook(t, "429")
	st, d, _ := dispatchFixture(t, map[string]*hook{"soc": h})
	start := time.Now()
	id := raise(t, st, d, "soc")
	waitFor(t, "delivery", func() bool { return h.count() == 1 })
	if el := time.Since(start); el < time.Second {
		t.Fatalf("delivered %v after a 429 with Retry-After: 1", el)
	}
	a, _ := st.Alert(id)
	if a.State() != store.DeliveryDelivered || a.Deliveries[0].Attempts != 2 {
		t.Fatalf("deliveries %+v", a.Deliveries)
	}
}

func TestDispatcherReceiverDownThenUp(t *testing.T) {
	h := newHook(t, "down")
	st, d, _ := dispatchFixture(t, map[string]*hook{"soc": h})
	var ids []store.ID
	for range 5 {
		ids = append(ids, raise(t, st, d, "soc"))
	}
	time.Sleep(400 * time.Millisecond) // several failed attempts
	if h.count() != 0 {
		t.Fatal("delivered while down")
	}
	h.set("ok")
	waitFor(t, "all five", func() bool { return h.count() == 5 })
	time.Sleep(300 * time.Millisecond)
	h.mu.Lock()
	for k, n := range h.keys {
		if n != 1 {
			t.Errorf("idempotency key %s arrived %d times", k, n)
		}
	}
	h.mu.Unlock()
	for _, id := range ids {
		if a, _ := st.Alert(id); a.State() != store.DeliveryDelivered || a.Deliveries[0].Attempts < 2 {
			t.Errorf("alert %s: %+v", id, a.Deliveries)
		}
	}
}

func TestDispatcherDeadLetterAndRetry(t *testing.T) {
	h := newHook(t, "404")
	st, d, _ := dispatchFixture(t, map[string]*hook{"soc": h})
	id := raise(t, st, d, "soc")
	waitFor(t, "dead letter", func() bool { a, _ := st.Alert(id); return a.State() == store.DeliveryDead })
	h.set("ok")
	if err := st.RetryAlert(context.Background(), id, ""); err != nil {
		t.Fatal(err)
	}
	d.Notify()
	waitFor(t, "delivery after retry", func() bool { a, _ := st.Alert(id); return a.State() == store.DeliveryDelivered })
}

func TestDispatcherSlowChannelDoesNotStallOthers(t *testing.T) {
	slow, fast := newHook(t, "hang"), newHook(t, "ok")
	st, d, _ := dispatchFixture(t, map[string]*hook{"slow": slow, "fast": fast})
	start := time.Now()
	for range 3 {
		raise(t, st, d, "slow", "fast")
	}
	waitFor(t, "the fast channel", func() bool { return fast.count() == 3 })
	if el := time.Since(start); el > 900*time.Millisecond {
		t.Fatalf("the fast channel took %v behind a hanging one", el)
	}
}

// results records what the dispatcher reports to OnResult.
type results struct {
	mu  sync.Mutex
	got map[string][]string // channel → outcomes in order
}

func (r *results) add(channel, outcome string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got[channel] = append(r.got[channel], outcome)
}

func (r *results) of(channel string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got[channel]...)
}

func TestDispatcherReportsEachOutcome(t *testing.T) {
	flaky, gone := newHook(t, "down"), newHook(t, "404")
	st, err := store.Open(store.Options{Path: filepath.Join(t.TempDir(), "d.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var ds []Dispatch
	for name, h := range map[string]*hook{"flaky": flaky, "gone": gone} {
		ch, err := NewWebhook(WebhookOptions{Name: name, URL: h.srv.URL + "/hook", Secret: dispatchSecret, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, Dispatch{Channel: ch})
	}
	res := &results{got: map[string][]string{}}
	d, err := NewDispatcher(DispatcherOptions{Store: st, Channels: ds, BaseBackoff: 50 * time.Millisecond,
		MaxBackoff: 100 * time.Millisecond, SendTimeout: time.Second, OnResult: res.add})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	raise(t, st, d, "flaky", "gone")
	waitFor(t, "two failed attempts", func() bool { return len(res.of("flaky")) >= 2 })
	flaky.set("ok")
	waitFor(t, "the delivery", func() bool { return flaky.count() == 1 })
	// The receiver has it before the dispatcher has heard back and saved.
	waitFor(t, "the delivery's report", func() bool { g := res.of("flaky"); return len(g) > 0 && g[len(g)-1] != ResultFailed })
	waitFor(t, "the dead letter", func() bool { return len(res.of("gone")) == 1 })

	got := res.of("flaky")
	for i, o := range got[:len(got)-1] {
		if o != ResultFailed {
			t.Errorf("flaky attempt %d: %q, want %q", i+1, o, ResultFailed)
		}
	}
	if got[len(got)-1] != ResultSent {
		t.Errorf("flaky outcomes %v: the last is not %q", got, ResultSent)
	}
	if g := res.of("gone"); len(g) != 1 || g[0] != ResultDead {
		t.Errorf("gone outcomes %v, want one %q", g, ResultDead)
	}
	// No further reports once everything is settled.
	time.Sleep(200 * time.Millisecond)
	if n := len(res.of("flaky")); n != len(got) {
		t.Errorf("%d reports for flaky after the delivery, want %d", n, len(got))
	}
}
