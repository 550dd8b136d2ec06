package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests build the real binary and run it as a user would.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds cmd/honeyapi once per test run.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "honeyapi-e2e-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "honeyapi")
		if runtime.GOOS == "windows" {
			binPath += ".exe"
		}
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(err.Error() + "\n" + string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v", buildErr)
	}
	return binPath
}

// cleanEnv is the process environment without HONEYAPI_* variables, so a
// developer's own settings cannot leak into the test.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HONEYAPI_") {
			env = append(env, kv)
		}
	}
	// Tests about other things get prompt answers however many requests
	// they make or whichever scanner they imitate; the tarpit and rate
	// limit tests turn them back on with flags (which override these).
	return append(env, "HONEYAPI_TARPIT=off", "HONEYAPI_RATE_LIMIT=0")
}

// syncBuffer collects a child's stderr while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestServeEndToEnd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "honeyapi.db")
	s := startSensor(t, db)
	cmd, done, logs := s.cmd, s.done, s.logs
	decoyAddr, adminAddr := s.decoy, s.admin
	for _, addr := range []string{decoyAddr, adminAddr} {
		if !strings.HasPrefix(addr, "127.0.0.1:") {
			t.Fatalf("startup line lacks loopback addresses: %v", s.startup)
		}
	}
	if _, ok := s.startup["operations"]; !ok {
		t.Errorf("startup line lacks an operation count: %v", s.startup)
	}

	client := &http.Client{Timeout: 10 * time.Second}

	// The admin listener answers /healthz.
	resp, err := client.Get("http://" + adminAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"status":"ok"}` {
		t.Errorf("/healthz = %d %q", resp.StatusCode, body)
	}

	// The decoy listener answers HTTP, without Echo's or Go's tells, and
	// does not serve the admin routes.
	for _, req := range []struct{ method, path string }{
		{"GET", "/"}, {"GET", "/api/v1/users"}, {"GET", "/does/not/exist"}, {"GET", "/healthz"},
		{"POST", "/does/not/exist"}, {"FOO", "/api/v1/users"},
	} {
		method, path := req.method, req.path
		hreq, _ := http.NewRequest(method, "http://"+decoyAddr+path, nil)
		resp, err := client.Do(hreq)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, tell := range []string{`{"message":"Not Found"}`, `{"message":"Method Not Allowed"}`, "404 page not found", `{"status":"ok"}`} {
			if strings.Contains(string(body), tell) {
				t.Errorf("%s %s: body %q contains %q", method, path, body, tell)
			}
		}
		if s := resp.Header.Get("Server"); strings.Contains(strings.ToLower(s), "echo") {
			t.Errorf("%s %s: Server header %q", method, path, s)
		}
		if allow := resp.Header.Get("Allow"); strings.Contains(allow, "PROPFIND") {
			t.Errorf("%s %s: Echo's own Allow list %q", method, path, allow)
		}
	}

	// The key file was created owner-only, and the secret never logged.
	st, err := os.Stat(db + ".key")
	if err != nil {
		t.Fatalf("key file: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %#o, want 0600", st.Mode().Perm())
	}
	var kf struct{ Secret string }
	data, _ := os.ReadFile(db + ".key")
	if err := json.Unmarshal(data, &kf); err != nil || kf.Secret == "" {
		t.Fatalf("key file: %v %q", err, data)
	}

	// SIGTERM drains and exits cleanly.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("still running 5s after SIGTERM:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), kf.Secret) {
		t.Error("the deployment secret appears in the logs")
	}
	if !strings.Contains(logs.String(), `"stopped"`) {
		t.Errorf("no shutdown line in logs:\n%s", logs.String())
	}
}

func TestServeMissingSpecFileExitsNonZero(t *testing.T) {
	bin := binary(t)
	cmd := exec.Command(bin, "serve", "--spec", "/nonexistent.yaml",
		"--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
		"--db", filepath.Join(t.TempDir(), "honeyapi.db"))
	cmd.Env = cleanEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() == 0 {
		t.Fatalf("err = %v, want a non-zero exit", err)
	}
	if !strings.Contains(stderr.String(), "/nonexistent.yaml") {
		t.Errorf("stderr does not name the spec: %q", stderr.String())
	}
}

func TestTemplatesCommandBinary(t *testing.T) {
	bin := binary(t)
	cmd := exec.Command(bin, "templates")
	cmd.Env = cleanEnv()
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		if line == "" || strings.ContainsAny(line, " \t") {
			t.Errorf("line %q is not a bare template name", line)
		}
	}
}
