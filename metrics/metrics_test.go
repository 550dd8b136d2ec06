package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/honeyapi/honeyapi/store"
)

// scrape fetches the handler over a real HTTP server and returns the
// samples by series ("name{a="x",b="y"}", labels sorted as Prometheus
// prints them) and the raw text.
func scrape(t *testing.T, h http.Handler) (map[string]float64, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("scrape: %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q, want the text format", ct)
	}
	samples := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("unparseable line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		samples[line[:i]] = v
	}
	return samples, string(body)
}

func want(t *testing.T, samples map[string]float64, series string, v float64) {
	t.Helper()
	got, ok := samples[series]
	if !ok {
		t.Errorf("%s: missing", series)
		return
	}
	if math.Abs(got-v) > 1e-9 {
		t.Errorf("%s = %v, want %v", series, got, v)
	}
}

func TestScrapeNamesLabelsAndValues(t *testing.T) {
	m := New()
	for range 3 {
		m.Request("decoy", 200)
	}
	m.Request("decoy", 404)
	m.Request("decoy", 299) // not a registered code: its class
	m.Request("decoy", 42)  // not a status at all
	m.Request("admin", 401)
	m.Committed(2*time.Millisecond, 5)
	m.Committed(300*time.Millisecond, 1)
	m.Alert("soc", OutcomeSent)
	m.Alert("soc", OutcomeFailed)
	m.Alert("soc", OutcomeFailed)
	m.Alert("soc", OutcomeDead)
	m.Alert("soc", "exploded")
	m.TokenHit("aws")
	m.TokenHit("aws")
	m.TokenHit("github")
	m.SetTarpit(func() (int, float64) { return 3, 12.5 })
	m.SetStore(func() store.Stats {
		return store.Stats{Events: 42, Actors: 7, FileBytes: 1 << 20, DataBytes: 1 << 19, Queued: 2, WriteErrors: 1,
			DeletedAge: 10, DeletedSize: 11, DroppedSpace: 12}
	})
	m.SetAlertsPending(func() int { return 4 })

	s, text := scrape(t, m.Handler())
	want(t, s, `honeyapi_requests_total{code="200",listener="decoy"}`, 3)
	want(t, s, `honeyapi_requests_total{code="404",listener="decoy"}`, 1)
	want(t, s, `honeyapi_requests_total{code="2xx",listener="decoy"}`, 1)
	want(t, s, `honeyapi_requests_total{code="other",listener="decoy"}`, 1)
	want(t, s, `honeyapi_requests_total{code="401",listener="admin"}`, 1)
	want(t, s, `honeyapi_events_committed_total`, 6)
	want(t, s, `honeyapi_commit_duration_seconds_bucket{le="0.001"}`, 0)
	want(t, s, `honeyapi_commit_duration_seconds_bucket{le="0.0025"}`, 1)
	want(t, s, `honeyapi_commit_duration_seconds_bucket{le="0.25"}`, 1)
	want(t, s, `honeyapi_commit_duration_seconds_bucket{le="0.5"}`, 2)
	want(t, s, `honeyapi_commit_duration_seconds_bucket{le="+Inf"}`, 2)
	want(t, s, `honeyapi_commit_duration_seconds_count`, 2)
	want(t, s, `honeyapi_commit_duration_seconds_sum`, 0.302)
	want(t, s, `honeyapi_alerts_total{channel="soc",outcome="sent"}`, 1)
	want(t, s, `honeyapi_alerts_total{channel="soc",outcome="failed"}`, 2)
	want(t, s, `honeyapi_alerts_total{channel="soc",outcome="dead"}`, 1)
	want(t, s, `honeyapi_alerts_total{channel="soc",outcome="other"}`, 1)
	want(t, s, `honeyapi_token_hits_total{kind="aws"}`, 2)
	want(t, s, `honeyapi_token_hits_total{kind="github"}`, 1)
	want(t, s, `honeyapi_tarpit_held_connections`, 3)
	want(t, s, `honeyapi_tarpit_attacker_seconds_total`, 12.5)
	want(t, s, `honeyapi_store_events`, 42)
	want(t, s, `honeyapi_store_actors`, 7)
	want(t, s, `honeyapi_store_file_bytes`, 1<<20)
	want(t, s, `honeyapi_store_data_bytes`, 1<<19)
	want(t, s, `honeyapi_store_queue_length`, 2)
	want(t, s, `honeyapi_store_write_errors_total`, 1)
	want(t, s, `honeyapi_store_events_deleted_total{reason="age"}`, 10)
	want(t, s, `honeyapi_store_events_deleted_total{reason="size"}`, 11)
	want(t, s, `honeyapi_store_events_deleted_total{reason="space"}`, 12)
	want(t, s, `honeyapi_alerts_pending`, 4)

	// The types Prometheus is told.
	for _, typ := range []string{
		"honeyapi_requests_total counter", "honeyapi_events_committed_total counter",
		"honeyapi_commit_duration_seconds histogram", "honeyapi_alerts_total counter",
		"honeyapi_token_hits_total counter", "honeyapi_tarpit_held_connections gauge",
		"honeyapi_tarpit_attacker_seconds_total counter", "honeyapi_store_events gauge",
		"honeyapi_store_file_bytes gauge", "honeyapi_store_queue_length gauge",
		"honeyapi_store_write_errors_total counter", "honeyapi_alerts_pending gauge",
	} {
		if !strings.Contains(text, "# TYPE "+typ+"\n") {
			t.Errorf("no # TYPE %s", typ)
		}
	}
	// The Go and process collectors are on the private registry; every
	// other name is ours.
	if _, ok := s["go_goroutines"]; !ok {
		t.Error("no go_goroutines: the Go collector is missing")
	}
	if runtime.GOOS == "linux" {
		if _, ok := s["process_resident_memory_bytes"]; !ok {
			t.Error("no process_resident_memory_bytes: the process collector is missing")
		}
	}
	for series := range s {
		if !strings.HasPrefix(series, "honeyapi_") && !strings.HasPrefix(series, "go_") && !strings.HasPrefix(series, "process_") {
			t.Errorf("series %s is outside the honeyapi_ namespace", series)
		}
	}
}

func TestScrapeTimeFunctionsAreOptionalAndRemovable(t *testing.T) {
	m := New()
	s, _ := scrape(t, m.Handler())
	for _, name := range []string{"honeyapi_tarpit_held_connections", "honeyapi_store_events", "honeyapi_alerts_pending"} {
		if _, ok := s[name]; ok {
			t.Errorf("%s is reported before its function was set", name)
		}
	}
	// A histogram and a plain counter are there from the start.
	want(t, s, "honeyapi_events_committed_total", 0)
	want(t, s, "honeyapi_commit_duration_seconds_count", 0)

	held := 1
	m.SetTarpit(func() (int, float64) { return held, 0 })
	s, _ = scrape(t, m.Handler())
	want(t, s, "honeyapi_tarpit_held_connections", 1)
	held = 9 // read again at each scrape
	s, _ = scrape(t, m.Handler())
	want(t, s, "honeyapi_tarpit_held_connections", 9)
	m.SetTarpit(nil)
	m.SetStore(nil)
	m.SetAlertsPending(nil)
	s, _ = scrape(t, m.Handler())
	if _, ok := s["honeyapi_tarpit_held_connections"]; ok {
		t.Error("SetTarpit(nil) left the gauge")
	}
}

func TestTheDefaultRegistryIsUntouched(t *testing.T) {
	names := func() map[string]bool {
		mfs, err := prometheus.DefaultGatherer.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, mf := range mfs {
			out[mf.GetName()] = true
		}
		return out
	}
	before := names()
	for range 2 { // two instances, as tests and restarts create them
		m := New()
		m.Request("decoy", 200)
		m.Alert("soc", OutcomeSent)
		m.TokenHit("aws")
		m.Committed(time.Millisecond, 1)
		m.SetTarpit(func() (int, float64) { return 1, 1 })
		scrape(t, m.Handler())
	}
	after := names()
	if len(after) != len(before) {
		t.Errorf("the default registry went from %d to %d families", len(before), len(after))
	}
	for name := range after {
		if strings.HasPrefix(name, "honeyapi_") {
			t.Errorf("%s is on the default registry", name)
		}
	}
	// Our names are free there: registering one succeeds.
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "honeyapi_requests_total", Help: "probe"})
	if err := prometheus.DefaultRegisterer.Register(c); err != nil {
		t.Errorf("honeyapi_requests_total is taken on the default registry: %v", err)
	} else {
		prometheus.DefaultRegisterer.Unregister(c)
	}
}

func countSeries(s map[string]float64, prefix string) (n int, values map[string]bool) {
	values = map[string]bool{}
	for series := range s {
		if strings.HasPrefix(series, prefix) {
			n++
			values[series] = true
		}
	}
	return n, values
}

func TestLabelCardinalityIsBounded(t *testing.T) {
	m := New()
	m.Request("decoy", 200) // seen first: keeps its own label
	for i := range 500 {
		m.Alert(fmt.Sprintf("channel-%d", i), OutcomeSent)
		m.TokenHit(fmt.Sprintf("kind-%d", i))
		m.Request(fmt.Sprintf("listener-%d", i), 200+i%400)
	}
	for status := -5; status < 1200; status++ {
		m.Request("decoy", status)
	}
	s, _ := scrape(t, m.Handler())

	n, _ := countSeries(s, `honeyapi_alerts_total{`)
	if n != (MaxChannels+1)*3 {
		t.Errorf("%d alert series, want %d (64 channels and other, three outcomes each)", n, (MaxChannels+1)*3)
	}
	want(t, s, `honeyapi_alerts_total{channel="other",outcome="sent"}`, 500-MaxChannels)
	if n, _ := countSeries(s, `honeyapi_token_hits_total{`); n != MaxKinds+1 {
		t.Errorf("%d token kind series, want %d", n, MaxKinds+1)
	}
	want(t, s, `honeyapi_token_hits_total{kind="other"}`, 500-MaxKinds)

	listeners := map[string]bool{}
	codes := map[string]bool{}
	for series := range s {
		rest, ok := strings.CutPrefix(series, `honeyapi_requests_total{code="`)
		if !ok {
			continue
		}
		code, rest, _ := strings.Cut(rest, `"`)
		codes[code] = true
		listeners[strings.TrimSuffix(strings.TrimPrefix(rest, `,listener="`), `"}`)] = true
	}
	if len(listeners) != MaxListeners+1 || !listeners["other"] || !listeners["decoy"] {
		t.Errorf("%d listeners: %v", len(listeners), listeners)
	}
	if len(codes) > numCodeLabels {
		t.Errorf("%d distinct codes", len(codes))
	}
	for code := range codes {
		if code == "other" || (len(code) == 3 && strings.HasSuffix(code, "xx")) {
			continue
		}
		n, err := strconv.Atoi(code)
		if err != nil || http.StatusText(n) == "" {
			t.Errorf("code label %q is neither a registered code, a class nor other", code)
		}
	}
	// Every status outside 100–599 went to "other" (the 1205 requests on
	// the decoy listener: 105 below 100, 600 from 600 up).
	want(t, s, `honeyapi_requests_total{code="other",listener="decoy"}`, 105+600)
}

func TestLabelValuesAreSanitised(t *testing.T) {
	m := New()
	long := strings.Repeat("é", 100) // 200 bytes
	m.Alert(long, OutcomeSent)
	m.Alert("\xff\xfeslack", OutcomeSent)
	m.Alert("", OutcomeSent)
	m.TokenHit(strings.Repeat("k", 10_000))
	s, text := scrape(t, m.Handler())
	want(t, s, `honeyapi_alerts_total{channel="`+strings.Repeat("é", MaxLabelLen/2)+`",outcome="sent"}`, 1)
	want(t, s, "honeyapi_alerts_total{channel=\"\uFFFDslack\",outcome=\"sent\"}", 1)
	want(t, s, `honeyapi_alerts_total{channel="unknown",outcome="sent"}`, 1)
	want(t, s, `honeyapi_token_hits_total{kind="`+strings.Repeat("k", MaxLabelLen)+`"}`, 1)
	if strings.Contains(text, "\xff") {
		t.Error("invalid UTF-8 reached the exposition")
	}
}

// Long values that differ only beyond the label's length still count
// against the bound: they cannot grow the series without limit.
func TestLongLabelValuesAreBoundedToo(t *testing.T) {
	m := New()
	for i := range 300 {
		m.Alert(strings.Repeat("c", 1000)+strconv.Itoa(i), OutcomeSent)
		m.Alert(strconv.Itoa(i)+strings.Repeat("c", 1000), OutcomeSent)
	}
	s, _ := scrape(t, m.Handler())
	if n, _ := countSeries(s, `honeyapi_alerts_total{`); n > (MaxChannels+1)*3 {
		t.Errorf("%d alert series from long channel names, want at most %d", n, (MaxChannels+1)*3)
	}
	total := 0.0
	for series, v := range s {
		if strings.HasPrefix(series, `honeyapi_alerts_total{`) {
			total += v
		}
	}
	if total != 600 {
		t.Errorf("%v alerts counted, want 600", total)
	}
	if _, ok := s[`honeyapi_alerts_total{channel="`+strings.Repeat("c", MaxLabelLen)+`",outcome="sent"}`]; !ok {
		t.Error("no series for the truncated name")
	}
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	m.Request("decoy", 200)
	m.Committed(time.Millisecond, 1)
	m.Alert("soc", OutcomeSent)
	m.TokenHit("aws")
	m.SetTarpit(func() (int, float64) { return 0, 0 })
	m.SetStore(nil)
	m.SetAlertsPending(nil)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 404 {
		t.Errorf("nil metrics handler: %d", rec.Code)
	}
}

func TestConcurrentUseAndScrapes(t *testing.T) {
	m := New()
	m.SetStore(func() store.Stats { return store.Stats{Events: 1} })
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				m.Request("decoy", 200+(i%3)*100)
				m.Alert(fmt.Sprintf("c%d", (g+i)%80), outcomes[i%3])
				m.TokenHit(fmt.Sprintf("k%d", i%70))
				m.Committed(time.Duration(i)*time.Microsecond, 1)
			}
		}()
	}
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	for range 5 {
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("scrape during updates: %d", resp.StatusCode)
		}
	}
	wg.Wait()
	s, _ := scrape(t, m.Handler())
	want(t, s, "honeyapi_events_committed_total", 8*2000)
	total := 0.0
	for series, v := range s {
		if strings.HasPrefix(series, `honeyapi_requests_total{`) {
			total += v
		}
	}
	if total != 8*2000 {
		t.Errorf("%v requests counted, want %d", total, 8*2000)
	}
}

// The per-event calls allocate nothing once their label values were seen.
func TestHotPathsDoNotAllocate(t *testing.T) {
	m := New()
	m.Request("decoy", 200)
	m.Alert("soc", OutcomeSent)
	m.TokenHit("aws")
	for name, f := range map[string]func(){
		"Request":   func() { m.Request("decoy", 200) },
		"Alert":     func() { m.Alert("soc", OutcomeSent) },
		"TokenHit":  func() { m.TokenHit("aws") },
		"Committed": func() { m.Committed(3*time.Millisecond, 4) },
	} {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocations per call", name, n)
		}
	}
}

func BenchmarkRequest(b *testing.B) {
	m := New()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Request("decoy", 200)
		}
	})
}

func BenchmarkCommitted(b *testing.B) {
	m := New()
	b.ReportAllocs()
	for b.Loop() {
		m.Committed(time.Millisecond, 8)
	}
}

func BenchmarkScrape(b *testing.B) {
	m := New()
	for i := range 64 {
		m.Alert(fmt.Sprintf("c%d", i), OutcomeSent)
		m.Request("decoy", 200+i)
	}
	m.SetStore(func() store.Stats { return store.Stats{} })
	h := m.Handler()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	}
}
