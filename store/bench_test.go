package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchRecord measures Record with conc concurrent callers; ns/op is the
// cost per event at that concurrency (wall time divided by events).
func benchRecord(b *testing.B, durability string, conc int) {
	s, err := Open(Options{Path: filepath.Join(b.TempDir(), "h.db"), Durability: durability})
	if err != nil {
		b.Fatal(err)
	}
	tmpl := make([]Event, 256)
	for i := range tmpl {
		tmpl[i] = *realisticEvent(i)
	}
	var n atomic.Int64
	b.SetParallelism(max(1, conc/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			ev := tmpl[n.Add(1)%int64(len(tmpl))] // a fresh copy: Record sets ID and Time
			if _, err := s.Record(ctx, &ev, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	st := s.Stats()
	if err := s.Close(); err != nil { // async: the flush is part of the cost
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(st.EventsPerCommit, "events/commit")
	b.ReportMetric(float64(st.AvgCommit.Microseconds()), "µs/commit")
}

func BenchmarkRecordStrict(b *testing.B) {
	for _, conc := range []int{1, 16, 64, 256} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) { benchRecord(b, DurabilityStrict, conc) })
	}
}

func BenchmarkRecordAsync(b *testing.B) {
	for _, conc := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) { benchRecord(b, DurabilityAsync, conc) })
	}
}

var eventBytesOnce struct {
	sync.Once
	stored, file, value, json float64
}

// BenchmarkEventBytes reports the bytes one realistic event (15 headers, a
// raw head, a 200-byte body, TLS and client facts) costs: encoded, as JSON
// for comparison, and in the file (data in use and file size, per event,
// with indexes, over 20,000 events). ns/op is the cost of encoding one.
func BenchmarkEventBytes(b *testing.B) {
	eventBytesOnce.Do(func() {
		const n = 20000
		path := filepath.Join(b.TempDir(), "h.db")
		s, err := Open(Options{Path: path, Durability: DurabilityAsync})
		if err != nil {
			b.Fatal(err)
		}
		var value, js int
		for i := 0; i < n; i++ {
			ev := realisticEvent(i)
			if _, err := s.Record(context.Background(), ev, nil); err != nil {
				b.Fatal(err)
			}
			value += len(appendEvent(nil, ev, DefaultBodyLimit, DefaultHeadLimit))
			j, _ := json.Marshal(ev)
			js += len(j)
		}
		s.Close()
		s, err = Open(Options{Path: path, ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		st := s.Stats()
		s.Close()
		r := &eventBytesOnce
		r.stored, r.file = float64(st.DataBytes)/n, float64(st.FileBytes)/n
		r.value, r.json = float64(value)/n, float64(js)/n
	})
	ev := realisticEvent(1)
	ev.Time = time.Now()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = appendEvent(buf[:0], ev, DefaultBodyLimit, DefaultHeadLimit)
	}
	r := &eventBytesOnce
	b.ReportMetric(r.stored, "stored_B/event")
	b.ReportMetric(r.file, "file_B/event")
	b.ReportMetric(r.value, "value_B/event")
	b.ReportMetric(r.json, "json_B/event")
}

// BenchmarkCodec compares the binary encoding with encoding/json.
func BenchmarkCodec(b *testing.B) {
	ev := realisticEvent(1)
	ev.Time = time.Now()
	ev.ID = NewID()
	bin := appendEvent(nil, ev, DefaultBodyLimit, DefaultHeadLimit)
	js, _ := json.Marshal(ev)
	b.Run("encode/binary", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 4096)
		for i := 0; i < b.N; i++ {
			buf = appendEvent(buf[:0], ev, DefaultBodyLimit, DefaultHeadLimit)
		}
	})
	b.Run("encode/json", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			json.Marshal(ev)
		}
	})
	b.Run("decode/binary", func(b *testing.B) {
		b.ReportAllocs()
		var out Event
		for i := 0; i < b.N; i++ {
			if err := decodeEvent(ev.ID[:], bin, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/json", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var out Event
			if err := json.Unmarshal(js, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The million-event store for BenchmarkActorRecentEvents, built once per
// test binary run and removed by TestMain.
var bigStore struct {
	sync.Once
	dir   string
	path  string
	actor string // an actor with about 100 events spread over the whole store
	ip    string
	err   error
	build time.Duration
	file  int64
}

const (
	bigEvents = 1_000_000
	bigActors = 10_000
	bigIPs    = 50_000
)

// buildBigStore batch-loads bigEvents realistic events spread over
// bigActors actors and bigIPs client IPs, through the writer's own
// transaction code but in large unsynced transactions.
func buildBigStore() {
	start := time.Now()
	bigStore.dir, bigStore.err = os.MkdirTemp("", "honeyapi-store-bench-")
	if bigStore.err != nil {
		return
	}
	bigStore.path = filepath.Join(bigStore.dir, "big.db")
	s, err := Open(Options{Path: bigStore.path, MaxSize: 8 << 30})
	if err != nil {
		bigStore.err = err
		return
	}
	defer s.Close()
	s.db.NoSync = true
	r := rand.New(rand.NewPCG(7, 7))
	const batch = 20000
	reqs := make([]*request, 0, batch)
	for i := 0; i < bigEvents; i++ {
		ev := realisticEvent(i)
		ev.Time = time.Now()
		ev.Actor = fmt.Sprintf("act_%05d", r.IntN(bigActors))
		ev.ClientIP = fmt.Sprintf("10.%d.%d.%d", r.IntN(bigIPs)/65536, r.IntN(bigIPs)/256%256, r.IntN(256))
		val := appendEvent(nil, ev, DefaultBodyLimit, DefaultHeadLimit)
		reqs = append(reqs, &request{hasEvent: true, id: NewID(), val: &val, actorIdx: ev.Actor, ipIdx: ev.ClientIP})
		if len(reqs) == batch || i == bigEvents-1 {
			if err := s.apply(reqs); err != nil {
				bigStore.err = err
				return
			}
			reqs = reqs[:0]
		}
	}
	// The actor records, each with a few clustering keys.
	for i := 0; i < bigActors; i++ {
		a := &Actor{ID: fmt.Sprintf("act_%05d", i), FirstSeen: time.Now().Add(-time.Hour), LastSeen: time.Now().Add(time.Duration(i) * time.Millisecond),
			Events: 100, Risk: i % 100, Stage: "recon", IPs: []string{"10.0.0.1", "10.0.0.2"},
			Keys: []string{fmt.Sprintf("ip:10.0.%d.%d", i/256, i%256), fmt.Sprintf("fp:%08x", i)}}
		rec, err := encodeActor(a)
		if err != nil {
			bigStore.err = err
			return
		}
		reqs = append(reqs, &request{actors: []actorRec{rec}})
	}
	if err := s.apply(reqs); err != nil {
		bigStore.err = err
		return
	}
	s.db.NoSync = false
	if err := s.db.Sync(); err != nil {
		bigStore.err = err
		return
	}
	bigStore.actor = "act_04242"
	last, _ := s.Events(Query{Reverse: true, Limit: 1})
	bigStore.ip = last[0].ClientIP
	bigStore.build = time.Since(start)
	bigStore.file = s.Stats().FileBytes
}

func removeBigStore() {
	if bigStore.dir != "" {
		os.RemoveAll(bigStore.dir)
	}
}

// BenchmarkActorRecentEvents measures "the latest 50 events of one actor"
// (and neighbours: by IP, unfiltered, a time range, actor listings, the
// start-up walk of clustering keys) in a store of 1,000,000 events and
// 10,000 actors.
func BenchmarkActorRecentEvents(b *testing.B) {
	bigStore.Do(buildBigStore)
	if bigStore.err != nil {
		b.Fatal(bigStore.err)
	}
	b.Logf("store: %d events, %d MiB file, built in %v", bigEvents, bigStore.file>>20, bigStore.build.Round(time.Second))
	s, err := Open(Options{Path: bigStore.path, ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	first, _ := s.Events(Query{Actor: bigStore.actor, Limit: 1})
	cases := []struct {
		name string
		q    Query
	}{
		{"actor/latest50", Query{Actor: bigStore.actor, Reverse: true, Limit: 50}},
		{"ip/latest50", Query{IP: bigStore.ip, Reverse: true, Limit: 50}},
		{"all/latest50", Query{Reverse: true, Limit: 50}},
		{"actor/after-first/50", Query{Actor: bigStore.actor, After: first[0].ID, Limit: 50}},
		{"all/last-hour-page/50", Query{Since: time.Now().Add(-time.Hour), Limit: 50}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			got := 0
			for i := 0; i < b.N; i++ {
				evs, err := s.Events(c.q)
				if err != nil {
					b.Fatal(err)
				}
				got = len(evs)
			}
			b.ReportMetric(float64(got), "events")
		})
	}
	for _, c := range []struct {
		name string
		q    ActorQuery
	}{
		{"actors/page50", ActorQuery{Limit: 50}},
		{"actors/minrisk90/page50", ActorQuery{Limit: 50, MinRisk: 90}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			got := 0
			for i := 0; i < b.N; i++ {
				list, err := s.Actors(c.q)
				if err != nil {
					b.Fatal(err)
				}
				got = len(list)
			}
			b.ReportMetric(float64(got), "actors")
		})
	}
	b.Run("actor-keys/all", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			n := 0
			if err := s.ActorKeys(func(k, a string) error { n++; return nil }); err != nil || n != 2*bigActors {
				b.Fatalf("%d keys, %v", n, err)
			}
		}
	})
}

// BenchmarkOpenBig measures Open on the million-event file: bbolt rebuilds
// its freelist by walking the file (NoFreelistSync).
func BenchmarkOpenBig(b *testing.B) {
	bigStore.Do(buildBigStore)
	if bigStore.err != nil {
		b.Fatal(bigStore.err)
	}
	for i := 0; i < b.N; i++ {
		s, err := Open(Options{Path: bigStore.path, MaxSize: 8 << 30})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}
