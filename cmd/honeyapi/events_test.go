package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/honeyapi/honeyapi/store"
)

func runCLIEnv(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	return code, out.String(), errOut.String()
}

// hostileTraffic sends requests whose path and user agent carry terminal
// escape sequences and an injection payload, then stops the sensor.
func hostileTraffic(t *testing.T, s *sensor) {
	t.Helper()
	conn, err := net.Dial("tcp", s.decoy)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rawRequest(t, conn, "GET /api/v1/users?id=1%27%20OR%201%3D1-- HTTP/1.1\r\nHost: x\r\nUser-Agent: sqlmap/1.8\r\n\r\n")
	rawRequest(t, conn, "GET /.env HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8.5.0\r\n\r\n")
	// Terminal escape sequences in the (decoded) path.
	rawRequest(t, conn, "GET /%1b%5b2J%1b%5d0%3bpwned%07/x HTTP/1.1\r\nHost: x\r\n\r\n")
	// A header value Go refuses: a malformed request, still an event.
	c2, err := net.Dial("tcp", s.decoy)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c2, "GET /admin HTTP/1.1\r\nHost: x\r\nUser-Agent: \x1b[2J\x07evil\r\n\r\n")
	answer, _ := io.ReadAll(c2)
	// Answered like the imitated nginx would, not with Go's plain text.
	if !strings.HasPrefix(string(answer), "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n") || !strings.Contains(string(answer), "<center>nginx</center>") {
		t.Errorf("malformed request answered %q", answer)
	}
}

func TestEventsAndActorsFromTheFile(t *testing.T) {
	db := t.TempDir() + "/h.db"
	s := startSensor(t, db)
	hostileTraffic(t, s)
	s.stop()

	code, out, errOut := runCLI(t, "events", "--db", db, "--json")
	if code != exitOK {
		t.Fatalf("events --json: exit %d: %s", code, errOut)
	}
	var evs []store.Event
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var ev store.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("not one JSON object per line: %v: %q", err, sc.Text())
		}
		evs = append(evs, ev)
	}
	if len(evs) != 4 || evs[0].Path != "/api/v1/users" || evs[1].Path != "/.env" || evs[2].Path != "/\x1b[2J\x1b]0;pwned\x07/x" ||
		evs[3].Kind != "malformed" || evs[3].Method != "GET" || evs[3].Path != "/admin" {
		t.Fatalf("events: %+v", evs)
	}
	if evs[1].Stage == "" || evs[1].Risk == 0 || evs[0].Client.Tool != "sqlmap" {
		t.Errorf("analysis missing: %+v / %+v", evs[0].Client, evs[1])
	}

	code, out, _ = runCLI(t, "events", "--db", db)
	if code != exitOK {
		t.Fatalf("events: exit %d", code)
	}
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("attacker-controlled escape sequences reached the terminal: %q", out)
	}
	if !strings.Contains(out, "/api/v1/users?id=1%27%20OR%201%3D1--") || !strings.Contains(out, "scanner/sqlmap") {
		t.Errorf("table:\n%s", out)
	}
	if code, out, _ := runCLI(t, "events", "--db", db, "--ip", "203.0.113.1"); code != exitOK || strings.Count(out, "\n") != 1 {
		t.Errorf("--ip filter for an unknown IP: exit %d\n%s", code, out)
	}
	if code, _, errOut := runCLI(t, "events", "--db", db, "--since", "yesterday"); code != exitUsage || !strings.Contains(errOut, "--since") {
		t.Errorf("bad --since: exit %d %q", code, errOut)
	}

	code, out, _ = runCLI(t, "actors", "--db", db)
	if code != exitOK || strings.Count(out, "\n") != 2 || !strings.Contains(out, "act_") {
		t.Errorf("actors (one actor: one IP): exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "actors", "--db", db, "--json")
	var a store.Actor
	if code != exitOK || json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &a) != nil || a.Events != 4 || len(a.Signals) == 0 {
		t.Errorf("actors --json: %q", out)
	}
	if code, _, _ := runCLI(t, "events", "--db", db, "--actor", a.ID, "--limit", "1", "--json"); code != exitOK {
		t.Errorf("--actor: exit %d", code)
	}
}

func TestEventsThroughTheRunningServer(t *testing.T) {
	db := t.TempDir() + "/h.db"
	s := startSensor(t, db)
	hostileTraffic(t, s)
	env := map[string]string{"HONEYAPI_ADMIN_LISTEN": s.admin}

	// The server holds the file lock, so this must go through the API.
	code, out, errOut := runCLIEnv(t, env, "events", "--db", db, "--json")
	if code != exitOK || strings.Count(out, "\n") != 4 {
		t.Fatalf("events via the admin API: exit %d %q %q", code, out, errOut)
	}
	// Without the token the CLI explains what is wrong.
	os.Rename(db+".admin-token", db+".admin-token.bak")
	code, _, errOut = runCLIEnv(t, env, "events", "--db", db)
	os.Rename(db+".admin-token.bak", db+".admin-token")
	if code != exitRuntime || !strings.Contains(errOut, "in use by a running server") {
		t.Errorf("no token: exit %d %q", code, errOut)
	}
	if code, _, errOut := runCLIEnv(t, env, "db", "compact", "--db", db); code != exitRuntime || !strings.Contains(errOut, "stop it first") {
		t.Errorf("compact while running: exit %d %q", code, errOut)
	}

	// --follow prints what arrives later.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a := &app{stdout: pw, stderr: io.Discard, lookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
		root := newRootCmd(a)
		root.SetArgs([]string{"events", "--db", db, "--json", "--follow", "--limit", "1"})
		root.ExecuteContext(ctx)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatal("no first line from --follow")
	}
	conn, err := net.Dial("tcp", s.decoy)
	if err != nil {
		t.Fatal(err)
	}
	rawRequest(t, conn, "GET /api/v1/users/77 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer f\r\n\r\n")
	conn.Close()
	got := make(chan string, 1)
	go func() {
		if lines.Scan() {
			got <- lines.Text()
		}
	}()
	select {
	case l := <-got:
		if !strings.Contains(l, `"/api/v1/users/77"`) {
			t.Errorf("followed line %q", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("--follow printed nothing new within 10s")
	}
	cancel()
	go io.Copy(io.Discard, pr)
	wg.Wait()
	s.stop()

	before, _ := os.Stat(db)
	code, out, errOut = runCLI(t, "db", "compact", "--db", db)
	if code != exitOK || !strings.Contains(out, "compacted") {
		t.Fatalf("compact: exit %d %q %q", code, out, errOut)
	}
	after, _ := os.Stat(db)
	if after.Size() > before.Size() || after.Mode().Perm() != before.Mode().Perm() {
		t.Errorf("compact: %d → %d bytes, mode %v → %v", before.Size(), after.Size(), before.Mode(), after.Mode())
	}
	if code, out, _ := runCLI(t, "events", "--db", db, "--json"); code != exitOK || strings.Count(out, "\n") != 5 {
		t.Errorf("events after compaction: exit %d\n%s", code, out)
	}
}
