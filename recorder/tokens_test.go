package recorder

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/honeyapi/honeyapi/actors"
	"github.com/honeyapi/honeyapi/decoys"
	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/tokens"
)

func newTokenRecorder(t *testing.T) (*Recorder, *store.Store, *tokens.Minter) {
	t.Helper()
	st, err := store.Open(store.Options{Path: filepath.Join(t.TempDir(), "r.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m, err := tokens.NewMinter([]byte("recorder-token-test-secret"), tokens.MinterOptions{DecoyHost: "api.corp.test"})
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{Store: st, Tracker: actors.New(actors.Options{}), Minter: m}), st, m
}

func TestBreadcrumbsArePerClientPairedAndRecorded(t *testing.T) {
	rec, st, m := newTokenRecorder(t)
	r1 := httptest.NewRequest("GET", "/.env", nil)
	r1.RemoteAddr = "198.51.100.7:40000"
	r2 := httptest.NewRequest("GET", "/.env", nil)
	r2.RemoteAddr = "198.51.100.8:40000"
	seed := []byte("admin\x00/.env")

	key1, b1, ok := rec.Breadcrumb(r1, "aws", "AWS_ACCESS_KEY_ID", seed)
	if !ok {
		t.Fatal("no breadcrumb")
	}
	secret1, bs, _ := rec.Breadcrumb(r1, "aws", "AWS_SECRET_ACCESS_KEY", seed)
	if want, _ := m.AWSSecretFor(key1); secret1 != want || bs.TokenID != b1.TokenID {
		t.Fatalf("the secret %q is not the pair of %q", secret1, key1)
	}
	again, _, _ := rec.Breadcrumb(r1, "aws", "AWS_ACCESS_KEY_ID", seed)
	other, _, _ := rec.Breadcrumb(r2, "aws", "AWS_ACCESS_KEY_ID", seed)
	if again != key1 || other == key1 {
		t.Fatalf("same client %q/%q, other client %q", key1, again, other)
	}
	if id, kind, ok := m.Recognize(key1); !ok || kind != tokens.AWS || id.String() != b1.TokenID {
		t.Fatalf("breadcrumb %q not a recognised aws token", key1)
	}
	url, bu, _ := rec.Breadcrumb(r1, "slack", "SLACK_WEBHOOK_URL", seed)
	if bu.Kind != "url" || !strings.HasPrefix(url, "https://api.corp.test/") {
		t.Fatalf("a URL-named slack secret gave %s %q", bu.Kind, url)
	}
	gh1, _, _ := rec.Breadcrumb(r1, "github", "GITHUB_PAT", seed)
	gh2, _, _ := rec.Breadcrumb(r1, "github", "GITHUB_DEPLOY_TOKEN", seed)
	if gh1 == gh2 {
		t.Fatal("two fields of one kind in one object got the same token")
	}

	// Through a decoy: the response's breadcrumbs become token records
	// with the event and the actor that received them.
	doc, err := decoys.LoadTemplate("admin")
	if err != nil {
		t.Fatal(err)
	}
	d, err := decoys.New([]*decoys.Document{doc}, decoys.Options{Record: rec.Record, Breadcrumb: rec.Breadcrumb})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/.env")
	if err != nil {
		t.Fatal(err)
	}
	env, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	evs, _ := st.Events(store.Query{Reverse: true, Limit: 1})
	if len(evs) != 1 {
		t.Fatal("no event")
	}
	ev := evs[0]
	toks, err := st.Tokens(store.TokenQuery{Source: store.SourceBreadcrumb})
	if err != nil || len(toks) < 3 {
		t.Fatalf("%d breadcrumb tokens, %v", len(toks), err)
	}
	for _, tok := range toks {
		if tok.Event != ev.ID.String() || tok.Actor != ev.Actor || !strings.Contains(string(env), tok.Value) ||
			len(tok.Placements) != 1 || !strings.HasPrefix(tok.Placements[0].Where, "GET /.env ") {
			t.Fatalf("breadcrumb record %+v does not match event %s / actor %s", tok, ev.ID, ev.Actor)
		}
	}

	// Using one later, anywhere, leads back to it.
	used := toks[0]
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/users", nil)
	req.Header.Set("Authorization", "Bearer "+used.Value)
	if used.Kind == "url" {
		req, _ = http.NewRequest("GET", used.Value, nil)
		req.URL.Scheme, req.URL.Host = "http", strings.TrimPrefix(srv.URL, "http://")
	}
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	hit, _ := st.Token(used.ID)
	if hit.Hits != 1 {
		t.Fatalf("the breadcrumb's later use was not counted: %+v", hit)
	}
}

func TestGuardHitAndSightingAreEvents(t *testing.T) {
	rec, st, m := newTokenRecorder(t)
	gh, _ := m.New(tokens.GitHub)
	r := httptest.NewRequest("POST", "/v2/charges?x=1", strings.NewReader(`{"a":1}`))
	r.RemoteAddr = "203.0.113.9:5555"
	r.Header.Set("Authorization", "token "+gh.Value)
	r.Header.Set("User-Agent", "curl/8.5.0")
	hits := m.Detect(r, []byte(`{"a":1}`))
	if len(hits) != 1 {
		t.Fatalf("Detect: %v", hits)
	}
	rec.GuardHit(r, []byte(`{"a":1}`), hits)
	evs, _ := st.Events(store.Query{Token: gh.ID.String()})
	if len(evs) != 1 {
		t.Fatalf("%d guard events", len(evs))
	}
	ev := evs[0]
	if ev.Kind != KindGuard || ev.Listener != "guard" || ev.ClientIP != "203.0.113.9" || ev.Path != "/v2/charges" ||
		ev.Tags[0] != TagTokenUsed || !strings.Contains(ev.Note, "header Authorization") || ev.Actor == "" {
		t.Fatalf("guard event = %+v", ev)
	}

	aws, _ := m.New(tokens.AWS)
	id, sh, err := rec.Sighting(tokens.Sighting{
		Text:   `level=warn msg="s3 access denied" key=` + aws.Value,
		Source: "vector:cloudtrail", Where: "CloudTrail userIdentity.accessKeyId",
		ClientIP: "192.0.2.44", UserAgent: "aws-cli/2.15.0", Time: time.Now().Add(-time.Hour),
		Signature: tokens.SignatureValid,
	}, "127.0.0.1:9999")
	if err != nil || len(sh) != 1 || sh[0].Kind != tokens.AWS {
		t.Fatalf("Sighting: %v %v", sh, err)
	}
	sev, err := st.Event(id)
	if err != nil {
		t.Fatal(err)
	}
	if sev.Kind != KindSighting || sev.ClientIP != "192.0.2.44" || sev.Listener != "sighting:vector:cloudtrail" ||
		!strings.Contains(sev.Note, "valid SigV4") || sev.Client.UserAgent != "aws-cli/2.15.0" {
		t.Fatalf("sighting event = %+v", sev)
	}
	if tok, _ := st.Token(aws.ID.String()); tok == nil || tok.Hits != 1 || tok.Source != store.SourceSighted {
		t.Fatalf("a sighted token unknown to the store: %+v", tok)
	}
	if _, _, err := rec.Sighting(tokens.Sighting{Text: "ghp_notatokenofours0000000000000000000000"}, ""); !errors.Is(err, ErrNoToken) {
		t.Fatalf("a sighting without a token: %v", err)
	}
}
