package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetentionByAge(t *testing.T) {
	s := openTest(t, Options{RetainFor: time.Hour})
	now := time.Now()
	var old, fresh []*Event
	for i := 0; i < 600; i++ {
		ev := realisticEvent(i)
		ev.Actor = "old-actor"
		ev.ID = mkID(now.Add(-3*time.Hour+time.Duration(i)*time.Second), uint64(i))
		old = append(old, ev)
	}
	for i := 0; i < 300; i++ {
		ev := realisticEvent(i)
		ev.Actor = "new-actor"
		fresh = append(fresh, ev)
	}
	recordAll(t, s, old)
	recordAll(t, s, fresh)
	ctx := context.Background()
	if err := s.SaveActors(ctx,
		&Actor{ID: "old-actor", LastSeen: now.Add(-2 * time.Hour), Keys: []string{"ip:1", "fp:old"}},
		&Actor{ID: "new-actor", LastSeen: now, Keys: []string{"ip:2", "fp:new"}},
	); err != nil {
		t.Fatal(err)
	}

	s.retain(time.Now())

	st := s.Stats()
	if st.Events != 300 || st.DeletedAge != 600 {
		t.Fatalf("after retention: %d events, %d deleted by age; want 300, 600", st.Events, st.DeletedAge)
	}
	for _, ev := range old[:3] {
		if _, err := s.Event(ev.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("old event %s still there: %v", ev.ID, err)
		}
	}
	if got, _ := s.Events(Query{Actor: "old-actor"}); len(got) != 0 {
		t.Fatalf("actor index still finds %d old events", len(got))
	}
	if got, _ := s.Events(Query{Actor: "new-actor", Limit: 1000}); len(got) != 300 {
		t.Fatalf("new events by actor = %d, want 300", len(got))
	}
	if _, err := s.Actor("old-actor"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("actor whose events all expired = %v, want ErrNotFound", err)
	}
	if _, err := s.Actor("new-actor"); err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	s.ActorKeys(func(k, a string) error { keys[k] = a; return nil })
	if len(keys) != 2 || keys["fp:new"] != "new-actor" {
		t.Fatalf("actor keys after retention = %v", keys)
	}
	if st.Actors != 1 || st.ActorsDeleted != 1 {
		t.Fatalf("actors = %d, deleted = %d", st.Actors, st.ActorsDeleted)
	}
	checkConsistency(t, s)
}

func TestRetentionRunsInBackground(t *testing.T) {
	defer func(d time.Duration) { retainInterval = d }(retainInterval)
	retainInterval = 20 * time.Millisecond
	s := openTest(t, Options{RetainFor: time.Hour})
	var evs []*Event
	for i := 0; i < 50; i++ {
		ev := realisticEvent(i)
		ev.ID = mkID(time.Now().Add(-2*time.Hour), uint64(i))
		evs = append(evs, ev)
	}
	recordAll(t, s, evs)
	keep := record(t, s, realisticEvent(99), nil)
	waitFor(t, "background retention", 5*time.Second, func() bool { return s.Stats().Events == 1 })
	if _, err := s.Event(keep); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.DeletedAge != 50 {
		t.Fatalf("DeletedAge = %d, want 50", st.DeletedAge)
	}
}

func TestRetentionBySize(t *testing.T) {
	const retain = 1 << 20
	s := openTest(t, Options{MaxSize: 8 << 20, RetainBytes: retain})
	var evs []*Event
	for i := 0; i < 3000; i++ { // about 4 MiB
		evs = append(evs, realisticEvent(i))
	}
	recordAll(t, s, evs)
	newest := record(t, s, realisticEvent(3001), nil)
	s.retain(time.Now()) // the writer has asked already; make sure it is done
	st := s.Stats()
	if st.DataBytes > retain {
		t.Fatalf("data %d bytes after retention, RetainBytes %d", st.DataBytes, retain)
	}
	if st.DeletedSize == 0 || st.Events+st.DeletedSize+st.DroppedSpace != 3001 {
		t.Fatalf("stats = %+v", st)
	}
	if _, err := s.Event(newest); err != nil {
		t.Fatalf("newest event: %v", err)
	}
	first, _ := s.Events(Query{Limit: 1})
	if len(first) != 1 || first[0].ID == evs[0].ID {
		t.Fatal("oldest event kept")
	}
	checkConsistency(t, s)
	t.Logf("kept %d of 3001 events in %d bytes (file %d)", st.Events, st.DataBytes, st.FileBytes)
}

// TestMaxSizeNeverExceeded writes ten times MaxSize worth of events: the file
// must stay under MaxSize, every Record must succeed, the newest events stay
// and the oldest go, counted.
func TestMaxSizeNeverExceeded(t *testing.T) {
	const maxSize = 8 << 20
	cases := []struct {
		name        string
		retainBytes int64
	}{
		{"retention", 0},              // the background retainer does the work
		{"writer only", maxSize << 1}, // RetainBytes at the limit: the writer must make room itself
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "h.db")
			s := openTest(t, Options{Path: path, MaxSize: maxSize, RetainBytes: c.retainBytes})
			var peak atomic.Int64
			stop := make(chan struct{})
			var mon sync.WaitGroup
			mon.Add(1)
			go func() {
				defer mon.Done()
				for {
					if fi, err := os.Stat(path); err == nil && fi.Size() > peak.Load() {
						peak.Store(fi.Size())
					}
					select {
					case <-stop:
						return
					case <-time.After(time.Millisecond):
					}
				}
			}()
			big := make([]byte, 4000)
			for i := range big {
				big[i] = byte('a' + i%26)
			}
			var written atomic.Int64
			var mu sync.Mutex
			var recorded []ID
			var wg sync.WaitGroup
			for w := 0; w < 32; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; written.Load() < 10*maxSize; i++ {
						ev := realisticEvent(w*100000 + i)
						ev.Body = big
						ev.BodyLen, ev.BodySHA256 = 0, ""
						id, err := s.Record(context.Background(), ev, &Actor{ID: ev.Actor, LastSeen: time.Now(), Keys: []string{"ip:" + ev.ClientIP}})
						if err != nil {
							t.Errorf("Record: %v", err)
							return
						}
						written.Add(int64(len(ev.Body) + len(ev.RawHead) + 400))
						mu.Lock()
						recorded = append(recorded, id)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			close(stop)
			mon.Wait()
			st := s.Stats()
			if p := peak.Load(); p > maxSize || st.FileBytes > maxSize {
				t.Fatalf("file reached %d bytes (now %d), MaxSize %d", p, st.FileBytes, maxSize)
			}
			if st.WriteErrors != 0 {
				t.Fatalf("%d write errors", st.WriteErrors)
			}
			dropped := st.DeletedSize + st.DroppedSpace + st.DeletedAge
			if int64(len(recorded)) != st.Events+dropped {
				t.Fatalf("recorded %d, stored %d + deleted %d", len(recorded), st.Events, dropped)
			}
			if st.Events >= int64(len(recorded))/5 {
				t.Fatalf("kept %d of %d events: nothing was pushed out?", st.Events, len(recorded))
			}
			// The newest events (the last 100 IDs minted) are all there,
			// the oldest are gone.
			sortIDs(recorded)
			for _, id := range recorded[len(recorded)-100:] {
				if _, err := s.Event(id); err != nil {
					t.Fatalf("newest event %s: %v", id, err)
				}
			}
			if _, err := s.Event(recorded[0]); !errors.Is(err, ErrNotFound) {
				t.Fatalf("oldest event: %v", err)
			}
			if c.retainBytes != 0 && st.DroppedSpace == 0 {
				t.Fatal("no events counted as dropped for space")
			}
			checkConsistency(t, s)
			t.Logf("%d events (%d MiB) recorded, %d kept; deleted by retention %d, dropped for space %d; peak file %d bytes; %d commits, %d MaxSize retries",
				len(recorded), written.Load()>>20, st.Events, st.DeletedSize, st.DroppedSpace, peak.Load(), st.Commits, s.sizeRetries.Load())
		})
	}
}

func sortIDs(ids []ID) {
	for i := 1; i < len(ids); i++ { // insertion sort is fine: nearly sorted
		for j := i; j > 0 && ids[j].Compare(ids[j-1]) < 0; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
}

func TestCompact(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "h.db"), filepath.Join(dir, "h.compact.db")
	s := openTest(t, Options{Path: src})
	var evs []*Event
	for i := 0; i < 4000; i++ {
		evs = append(evs, realisticEvent(i))
	}
	recordAll(t, s, evs)
	for {
		n, err := s.deleteOldest(256, nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.Stats().Events <= 800 || n == 0 {
			break
		}
	}
	want := allIDs(t, s)
	if err := Compact(src, dst); !errors.Is(err, ErrLocked) {
		t.Fatalf("Compact while the store is open = %v, want ErrLocked", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := Compact(src, dst); err != nil {
		t.Fatal(err)
	}
	if err := Compact(src, dst); err == nil {
		t.Fatal("Compact over an existing file succeeded")
	}
	fs, _ := os.Stat(src)
	fd, _ := os.Stat(dst)
	if fd.Size() >= fs.Size()/2 {
		t.Fatalf("compacted file %d bytes, source %d", fd.Size(), fs.Size())
	}
	c := openTest(t, Options{Path: dst})
	got := allIDs(t, c)
	if len(got) != len(want) {
		t.Fatalf("compacted store has %d events, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("event %d: %s, want %s", i, got[i], want[i])
		}
	}
	ev, err := c.Event(want[len(want)-1])
	if err != nil || len(ev.Headers) != 15 {
		t.Fatalf("compacted event: %v", err)
	}
	if st := c.Stats(); st.Events != int64(len(want)) {
		t.Fatalf("compacted Stats().Events = %d", st.Events)
	}
	checkConsistency(t, c)
	t.Logf("compacted %d → %d bytes (%d events)", fs.Size(), fd.Size(), len(want))
	_ = fmt.Sprint()
}
