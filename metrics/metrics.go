package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/honeyapi/honeyapi/store"
)

// Namespace prefixes every metric of this package.
const Namespace = "honeyapi"

// Label bounds: the distinct values a label takes before further values are
// counted under Other.
const (
	MaxListeners = 16
	MaxChannels  = 64
	MaxKinds     = 64
	// MaxLabelLen bounds one label value, in bytes.
	MaxLabelLen = 64
)

// Other is the label value that collects the values beyond a label's bound,
// unknown alert outcomes, and status codes outside 100–599.
const Other = "other"

// Alert outcomes, the values of honeyapi_alerts_total's outcome label.
const (
	// OutcomeSent: the channel accepted the alert.
	OutcomeSent = "sent"
	// OutcomeFailed: an attempt failed and will be retried.
	OutcomeFailed = "failed"
	// OutcomeDead: the alert was dead-lettered on the channel.
	OutcomeDead = "dead"
)

// CommitBuckets are the upper bounds, in seconds, of the
// honeyapi_commit_duration_seconds histogram: 0.1ms to 1s.
var CommitBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}

// Metrics holds honeyapi's metrics in a private registry. Its methods are
// safe for concurrent use, and a nil *Metrics records nothing.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	requests  *prometheus.CounterVec
	committed prometheus.Counter
	commitDur prometheus.Histogram
	alerts    *prometheus.CounterVec
	tokenHits *prometheus.CounterVec

	listeners labelSet[listenerCounters]
	channels  labelSet[channelCounters]
	kinds     labelSet[counter]

	tarpit  atomic.Pointer[func() (int, float64)]
	store   atomic.Pointer[func() store.Stats]
	pending atomic.Pointer[func() int]
}

// New returns the metrics, registered with a fresh private registry along
// with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "requests_total",
		Help: "Requests answered, by listener and HTTP status code (a status class such as 5xx for unregistered codes, other outside 100-599).",
	}, []string{"listener", "code"})
	m.committed = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "events_committed_total",
		Help: "Events committed to the store.",
	})
	m.commitDur = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "commit_duration_seconds",
		Help:    "Duration of the store's group commits.",
		Buckets: CommitBuckets,
	})
	m.alerts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "alerts_total",
		Help: "Alert delivery attempts by channel and outcome: sent, failed (will be retried) or dead (dead-lettered).",
	}, []string{"channel", "outcome"})
	m.tokenHits = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "token_hits_total",
		Help: "Honeytoken uses detected, by token kind.",
	}, []string{"kind"})

	m.listeners = labelSet[listenerCounters]{max: MaxListeners, make: func(label string) *listenerCounters {
		return &listenerCounters{vec: m.requests, listener: label}
	}}
	m.channels = labelSet[channelCounters]{max: MaxChannels, make: func(label string) *channelCounters {
		c := &channelCounters{channel: label}
		// All three outcomes exist from the first one, so rate() and
		// alerting on failures work before the first failure.
		for i, o := range outcomes {
			c.outcomes[i] = m.alerts.WithLabelValues(label, o)
		}
		return c
	}}
	m.kinds = labelSet[counter]{max: MaxKinds, make: func(label string) *counter {
		return &counter{m.tokenHits.WithLabelValues(label)}
	}}

	m.reg.MustRegister(
		m.requests, m.committed, m.commitDur, m.alerts, m.tokenHits,
		scrapeCollector{m},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
	})
	return m
}

// Handler serves the metrics in the Prometheus exposition format. It does
// no authentication of its own: mount it behind the admin token.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return m.handler
}

// Registry is the private registry, for tests and for callers that gather
// directly.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Request counts one answered request on listener with status: the
// honeyapi_requests_total{listener,code} counter.
func (m *Metrics) Request(listener string, status int) {
	if m == nil {
		return
	}
	m.listeners.get(listener).inc(status)
}

// Committed counts one group commit that took d and committed the given
// number of events: honeyapi_events_committed_total and
// honeyapi_commit_duration_seconds.
func (m *Metrics) Committed(d time.Duration, events int) {
	if m == nil {
		return
	}
	if events > 0 {
		m.committed.Add(float64(events))
	}
	m.commitDur.Observe(max(d, 0).Seconds())
}

// Alert counts one delivery outcome on channel: honeyapi_alerts_total
// {channel,outcome}. Its signature is that of
// alerts.DispatcherOptions.OnResult. Outcomes other than OutcomeSent,
// OutcomeFailed and OutcomeDead are counted as Other.
func (m *Metrics) Alert(channel, outcome string) {
	if m == nil {
		return
	}
	c := m.channels.get(channel)
	for i, o := range outcomes {
		if o == outcome {
			c.outcomes[i].Inc()
			return
		}
	}
	m.alerts.WithLabelValues(c.channel, Other).Inc()
}

// TokenHit counts one use of a honeytoken of kind: honeyapi_token_hits_total
// {kind}.
func (m *Metrics) TokenHit(kind string) {
	if m == nil {
		return
	}
	m.kinds.get(kind).Inc()
}

// SetTarpit sets the function read at each scrape for
// honeyapi_tarpit_held_connections (the connections held now) and
// honeyapi_tarpit_attacker_seconds_total (the seconds clients have spent
// waiting on the tarpit since the process started). nil removes both.
func (m *Metrics) SetTarpit(f func() (held int, waitedSeconds float64)) {
	if m == nil {
		return
	}
	if f == nil {
		m.tarpit.Store(nil)
		return
	}
	m.tarpit.Store(&f)
}

// SetStore sets the function read at each scrape for the store's figures:
// honeyapi_store_events, honeyapi_store_actors, honeyapi_store_file_bytes,
// honeyapi_store_data_bytes, honeyapi_store_queue_length,
// honeyapi_store_write_errors_total and
// honeyapi_store_events_deleted_total{reason}. Pass (*store.Store).Stats.
// nil removes them.
func (m *Metrics) SetStore(f func() store.Stats) {
	if m == nil {
		return
	}
	if f == nil {
		m.store.Store(nil)
		return
	}
	m.store.Store(&f)
}

// SetAlertsPending sets the function read at each scrape for
// honeyapi_alerts_pending, the alerts waiting for delivery. nil removes it.
func (m *Metrics) SetAlertsPending(f func() int) {
	if m == nil {
		return
	}
	if f == nil {
		m.pending.Store(nil)
		return
	}
	m.pending.Store(&f)
}

// counter is a resolved child of a counter vector.
type counter struct{ prometheus.Counter }

var outcomes = [...]string{OutcomeSent, OutcomeFailed, OutcomeDead}

type channelCounters struct {
	channel  string
	outcomes [len(outcomes)]prometheus.Counter
}

// listenerCounters are one listener's request counters, one per code
// label, resolved on first use.
type listenerCounters struct {
	vec      *prometheus.CounterVec
	listener string
	codes    [numCodeLabels]atomic.Pointer[counter]
}

func (l *listenerCounters) inc(status int) {
	i := 0
	if status >= 100 && status < 600 {
		i = int(codeIndex[status])
	}
	c := l.codes[i].Load()
	if c == nil {
		c = &counter{l.vec.WithLabelValues(l.listener, codeLabels[i])}
		l.codes[i].Store(c) // a racing store holds the same child
	}
	c.Inc()
}

// The code label: the exact code for the codes net/http knows a text for,
// the class ("4xx") for other codes from 100 to 599, Other outside.
var (
	codeLabels []string
	codeIndex  [600]uint8
)

const numCodeLabels = 80 // more than 1 + 5 classes + the registered codes

func init() {
	codeLabels = append(codeLabels, Other)
	var class [6]uint8
	for c := 1; c <= 5; c++ {
		class[c] = uint8(len(codeLabels))
		codeLabels = append(codeLabels, strconv.Itoa(c)+"xx")
	}
	for s := 100; s < 600; s++ {
		if http.StatusText(s) == "" {
			codeIndex[s] = class[s/100]
			continue
		}
		codeIndex[s] = uint8(len(codeLabels))
		codeLabels = append(codeLabels, strconv.Itoa(s))
	}
	if len(codeLabels) > numCodeLabels {
		panic("metrics: numCodeLabels is too small")
	}
}

// labelSet maps the values of a bounded label to what was built for them.
// Lookups of known values take no lock; the map is replaced, never
// changed, when a value is added. Beyond max values, every new value gets
// the Other entry.
type labelSet[T any] struct {
	max   int
	make  func(label string) *T
	mu    sync.Mutex
	known atomic.Pointer[map[string]*T]
	other atomic.Pointer[T]
}

func (s *labelSet[T]) get(v string) *T {
	if m := s.known.Load(); m != nil {
		if t := (*m)[v]; t != nil {
			return t
		}
	}
	if o := s.other.Load(); o != nil {
		return o
	}
	return s.add(v)
}

func (s *labelSet[T]) add(v string) *T {
	// A value too long to keep as it is goes under its label value (it
	// then misses the lock-free path, but still counts against max).
	key := v
	if len(key) > 4*MaxLabelLen {
		key = labelValue(v)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.known.Load()
	n := 0
	if old != nil {
		if t := (*old)[key]; t != nil {
			return t
		}
		n = len(*old)
	}
	if o := s.other.Load(); o != nil {
		return o
	}
	if n >= s.max {
		o := s.make(Other)
		s.other.Store(o)
		return o
	}
	next := make(map[string]*T, n+1)
	if old != nil {
		for k, t := range *old {
			next[k] = t
		}
	}
	t := s.make(labelValue(v))
	next[strings.Clone(key)] = t
	s.known.Store(&next)
	return t
}

// labelValue is v as a label value: valid UTF-8, at most MaxLabelLen
// bytes, "unknown" when empty.
func labelValue(v string) string {
	if v == "" {
		return "unknown"
	}
	v = strings.ToValidUTF8(v, "\uFFFD")
	if len(v) > MaxLabelLen {
		cut := MaxLabelLen
		for cut > 0 && !utf8.RuneStart(v[cut]) {
			cut--
		}
		v = v[:cut]
	}
	return v
}

// scrapeCollector reports the figures read at scrape time.
type scrapeCollector struct{ m *Metrics }

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, labels, nil)
}

var (
	descTarpitHeld   = desc("tarpit_held_connections", "Connections the tarpit holds now.")
	descTarpitWaited = desc("tarpit_attacker_seconds_total", "Seconds clients have spent waiting on the tarpit since the process started.")
	descStoreEvents  = desc("store_events", "Events in the store.")
	descStoreActors  = desc("store_actors", "Actors in the store.")
	descStoreFile    = desc("store_file_bytes", "Size of the store's file.")
	descStoreData    = desc("store_data_bytes", "Part of the store's file in use.")
	descStoreQueue   = desc("store_queue_length", "Events waiting for the store's writer.")
	descStoreErrors  = desc("store_write_errors_total", "Events that could not be committed since the store was opened.")
	descStoreDeleted = desc("store_events_deleted_total", "Events deleted since the store was opened, by reason: age and size (retention), space (the size cap).", "reason")
	descAlertsQueued = desc("alerts_pending", "Alerts waiting for delivery.")
)

func (c scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descTarpitHeld, descTarpitWaited, descStoreEvents, descStoreActors, descStoreFile,
		descStoreData, descStoreQueue, descStoreErrors, descStoreDeleted, descAlertsQueued} {
		ch <- d
	}
}

func (c scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	count := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	if f := c.m.tarpit.Load(); f != nil {
		held, waited := (*f)()
		gauge(descTarpitHeld, float64(held))
		count(descTarpitWaited, waited)
	}
	if f := c.m.store.Load(); f != nil {
		st := (*f)()
		gauge(descStoreEvents, float64(st.Events))
		gauge(descStoreActors, float64(st.Actors))
		gauge(descStoreFile, float64(st.FileBytes))
		gauge(descStoreData, float64(st.DataBytes))
		gauge(descStoreQueue, float64(st.Queued))
		count(descStoreErrors, float64(st.WriteErrors))
		count(descStoreDeleted, float64(st.DeletedAge), "age")
		count(descStoreDeleted, float64(st.DeletedSize), "size")
		count(descStoreDeleted, float64(st.DroppedSpace), "space")
	}
	if f := c.m.pending.Load(); f != nil {
		gauge(descAlertsQueued, float64((*f)()))
	}
}
