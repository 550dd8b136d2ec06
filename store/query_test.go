package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// mkID returns an ID at time t with a chosen low half (tests place events in
// time without waiting).
func mkID(t time.Time, low uint64) ID {
	id := idAt(t)
	binary.BigEndian.PutUint64(id[8:], low)
	return id
}

// recordAll records evs with many concurrent callers (strict mode commits
// them in groups).
func recordAll(t testing.TB, s *Store, evs []*Event) {
	t.Helper()
	var wg sync.WaitGroup
	next := make(chan *Event)
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ev := range next {
				if _, err := s.Record(context.Background(), ev, nil); err != nil {
					t.Errorf("Record: %v", err)
				}
			}
		}()
	}
	for _, ev := range evs {
		next <- ev
	}
	close(next)
	wg.Wait()
}

// expect answers q by brute force over evs.
func expect(evs []*Event, q Query) []ID {
	lo, hi, ok := q.bounds()
	var ids []ID
	if !ok {
		return nil
	}
	for _, ev := range evs {
		if q.Actor != "" && ev.Actor != q.Actor || q.IP != "" && ev.ClientIP != q.IP {
			continue
		}
		if ev.ID.Compare(lo) < 0 || ev.ID.Compare(hi) >= 0 {
			continue
		}
		ids = append(ids, ev.ID)
	}
	slices.SortFunc(ids, ID.Compare)
	if q.Reverse {
		slices.Reverse(ids)
	}
	if l := clampLimit(q.Limit); len(ids) > l {
		ids = ids[:l]
	}
	return ids
}

func ids(evs []Event) []ID {
	out := make([]ID, len(evs))
	for i := range evs {
		out[i] = evs[i].ID
	}
	return out
}

func TestEventsQueries(t *testing.T) {
	s := openTest(t, Options{})
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	// Actor and IP values where one is a prefix of another must not mix.
	actors := []string{"a", "ab", "act_1", "act_10", "act_100", ""}
	ips := []string{"10.0.0.1", "10.0.0.10", "10.0.0.100", "2001:db8::1", ""}
	var evs []*Event
	for i := 0; i < 2500; i++ {
		ev := realisticEvent(i)
		ev.ID = mkID(base.Add(time.Duration(i)*time.Second), uint64(i)*7919)
		ev.Actor = actors[i%len(actors)]
		ev.ClientIP = ips[(i/3)%len(ips)]
		evs = append(evs, ev)
	}
	recordAll(t, s, evs)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }
	sorted := make([]*Event, len(evs))
	copy(sorted, evs)
	slices.SortFunc(sorted, func(a, b *Event) int { return a.ID.Compare(b.ID) })

	queries := []Query{
		{},
		{Reverse: true},
		{Limit: 5000},
		{Limit: 3},
		{Actor: "a"},
		{Actor: "ab", Limit: 1000},
		{Actor: "act_1", Reverse: true, Limit: 1000},
		{Actor: "act_10", Limit: 1000},
		{Actor: "nobody"},
		{IP: "10.0.0.1", Limit: 1000},
		{IP: "10.0.0.10", Reverse: true},
		{IP: "2001:db8::1", Limit: 17},
		{Actor: "a", IP: "10.0.0.10", Limit: 1000},
		{Actor: "act_100", IP: "10.0.0.1", Reverse: true, Limit: 1000},
		{Since: at(100), Until: at(200), Limit: 1000},
		{Since: at(100), Until: at(200), Reverse: true, Limit: 10},
		{Actor: "ab", Since: at(1000), Until: at(1500), Limit: 1000},
		{IP: "10.0.0.100", Since: at(1000), Reverse: true, Limit: 1000},
		{After: sorted[10].ID, Limit: 20},
		{Before: sorted[10].ID, Reverse: true, Limit: 20},
		{After: sorted[10].ID, Before: sorted[50].ID, Limit: 1000},
		{Actor: "act_1", After: sorted[600].ID, Before: sorted[900].ID, Reverse: true, Limit: 1000},
		{Since: at(2000), After: sorted[1500].ID, Limit: 10},
		{Since: at(2000), Until: at(1000)},
		{After: maxID},
		{Before: ID{}},
	}
	for _, q := range queries {
		t.Run(fmt.Sprintf("%+v", q), func(t *testing.T) {
			got, err := s.Events(q)
			if err != nil {
				t.Fatal(err)
			}
			want := expect(evs, q)
			if !slices.Equal(ids(got), want) {
				t.Fatalf("got %d events, want %d\ngot  %v\nwant %v", len(got), len(want), ids(got), want)
			}
			for _, ev := range got {
				if q.Actor != "" && ev.Actor != q.Actor || q.IP != "" && ev.ClientIP != q.IP {
					t.Fatalf("event %s has actor %q ip %q", ev.ID, ev.Actor, ev.ClientIP)
				}
			}
		})
	}

	// Paging through one actor, both directions, gives every event once.
	for _, reverse := range []bool{false, true} {
		q := Query{Actor: "act_10", Limit: 37, Reverse: reverse}
		var all []ID
		for {
			page, err := s.Events(q)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, ids(page)...)
			if len(page) < q.Limit {
				break
			}
			if reverse {
				q.Before = page[len(page)-1].ID
			} else {
				q.After = page[len(page)-1].ID
			}
		}
		want := expect(evs, Query{Actor: "act_10", Limit: MaxLimit, Reverse: reverse})
		if !slices.Equal(all, want) {
			t.Fatalf("paging reverse=%v: got %d ids, want %d", reverse, len(all), len(want))
		}
	}
}

func TestLongIndexedValues(t *testing.T) {
	s := openTest(t, Options{})
	long := strings.Repeat("x", 300)
	a, b := long+"-a", long+"-b"
	for i := 0; i < 10; i++ {
		ev := realisticEvent(i)
		ev.Actor, ev.ClientIP = a, a
		if i%2 == 1 {
			ev.Actor, ev.ClientIP = b, b
		}
		record(t, s, ev, nil)
	}
	for _, q := range []Query{{Actor: a}, {IP: a}, {Actor: a, IP: a}, {Actor: b, IP: b, Reverse: true}} {
		got, err := s.Events(q)
		if err != nil || len(got) != 5 {
			t.Fatalf("%.20v: %d events, %v; want 5", q, len(got), err)
		}
	}
	checkConsistency(t, s)
}

func TestFilteredQueryReadsOnlyIndexEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	w, err := Open(Options{Path: path, Durability: DurabilityAsync})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	var rare []ID
	for i := 0; i < n; i++ {
		ev := realisticEvent(i)
		if i%4000 == 123 {
			ev.Actor, ev.ClientIP = "rare-actor", "198.51.100.77"
		}
		id := record(t, w, ev, nil)
		if ev.Actor == "rare-actor" {
			rare = append(rare, id)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, Options{Path: path})
	counts := map[string]int{}
	s.hook = func(op string) { counts[op]++ }

	cases := []struct {
		q       Query
		matches int
	}{
		{Query{Actor: "rare-actor"}, len(rare)},
		{Query{Actor: "rare-actor", Reverse: true, Limit: 2}, 2},
		{Query{IP: "198.51.100.77"}, len(rare)},
		{Query{Actor: "rare-actor", IP: "198.51.100.77"}, len(rare)},
		{Query{Actor: "rare-actor", Since: rare[2].Time()}, len(rare) - 2},
		{Query{IP: "198.51.100.77", After: rare[0]}, len(rare) - 1},
		{Query{Actor: "no-such-actor"}, 0},
	}
	for _, c := range cases {
		clear(counts)
		got, err := s.Events(c.q)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != c.matches {
			t.Fatalf("%+v: %d events, want %d", c.q, len(got), c.matches)
		}
		// Each match costs one fetch; index steps are the matches plus a
		// seek and the step that finds the end (and one IP probe each
		// when both filters are given).
		maxSteps := 2*c.matches + 3
		if counts["get"] != c.matches || counts["step"] > maxSteps {
			t.Fatalf("%+v: %d fetches and %d cursor steps among %d events, want %d and at most %d",
				c.q, counts["get"], counts["step"], n, c.matches, maxSteps)
		}
	}
	// An unfiltered time range seeks to its start, too.
	clear(counts)
	got, err := s.Events(Query{Since: rare[1].Time(), Limit: 10})
	if err != nil || len(got) != 10 || got[0].ID.Compare(rare[1]) < 0 {
		t.Fatalf("time range: %d events, %v", len(got), err)
	}
	if counts["step"] > 12 {
		t.Fatalf("time range page of 10 took %d cursor steps", counts["step"])
	}
}

func TestActors(t *testing.T) {
	s := openTest(t, Options{})
	base := time.Now().Add(-time.Hour)
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		a := &Actor{
			ID:       fmt.Sprintf("act_%02d", i),
			LastSeen: base.Add(time.Duration(i) * time.Minute),
			Risk:     i * 2,
			Keys:     []string{fmt.Sprintf("ip:10.0.0.%d", i), fmt.Sprintf("fp:%d", i)},
		}
		ev := &Event{Actor: a.ID, ClientIP: fmt.Sprintf("10.0.0.%d", i)}
		record(t, s, ev, a)
	}
	// Seen again: the actor moves to the top and its old entry goes.
	record(t, s, &Event{Actor: "act_05"}, &Actor{ID: "act_05", LastSeen: base.Add(2 * time.Hour), Risk: 10, Keys: []string{"ip:10.0.0.5", "fp:5"}})

	list, err := s.Actors(ActorQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 10 || list[0].ID != "act_05" || list[1].ID != "act_49" || list[9].ID != "act_41" {
		t.Fatalf("first page = %v", actorIDs(list))
	}
	// Paging with After walks the rest without repeats.
	seen := map[string]bool{}
	q := ActorQuery{Limit: 7}
	for {
		page, err := s.Actors(q)
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range page {
			if seen[a.ID] {
				t.Fatalf("actor %s listed twice", a.ID)
			}
			seen[a.ID] = true
			if i > 0 && a.LastSeen.After(page[i-1].LastSeen) {
				t.Fatalf("not newest first: %v", actorIDs(page))
			}
		}
		if len(page) < q.Limit {
			break
		}
		q.After = page[len(page)-1].ID
	}
	if len(seen) != 50 {
		t.Fatalf("paged through %d actors, want 50", len(seen))
	}
	risky, _ := s.Actors(ActorQuery{MinRisk: 90, Limit: 100})
	if got := actorIDs(risky); !slices.Equal(got, []string{"act_49", "act_48", "act_47", "act_46", "act_45"}) {
		t.Fatalf("MinRisk 90 = %v", got)
	}
	recent, _ := s.Actors(ActorQuery{Since: base.Add(45 * time.Minute)})
	if len(recent) != 6 { // act_05 (moved) and 45..49
		t.Fatalf("Since = %v", actorIDs(recent))
	}
	if _, err := s.Actors(ActorQuery{After: "gone"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("After unknown = %v", err)
	}

	// A merge: act_01 into act_02, whose keys now include act_01's.
	a1, _ := s.Actor("act_01")
	a2, _ := s.Actor("act_02")
	a1.MergedInto = a2.ID
	a2.Keys = append(a2.Keys, a1.Keys...)
	if err := s.SaveActors(ctx, a1, a2); err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	if err := s.ActorKeys(func(k, a string) error { keys[k] = a; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 100 || keys["ip:10.0.0.1"] != "act_02" || keys["fp:1"] != "act_02" || keys["fp:3"] != "act_03" {
		t.Fatalf("actor keys after merge: %d keys, ip:10.0.0.1 → %s", len(keys), keys["ip:10.0.0.1"])
	}
	all, _ := s.Actors(ActorQuery{Limit: 100})
	if len(all) != 49 || slices.Contains(actorIDs(all), "act_01") {
		t.Fatalf("merged actor listed: %d actors", len(all))
	}
	if got, err := s.Actor("act_01"); err != nil || got.MergedInto != "act_02" {
		t.Fatalf("merged actor = %+v, %v", got, err)
	}
	stop := errors.New("stop")
	if err := s.ActorKeys(func(k, a string) error { return stop }); err != stop {
		t.Fatalf("ActorKeys error = %v", err)
	}
	if st := s.Stats(); st.Actors != 50 {
		t.Fatalf("Stats().Actors = %d", st.Actors)
	}
	checkConsistency(t, s)
}

func actorIDs(list []Actor) []string {
	out := make([]string, len(list))
	for i := range list {
		out[i] = list[i].ID
	}
	return out
}
