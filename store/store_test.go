package store

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestIDsIncreaseAndSortAsStrings(t *testing.T) {
	const n = 20000
	ids := make([]ID, n)
	for i := range ids {
		ids[i] = NewID()
	}
	strs := make([]string, n)
	for i, id := range ids {
		if i > 0 && id.Compare(ids[i-1]) <= 0 {
			t.Fatalf("id %d (%s) not after id %d (%s)", i, id, i-1, ids[i-1])
		}
		strs[i] = id.String()
		if len(strs[i]) != 26 {
			t.Fatalf("len(%q) = %d, want 26", strs[i], len(strs[i]))
		}
		if i > 0 && strs[i] <= strs[i-1] {
			t.Fatalf("string %q not after %q", strs[i], strs[i-1])
		}
		back, err := ParseID(strs[i])
		if err != nil || back != id {
			t.Fatalf("ParseID(%q) = %v, %v; want %v", strs[i], back, err, id)
		}
		if low, err := ParseID(strings.ToLower(strs[i])); err != nil || low != id {
			t.Fatalf("ParseID(lower %q) = %v, %v", strs[i], low, err)
		}
	}
	if !sort.StringsAreSorted(strs) {
		t.Fatal("ID strings are not sorted")
	}
	if d := time.Since(ids[0].Time()); d < 0 || d > time.Minute {
		t.Fatalf("ID time is %v away from now", d)
	}
}

func TestIDEdgeCases(t *testing.T) {
	for _, id := range []ID{{}, maxID, {0x80}, {15: 1}} {
		back, err := ParseID(id.String())
		if err != nil || back != id {
			t.Fatalf("ParseID(%s) = %v, %v; want %v", id, back, err, id)
		}
	}
	if maxID.String() != "7ZZZZZZZZZZZZZZZZZZZZZZZZZ" {
		t.Fatalf("maxID = %s", maxID)
	}
	for _, bad := range []string{"", "0123", "8ZZZZZZZZZZZZZZZZZZZZZZZZZ", "0000000000000000000000000U", "00000000000000000000000000x"} {
		if _, err := ParseID(bad); !errors.Is(err, ErrBadID) {
			t.Errorf("ParseID(%q) error = %v, want ErrBadID", bad, err)
		}
	}
	// Crockford aliases.
	a, _ := ParseID("0000000000000000000000000O")
	b, _ := ParseID("0000000000000000000000000i")
	c, _ := ParseID("00000000000000000000000001")
	if a != (ID{}) || b != c {
		t.Fatalf("aliases: %v %v %v", a, b, c)
	}
	// JSON carries the string form.
	id := NewID()
	js, err := json.Marshal(struct{ ID ID }{id})
	if err != nil || string(js) != `{"ID":"`+id.String()+`"}` {
		t.Fatalf("json = %s, %v", js, err)
	}
	var back struct{ ID ID }
	if err := json.Unmarshal(js, &back); err != nil || back.ID != id {
		t.Fatalf("json round trip = %v, %v", back.ID, err)
	}
}

// requireAllSet fails if any field of the struct v points at (recursively
// for nested structs) is zero: a new field must be added to the fixtures,
// and so to the codec.
func requireAllSet(t *testing.T, v any, skip ...string) {
	t.Helper()
	rv := reflect.Indirect(reflect.ValueOf(v))
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Type().Field(i)
		if contains(skip, f.Name) {
			continue
		}
		fv := rv.Field(i)
		if fv.IsZero() {
			t.Errorf("%s.%s is zero in the fixture", rv.Type().Name(), f.Name)
			continue
		}
		if fv.Kind() == reflect.Pointer && fv.Elem().Kind() == reflect.Struct {
			requireAllSet(t, fv.Interface())
		} else if fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeOf(time.Time{}) {
			requireAllSet(t, fv.Addr().Interface())
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func fullEvent() *Event {
	ev := realisticEvent(7)
	ev.Kind = "token_used"
	ev.Time = time.Date(2025, 3, 4, 5, 6, 7, 891011121, time.UTC)
	ev.BodyLen = 4096 // Body holds only the first 200 bytes
	ev.BodySHA256 = strings.Repeat("0a", 32)
	ev.Headers = append(ev.Headers, Header{"X-Dup", "1"}, Header{"x-dup", "2"}, Header{"", ""}, Header{"X-Empty", ""})
	ev.Client.Mismatch = true
	ev.Client.Reasons = []string{"UA claims Chrome, TLS is Python", "header order"}
	ev.Risk = -3
	ev.Status = 418
	ev.Note = "first seen with a planted key"
	return ev
}

func fullActor() *Actor {
	return &Actor{
		ID:           "act_0001",
		FirstSeen:    time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC),
		LastSeen:     time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC),
		Events:       123,
		IPs:          []string{"203.0.113.9", "198.51.100.2"},
		Fingerprints: []string{"ja4:t13d1516h2_8daaf6152771_e5627efa2ab1", "hfp:3b9c"},
		Families:     []string{"python"},
		Risk:         88,
		Stage:        "exfiltration",
		Signals:      []string{"planted key used"},
		Sessions:     4,
		Keys:         []string{"ip:203.0.113.9", "fp:3b9c", "cred:ghp_x"},
		MergedInto:   "act_0000",
		WaitedMS:     98765,
		Holds:        3,
	}
}

func TestRoundTripEveryField(t *testing.T) {
	s := openTest(t, Options{})
	ev, a := fullEvent(), fullActor()
	id := record(t, s, ev, a)
	requireAllSet(t, ev)
	requireAllSet(t, a)
	if id != ev.ID {
		t.Fatalf("Record returned %v, ev.ID = %v", id, ev.ID)
	}
	got, err := s.Event(id)
	if err != nil {
		t.Fatalf("Event: %v", err)
	}
	if !got.Time.Equal(ev.Time) {
		t.Fatalf("Time = %v, want %v", got.Time, ev.Time)
	}
	got.Time = ev.Time
	if !reflect.DeepEqual(got, ev) {
		gj, _ := json.MarshalIndent(got, "", " ")
		wj, _ := json.MarshalIndent(ev, "", " ")
		t.Fatalf("event round trip differs:\ngot  %s\nwant %s", gj, wj)
	}
	gotA, err := s.Actor(a.ID)
	if err != nil {
		t.Fatalf("Actor: %v", err)
	}
	if !gotA.FirstSeen.Equal(a.FirstSeen) || !gotA.LastSeen.Equal(a.LastSeen) {
		t.Fatalf("actor times = %v %v", gotA.FirstSeen, gotA.LastSeen)
	}
	gotA.FirstSeen, gotA.LastSeen = a.FirstSeen, a.LastSeen
	if !reflect.DeepEqual(gotA, a) {
		t.Fatalf("actor round trip:\ngot  %+v\nwant %+v", gotA, a)
	}
	// JSON uses snake_case and the string ID.
	js, _ := json.Marshal(got)
	for _, want := range []string{`"id":"` + id.String() + `"`, `"client_ip":`, `"body_sha256":`, `"ja3_hash":`, `"header_fp":`, `"headers":[{"n":"Host","v":`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("event JSON lacks %s: %s", want, js)
		}
	}
	aj, _ := json.Marshal(gotA)
	for _, want := range []string{`"first_seen":`, `"merged_into":"act_0000"`, `"keys":[`} {
		if !strings.Contains(string(aj), want) {
			t.Errorf("actor JSON lacks %s: %s", want, aj)
		}
	}
}

func TestRecordDefaultsAndBounds(t *testing.T) {
	s := openTest(t, Options{BodyLimit: 100, HeadLimit: 50})
	body := []byte(strings.Repeat("b", 1000))
	ev := &Event{Body: body, RawHead: []byte(strings.Repeat("h", 500)), Path: strings.Repeat("é", 10000), BodySHA256: "NOT-HEX"}
	for i := 0; i < 300; i++ {
		ev.Headers = append(ev.Headers, Header{Name: "X-H", Value: "v"})
	}
	before := time.Now()
	id := record(t, s, ev, nil)
	got, err := s.Event(id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != "request" {
		t.Errorf("Kind = %q, want request", got.Kind)
	}
	if got.Time.Before(before.Add(-time.Second)) || got.Time.After(time.Now()) {
		t.Errorf("Time = %v, want about now", got.Time)
	}
	if len(got.Body) != 100 || got.BodyLen != 1000 {
		t.Errorf("body %d bytes, BodyLen %d; want 100, 1000", len(got.Body), got.BodyLen)
	}
	if got.BodySHA256 != "NOT-HEX" {
		t.Errorf("BodySHA256 = %q (a given value is kept)", got.BodySHA256)
	}
	if len(got.RawHead) != 50 {
		t.Errorf("raw head %d bytes, want 50", len(got.RawHead))
	}
	if len(got.Headers) != maxHeaders {
		t.Errorf("%d headers, want %d", len(got.Headers), maxHeaders)
	}
	if len(got.Path) > maxField || !strings.HasPrefix(got.Path, "éé") || strings.ContainsRune(got.Path, '\uFFFD') {
		t.Errorf("path cut badly: %d bytes", len(got.Path))
	}

	// The SHA-256 of a whole body is computed when missing.
	ev2 := &Event{Body: []byte("hello")}
	got2, _ := s.Event(record(t, s, ev2, nil))
	if got2.BodySHA256 != "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" || got2.BodyLen != 5 {
		t.Errorf("sha = %q len = %d", got2.BodySHA256, got2.BodyLen)
	}
	// A prefix of a longer body gets no hash (it would not be the original's).
	ev3 := &Event{Body: []byte("hel"), BodyLen: 5}
	got3, _ := s.Event(record(t, s, ev3, nil))
	if got3.BodySHA256 != "" {
		t.Errorf("sha of a prefix = %q, want none", got3.BodySHA256)
	}
	if _, err := s.Event(NewID()); !errors.Is(err, ErrNotFound) {
		t.Errorf("Event(missing) = %v, want ErrNotFound", err)
	}
	if _, err := s.Actor("nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Actor(missing) = %v, want ErrNotFound", err)
	}
	if _, err := s.Record(context.Background(), &Event{}, &Actor{}); err == nil {
		t.Error("Record with an actor without ID succeeded")
	}
}

func TestStrictRecordIsCommittedWhenItReturns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s := openTest(t, Options{Path: path})
	var ids []ID
	for i := 0; i < 20; i++ {
		ids = append(ids, record(t, s, realisticEvent(i), nil))
	}
	// Copy the file while the store is still open: every recorded event
	// must already be in it.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(cp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	c := openTest(t, Options{Path: cp, ReadOnly: true})
	for _, id := range ids {
		if _, err := c.Event(id); err != nil {
			t.Fatalf("copy lacks %s: %v", id, err)
		}
	}
	// And a reopen after Close sees them.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	r := openTest(t, Options{Path: path})
	for _, id := range ids {
		if _, err := r.Event(id); err != nil {
			t.Fatalf("reopen lacks %s: %v", id, err)
		}
	}
	checkConsistency(t, r)
}

func TestAsyncCloseFlushes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s, err := Open(Options{Path: path, Durability: DurabilityAsync, MaxBatch: 64})
	if err != nil {
		t.Fatal(err)
	}
	const workers, per = 8, 500
	ids := make([][]ID, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				id, err := s.Record(context.Background(), realisticEvent(w*per+i), nil)
				if err != nil {
					t.Errorf("Record: %v", err)
					return
				}
				ids[w] = append(ids[w], id)
			}
		}()
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Record(context.Background(), &Event{}, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Record after Close = %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	r := openTest(t, Options{Path: path})
	got := allIDs(t, r)
	if len(got) != workers*per {
		t.Fatalf("reopened store has %d events, want %d", len(got), workers*per)
	}
	have := make(map[ID]bool, len(got))
	for _, id := range got {
		have[id] = true
	}
	for _, list := range ids {
		for _, id := range list {
			if !have[id] {
				t.Fatalf("event %s lost", id)
			}
		}
	}
	checkConsistency(t, r)
}

func TestGroupCommitGroups(t *testing.T) {
	s := openTest(t, Options{})
	const n = 1000
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := s.Record(context.Background(), realisticEvent(i), nil); err != nil {
				t.Errorf("Record: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	st := s.Stats()
	if st.Recorded != n || st.Events != n {
		t.Fatalf("recorded %d, stored %d; want %d", st.Recorded, st.Events, n)
	}
	if st.Commits > n/10 {
		t.Fatalf("%d commits for %d concurrent events: not grouped", st.Commits, n)
	}
	t.Logf("%d events in %d commits (%.1f per commit, avg commit %v)", n, st.Commits, st.EventsPerCommit, st.AvgCommit)
}

func TestRecordHonoursContextWhenQueueFull(t *testing.T) {
	s := openTest(t, Options{Durability: DurabilityAsync, MaxBatch: 1, QueueSize: 1})
	// Hold bbolt's write lock so the writer stalls.
	tx, err := s.db.Begin(true)
	if err != nil {
		t.Fatal(err)
	}
	// The first fills the writer's hands or the queue; eventually one blocks.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var blocked error
	for i := 0; i < 4 && blocked == nil; i++ {
		_, blocked = s.Record(ctx, realisticEvent(i), nil)
	}
	if !errors.Is(blocked, context.DeadlineExceeded) {
		t.Fatalf("Record with a full queue = %v, want DeadlineExceeded", blocked)
	}
	tx.Rollback()
	if _, err := s.Record(context.Background(), realisticEvent(9), nil); err != nil {
		t.Fatalf("Record after the writer resumed: %v", err)
	}
}

func TestOpenLockedReturnsErrLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s := openTest(t, Options{Path: path})
	id := record(t, s, realisticEvent(1), nil)
	for _, ro := range []bool{true, false} {
		start := time.Now()
		_, err := Open(Options{Path: path, ReadOnly: ro, OpenTimeout: 200 * time.Millisecond})
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("Open(ReadOnly=%v) while held = %v, want ErrLocked", ro, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("ErrLocked after %v, want about the 200ms OpenTimeout", d)
		}
	}
	s.Close()
	r := openTest(t, Options{Path: path, ReadOnly: true})
	if _, err := r.Event(id); err != nil {
		t.Fatalf("read-only Event: %v", err)
	}
	if _, err := r.Record(context.Background(), &Event{}, nil); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only Record = %v, want ErrReadOnly", err)
	}
	if st := r.Stats(); st.Events != 1 || st.FileBytes == 0 {
		t.Fatalf("read-only stats = %+v", st)
	}
	// Two read-only handles share the lock.
	r2 := openTest(t, Options{Path: path, ReadOnly: true})
	if _, err := r2.Event(id); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{Path: filepath.Join(t.TempDir(), "missing.db"), ReadOnly: true}); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("read-only open of a missing file = %v", err)
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	dir := t.TempDir()
	for _, o := range []Options{{}, {Path: filepath.Join(dir, "a"), Durability: "sometimes"}, {Path: filepath.Join(dir, "b"), MaxSize: 1000}} {
		if s, err := Open(o); err == nil {
			s.Close()
			t.Errorf("Open(%+v) succeeded", o)
		}
	}
}
