package main

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/web"
)

// sensor is a running `honeyapi serve` process.
type sensor struct {
	t            *testing.T
	cmd          *exec.Cmd
	done         chan error
	logs         *syncBuffer
	decoy, admin string
	token        string
	startup      map[string]any // the "serving" log line
}

func startSensor(t *testing.T, db string, args ...string) *sensor {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("uses POSIX signals")
	}
	bin := binary(t)
	all := append([]string{"serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--db", db}, args...)
	cmd := exec.Command(bin, all...)
	cmd.Env = cleanEnv()
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &sensor{t: t, cmd: cmd, done: make(chan error, 1), logs: &syncBuffer{}}
	serving := make(chan map[string]any, 1)
	go func() {
		sc := bufio.NewScanner(io.TeeReader(pipe, s.logs))
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil && line["message"] == "serving" {
				serving <- line
			}
		}
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() { s.kill() })
	select {
	case line := <-serving:
		s.startup = line
		s.decoy, _ = line["listen"].(string)
		s.admin, _ = line["admin_listen"].(string)
	case err := <-s.done:
		t.Fatalf("serve exited early: %v\n%s", err, s.logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("no startup line within 30s:\n%s", s.logs.String())
	}
	tok, err := os.ReadFile(db + ".admin-token")
	if err != nil {
		t.Fatalf("admin token file: %v", err)
	}
	s.token = strings.TrimSpace(string(tok))
	return s
}

func (s *sensor) kill() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.done
	}
}

func (s *sensor) stop() {
	s.t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Errorf("exit after SIGTERM: %v\n%s", err, s.logs.String())
		}
	case <-time.After(10 * time.Second):
		s.t.Fatalf("still running 10s after SIGTERM")
	}
}

// events reads every stored event through the admin API, oldest first.
func (s *sensor) events() []store.Event {
	s.t.Helper()
	var all []store.Event
	cursor := ""
	for {
		req, _ := http.NewRequest("GET", "http://"+s.admin+"/api/v1/events?order=asc&limit=1000&cursor="+cursor, nil)
		req.Header.Set("Authorization", "Bearer "+s.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			s.t.Fatal(err)
		}
		var page web.EventList
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			s.t.Fatalf("admin API: %d %v", resp.StatusCode, err)
		}
		all = append(all, page.Events...)
		if page.Next == "" {
			return all
		}
		cursor = page.Next
	}
}

// rawRequest writes head on conn and reads one response.
func rawRequest(t *testing.T, conn net.Conn, head string) int {
	t.Helper()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// The order, case and duplicates of a request's headers, as sent on the
// wire, are exactly what is stored, over TCP and over TLS.
func TestStoredHeadersAreExactlyTheWire(t *testing.T) {
	head := "GET /api/v1/users/3?x=1 HTTP/1.1\r\n" +
		"host: decoy.test\r\n" +
		"X-Zeta: one\r\n" +
		"user-AGENT: probe/1.0\r\n" +
		"Authorization: Bearer abc\r\n" +
		"X-Alpha: first\r\n" +
		"X-Alpha: second\r\n" +
		"ACCEPT: */*\r\n\r\n"
	want := []store.Header{{Name: "host", Value: "decoy.test"}, {Name: "X-Zeta", Value: "one"}, {Name: "user-AGENT", Value: "probe/1.0"},
		{Name: "Authorization", Value: "Bearer abc"}, {Name: "X-Alpha", Value: "first"}, {Name: "X-Alpha", Value: "second"}, {Name: "ACCEPT", Value: "*/*"}}

	for _, mode := range []string{"tcp", "tls"} {
		t.Run(mode, func(t *testing.T) {
			db := t.TempDir() + "/h.db"
			var args []string
			if mode == "tls" {
				args = []string{"--tls", "self-signed"}
			}
			s := startSensor(t, db, args...)
			var conn net.Conn
			var err error
			if mode == "tls" {
				conn, err = tls.Dial("tcp", s.decoy, &tls.Config{InsecureSkipVerify: true, ServerName: "decoy.test", NextProtos: []string{"http/1.1"}})
			} else {
				conn, err = net.Dial("tcp", s.decoy)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if code := rawRequest(t, conn, head); code != 200 {
				t.Fatalf("status %d", code)
			}
			evs := s.events()
			if len(evs) != 1 {
				t.Fatalf("%d events stored, want 1", len(evs))
			}
			ev := evs[0]
			if fmt.Sprint(ev.Headers) != fmt.Sprint(want) {
				t.Errorf("headers\n got %v\nwant %v", ev.Headers, want)
			}
			if ev.Path != "/api/v1/users/3" || ev.Query != "x=1" || ev.Status != 200 || ev.Operation == "" || ev.Actor == "" || ev.Session == "" {
				t.Errorf("event %+v", ev)
			}
			if !strings.HasPrefix(string(ev.RawHead), "GET /api/v1/users/3?x=1 HTTP/1.1\r\nhost: decoy.test\r\n") {
				t.Errorf("raw head %q", ev.RawHead)
			}
			if mode == "tls" {
				if ev.TLS == nil || ev.TLS.JA4 == "" || ev.TLS.JA3Hash == "" || ev.TLS.SNI != "decoy.test" {
					t.Errorf("TLS facts missing: %+v", ev.TLS)
				}
			} else if ev.TLS != nil {
				t.Errorf("plain request with TLS facts: %+v", ev.TLS)
			}
			s.stop()
		})
	}
}

// A server killed with SIGKILL in the middle of a burst loses no event
// whose response a client received: strict durability releases a
// response only after its event is on disk.
func TestSIGKILLLosesNoAnsweredRequest(t *testing.T) {
	db := t.TempDir() + "/h.db"
	for round := 0; round < 3; round++ {
		s := startSensor(t, db)
		var (
			mu       sync.Mutex
			answered = map[string]bool{}
			wg       sync.WaitGroup
			stop     = make(chan struct{})
		)
		client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					p := fmt.Sprintf("/api/v1/users/%d%03d%05d", round+1, w, i)
					req, _ := http.NewRequest("GET", "http://"+s.decoy+p, nil)
					req.Header.Set("Authorization", "Bearer burst")
					resp, err := client.Do(req)
					if err != nil {
						return // the server is gone
					}
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil {
						mu.Lock()
						answered[p] = true
						mu.Unlock()
					}
				}
			}(w)
		}
		time.Sleep(400 * time.Millisecond)
		s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.done
		close(stop)
		wg.Wait()
		client.CloseIdleConnections()

		// Restart on the same file: it must open cleanly, and hold every
		// answered request.
		s2 := startSensor(t, db)
		stored := map[string]bool{}
		for _, ev := range s2.events() {
			stored[ev.Path] = true
		}
		mu.Lock()
		n := len(answered)
		for p := range answered {
			if !stored[p] {
				t.Errorf("round %d: %s was answered but is not in the store", round, p)
			}
		}
		mu.Unlock()
		if n < 20 {
			t.Errorf("round %d: only %d requests answered before the kill; the test proves little", round, n)
		}
		t.Logf("round %d: %d answered before SIGKILL, all of them stored (%d events in total)", round, n, len(stored))
		s2.stop()
	}
}
