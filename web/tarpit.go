package web

import (
	"net/http"
	"sort"

	"github.com/honeyapi/honeyapi/store"
)

// TarpitReport is the body of GET /api/v1/tarpit.
type TarpitReport struct {
	// Live is nil when the tarpit is off.
	Live *TarpitStats `json:"live"`
	// WaitedSecondsTotal and HoldsTotal are all-time totals from the store.
	WaitedSecondsTotal float64 `json:"waited_seconds_total"`
	HoldsTotal         int64   `json:"holds_total"`
	// Actors are the actors that waited longest, among the 1000 seen
	// most recently (at most 20).
	Actors []TarpitActor `json:"actors"`
}

// TarpitActor is one actor's tarpit account.
type TarpitActor struct {
	ID       string `json:"id"`
	WaitedMS int64  `json:"waited_ms"`
	Holds    int64  `json:"holds"`
	Risk     int    `json:"risk"`
}

func (a *Admin) tarpit(w http.ResponseWriter, _ *http.Request) {
	rep, err := a.TarpitReport()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "store", "could not read actors")
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// TarpitReport gathers the tarpit's live and all-time figures.
func (a *Admin) TarpitReport() (*TarpitReport, error) {
	st := a.opts.Store.Stats()
	rep := &TarpitReport{WaitedSecondsTotal: st.TarpitWaited.Seconds(), HoldsTotal: st.TarpitHolds, Actors: []TarpitActor{}}
	if a.opts.Tarpit != nil {
		live := a.opts.Tarpit()
		rep.Live = &live
	}
	actors, err := a.opts.Store.Actors(store.ActorQuery{Limit: 1000})
	if err != nil {
		return nil, err
	}
	for _, ac := range actors {
		if ac.WaitedMS > 0 || ac.Holds > 0 {
			rep.Actors = append(rep.Actors, TarpitActor{ID: ac.ID, WaitedMS: ac.WaitedMS, Holds: ac.Holds, Risk: ac.Risk})
		}
	}
	sort.Slice(rep.Actors, func(i, j int) bool { return rep.Actors[i].WaitedMS > rep.Actors[j].WaitedMS })
	if len(rep.Actors) > 20 {
		rep.Actors = rep.Actors[:20]
	}
	return rep, nil
}
