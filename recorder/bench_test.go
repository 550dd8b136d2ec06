package recorder

import (
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/honeyapi/honeyapi/actors"
	"github.com/honeyapi/honeyapi/decoys"
	"github.com/honeyapi/honeyapi/store"
)

func benchInteraction() *decoys.Interaction {
	r := httptest.NewRequest("GET", "/api/v1/users/17?expand=roles", nil)
	r.Header.Set("User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36")
	r.Header.Set("Accept", "application/json, text/plain, */*")
	r.Header.Set("Accept-Language", "en-US,en;q=0.9")
	r.Header.Set("Accept-Encoding", "gzip, deflate, br")
	r.Header.Set("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc")
	r.Header.Set("X-Requested-With", "XMLHttpRequest")
	r.RemoteAddr = "198.51.100.7:51234"
	return &decoys.Interaction{Request: r, Start: time.Now(), Document: "admin", Operation: "getUser", Status: 200, RespBytes: 854, Tags: []string{"operation"}, Credential: "Bearer x"}
}

// BenchmarkEventBuild is the CPU cost of turning an interaction into an
// event: fingerprints, classification, actor assignment and signals.
func BenchmarkEventBuild(b *testing.B) {
	rec := New(Options{Tracker: actors.New(actors.Options{})})
	in := benchInteraction()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ev := rec.Event(in)
		rec.opts.Tracker.Observe(ev, in.Credential)
	}
}

// BenchmarkRecord is the full cost per request, store included.
func BenchmarkRecord(b *testing.B) {
	for _, mode := range []string{"strict", "async"} {
		b.Run(mode, func(b *testing.B) {
			st, err := store.Open(store.Options{Path: filepath.Join(b.TempDir(), "b.db"), Durability: mode})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			rec := New(Options{Store: st, Tracker: actors.New(actors.Options{})})
			in := benchInteraction()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := rec.Record(in); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
