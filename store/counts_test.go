package store

import (
	"context"
	"testing"
	"time"
)

func TestHistogramAndOperationHits(t *testing.T) {
	s := openTest(t, Options{Durability: DurabilityStrict})
	for i := 0; i < 5; i++ {
		ev := realisticEvent(i)
		ev.Document, ev.Operation = "petstore", "listPets"
		record(t, s, ev, nil)
	}
	ev := realisticEvent(9)
	ev.Document, ev.Operation = "petstore", ""
	record(t, s, ev, nil)

	now := time.Now()
	h, err := s.Histogram(now.Add(-3*time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 4 {
		t.Fatalf("got %d hours for a 3h window not on the hour, want 4: %+v", len(h), h)
	}
	var total int64
	for _, c := range h {
		total += c.N
	}
	if h[len(h)-1].N != 6 || total != 6 {
		t.Fatalf("histogram %+v, want the 6 events in the last hour", h)
	}
	if _, err := s.Histogram(now.Add(-100*24*time.Hour), now); err == nil {
		t.Fatal("a 100-day histogram was not refused")
	}
	ops, err := s.OperationHits()
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 || ops[0].Document != "petstore" || ops[0].Operation != "listPets" || ops[0].Hits != 5 || ops[0].Last.IsZero() {
		t.Fatalf("operation hits %+v, want listPets 5 times", ops)
	}
}

func TestAmendWaitAndTotals(t *testing.T) {
	s := openTest(t, Options{Durability: DurabilityStrict})
	a := &Actor{ID: "act_1", FirstSeen: time.Now(), LastSeen: time.Now(), Events: 1, Holds: 1}
	ev := realisticEvent(1)
	ev.Tarpit, ev.DelayMS, ev.WaitedMS, ev.TarpitEnd = "delay", 120, 120, "done"
	record(t, s, ev, a)
	held := realisticEvent(2)
	held.Tarpit, held.DelayMS, held.WaitedMS, held.TarpitEnd = "endless", 5000, 0, ""
	id := record(t, s, held, a)
	if st := s.Stats(); st.TarpitHolds != 1 || st.TarpitWaited != 120*time.Millisecond {
		t.Fatalf("totals after recording: holds %d waited %v, want 1 and 120ms", st.TarpitHolds, st.TarpitWaited)
	}
	a.WaitedMS = 90_120
	if err := s.AmendWait(context.Background(), Wait{Event: id, Mode: "endless", Waited: 90 * time.Second, End: "client_gone", Actor: a, AddTotal: 90 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := s.Event(id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Tarpit != "endless" || got.WaitedMS != 90_000 || got.TarpitEnd != "client_gone" || got.DelayMS != 5000 || got.Path != held.Path {
		t.Fatalf("amended event: mode %q waited %v end %q delay %v path %q", got.Tarpit, got.WaitedMS, got.TarpitEnd, got.DelayMS, got.Path)
	}
	if st := s.Stats(); st.TarpitWaited != 90120*time.Millisecond {
		t.Fatalf("total waited %v, want 90.12s", st.TarpitWaited)
	}
	ac, err := s.Actor("act_1")
	if err != nil {
		t.Fatal(err)
	}
	if ac.WaitedMS != 90_120 || ac.Holds != 1 {
		t.Fatalf("actor waited %d holds %d", ac.WaitedMS, ac.Holds)
	}
	// An amendment for an event retention removed does not recreate it.
	if err := s.AmendWait(context.Background(), Wait{Event: NewID(), Mode: "hold", Waited: time.Second, End: "done"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkConsistency(t, s)
}
