package store

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(crashHelperEnv); path != "" {
		crashHelper(path)
		return
	}
	code := m.Run()
	removeBigStore()
	os.Exit(code)
}

// openTest opens a store in a temporary directory and closes it at the end
// of the test.
func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	if opts.Path == "" {
		opts.Path = filepath.Join(t.TempDir(), "honeyapi.db")
	}
	s, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var benchHeaderNames = []string{
	"Host", "User-Agent", "Accept", "Accept-Language", "Accept-Encoding", "Content-Type",
	"Content-Length", "Authorization", "X-Api-Key", "X-Request-Id", "Origin", "Referer",
	"Sec-Fetch-Mode", "Connection", "Cookie",
}

// realisticEvent returns an event like the ones a decoy records: 15
// headers, a raw head, a 200-byte JSON body, TLS and client facts.
func realisticEvent(i int) *Event {
	ip := fmt.Sprintf("203.0.113.%d", i%250+1)
	body := []byte(fmt.Sprintf(`{"username":"admin%d","password":"hunter2-%08d","remember":true,"scope":"read write admin","client_id":"cli-%06d","device":{"os":"linux","arch":"amd64","version":"1.2.%d"},"nonce":"%016x"}`, i, i, i, i%10, uint64(i)*2654435761))
	if len(body) < 200 {
		body = append(body, bytes.Repeat([]byte(" "), 200-len(body))...)
	}
	body = body[:200]
	values := []string{
		"api.example.com", "python-requests/2.31.0", "*/*", "en-US,en;q=0.9", "gzip, deflate, br",
		"application/json", "200", "Bearer ghp_" + strings.Repeat("x", 36), fmt.Sprintf("sk_live_%024d", i),
		fmt.Sprintf("%032x", uint64(i)*11400714819323198485), "https://api.example.com", "https://api.example.com/docs",
		"cors", "keep-alive", fmt.Sprintf("session=%024x; theme=dark", uint64(i)*31),
	}
	ev := &Event{
		Kind:      "request",
		Listener:  "decoy",
		Remote:    ip + ":" + fmt.Sprint(40000+i%20000),
		ClientIP:  ip,
		Proto:     "HTTP/1.1",
		Method:    "POST",
		Host:      "api.example.com",
		Path:      fmt.Sprintf("/v1/users/%d/tokens", i%5000),
		Query:     "expand=owner&limit=50",
		Body:      body,
		Document:  "github",
		Operation: "createToken",
		Status:    201,
		RespBytes: 734,
		ServeMS:   0.42,
		DelayMS:   350,
		Tarpit:    "drip",
		WaitedMS:  4321.5,
		TarpitEnd: "client_gone",
		TLS: &TLS{Version: "1.3", Cipher: "TLS_AES_128_GCM_SHA256", SNI: "api.example.com", ALPN: "h2",
			JA3: "771,4865-4866-4867-49195-49199,0-23-65281-10-11-35-16-5-13-18-51-45-43-27-17513,29-23-24,0", JA3Hash: "cd08e31494f9531f560d64c695473da9", JA4: "t13d1516h2_8daaf6152771_e5627efa2ab1"},
		Client: Client{HeaderFP: "hf1_3b9c1e0a77d2", UserAgent: "python-requests/2.31.0", UAFamily: "python-requests",
			Family: "python", Tool: "requests", Claimed: "python-requests"},
		Actor:   fmt.Sprintf("act_%05d", i%97),
		Session: fmt.Sprintf("ses_%06d", i%1000),
		Risk:    40 + i%60,
		Stage:   "credential-access",
		Signals: []string{"scanner-ua", "credential-in-body"},
		Tags:    []string{"github"},
	}
	var head strings.Builder
	fmt.Fprintf(&head, "POST %s?%s HTTP/1.1\r\n", ev.Path, ev.Query)
	for j, name := range benchHeaderNames {
		ev.Headers = append(ev.Headers, Header{Name: name, Value: values[j]})
		fmt.Fprintf(&head, "%s: %s\r\n", name, values[j])
	}
	head.WriteString("\r\n")
	ev.RawHead = []byte(head.String())
	return ev
}

// record records ev and fails the test on error.
func record(t testing.TB, s *Store, ev *Event, a *Actor) ID {
	t.Helper()
	id, err := s.Record(context.Background(), ev, a)
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	return id
}

// allIDs returns every stored event ID by paging through Events.
func allIDs(t testing.TB, s *Store) []ID {
	t.Helper()
	var ids []ID
	var after ID
	for {
		evs, err := s.Events(Query{After: after, Limit: MaxLimit})
		if err != nil {
			t.Fatalf("Events: %v", err)
		}
		for _, ev := range evs {
			ids = append(ids, ev.ID)
		}
		if len(evs) < MaxLimit {
			return ids
		}
		after = evs[len(evs)-1].ID
	}
}

// checkConsistency verifies the file (bbolt's own check), the counters and
// that indexes and records agree both ways.
func checkConsistency(t testing.TB, s *Store) {
	t.Helper()
	err := s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return fmt.Errorf("bbolt check: %w", err)
		}
		events, idxActor, idxIP := tx.Bucket(bEvents), tx.Bucket(bIdxActor), tx.Bucket(bIdxIP)
		nEvents, withActor, withIP, withToken := 0, 0, 0, 0
		idxToken := tx.Bucket(bIdxToken)
		err := events.ForEach(func(k, v []byte) error {
			nEvents++
			actor, ip, toks, err := eventIndexFields(v)
			if err != nil {
				return err
			}
			for _, tok := range toks {
				withToken++
				if key := append(indexPrefix(nil, string(tok)), k...); !hasKey(idxToken, key) {
					return fmt.Errorf("event %s: no token index entry for %s", ID(k), tok)
				}
			}
			if len(actor) > 0 {
				withActor++
				if key := append(indexPrefix(nil, string(actor)), k...); !hasKey(idxActor, key) {
					return fmt.Errorf("event %s: no actor index entry", ID(k))
				}
			}
			if len(ip) > 0 {
				withIP++
				if key := append(indexPrefix(nil, string(ip)), k...); !hasKey(idxIP, key) {
					return fmt.Errorf("event %s: no ip index entry", ID(k))
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if n := idxActor.Stats().KeyN; n != withActor {
			return fmt.Errorf("idx_actor has %d entries, %d events have an actor", n, withActor)
		}
		if n := idxIP.Stats().KeyN; n != withIP {
			return fmt.Errorf("idx_ip has %d entries, %d events have an ip", n, withIP)
		}
		if n := idxToken.Stats().KeyN; n != withToken {
			return fmt.Errorf("idx_token has %d entries, events carry %d token tags", n, withToken)
		}
		nTokens := tx.Bucket(bTokens).Stats().KeyN
		if n := tx.Bucket(bTokenCreated).Stats().KeyN; n != nTokens {
			return fmt.Errorf("idx_token_created has %d entries for %d tokens", n, nTokens)
		}
		meta := tx.Bucket(bMeta)
		if got := getCount(meta, mEventCount); got != uint64(nEvents) {
			return fmt.Errorf("meta events = %d, bucket has %d", got, nEvents)
		}
		nActors := tx.Bucket(bActors).Stats().KeyN
		if got := getCount(meta, mActorCount); got != uint64(nActors) {
			return fmt.Errorf("meta actors = %d, bucket has %d", got, nActors)
		}
		if n := tx.Bucket(bActorSeen).Stats().KeyN; n != nActors {
			return fmt.Errorf("idx_actor_seen has %d entries for %d actors", n, nActors)
		}
		return tx.Bucket(bActorKeys).ForEach(func(k, v []byte) error {
			if tx.Bucket(bActors).Get(v) == nil {
				return fmt.Errorf("actor key %q points at missing actor %q", k, v)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatalf("consistency: %v", err)
	}
	if st := s.Stats(); !s.opts.ReadOnly {
		var n int64
		s.db.View(func(tx *bolt.Tx) error { n = int64(tx.Bucket(bEvents).Stats().KeyN); return nil })
		if st.Events != n {
			t.Fatalf("Stats().Events = %d, bucket has %d", st.Events, n)
		}
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// hasKey reports whether b holds key (index values are empty).
func hasKey(b *bolt.Bucket, key []byte) bool {
	k, _ := b.Cursor().Seek(key)
	return bytes.Equal(k, key)
}
