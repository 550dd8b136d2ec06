package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/honeyapi/honeyapi/alerts"
	"github.com/honeyapi/honeyapi/store"
)

// AlertList is the body of GET /api/v1/alerts.
type AlertList struct {
	Alerts []store.Alert `json:"alerts"`
	Next   string        `json:"next,omitempty"`
}

// TestAlertRequest is the body of POST /api/v1/alerts/test.
type TestAlertRequest struct {
	Channel string `json:"channel,omitempty"`
}

func (a *Admin) alertRoutes() {
	a.mux.Handle("GET /api/v1/alerts", a.auth(a.listAlerts))
	a.mux.Handle("GET /api/v1/alerts/{id}", a.auth(a.getAlert))
	a.mux.Handle("POST /api/v1/alerts/{id}/retry", a.auth(a.retryAlert))
	a.mux.Handle("POST /api/v1/alerts/test", a.auth(a.testAlert))
}

func (a *Admin) listAlerts(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := store.AlertQuery{Limit: 100}
	switch s := v.Get("state"); s {
	case "", store.DeliveryPending, store.DeliveryDelivered, store.DeliveryDead:
		q.State = s
	default:
		writeError(w, http.StatusBadRequest, "bad_query", "state must be pending, delivered or dead")
		return
	}
	limit, err := parseLimit(v.Get("limit"), q.Limit)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_query", err.Error())
		return
	}
	q.Limit = limit
	if s := v.Get("cursor"); s != "" {
		id, err := store.ParseID(s)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_query", "cursor must be an alert id")
			return
		}
		q.Before = id
	}
	as, err := a.opts.Store.Alerts(q)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "store", "could not read alerts")
		return
	}
	out := AlertList{Alerts: as}
	if out.Alerts == nil {
		out.Alerts = []store.Alert{}
	}
	if len(as) == q.Limit && len(as) > 0 {
		out.Next = as[len(as)-1].ID.String()
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *Admin) getAlert(w http.ResponseWriter, r *http.Request) {
	id, err := store.ParseID(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusNotFound, "not_found", "no such alert")
		return
	}
	al, err := a.opts.Store.Alert(id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no such alert")
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "store", "could not read the alert")
		return
	}
	writeJSON(w, http.StatusOK, al)
}

func (a *Admin) retryAlert(w http.ResponseWriter, r *http.Request) {
	id, err := store.ParseID(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusNotFound, "not_found", "no such alert")
		return
	}
	channel := bounded(r.URL.Query().Get("channel"), 64)
	if err := a.opts.Store.RetryAlert(r.Context(), id, channel); errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no such alert or channel")
		return
	} else if err != nil {
		writeError(w, http.StatusInternalServerError, "store", "could not retry the alert")
		return
	}
	if a.opts.NotifyAlerts != nil {
		a.opts.NotifyAlerts()
	}
	al, _ := a.opts.Store.Alert(id)
	writeJSON(w, http.StatusOK, al)
}

func (a *Admin) testAlert(w http.ResponseWriter, r *http.Request) {
	var req TestAlertRequest
	if r.ContentLength != 0 && !readJSON(w, r, 4<<10, &req) {
		return
	}
	al, err := alerts.TestAlert(a.opts.AlertRoutes, bounded(req.Channel, 64), time.Now())
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "no_channel", err.Error())
		return
	}
	id, err := a.opts.Store.SaveAlert(r.Context(), al)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "store", "could not save the test alert")
		return
	}
	if a.opts.NotifyAlerts != nil {
		a.opts.NotifyAlerts()
	}
	saved, err := a.opts.Store.Alert(id)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "store", "could not read the test alert")
		return
	}
	writeJSON(w, http.StatusAccepted, saved)
}
