package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Alert is one alert in the outbox: committed with the event that raised
// it, before anything is sent, and delivered at least once per channel.
// The store does not interpret Payload (package alerts does); it keeps the
// delivery state per channel and aggregates a burst of alerts with the
// same Key into one.
type Alert struct {
	ID       ID        `json:"id"`
	Time     time.Time `json:"time"` // when it was raised
	Severity string    `json:"severity"`
	Rule     string    `json:"rule"`
	// Key groups alerts for aggregation ("token_used:<actor>:<token>").
	// While an alert with the same Key is unsent, later ones merge into it
	// (Count, LastSeen, LastEvent). Once it was sent, the next one becomes
	// a follow-up held until Window has passed, collecting the rest of the
	// burst: a burst is one message, then one with a count.
	Key    string        `json:"key,omitempty"`
	Window time.Duration `json:"window,omitempty"`
	// Event is the event that raised the alert (Record fills it in);
	// LastEvent the latest one merged into it.
	Event     ID        `json:"event"`
	LastEvent ID        `json:"last_event,omitempty"`
	Actor     string    `json:"actor,omitempty"`
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Payload is the alert as raised (JSON of alerts.Payload).
	Payload    json.RawMessage `json:"payload,omitempty"`
	Deliveries []Delivery      `json:"deliveries"`
}

// Delivery is the state of an alert on one channel.
type Delivery struct {
	Channel   string    `json:"channel"`
	State     string    `json:"state"` // DeliveryPending, DeliveryDelivered, DeliveryDead
	Attempts  int       `json:"attempts"`
	Next      time.Time `json:"next"` // when to try next (pending)
	LastError string    `json:"last_error,omitempty"`
	Done      time.Time `json:"done,omitzero"` // delivered or declared dead
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryDead      = "dead"
)

// State summarises an alert's deliveries: "dead" if any channel gave up,
// else "pending" if any is pending, else "delivered".
func (a *Alert) State() string {
	st := DeliveryDelivered
	for _, d := range a.Deliveries {
		switch d.State {
		case DeliveryDead:
			return DeliveryDead
		case DeliveryPending:
			st = DeliveryPending
		}
	}
	return st
}

// AlertQuery selects alerts, newest first.
type AlertQuery struct {
	// State keeps alerts whose State() is this, when set.
	State string
	// Before is the ID of the last alert of the previous page.
	Before ID
	// Limit defaults to 100 and is capped at 1000.
	Limit int
}

// alertOp is a delivery update or a retry, done by the writer.
type alertOp struct {
	id      ID
	channel string
	update  *Delivery // replace the channel's delivery
	retry   bool      // dead (or all, when channel is "") deliveries back to pending
	err     error
}

// Alert bounds.
const (
	maxAlertPayload  = 64 << 10
	maxAlertError    = 512
	maxAlertChannels = 32
)

func boundAlert(a *Alert) error {
	if len(a.Payload) > maxAlertPayload {
		return fmt.Errorf("store: alert payload of %d bytes exceeds %d", len(a.Payload), maxAlertPayload)
	}
	if len(a.Deliveries) > maxAlertChannels {
		return fmt.Errorf("store: an alert for %d channels exceeds %d", len(a.Deliveries), maxAlertChannels)
	}
	if len(a.Key) > 512 {
		a.Key = a.Key[:512]
	}
	return nil
}

// RecordWithAlerts is Record, committing alerts raised by the event (and
// token records, as RecordWithTokens) in the same transaction: an alert
// exists exactly when its event does. Each alert gets an ID, its Event
// (the event's ID) and Count 1 unless set, and may merge into an unsent
// alert with the same Key (see Alert.Key). The caller's alerts are not
// modified.
func (s *Store) RecordWithAlerts(ctx context.Context, ev *Event, actor *Actor, alerts []*Alert, toks ...*Token) (ID, error) {
	cp, err := copyTokens(toks)
	if err != nil {
		return ID{}, err
	}
	as := make([]Alert, 0, len(alerts))
	for _, a := range alerts {
		if a == nil {
			continue
		}
		c := *a
		c.Deliveries = append([]Delivery(nil), a.Deliveries...)
		if err := boundAlert(&c); err != nil {
			return ID{}, err
		}
		as = append(as, c)
	}
	return s.recordAll(ctx, ev, actor, cp, as)
}

// SaveAlert stores an alert raised without an event (honeyapi alerts test).
func (s *Store) SaveAlert(ctx context.Context, a *Alert) (ID, error) {
	if s.opts.ReadOnly {
		return ID{}, ErrReadOnly
	}
	c := *a
	c.Deliveries = append([]Delivery(nil), a.Deliveries...)
	if err := boundAlert(&c); err != nil {
		return ID{}, err
	}
	if c.ID.IsZero() {
		c.ID = NewID()
	}
	req := &request{alerts: []Alert{c}}
	if _, err := s.enqueue(ctx, req, nil); err != nil {
		return ID{}, err
	}
	return c.ID, nil
}

// UpdateDelivery replaces the delivery state of alert id on channel (after
// an attempt). It goes through the writer, so it is durable like Record.
func (s *Store) UpdateDelivery(ctx context.Context, id ID, d Delivery) error {
	return s.alertOp(ctx, &alertOp{id: id, channel: d.Channel, update: &d})
}

// RetryAlert puts the dead deliveries of alert id (on channel, or on every
// channel when channel is "") back to pending, due now, attempts reset.
func (s *Store) RetryAlert(ctx context.Context, id ID, channel string) error {
	return s.alertOp(ctx, &alertOp{id: id, channel: channel, retry: true})
}

func (s *Store) alertOp(ctx context.Context, op *alertOp) error {
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	// Waits for the commit in either durability mode: op.err is its outcome.
	req := &request{alertOp: op, done: make(chan error, 1)}
	if _, err := s.enqueue(ctx, req, nil); err != nil {
		return err
	}
	return op.err
}

// Alert returns one alert.
func (s *Store) Alert(id ID) (*Alert, error) {
	var a *Alert
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bAlerts)
		if b == nil {
			return ErrNotFound
		}
		v := b.Get(id[:])
		if v == nil {
			return ErrNotFound
		}
		a = new(Alert)
		return json.Unmarshal(v, a)
	})
	return a, err
}

// Alerts returns one page of alerts, newest first.
func (s *Store) Alerts(q AlertQuery) ([]Alert, error) {
	limit := clampLimit(q.Limit)
	var out []Alert
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bAlerts)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		var k, v []byte
		if q.Before.IsZero() {
			k, v = c.Last()
		} else {
			k, v = c.Seek(q.Before[:])
			if k == nil {
				k, v = c.Last()
			}
			for k != nil && bytes.Compare(k, q.Before[:]) >= 0 {
				k, v = c.Prev()
			}
		}
		for ; k != nil && len(out) < limit; k, v = c.Prev() {
			var a Alert
			if json.Unmarshal(v, &a) != nil {
				continue
			}
			if q.State != "" && a.State() != q.State {
				continue
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

// DueAlerts returns up to limit alerts with a pending delivery on channel
// due at or before now, oldest first. It reads the pending index only.
func (s *Store) DueAlerts(channel string, now time.Time, limit int) ([]Alert, error) {
	limit = clampLimit(limit)
	var out []Alert
	err := s.db.View(func(tx *bolt.Tx) error {
		idx, b := tx.Bucket(bAlertPending), tx.Bucket(bAlerts)
		if idx == nil || b == nil {
			return nil
		}
		prefix := indexPrefix(nil, channel)
		c := idx.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, _ = c.Next() {
			v := b.Get(k[len(prefix):])
			if v == nil {
				continue
			}
			var a Alert
			if json.Unmarshal(v, &a) != nil {
				continue
			}
			for _, d := range a.Deliveries {
				if d.Channel == channel && d.State == DeliveryPending && !d.Next.After(now) {
					out = append(out, a)
					break
				}
			}
		}
		return nil
	})
	return out, err
}

// NextDue returns the earliest Next of the pending deliveries on channel,
// and false when there is none.
func (s *Store) NextDue(channel string) (time.Time, bool, error) {
	var next time.Time
	found := false
	err := s.db.View(func(tx *bolt.Tx) error {
		idx, b := tx.Bucket(bAlertPending), tx.Bucket(bAlerts)
		if idx == nil || b == nil {
			return nil
		}
		prefix := indexPrefix(nil, channel)
		c := idx.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var a Alert
			if v := b.Get(k[len(prefix):]); v == nil || json.Unmarshal(v, &a) != nil {
				continue
			}
			for _, d := range a.Deliveries {
				if d.Channel == channel && d.State == DeliveryPending && (!found || d.Next.Before(next)) {
					next, found = d.Next, true
				}
			}
		}
		return nil
	})
	return next, found, err
}

// putAlert stores a raised alert, or merges it into the open alert with
// its Key (inside the writer's transaction).
func (w *txWriter) putAlert(a *Alert, event ID, hasEvent bool, at time.Time) error {
	if hasEvent && a.Event.IsZero() {
		a.Event = event
	}
	if a.Count == 0 {
		a.Count = 1
	}
	if a.FirstSeen.IsZero() {
		a.FirstSeen = at
	}
	if a.LastSeen.IsZero() {
		a.LastSeen = at
	}
	if a.Key != "" {
		if openID := w.alertKeys.Get([]byte(a.Key)); openID != nil {
			if v := w.alerts.Get(openID); v != nil {
				var open Alert
				if json.Unmarshal(v, &open) == nil {
					if unsent(&open) && at.Sub(open.FirstSeen) < max(open.Window, time.Minute) {
						open.Count += a.Count
						if a.LastSeen.After(open.LastSeen) {
							open.LastSeen = a.LastSeen
						}
						open.LastEvent = a.Event
						if open.Actor == "" {
							open.Actor = a.Actor
						}
						return w.storeAlert(&open)
					}
					if !unsent(&open) && at.Sub(open.FirstSeen) < open.Window {
						// The first of a burst went out: collect the
						// rest in a follow-up sent when the window ends.
						hold := open.FirstSeen.Add(open.Window)
						for i := range a.Deliveries {
							if a.Deliveries[i].Next.Before(hold) {
								a.Deliveries[i].Next = hold
							}
						}
					}
				}
			}
		}
	}
	if a.ID.IsZero() {
		a.ID = NewID()
	}
	for i := range a.Deliveries {
		d := &a.Deliveries[i]
		if d.State == "" {
			d.State = DeliveryPending
		}
		if d.Next.IsZero() {
			d.Next = at
		}
	}
	if a.Key != "" {
		if err := w.alertKeys.Put(w.key([]byte(a.Key)), w.key(a.ID[:])); err != nil {
			return fmt.Errorf("put alert key: %w", err)
		}
	}
	return w.storeAlert(a)
}

// unsent reports whether no channel has attempted the alert yet.
func unsent(a *Alert) bool {
	for _, d := range a.Deliveries {
		if d.Attempts > 0 || d.State != DeliveryPending {
			return false
		}
	}
	return true
}

// storeAlert writes the alert and keeps the pending index in step.
func (w *txWriter) storeAlert(a *Alert) error {
	v, err := json.Marshal(a)
	if err != nil {
		return err
	}
	if err := w.alerts.Put(w.key(a.ID[:]), v); err != nil {
		return fmt.Errorf("put alert: %w", err)
	}
	for _, d := range a.Deliveries {
		k := w.indexKey([]byte(d.Channel), a.ID[:])
		if d.State == DeliveryPending {
			if err := w.alertPending.Put(k, empty); err != nil {
				return err
			}
		} else if err := w.alertPending.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// applyAlertOp runs an update or a retry. A missing alert or channel is
// reported to the caller, not a failure of the batch.
func (w *txWriter) applyAlertOp(op *alertOp, now time.Time) error {
	v := w.alerts.Get(op.id[:])
	if v == nil {
		op.err = ErrNotFound
		return nil
	}
	var a Alert
	if err := json.Unmarshal(v, &a); err != nil {
		op.err = fmt.Errorf("alert %s: %w", op.id, err)
		return nil
	}
	found := false
	for i := range a.Deliveries {
		d := &a.Deliveries[i]
		if op.channel != "" && d.Channel != op.channel {
			continue
		}
		found = true
		switch {
		case op.update != nil:
			*d = *op.update
			if len(d.LastError) > maxAlertError {
				d.LastError = d.LastError[:maxAlertError]
			}
		case op.retry && d.State == DeliveryDead:
			d.State, d.Attempts, d.Next, d.Done = DeliveryPending, 0, now, time.Time{}
		}
	}
	if !found {
		op.err = fmt.Errorf("%w: alert %s has no channel %q", ErrNotFound, op.id, op.channel)
		return nil
	}
	return w.storeAlert(&a)
}
