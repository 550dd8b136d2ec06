package web

import (
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/honeyapi/honeyapi/decoys"
	"github.com/honeyapi/honeyapi/store"
)

// The read-only pages: overview, events, actors, decoys. Every query is
// one bounded page of an index (no whole-bucket scans per view).

const (
	// overviewActors is how many of the most recently seen actors the
	// overview ranks by risk, and overviewTop how many it shows.
	overviewActors = 200
	overviewTop    = 10
	// overviewTokens is how many of the newest tokens the overview reads
	// for recent uses, and overviewAlerts how many alerts it counts.
	overviewTokens = 1000
	overviewAlerts = 1000
)

// overviewView is the body of the overview.
type overviewView struct {
	Chart       chart
	Since       time.Time
	TopActors   []store.Actor
	ActorsRead  int
	TokenUses   []store.Token
	TokensRead  int
	Alerts      map[string]int
	AlertsRead  int
	AlertsLimit int
	Stats       store.Stats
	Tarpit      *TarpitStats
	HeldByIP    []ipCount
	Errors      []string
}

type ipCount struct {
	IP string
	N  int
}

func (u *ui) overview(w http.ResponseWriter, r *http.Request, sess *session) {
	st := u.a.opts.Store
	now := u.now().UTC()
	v := overviewView{Since: now.Truncate(time.Hour).Add(-23 * time.Hour), Alerts: map[string]int{}, AlertsLimit: overviewAlerts}
	counts, err := st.Histogram(v.Since, now)
	if err != nil {
		v.Errors = append(v.Errors, "could not read the hourly counts")
	}
	v.Chart = buildChart(counts)

	if as, err := st.Actors(store.ActorQuery{Limit: overviewActors}); err != nil {
		v.Errors = append(v.Errors, "could not read actors")
	} else {
		v.ActorsRead = len(as)
		sort.SliceStable(as, func(i, j int) bool {
			if as[i].Risk != as[j].Risk {
				return as[i].Risk > as[j].Risk
			}
			return as[i].LastSeen.After(as[j].LastSeen)
		})
		v.TopActors = as[:min(len(as), overviewTop)]
	}

	if ts, err := st.Tokens(store.TokenQuery{Limit: overviewTokens}); err != nil {
		v.Errors = append(v.Errors, "could not read tokens")
	} else {
		v.TokensRead = len(ts)
		used := ts[:0]
		for _, t := range ts {
			if t.Hits > 0 {
				used = append(used, t)
			}
		}
		sort.SliceStable(used, func(i, j int) bool { return used[i].LastHit.After(used[j].LastHit) })
		v.TokenUses = used[:min(len(used), overviewTop)]
	}

	if al, err := st.Alerts(store.AlertQuery{Limit: overviewAlerts}); err != nil {
		v.Errors = append(v.Errors, "could not read alerts")
	} else {
		v.AlertsRead = len(al)
		for i := range al {
			v.Alerts[al[i].State()]++
		}
	}

	v.Stats = st.Stats()
	if u.a.opts.Tarpit != nil {
		ts := u.a.opts.Tarpit()
		v.Tarpit = &ts
		for ip, n := range ts.HeldByIP {
			v.HeldByIP = append(v.HeldByIP, ipCount{IP: ip, N: n})
		}
		sort.Slice(v.HeldByIP, func(i, j int) bool {
			if v.HeldByIP[i].N != v.HeldByIP[j].N {
				return v.HeldByIP[i].N > v.HeldByIP[j].N
			}
			return v.HeldByIP[i].IP < v.HeldByIP[j].IP
		})
	}
	u.render(w, r, http.StatusOK, "overview", sess, "Overview", "overview", v)
}

// eventsView is the body of the events page.
type eventsView struct {
	Events []store.Event
	Filter eventFilter
	// Next is the URL of the following (older) page, Newest of the first.
	Next, Newest string
	Error        string
}

type eventFilter struct {
	Actor, IP, Token, Since, Until string
}

func (f eventFilter) active() bool {
	return f.Actor != "" || f.IP != "" || f.Token != "" || f.Since != "" || f.Until != ""
}

func (u *ui) eventsPage(w http.ResponseWriter, r *http.Request, sess *session) {
	in := r.URL.Query()
	f := eventFilter{Actor: in.Get("actor"), IP: in.Get("ip"), Token: in.Get("token"), Since: in.Get("since"), Until: in.Get("until")}
	// Only the page's own parameters: the filters, the cursor and a limit.
	params := url.Values{}
	for _, k := range []string{"actor", "ip", "token", "since", "until", "cursor", "limit"} {
		if s := strings.TrimSpace(in.Get(k)); s != "" {
			params.Set(k, s)
		}
	}
	if params.Get("limit") == "" {
		params.Set("limit", "50")
	}
	v := eventsView{Filter: f, Newest: "/ui/events"}
	q, err := EventQuery(params)
	if err != nil {
		v.Error = err.Error()
		u.render(w, r, http.StatusBadRequest, "events", sess, "Events", "events", v)
		return
	}
	q.Reverse = true
	evs, err := u.a.opts.Store.Events(q)
	if errors.Is(err, store.ErrBadTokenID) {
		v.Error = "token must be a token id (16 hex digits)"
		u.render(w, r, http.StatusBadRequest, "events", sess, "Events", "events", v)
		return
	}
	if err != nil {
		u.fail(w, r, sess, http.StatusInternalServerError, "Could not read events.")
		return
	}
	v.Events = evs
	page := url.Values{}
	for _, k := range []string{"actor", "ip", "token", "since", "until"} {
		if s := params.Get(k); s != "" {
			page.Set(k, s)
		}
	}
	if len(page) > 0 {
		v.Newest += "?" + page.Encode()
	}
	if len(evs) == q.Limit && len(evs) > 0 {
		page.Set("cursor", evs[len(evs)-1].ID.String())
		if l := in.Get("limit"); l != "" {
			page.Set("limit", params.Get("limit"))
		}
		v.Next = "/ui/events?" + page.Encode()
	}
	u.render(w, r, http.StatusOK, "events", sess, "Events", "events", v)
}

// eventView is the body of an event's page.
type eventView struct {
	Event *store.Event
	Body  blob
	Head  blob
}

func (u *ui) eventPage(w http.ResponseWriter, r *http.Request, sess *session) {
	id, err := store.ParseID(r.PathValue("id"))
	if err != nil {
		u.fail(w, r, sess, http.StatusNotFound, "There is no such event.")
		return
	}
	ev, err := u.a.opts.Store.Event(id)
	if errors.Is(err, store.ErrNotFound) {
		u.fail(w, r, sess, http.StatusNotFound, "There is no such event (retention may have removed it).")
		return
	}
	if err != nil {
		u.fail(w, r, sess, http.StatusInternalServerError, "Could not read the event.")
		return
	}
	v := eventView{Event: ev, Body: viewBlob(ev.Body, ev.BodyLen), Head: viewBlob(ev.RawHead, 0)}
	u.render(w, r, http.StatusOK, "event", sess, "Event "+ev.ID.String(), "events", v)
}

// actorsView is the body of the actors page.
type actorsView struct {
	Actors  []store.Actor
	MinRisk string
	Next    string
	Error   string
}

func (u *ui) actorsPage(w http.ResponseWriter, r *http.Request, sess *session) {
	in := r.URL.Query()
	q := store.ActorQuery{Limit: uiPageSize, After: bounded(in.Get("cursor"), 128)}
	v := actorsView{MinRisk: in.Get("min_risk")}
	if v.MinRisk != "" {
		n, err := parseRisk(v.MinRisk)
		if err != nil {
			v.Error = err.Error()
			u.render(w, r, http.StatusBadRequest, "actors", sess, "Actors", "actors", v)
			return
		}
		q.MinRisk = n
	}
	as, err := u.a.opts.Store.Actors(q)
	if errors.Is(err, store.ErrNotFound) {
		v.Error = "the page's starting actor is gone; showing the newest actors"
		q.After = ""
		as, err = u.a.opts.Store.Actors(q)
	}
	if err != nil {
		u.fail(w, r, sess, http.StatusInternalServerError, "Could not read actors.")
		return
	}
	v.Actors = as
	if len(as) == q.Limit {
		next := url.Values{"cursor": {as[len(as)-1].ID}}
		if v.MinRisk != "" {
			next.Set("min_risk", v.MinRisk)
		}
		v.Next = "/ui/actors?" + next.Encode()
	}
	u.render(w, r, http.StatusOK, "actors", sess, "Actors", "actors", v)
}

func parseRisk(s string) (int, error) {
	n := 0
	if len(s) > 3 {
		return 0, errors.New("min_risk must be a number from 0 to 100")
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errors.New("min_risk must be a number from 0 to 100")
		}
		n = n*10 + int(c-'0')
	}
	if n > 100 {
		return 0, errors.New("min_risk must be a number from 0 to 100")
	}
	return n, nil
}

// actorView is the body of an actor's page.
type actorView struct {
	Actor  *store.Actor
	Events []store.Event
	Next   string
}

func (u *ui) actorPage(w http.ResponseWriter, r *http.Request, sess *session) {
	id := bounded(r.PathValue("id"), 128)
	act, err := u.a.opts.Store.Actor(id)
	if errors.Is(err, store.ErrNotFound) {
		u.fail(w, r, sess, http.StatusNotFound, "There is no such actor.")
		return
	}
	if err != nil {
		u.fail(w, r, sess, http.StatusInternalServerError, "Could not read the actor.")
		return
	}
	q := store.Query{Actor: act.ID, Limit: uiPageSize, Reverse: true}
	if c := r.URL.Query().Get("cursor"); c != "" {
		if q.Before, err = store.ParseID(c); err != nil {
			u.fail(w, r, sess, http.StatusBadRequest, "cursor must be an event id")
			return
		}
	}
	evs, err := u.a.opts.Store.Events(q)
	if err != nil {
		u.fail(w, r, sess, http.StatusInternalServerError, "Could not read the actor's events.")
		return
	}
	v := actorView{Actor: act, Events: evs}
	if len(evs) == q.Limit {
		v.Next = "/ui/actors/" + url.PathEscape(act.ID) + "?" + url.Values{"cursor": {evs[len(evs)-1].ID.String()}}.Encode()
	}
	u.render(w, r, http.StatusOK, "actor", sess, "Actor "+act.ID, "actors", v)
}

// decoysView is the body of the decoys page.
type decoysView struct {
	Configured bool
	Documents  []decoyDocView
	// Orphans are counted operations no current document serves (an
	// earlier configuration's).
	Orphans []store.OperationCount
	Error   string
}

type decoyDocView struct {
	Doc        *decoys.Document
	Operations []decoyOpView
	Hits       int64
}

type decoyOpView struct {
	Op   decoys.OperationInfo
	Hits int64
	Last time.Time
}

func (u *ui) decoysPage(w http.ResponseWriter, r *http.Request, sess *session) {
	var v decoysView
	counts, err := u.a.opts.Store.OperationHits()
	if err != nil {
		v.Error = "could not read the operation counts"
	}
	type key struct{ doc, op string }
	byOp := make(map[key]store.OperationCount, len(counts))
	for _, c := range counts {
		byOp[key{c.Document, c.Operation}] = c
	}
	if d := u.a.opts.Decoy; d != nil {
		v.Configured = true
		docs := d.Documents()
		index := map[string]int{}
		for _, doc := range docs {
			index[doc.Name] = len(v.Documents)
			v.Documents = append(v.Documents, decoyDocView{Doc: doc})
		}
		for _, op := range d.OperationList() {
			i, ok := index[op.Document]
			if !ok {
				continue
			}
			c, hit := byOp[key{op.Document, op.Name}]
			delete(byOp, key{op.Document, op.Name})
			dv := &v.Documents[i]
			dv.Operations = append(dv.Operations, decoyOpView{Op: op, Hits: c.Hits, Last: c.Last})
			if hit {
				dv.Hits += c.Hits
			}
		}
	}
	for _, c := range byOp {
		v.Orphans = append(v.Orphans, c)
	}
	sort.Slice(v.Orphans, func(i, j int) bool {
		if v.Orphans[i].Hits != v.Orphans[j].Hits {
			return v.Orphans[i].Hits > v.Orphans[j].Hits
		}
		return v.Orphans[i].Document+v.Orphans[i].Operation < v.Orphans[j].Document+v.Orphans[j].Operation
	})
	if len(v.Orphans) > 500 {
		v.Orphans = v.Orphans[:500]
	}
	u.render(w, r, http.StatusOK, "decoys", sess, "Decoys", "decoys", v)
}
