package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func newAlert(key string) *Alert {
	return &Alert{Severity: "critical", Rule: "token_used", Key: key, Window: time.Minute, Actor: "act_1",
		Payload:    []byte(`{"version":1}`),
		Deliveries: []Delivery{{Channel: "slack"}, {Channel: "soc"}}}
}

func TestAlertsOutbox(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	s := openTest(t, Options{Path: path})
	ctx := context.Background()
	ev := realisticEvent(1)
	id, err := s.RecordWithAlerts(ctx, ev, nil, []*Alert{newAlert("k1")})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	due, err := s.DueAlerts("slack", now, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("due: %v %v", due, err)
	}
	a := due[0]
	if a.Event != id || a.Count != 1 || a.State() != DeliveryPending || len(a.Deliveries) != 2 {
		t.Fatalf("raised alert = %+v", a)
	}
	// A second event with the same key while unsent merges.
	if _, err := s.RecordWithAlerts(ctx, realisticEvent(2), nil, []*Alert{newAlert("k1")}); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.Alerts(AlertQuery{}); len(all) != 1 || all[0].Count != 2 || all[0].LastEvent.IsZero() {
		t.Fatalf("after a merge: %+v", all)
	}
	// Delivered on slack, failing on soc.
	if err := s.UpdateDelivery(ctx, a.ID, Delivery{Channel: "slack", State: DeliveryDelivered, Attempts: 1, Done: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateDelivery(ctx, a.ID, Delivery{Channel: "soc", State: DeliveryPending, Attempts: 1, Next: now.Add(time.Hour), LastError: "503"}); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueAlerts("slack", now, 10); len(due) != 0 {
		t.Fatalf("a delivered alert is still due: %v", due)
	}
	if due, _ := s.DueAlerts("soc", now, 10); len(due) != 0 {
		t.Fatal("an alert is due before its Next")
	}
	if next, ok, _ := s.NextDue("soc"); !ok || next.Before(now.Add(59*time.Minute)) {
		t.Fatalf("NextDue = %v %v", next, ok)
	}
	// The burst goes on after the first message: a follow-up, held to the window's end.
	if _, err := s.RecordWithAlerts(ctx, realisticEvent(3), nil, []*Alert{newAlert("k1")}); err != nil {
		t.Fatal(err)
	}
	all, _ := s.Alerts(AlertQuery{})
	if len(all) != 2 || all[0].Count != 1 {
		t.Fatalf("follow-up: %+v", all)
	}
	if d := all[0].Deliveries[0]; !d.Next.After(now.Add(30 * time.Second)) {
		t.Fatalf("the follow-up is not held: next %v", d.Next)
	}
	if _, err := s.RecordWithAlerts(ctx, realisticEvent(4), nil, []*Alert{newAlert("k1")}); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.Alerts(AlertQuery{}); len(all) != 2 || all[0].Count != 2 {
		t.Fatalf("the rest of the burst did not join the follow-up: %+v", all)
	}

	// Dead letter, listed, retried.
	if err := s.UpdateDelivery(ctx, a.ID, Delivery{Channel: "soc", State: DeliveryDead, Attempts: 9, Done: now, LastError: "gave up"}); err != nil {
		t.Fatal(err)
	}
	dead, _ := s.Alerts(AlertQuery{State: DeliveryDead})
	if len(dead) != 1 || dead[0].ID != a.ID {
		t.Fatalf("dead letters: %+v", dead)
	}
	if err := s.RetryAlert(ctx, a.ID, ""); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Alert(a.ID)
	if got.State() != DeliveryPending || got.Deliveries[1].Attempts != 0 || got.Deliveries[0].State != DeliveryDelivered {
		t.Fatalf("after retry: %+v", got.Deliveries)
	}
	if due, _ := s.DueAlerts("soc", time.Now(), 10); len(due) != 1 {
		t.Fatal("a retried alert is not due")
	}
	if err := s.RetryAlert(ctx, NewID(), ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("retry unknown: %v", err)
	}
	if err := s.UpdateDelivery(ctx, a.ID, Delivery{Channel: "nope"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update unknown channel: %v", err)
	}
	// Paging.
	p1, _ := s.Alerts(AlertQuery{Limit: 1})
	p2, _ := s.Alerts(AlertQuery{Limit: 1, Before: p1[0].ID})
	if len(p2) != 1 || p2[0].ID != a.ID {
		t.Fatalf("paging: %v then %v", p1, p2)
	}

	// Durable across a reopen; a test alert without an event.
	s.Close()
	s2 := openTest(t, Options{Path: path})
	if due, _ := s2.DueAlerts("soc", time.Now(), 10); len(due) != 1 || due[0].ID != a.ID {
		t.Fatalf("after reopen: %v", due)
	}
	tid, err := s2.SaveAlert(ctx, &Alert{Severity: "info", Rule: "test", Deliveries: []Delivery{{Channel: "soc"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s2.Alert(tid); err != nil || got.Event != (ID{}) || got.Count != 1 {
		t.Fatalf("test alert: %+v %v", got, err)
	}
	if _, err := s2.SaveAlert(ctx, &Alert{Payload: make([]byte, maxAlertPayload+1)}); err == nil {
		t.Fatal("an oversized payload was accepted")
	}
}
