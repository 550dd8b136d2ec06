package recorder

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/honeyapi/honeyapi/actors"
	"github.com/honeyapi/honeyapi/decoys"
	"github.com/honeyapi/honeyapi/fingerprint"
	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/tokens"
)

func newRecorder(t *testing.T) (*Recorder, *store.Store) {
	t.Helper()
	st, err := store.Open(store.Options{Path: filepath.Join(t.TempDir(), "r.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return New(Options{Store: st, Tracker: actors.New(actors.Options{})}), st
}

func TestRecordsWhatTheDecoyAnswered(t *testing.T) {
	rec, st := newRecorder(t)
	doc, err := decoys.LoadTemplate("admin")
	if err != nil {
		t.Fatal(err)
	}
	d, err := decoys.New([]*decoys.Document{doc}, decoys.Options{Record: rec.Record})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d)
	defer srv.Close()
	body := `{"username":"mallory","email":"mallory@corp.test","firstName":"M","lastName":"Allory"}`
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/users", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer stolen")
	req.Header.Set("User-Agent", "python-requests/2.32.3")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	evs, err := st.Events(store.Query{})
	if err != nil || len(evs) != 1 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	ev := evs[0]
	sum := sha256.Sum256([]byte(body))
	if ev.Kind != "request" || ev.Method != "POST" || ev.Path != "/api/v1/users" || ev.Status != resp.StatusCode ||
		ev.Document != "admin" || ev.Operation == "" || string(ev.Body) != body || ev.BodySHA256 != hex.EncodeToString(sum[:]) ||
		ev.BodyLen != int64(len(body)) || ev.RespBytes == 0 || ev.Actor == "" || ev.Session == "" {
		t.Errorf("event %+v", ev)
	}
	if ev.Client.Family != "python" || ev.Client.HeaderFP == "" {
		t.Errorf("client %+v", ev.Client)
	}
	if strings.Join(ev.Tags, ",") != "operation,stage:credential_access" { // a POST with a credential
		t.Errorf("tags %v", ev.Tags)
	}
	a, err := st.Actor(ev.Actor)
	if err != nil || a.Events != 1 {
		t.Errorf("actor stored with the event: %+v %v", a, err)
	}
}

func TestMalformedRequestsBecomeEvents(t *testing.T) {
	rec, st := newRecorder(t)
	rec.Malformed(&fingerprint.Capture{Remote: "203.0.113.5:4000", RawHead: []byte("GET /admin HTTP/1.1\r\nX: \x1b\r\n\r\n")}, "malformed request head: invalid header value")
	rec.Malformed(&fingerprint.Capture{Remote: "203.0.113.5:4001", RawHead: []byte("\x16\x03\x01\x00\xa5")}, "TLS on the plain port")
	evs, err := st.Events(store.Query{})
	if err != nil || len(evs) != 2 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	if evs[0].Kind != "malformed" || evs[0].Method != "GET" || evs[0].Path != "/admin" || evs[0].ClientIP != "203.0.113.5" || evs[0].Note == "" {
		t.Errorf("first %+v", evs[0])
	}
	if evs[1].Kind != "malformed" || evs[1].Path != "" || string(evs[1].RawHead) != "\x16\x03\x01\x00\xa5" {
		t.Errorf("second %+v", evs[1])
	}
	if evs[0].Actor == "" || evs[0].Actor != evs[1].Actor {
		t.Errorf("same IP, same actor: %q %q", evs[0].Actor, evs[1].Actor)
	}
}

func TestHoneytokenUseIsTaggedAndExplained(t *testing.T) {
	rec, st := newRecorder(t)
	m, err := tokens.NewMinter([]byte("recorder-test-secret-0123456789"), tokens.MinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec.opts.Minter = m
	tk, _ := m.New(tokens.GitHub)
	doc, _ := decoys.LoadTemplate("admin")
	d, _ := decoys.New([]*decoys.Document{doc}, decoys.Options{Record: rec.Record})
	srv := httptest.NewServer(d)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/users/3", nil)
	req.Header.Set("Authorization", "Bearer "+tk.Value)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	evs, _ := st.Events(store.Query{})
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	ev := evs[0]
	want := "token:github:" + tk.ID.String()
	if len(ev.Tags) < 2 || ev.Tags[0] != TagTokenUsed || !strings.Contains(strings.Join(ev.Tags, ","), want) {
		t.Errorf("tags %v, want token_used and %s", ev.Tags, want)
	}
	if !strings.Contains(ev.Note, "presented in header Authorization (Bearer)") {
		t.Errorf("note %q", ev.Note)
	}
	if ev.Stage != actors.CredentialAccess || ev.Risk < 60 || !strings.Contains(strings.Join(ev.Signals, "|"), "token_used:github:"+tk.ID.String()) {
		t.Errorf("stage %q risk %d signals %v", ev.Stage, ev.Risk, ev.Signals)
	}
}
