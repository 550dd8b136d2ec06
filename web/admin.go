package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/honeyapi/honeyapi/alerts"
	"github.com/honeyapi/honeyapi/decoys"
	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/tokens"
)

// AdminOptions configure the admin handler.
type AdminOptions struct {
	// Token is the bearer token every /api route requires. Required.
	Token string
	// Store is read by the events and actors routes. Required.
	Store *store.Store
	// Logger receives refused requests (never the presented token).
	Logger *zerolog.Logger
	// Minter mints tokens for POST /api/v1/tokens. Optional.
	Minter *tokens.Minter
	// Sighting records a sighting reported to POST /api/v1/sightings
	// (recorder.Recorder.Sighting). Optional.
	Sighting func(s tokens.Sighting, remote string) (store.ID, []tokens.Hit, error)
	// AlertRoutes are the configured alert channels (for test alerts) and
	// NotifyAlerts wakes the dispatcher after a test or a retry. Optional.
	AlertRoutes  []alerts.Route
	NotifyAlerts func()
	// Metrics, when set, is served at GET /metrics behind the admin token
	// (Prometheus sends it as a bearer token). Optional.
	Metrics http.Handler
	// Decoy is the decoy the decoy listener serves: its documents and
	// operations are listed by GET /api/v1/decoys and the dashboard, with
	// hit counts from the store. Optional.
	Decoy *decoys.Decoy
	// Tarpit reports the tarpit's live figures (held connections,
	// attacker-seconds). Optional.
	Tarpit func() TarpitStats
}

// TarpitStats are the tarpit's live figures as the admin API shows them.
type TarpitStats struct {
	// Held is the number of connections held by the scheduler now, and
	// HeldByIP the busiest client IPs among them (at most 20).
	Held     int            `json:"held"`
	HeldByIP map[string]int `json:"held_by_ip,omitempty"`
	// InHandler is the number of short delays in progress in handlers.
	InHandler int `json:"in_handler"`
	// Holds counts hijacked holds started since the process started,
	// Refused the holds the caps turned into normal responses.
	Holds   int64 `json:"holds"`
	Refused int64 `json:"refused"`
	// WaitedSeconds is the attacker time wasted since the process started;
	// the store keeps the all-time total (store.Stats.TarpitWaited).
	WaitedSeconds float64 `json:"waited_seconds"`
}

// Admin is the admin listener's handler.
type Admin struct {
	opts  AdminOptions
	token [sha256.Size]byte
	mux   *http.ServeMux
}

var _ http.Handler = (*Admin)(nil)

// NewAdmin returns the admin handler.
func NewAdmin(opts AdminOptions) (*Admin, error) {
	if len(opts.Token) == 0 {
		return nil, errors.New("web: the admin handler needs a token")
	}
	if opts.Store == nil {
		return nil, errors.New("web: the admin handler needs a store")
	}
	a := &Admin{opts: opts, token: sha256.Sum256([]byte(opts.Token)), mux: http.NewServeMux()}
	a.mux.HandleFunc("GET /healthz", a.healthz)
	a.mux.Handle("GET /api/v1/events", a.auth(a.listEvents))
	a.mux.Handle("GET /api/v1/events/{id}", a.auth(a.getEvent))
	a.mux.Handle("GET /api/v1/actors", a.auth(a.listActors))
	a.mux.Handle("GET /api/v1/actors/{id}", a.auth(a.getActor))
	a.mux.Handle("GET /api/v1/tarpit", a.auth(a.tarpit))
	a.tokenRoutes()
	a.alertRoutes()
	a.mux.Handle("POST /api/v1/tokens/seed", a.auth(a.seedTokens))
	a.mux.Handle("GET /api/v1/decoys", a.auth(a.listDecoys))
	a.mux.Handle("GET /api/v1/openapi.yaml", a.auth(a.getOpenAPIYAML))
	a.mux.Handle("GET /api/v1/openapi.json", a.auth(a.getOpenAPIJSON))
	a.mux.Handle("GET /metrics", a.auth(a.metrics))
	if err := a.uiRoutes(); err != nil {
		return nil, err
	}
	a.mux.Handle("/", a.auth(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such admin route")
	}))
	return a, nil
}

func (a *Admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	a.mux.ServeHTTP(w, r)
}

// Authorized reports whether r carries the admin token. The comparison is
// constant-time over SHA-256 digests, so neither the token's content nor
// its length leaks through timing.
func (a *Admin) Authorized(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(auth) <= len(prefix) || !strings.EqualFold(auth[:len(prefix)], prefix) {
		return false
	}
	got := sha256.Sum256([]byte(auth[len(prefix):]))
	return subtle.ConstantTimeCompare(got[:], a.token[:]) == 1
}

func (a *Admin) auth(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.Authorized(r) {
			if a.opts.Logger != nil {
				a.opts.Logger.Warn().Str("remote", r.RemoteAddr).Str("path", bounded(r.URL.Path, 256)).Msg("admin request without a valid token")
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="honeyapi-admin"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "a valid admin token is required")
			return
		}
		next(w, r)
	})
}

func (a *Admin) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// EventList is the body of GET /api/v1/events.
type EventList struct {
	Events []store.Event `json:"events"`
	// Next is the cursor for the following page ("after" or "before",
	// depending on the order), empty on the last page.
	Next string `json:"next,omitempty"`
}

// ActorList is the body of GET /api/v1/actors.
type ActorList struct {
	Actors []store.Actor `json:"actors"`
	Next   string        `json:"next,omitempty"`
}

// ActorDetail is the body of GET /api/v1/actors/{id}.
type ActorDetail struct {
	Actor  store.Actor   `json:"actor"`
	Recent []store.Event `json:"recent_events"`
}

func (a *Admin) listEvents(w http.ResponseWriter, r *http.Request) {
	q, err := EventQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_query", err.Error())
		return
	}
	evs, err := a.opts.Store.Events(q)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "store", "could not read events")
		return
	}
	out := EventList{Events: evs}
	if out.Events == nil {
		out.Events = []store.Event{}
	}
	if len(evs) == q.Limit && len(evs) > 0 {
		out.Next = evs[len(evs)-1].ID.String()
	}
	writeJSON(w, http.StatusOK, out)
}

// EventQuery parses the query parameters of GET /api/v1/events: since and
// until (RFC 3339 times or durations before now such as 15m), actor, ip,
// token (the events that presented a honeytoken),
// after and before (event ids), limit (1–1000, default 100) and order
// (desc, the default, newest first; or asc).
func EventQuery(v map[string][]string) (store.Query, error) {
	get := func(k string) string {
		if x := v[k]; len(x) > 0 {
			return x[0]
		}
		return ""
	}
	q := store.Query{Actor: bounded(get("actor"), 128), IP: bounded(get("ip"), 64), Token: bounded(get("token"), 16), Limit: 100, Reverse: true}
	if q.Token != "" && len(q.Token) != 16 {
		return q, errors.New("token must be a token id (16 hex digits)")
	}
	var err error
	if s := get("since"); s != "" {
		if q.Since, err = parseTime(s); err != nil {
			return q, err
		}
	}
	if s := get("until"); s != "" {
		if q.Until, err = parseTime(s); err != nil {
			return q, err
		}
	}
	if s := get("order"); s != "" {
		switch s {
		case "asc":
			q.Reverse = false
		case "desc":
		default:
			return q, errors.New("order must be asc or desc")
		}
	}
	if q.Limit, err = parseLimit(get("limit"), q.Limit); err != nil {
		return q, err
	}
	for _, k := range []string{"after", "before"} {
		if s := get(k); s != "" {
			id, err := store.ParseID(s)
			if err != nil {
				return q, errors.New(k + " must be an event id")
			}
			if k == "after" {
				q.After = id
			} else {
				q.Before = id
			}
		}
	}
	// A "next" cursor continues in the direction of the order.
	if s := get("cursor"); s != "" {
		id, err := store.ParseID(s)
		if err != nil {
			return q, errors.New("cursor must be an event id")
		}
		if q.Reverse {
			q.Before = id
		} else {
			q.After = id
		}
	}
	return q, nil
}

// parseTime accepts an RFC 3339 time or a duration meaning "that long ago".
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return time.Now().Add(-d), nil
	}
	return time.Time{}, errors.New("times must be RFC 3339 (2026-01-02T15:04:05Z) or a duration such as 15m or 24h")
}

func (a *Admin) getEvent(w http.ResponseWriter, r *http.Request) {
	id, err := store.ParseID(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusNotFound, "not_found", "no such event")
		return
	}
	ev, err := a.opts.Store.Event(id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no such event")
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "store", "could not read the event")
		return
	}
	writeJSON(w, http.StatusOK, ev)
}

func (a *Admin) listActors(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := store.ActorQuery{Limit: 100, After: bounded(v.Get("cursor"), 128)}
	if s := v.Get("since"); s != "" {
		t, err := parseTime(s)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_query", err.Error())
			return
		}
		q.Since = t
	}
	limit, err := parseLimit(v.Get("limit"), q.Limit)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_query", err.Error())
		return
	}
	q.Limit = limit
	if s := v.Get("min_risk"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 100 {
			writeError(w, http.StatusBadRequest, "bad_query", "min_risk must be a number from 0 to 100")
			return
		}
		q.MinRisk = n
	}
	as, err := a.opts.Store.Actors(q)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "store", "could not read actors")
		return
	}
	out := ActorList{Actors: as}
	if out.Actors == nil {
		out.Actors = []store.Actor{}
	}
	if len(as) == q.Limit && len(as) > 0 {
		out.Next = as[len(as)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *Admin) getActor(w http.ResponseWriter, r *http.Request) {
	id := bounded(r.PathValue("id"), 128)
	act, err := a.opts.Store.Actor(id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no such actor")
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "store", "could not read the actor")
		return
	}
	recent, err := a.opts.Store.Events(store.Query{Actor: act.ID, Limit: 50, Reverse: true})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "store", "could not read the actor's events")
		return
	}
	if recent == nil {
		recent = []store.Event{}
	}
	writeJSON(w, http.StatusOK, ActorDetail{Actor: *act, Recent: recent})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func bounded(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// parseLimit reads a page size from a query parameter: def when empty,
// else 1–1000.
func parseLimit(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1000 {
		return def, errors.New("limit must be a number from 1 to 1000")
	}
	return n, nil
}
