package actors

import (
	"container/list"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/honeyapi/honeyapi/store"
)

// Kill-chain stages, in order.
const (
	Reconnaissance   = "reconnaissance"
	Discovery        = "discovery"
	CredentialAccess = "credential_access"
	Exploitation     = "exploitation"
)

// StageTagPrefix starts the tag Observe adds to the event with which an
// actor reaches a new kill-chain stage ("stage:exploitation").
const StageTagPrefix = "stage:"

var stageRank = map[string]int{"": 0, Reconnaissance: 1, Discovery: 2, CredentialAccess: 3, Exploitation: 4}

// Event tags the recorder sets from what the decoy did.
const (
	TagSpec      = "spec"         // the API's own OpenAPI document was fetched
	TagBait      = "bait"         // a recon bait path (/.env, /actuator/env …)
	TagOperation = "operation"    // a documented operation matched
	TagUnknown   = "unknown_path" // no operation matched
	// TagRateLimited marks a 429 answered for exceeding the decoy's rate
	// limit, TagRetryIgnored a request that came back before the
	// Retry-After it was given.
	TagRateLimited  = "rate_limited"
	TagRetryIgnored = "retry_after_ignored"
)

// Options tune clustering. The zero value uses the defaults.
type Options struct {
	// SessionGap splits an actor's activity into sessions. Default 30m.
	SessionGap time.Duration
	// IPWindow: two events from one client IP within it belong to one
	// actor. Default 24h.
	IPWindow time.Duration
	// FingerprintWindow: two events with the same full client fingerprint
	// (TLS JA4, header-order fingerprint and client family) within it belong
	// to one actor, whatever their IPs or user agents. Default 30m.
	FingerprintWindow time.Duration
	// MaxActors bounds the actors held in memory (least recently seen are
	// forgotten; the store keeps them). Default 20,000: a few kilobytes
	// each at most, so tens of megabytes under a flood of fresh clients.
	MaxActors int
}

// Tracker assigns every event to an actor and a session, and explains the
// actor's risk score and kill-chain stage. It is safe for concurrent use.
type Tracker struct {
	mu     sync.Mutex
	opts   Options
	keys   map[string]*keyRef
	actors map[string]*state
	lru    *list.List     // *state, most recently seen at the front
	merged []*store.Actor // merged-away actors not yet saved
}

type keyRef struct {
	actor string
	seen  time.Time
}

type state struct {
	a            store.Actor
	elem         *list.Element
	session      int
	sessionLast  time.Time
	requests     int
	notFound     int
	authFail     int
	okOps        int
	paths        map[uint64]struct{} // hashes of distinct paths, at most maxPaths
	specFetched  bool
	retryIgnored int
	signals      map[string]signal
}

// maxPaths bounds the distinct paths remembered per actor; path
// enumeration is raised at 25.
const maxPaths = 64

func pathHash(p string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(p); i++ {
		h ^= uint64(p[i])
		h *= 1099511628211
	}
	return h
}

type signal struct {
	weight int
	stage  string
	why    string
}

// New returns a tracker.
func New(opts Options) *Tracker {
	if opts.SessionGap <= 0 {
		opts.SessionGap = 30 * time.Minute
	}
	if opts.IPWindow <= 0 {
		opts.IPWindow = 24 * time.Hour
	}
	if opts.FingerprintWindow <= 0 {
		opts.FingerprintWindow = 30 * time.Minute
	}
	if opts.MaxActors <= 0 {
		opts.MaxActors = 20_000
	}
	return &Tracker{opts: opts, keys: map[string]*keyRef{}, actors: map[string]*state{}, lru: list.New()}
}

// Load rebuilds the tracker from the store's actors and their keys, so
// actors survive restarts.
func (t *Tracker) Load(s *store.Store) error {
	actors, err := s.Actors(store.ActorQuery{Limit: 1000})
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range actors {
		a := actors[i]
		if a.MergedInto != "" {
			continue
		}
		st := t.adopt(a)
		for _, k := range a.Keys {
			t.keys[k] = &keyRef{actor: a.ID, seen: a.LastSeen}
		}
		_ = st
	}
	return nil
}

func (t *Tracker) adopt(a store.Actor) *state {
	st := &state{a: a, paths: map[uint64]struct{}{}, signals: map[string]signal{}, session: a.Sessions, sessionLast: a.LastSeen, requests: a.Events}
	for _, s := range a.Signals {
		name, why, _ := strings.Cut(s, ": ")
		w, stage := weight(name)
		st.signals[name] = signal{weight: w, stage: stage, why: why}
	}
	st.elem = t.lru.PushFront(st)
	t.actors[a.ID] = st
	return st
}

// TakeMerged returns the actors merged into others since the last call,
// each with MergedInto set, for the caller to save.
func (t *Tracker) TakeMerged() []*store.Actor {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.merged
	t.merged = nil
	return m
}

// Observe assigns ev to an actor and a session and records the signals it
// raises: it sets ev.Actor, ev.Session, ev.Risk, ev.Stage and ev.Signals,
// and returns a snapshot of the actor to store with the event. credential
// is the credential the request presented ("" if none); only its hash is
// kept.
func (t *Tracker) Observe(ev *store.Event, credential string) *store.Actor {
	now := ev.Time
	if now.IsZero() {
		now = time.Now()
		ev.Time = now
	}
	keys := t.keysFor(ev, credential)

	t.mu.Lock()
	defer t.mu.Unlock()

	// Every actor one of the event's keys still points at.
	var found []*state
	for _, k := range keys {
		ref := t.keys[k.key]
		if ref == nil || now.Sub(ref.seen) > k.window {
			continue
		}
		if st := t.actors[ref.actor]; st != nil && !contains(found, st) {
			found = append(found, st)
		}
	}
	var st *state
	switch len(found) {
	case 0:
		st = t.adopt(store.Actor{ID: newActorID(now), FirstSeen: now})
	default:
		sort.Slice(found, func(i, j int) bool { return found[i].a.FirstSeen.Before(found[j].a.FirstSeen) })
		st = found[0]
		for _, other := range found[1:] {
			t.merge(st, other)
		}
	}
	t.lru.MoveToFront(st.elem)
	for _, k := range keys {
		t.keys[k.key] = &keyRef{actor: st.a.ID, seen: now}
		st.a.Keys = appendBounded(st.a.Keys, k.key, 16)
	}

	// Session.
	if st.session == 0 || now.Sub(st.sessionLast) > t.opts.SessionGap {
		st.session++
	}
	st.sessionLast = now
	ev.Session = st.a.ID + "." + strconv.Itoa(st.session)

	// Actor facts.
	a := &st.a
	a.Events++
	a.LastSeen = now
	a.Sessions = st.session
	if ev.ClientIP != "" {
		a.IPs = appendBounded(a.IPs, ev.ClientIP, 64)
	}
	if fp := fingerprintKey(ev); fp != "" {
		a.Fingerprints = appendBounded(a.Fingerprints, fp, 32)
	}
	if fam := familyOf(ev); fam != "" {
		a.Families = appendBounded(a.Families, fam, 16)
	}

	raised := t.signals(st, ev, credential)
	ev.Signals = raised
	prevStage := a.Stage
	a.Risk, a.Stage = score(st)
	if a.Stage != prevStage && stageRank[a.Stage] > stageRank[prevStage] {
		// The actor reached a new kill-chain stage with this event.
		ev.Tags = append(ev.Tags, StageTagPrefix+a.Stage)
	}
	a.Signals = a.Signals[:0]
	for _, name := range sortedSignalNames(st.signals) {
		a.Signals = append(a.Signals, name+": "+st.signals[name].why)
	}
	ev.Actor = a.ID
	ev.Risk = a.Risk
	ev.Stage = a.Stage
	t.evict()
	return st.snapshot()
}

// Tarpitted adds time an actor spent waiting on the tarpit and connections
// of its the tarpit held, and returns a snapshot of the actor to store (nil
// when the tracker no longer holds it).
func (t *Tracker) Tarpitted(id string, waited time.Duration, holds int) *store.Actor {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.actors[id]
	if st == nil {
		return nil
	}
	st.a.WaitedMS += waited.Milliseconds()
	st.a.Holds += int64(holds)
	return st.snapshot()
}

func (st *state) snapshot() *store.Actor {
	a := &st.a
	snap := *a
	snap.IPs = append([]string(nil), a.IPs...)
	snap.Fingerprints = append([]string(nil), a.Fingerprints...)
	snap.Families = append([]string(nil), a.Families...)
	snap.Signals = append([]string(nil), a.Signals...)
	snap.Keys = append([]string(nil), a.Keys...)
	return &snap
}

type linkKey struct {
	key    string
	window time.Duration
}

// keysFor lists what ties the event to earlier ones: its client IP, its
// full client fingerprint and the credential it presented.
func (t *Tracker) keysFor(ev *store.Event, credential string) []linkKey {
	var keys []linkKey
	if ev.ClientIP != "" {
		keys = append(keys, linkKey{"ip:" + ev.ClientIP, t.opts.IPWindow})
	}
	if fp := fingerprintKey(ev); fp != "" {
		keys = append(keys, linkKey{"fp:" + fp, t.opts.FingerprintWindow})
	}
	if credential != "" {
		sum := sha256.Sum256([]byte(credential))
		keys = append(keys, linkKey{"cred:" + hex.EncodeToString(sum[:12]), 30 * 24 * time.Hour})
	}
	return keys
}

// fingerprintKey is the client's fingerprint without its IP or user-agent
// string, so rotating either does not make a new actor. Without a TLS or
// header fingerprint there is nothing distinctive to link on.
func fingerprintKey(ev *store.Event) string {
	var ja4 string
	if ev.TLS != nil {
		ja4 = ev.TLS.JA4
	}
	if ja4 == "" && ev.Client.HeaderFP == "" {
		return ""
	}
	return ja4 + "|" + ev.Client.HeaderFP + "|" + familyOf(ev)
}

func familyOf(ev *store.Event) string {
	if ev.Client.Tool != "" && ev.Client.Tool != ev.Client.Family {
		return ev.Client.Family + "/" + ev.Client.Tool
	}
	return ev.Client.Family
}

// merge folds other into st: one actor seen under two identities.
func (t *Tracker) merge(st, other *state) {
	a, o := &st.a, &other.a
	a.Events += o.Events
	if o.FirstSeen.Before(a.FirstSeen) {
		a.FirstSeen = o.FirstSeen
	}
	for _, ip := range o.IPs {
		a.IPs = appendBounded(a.IPs, ip, 64)
	}
	for _, fp := range o.Fingerprints {
		a.Fingerprints = appendBounded(a.Fingerprints, fp, 32)
	}
	for _, f := range o.Families {
		a.Families = appendBounded(a.Families, f, 16)
	}
	for _, k := range o.Keys {
		a.Keys = appendBounded(a.Keys, k, 16)
		if ref := t.keys[k]; ref != nil {
			ref.actor = a.ID
		}
	}
	a.Keys = appendBounded(a.Keys, "actor:"+o.ID, 16)
	for name, s := range other.signals {
		if _, ok := st.signals[name]; !ok {
			st.signals[name] = s
		}
	}
	st.requests += other.requests
	st.notFound += other.notFound
	st.authFail += other.authFail
	st.okOps += other.okOps
	st.specFetched = st.specFetched || other.specFetched
	for p := range other.paths {
		if len(st.paths) < maxPaths {
			st.paths[p] = struct{}{}
		}
	}
	o.MergedInto = a.ID
	if len(t.merged) < 1024 {
		snap := *o
		t.merged = append(t.merged, &snap)
	}
	t.lru.Remove(other.elem)
	delete(t.actors, o.ID)
}

func (t *Tracker) evict() {
	for len(t.actors) > t.opts.MaxActors {
		e := t.lru.Back()
		if e == nil {
			return
		}
		st := e.Value.(*state)
		t.lru.Remove(e)
		delete(t.actors, st.a.ID)
		for _, k := range st.a.Keys {
			if ref := t.keys[k]; ref != nil && ref.actor == st.a.ID {
				delete(t.keys, k)
			}
		}
	}
}

// weight gives each signal its contribution to risk and the stage it shows.
func weight(name string) (int, string) {
	kind, _, _ := strings.Cut(name, ":")
	switch kind {
	case "token_used":
		// Nobody has a honeytoken but whoever found where it was planted.
		return 60, CredentialAccess
	case "injection":
		return 40, Exploitation
	case "scanner":
		return 30, Reconnaissance
	case "bait_access":
		return 25, CredentialAccess
	case "enumeration":
		return 20, Reconnaissance
	case "path_enumeration":
		return 15, Reconnaissance
	case "ua_mismatch":
		return 15, Reconnaissance
	case "spec_then_operations":
		return 15, Discovery
	case "auth_failures":
		return 10, CredentialAccess
	case "credential_presented":
		return 5, CredentialAccess
	case "ignores_rate_limit":
		return 20, Reconnaissance
	case "malformed_request":
		return 10, Reconnaissance
	case "spec_fetch":
		return 5, Reconnaissance
	case "operations":
		return 5, Discovery
	}
	return 0, ""
}

// signals updates the actor's behaviour counters with ev and returns the
// signals ev raised, each with its explanation.
func (t *Tracker) signals(st *state, ev *store.Event, credential string) []string {
	var raised []string
	raise := func(name, why string) {
		if _, ok := st.signals[name]; !ok {
			w, stage := weight(name)
			st.signals[name] = signal{weight: w, stage: stage, why: why}
		}
		raised = append(raised, name+": "+why)
	}
	st.requests++
	if ev.Path != "" && len(st.paths) < maxPaths {
		st.paths[pathHash(ev.Path)] = struct{}{}
	}
	tags := map[string]bool{}
	for _, tg := range ev.Tags {
		tags[tg] = true
	}
	if ev.Kind == "malformed" {
		raise("malformed_request", "sent bytes that are not a valid HTTP request")
	}
	if ev.Client.Family == "scanner" {
		tool := ev.Client.Tool
		if tool == "" {
			tool = "unknown"
		}
		raise("scanner:"+tool, "the client identifies as the scanner "+tool)
	}
	if ev.Client.Mismatch {
		why := "the user agent claims a browser but the fingerprints say otherwise"
		if len(ev.Client.Reasons) > 0 {
			why = ev.Client.Reasons[0]
		}
		raise("ua_mismatch", why)
	}
	switch {
	case ev.Status == 404:
		st.notFound++
	case ev.Status == 401 || ev.Status == 403:
		st.authFail++
	case ev.Status > 0 && ev.Status < 400 && tags[TagOperation]:
		st.okOps++
	}
	if st.notFound >= 5 && st.notFound*2 >= st.requests {
		raise("enumeration", fmt.Sprintf("%d of %d requests hit paths that do not exist", st.notFound, st.requests))
	}
	if len(st.paths) >= 25 {
		raise("path_enumeration", fmt.Sprintf("requested %d distinct paths", len(st.paths)))
	}
	if tags[TagSpec] {
		st.specFetched = true
		raise("spec_fetch", "fetched the API description at "+bounded(ev.Path, 128))
	}
	if tags[TagOperation] && ev.Status < 400 {
		if st.specFetched {
			raise("spec_then_operations", "called documented operations after reading the API description")
		}
		if st.okOps >= 3 {
			raise("operations", fmt.Sprintf("called %d documented operations", st.okOps))
		}
	}
	for _, tg := range ev.Tags {
		if rest, ok := strings.CutPrefix(tg, "token:"); ok {
			raise("token_used:"+rest, "presented the honeytoken "+rest)
		}
	}
	if tags[TagBait] {
		raise("bait_access", "fetched the bait file "+bounded(ev.Path, 128))
	}
	if st.authFail >= 3 {
		raise("auth_failures", fmt.Sprintf("%d requests were refused for missing or bad credentials", st.authFail))
	}
	if credential != "" {
		raise("credential_presented", "presented a credential")
	}
	if tags[TagRetryIgnored] {
		st.retryIgnored++
		raise("ignores_rate_limit", fmt.Sprintf("came back before Retry-After %d times", st.retryIgnored))
	}
	hdrs := make([][2]string, 0, len(ev.Headers))
	for _, h := range ev.Headers {
		hdrs = append(hdrs, [2]string{h.Name, h.Value})
	}
	for _, f := range Inspect(ev.Path, ev.Query, hdrs, ev.Body) {
		raise("injection:"+f.Class, f.Class+" payload in "+f.Where)
	}
	return raised
}

// score is the actor's risk (0–100, the sum of its distinct signals'
// weights) and its furthest kill-chain stage.
func score(st *state) (int, string) {
	risk, stage := 0, ""
	for _, s := range st.signals {
		risk += s.weight
		if stageRank[s.stage] > stageRank[stage] {
			stage = s.stage
		}
	}
	if risk > 100 {
		risk = 100
	}
	if stage == "" && st.requests > 0 {
		stage = Reconnaissance
	}
	return risk, stage
}

func sortedSignalNames(m map[string]signal) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if m[names[i]].weight != m[names[j]].weight {
			return m[names[i]].weight > m[names[j]].weight
		}
		return names[i] < names[j]
	})
	return names
}

func appendBounded(list []string, v string, max int) []string {
	for i, x := range list {
		if x == v {
			// Move to the end: the most recent last.
			copy(list[i:], list[i+1:])
			list[len(list)-1] = v
			return list
		}
	}
	list = append(list, v)
	if len(list) > max {
		list = list[len(list)-max:]
	}
	return list
}

func contains(list []*state, st *state) bool {
	for _, x := range list {
		if x == st {
			return true
		}
	}
	return false
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newActorID is "act_" and 16 Crockford base32 characters: 8 from the time
// (so ids sort by first sight) and 8 random.
func newActorID(now time.Time) string {
	var b strings.Builder
	b.WriteString("act_")
	ms := uint64(now.UnixMilli())
	for i := 7; i >= 0; i-- {
		b.WriteByte(crockford[(ms>>(uint(i)*5))&31])
	}
	var r [8]byte
	_, _ = rand.Read(r[:])
	for _, x := range r {
		b.WriteByte(crockford[x&31])
	}
	return b.String()
}
