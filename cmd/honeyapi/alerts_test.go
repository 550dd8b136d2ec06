package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/honeyapi/honeyapi/alerts"
	"github.com/honeyapi/honeyapi/internal/config"
	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/tokens"
)

const hookSecret = "webhook-secret-0123456789"

// receiver is a webhook endpoint on loopback that verifies signatures.
type receiver struct {
	t    *testing.T
	mu   sync.Mutex
	got  []alerts.Payload
	seen map[string]int // idempotency key -> deliveries
	srv  *http.Server
	ln   net.Listener
	addr string
}

func newReceiver(t *testing.T, addr string) *receiver {
	t.Helper()
	r := &receiver{t: t, seen: map[string]int{}}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	r.ln, r.addr = ln, ln.Addr().String()
	r.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if err := alerts.VerifySignature([]byte(hookSecret), req.Header.Get("X-Honeyapi-Signature"), body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p alerts.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("payload: %v", err)
		}
		r.mu.Lock()
		r.got = append(r.got, p)
		r.seen[req.Header.Get("Idempotency-Key")]++
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})}
	go r.srv.Serve(ln)
	t.Cleanup(func() { r.srv.Close() })
	return r
}

func (r *receiver) wait(what string, cond func([]alerts.Payload) bool) []alerts.Payload {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r.mu.Lock()
		got := append([]alerts.Payload(nil), r.got...)
		r.mu.Unlock()
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s; received %d alerts", what, len(got))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func writeAlertConfig(t *testing.T, dir, hookAddr string) string {
	t.Helper()
	cfg := fmt.Sprintf("alerts:\n  webhooks:\n    - name: soc\n      url: http://%s/hooks/honeyapi\n      secret: %s\n      headers:\n        X-Team: blue\n  rules:\n    new_actor: \"off\"\n    stage: \"off\"\n", hookAddr, hookSecret)
	path := filepath.Join(dir, "honeyapi.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTokenUseAlertsTheWebhook: a honeytoken used at the decoy reaches a
// webhook as a signed, critical alert naming the token and the client.
func TestTokenUseAlertsTheWebhook(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	rcv := newReceiver(t, "127.0.0.1:0")
	s := startSensor(t, db, "--config", writeAlertConfig(t, dir, rcv.addr))
	env := map[string]string{"HONEYAPI_ADMIN_LISTEN": s.admin}

	code, out, errOut := runCLIEnv(t, env, "tokens", "new", "github", "--db", db, "--note", "CI secrets", "--json")
	var tok store.Token
	if code != 0 || json.Unmarshal([]byte(out), &tok) != nil {
		t.Fatalf("tokens new: %d %q %q", code, out, errOut)
	}
	req, _ := http.NewRequest("GET", "http://"+s.decoy+"/api/v1/users", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Value)
	req.Header.Set("User-Agent", "curl/8.5.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := rcv.wait("the token alert", func(ps []alerts.Payload) bool { return len(ps) >= 1 })
	p := got[0]
	if p.Rule != "token_used" || p.Severity != alerts.Critical || p.Token == nil || p.Token.ID != tok.ID ||
		p.Token.Note != "CI secrets" || !strings.Contains(p.Token.Where, "Authorization") || p.Client.IP != "127.0.0.1" ||
		p.Client.UserAgent != "curl/8.5.0" || p.Request == nil || p.Request.Path != "/api/v1/users" || p.Request.Event == "" || p.ID == "" {
		t.Fatalf("alert payload = %+v (token %+v)", p, p.Token)
	}

	// alerts test and list go through the running server.
	if code, out, errOut := runCLIEnv(t, env, "alerts", "test", "--db", db, "--channel", "soc"); code != 0 || !strings.Contains(out, "soc: delivered") {
		t.Fatalf("alerts test: %d %q %q", code, out, errOut)
	}
	rcv.wait("the test alert", func(ps []alerts.Payload) bool { return len(ps) >= 2 && ps[len(ps)-1].Test })
	if code, out, _ := runCLIEnv(t, env, "alerts", "list", "--db", db); code != 0 || !strings.Contains(out, "token_used") || !strings.Contains(out, "soc=delivered") {
		t.Fatalf("alerts list: %d %q", code, out)
	}
	if code, _, errOut := runCLIEnv(t, env, "alerts", "test", "--db", db, "--channel", "nope"); code == 0 || !strings.Contains(errOut, "nope") {
		t.Fatalf("alerts test of an unknown channel: %d %q", code, errOut)
	}
}

// TestAlertSurvivesSIGKILL: the server is killed after an alert is raised
// and before it could be delivered (the receiver is down); after a restart
// the alert is delivered, once per idempotency key.
func TestAlertSurvivesSIGKILL(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	// Reserve a port for the receiver and keep it closed for now.
	hold, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hookAddr := hold.Addr().String()
	hold.Close()
	cfgPath := writeAlertConfig(t, dir, hookAddr)

	s := startSensor(t, db, "--config", cfgPath)
	m := minterFor(t, db)
	aws, _ := m.New(tokens.AWS)
	req, _ := http.NewRequest("GET", "http://"+s.decoy+"/api/v1/users?X-Amz-Credential="+aws.Value+"%2F20261121%2Fus-east-1%2Fs3%2Faws4_request", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close() // the answer was released: the alert is on disk
	s.kill()

	rcv := newReceiver(t, hookAddr)
	startSensor(t, db, "--config", cfgPath)
	got := rcv.wait("the alert after the restart", func(ps []alerts.Payload) bool { return len(ps) >= 1 })
	if got[0].Token == nil || got[0].Token.ID != aws.ID.String() {
		t.Fatalf("delivered after restart: %+v", got[0])
	}
	time.Sleep(500 * time.Millisecond)
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	for k, n := range rcv.seen {
		if n != 1 {
			t.Fatalf("idempotency key %s delivered %d times", k, n)
		}
	}
}

// minterFor is the Minter of the deployment whose database is db.
func minterFor(t *testing.T, db string) *tokens.Minter {
	t.Helper()
	cfg := config.Default()
	cfg.DB = db
	m, err := loadMinter(cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
