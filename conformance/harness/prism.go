package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Prism is a running Stoplight Prism validation proxy
// (prism proxy SPEC UPSTREAM -m false) on a loopback port.
type Prism struct {
	URL string

	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 4<<20 {
		return len(p), nil // keep memory bounded; the start of the log is what matters
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// FindPrism returns the prism executable: $PRISM_BIN, or
// node_modules/.bin/prism in dir or one of its parents.
func FindPrism(dir string) (string, error) {
	if p := os.Getenv("PRISM_BIN"); p != "" {
		return p, nil
	}
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for i := 0; i < 4; i++ {
		p := filepath.Join(d, "node_modules", ".bin", "prism")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		d = filepath.Dir(d)
	}
	return "", errors.New("prism not installed (run conformance/run.sh, or npm ci in conformance/)")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartPrism starts prism proxy for specPath in front of upstream
// ("http://127.0.0.1:PORT") and waits until it accepts connections.
func StartPrism(ctx context.Context, bin, specPath, upstream string, wait time.Duration) (*Prism, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "proxy", specPath, upstream,
		"-m", "false", "-h", "127.0.0.1", "-p", strconv.Itoa(port))
	out := &syncBuffer{}
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.Env = append(os.Environ(), "NODE_OPTIONS=--max-old-space-size=4096")
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting prism: %w", err)
	}
	p := &Prism{URL: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	deadline := time.Now().Add(wait)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("prism exited before listening:\n%s", tail(out.String(), 4000))
		case <-ctx.Done():
			p.Stop()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("prism did not listen within %s:\n%s", wait, tail(out.String(), 4000))
		}
	}
}

// Log returns what Prism printed so far (bounded).
func (p *Prism) Log() string { return p.out.String() }

// Stop ends the Prism process this harness started.
func (p *Prism) Stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
