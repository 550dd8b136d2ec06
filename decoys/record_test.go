package decoys

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestRecordBeforeRelease(t *testing.T) {
	doc, err := LoadFile("testdata/users.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []*Interaction
	d, err := New([]*Document{doc}, Options{Record: func(in *Interaction) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, in)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d)
	defer srv.Close()
	s := &testServer{t: t, d: d, url: srv.URL}
	s.do("POST", "/api/v1/users", `{"email":"eve@corp.test"}`, "Authorization", bearer)
	s.do("GET", "/openapi.json", "")
	s.do("GET", "/api/v1/nope", "")
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 {
		t.Fatalf("%d interactions recorded, want 3", len(got))
	}
	post := got[0]
	if post.Status != 201 || post.Operation != "createUser" || string(post.Body) != `{"email":"eve@corp.test"}` || post.Credential != bearer || post.RespBytes == 0 {
		t.Errorf("POST recorded as %+v", post)
	}
	if strings.Join(got[1].Tags, ",") != "spec" || strings.Join(got[2].Tags, ",") != "unknown_path" || got[2].Status != 404 {
		t.Errorf("tags %v and %v, status %d", got[1].Tags, got[2].Tags, got[2].Status)
	}
}

func TestUnrecordedResponsesAreNeverSent(t *testing.T) {
	doc, err := LoadFile("testdata/users.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := New([]*Document{doc}, Options{Record: func(*Interaction) error { return errors.New("disk full") }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/health")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got a %d response although recording failed", resp.StatusCode)
	}
}
