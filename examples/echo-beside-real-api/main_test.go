package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/honeyapi/honeyapi/tokens"
)

func TestRealRoutesWinDecoysAnswerTheRest(t *testing.T) {
	logger := zerolog.Nop()
	e, err := build("../specs/internal-users.yaml", &logger)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	defer srv.Close()
	get := func(p string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		req.Header.Set("Authorization", "Bearer anything")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if c, b := get("/api/v1/orders"); c != 200 || !strings.Contains(b, `"status":"paid"`) {
		t.Errorf("real orders route: %d %s", c, b)
	}
	if c, b := get("/api/v1/health"); c != 200 || b != "{\"status\":\"UP\"}\n" {
		t.Errorf("real health route: %d %q", c, b)
	}
	if c, b := get("/api/v1/users/7"); c != 200 || !strings.Contains(b, `"id":7`) {
		t.Errorf("decoy users route: %d %s", c, b)
	}
	if c, _ := get("/openapi.json"); c != 200 {
		t.Errorf("decoy document: %d", c)
	}
}

func TestGuardLogsHoneytokensOnTheRealAPI(t *testing.T) {
	var logs strings.Builder
	logger := zerolog.New(&logs)
	e, err := build("../specs/internal-users.yaml", &logger)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	defer srv.Close()
	m, _ := tokens.NewMinter(secret, tokens.MinterOptions{})
	tok, _ := m.New(tokens.Stripe)
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/orders", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Value)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"status":"paid"`) {
		t.Fatalf("the real API changed its answer: %d %s", resp.StatusCode, b)
	}
	if !strings.Contains(logs.String(), `"token":"`+tok.ID.String()+`"`) || strings.Contains(logs.String(), tok.Value) {
		t.Fatalf("hit not logged, or the token value logged: %s", logs.String())
	}
}
