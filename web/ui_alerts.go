package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/honeyapi/honeyapi/store"
)

// The alerts page: the outbox by delivery state, with a retry for the
// dead deliveries.

// alertsView is the body of the alerts page.
type alertsView struct {
	Alerts []alertView
	State  string
	States []string
	Next   string
}

type alertView struct {
	store.Alert
	Overall string // Alert.State()
	Title   string
	Summary string
	Dead    bool
}

// alertText is the part of an alert's payload the page shows.
type alertText struct {
	Title   string `json:"title"`
	Summary string `json:"summary"`
}

func (u *ui) alertsPage(w http.ResponseWriter, r *http.Request, sess *session) {
	in := r.URL.Query()
	v := alertsView{State: in.Get("state"), States: []string{store.DeliveryPending, store.DeliveryDelivered, store.DeliveryDead}}
	switch v.State {
	case "", store.DeliveryPending, store.DeliveryDelivered, store.DeliveryDead:
	default:
		u.fail(w, r, sess, http.StatusBadRequest, "state must be pending, delivered or dead")
		return
	}
	q := store.AlertQuery{State: v.State, Limit: uiPageSize}
	if c := in.Get("cursor"); c != "" {
		id, err := store.ParseID(c)
		if err != nil {
			u.fail(w, r, sess, http.StatusBadRequest, "cursor must be an alert id")
			return
		}
		q.Before = id
	}
	as, err := u.a.opts.Store.Alerts(q)
	if err != nil {
		u.fail(w, r, sess, http.StatusInternalServerError, "Could not read alerts.")
		return
	}
	for _, a := range as {
		av := alertView{Alert: a, Overall: a.State()}
		var t alertText
		if json.Unmarshal(a.Payload, &t) == nil {
			av.Title, av.Summary = bounded(t.Title, 512), bounded(t.Summary, 2048)
		}
		for _, d := range a.Deliveries {
			if d.State == store.DeliveryDead {
				av.Dead = true
			}
		}
		v.Alerts = append(v.Alerts, av)
	}
	if len(as) == q.Limit {
		next := url.Values{"cursor": {as[len(as)-1].ID.String()}}
		if v.State != "" {
			next.Set("state", v.State)
		}
		v.Next = "/ui/alerts?" + next.Encode()
	}
	u.render(w, r, http.StatusOK, "alerts", sess, "Alerts", "alerts", v)
}

// retryAlert puts an alert's dead deliveries (on one channel, or all)
// back to pending, as POST /api/v1/alerts/{id}/retry does.
func (u *ui) retryAlert(w http.ResponseWriter, r *http.Request, sess *session) {
	id, err := store.ParseID(r.PathValue("id"))
	if err != nil {
		u.fail(w, r, sess, http.StatusNotFound, "There is no such alert.")
		return
	}
	channel := bounded(r.PostForm.Get("channel"), 64)
	if err := u.a.opts.Store.RetryAlert(r.Context(), id, channel); errors.Is(err, store.ErrNotFound) {
		u.fail(w, r, sess, http.StatusNotFound, "There is no such alert or channel.")
		return
	} else if err != nil {
		u.fail(w, r, sess, http.StatusInternalServerError, "Could not retry the alert.")
		return
	}
	if u.a.opts.NotifyAlerts != nil {
		u.a.opts.NotifyAlerts()
	}
	back := url.Values{"msg": {"retried"}}
	if s := r.PostForm.Get("state"); s == store.DeliveryDead || s == store.DeliveryPending || s == store.DeliveryDelivered {
		back.Set("state", s)
	}
	http.Redirect(w, r, "/ui/alerts?"+back.Encode(), http.StatusSeeOther)
}
