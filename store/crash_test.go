package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

const crashHelperEnv = "HONEYAPI_STORE_CRASH_HELPER"

// crashHelper runs in a child process: it records events in strict mode from
// several goroutines and prints each ID once Record has returned, until it
// is killed.
func crashHelper(path string) {
	s, err := Open(Options{Path: path, OpenTimeout: 10 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	for w := 0; w < 8; w++ {
		go func() {
			for i := 0; ; i++ {
				ev := realisticEvent(w*1_000_000 + i)
				id, err := s.Record(context.Background(), ev, &Actor{ID: ev.Actor, LastSeen: ev.Time, Events: i, Keys: []string{"ip:" + ev.ClientIP}})
				if err != nil {
					fmt.Fprintln(os.Stderr, "record:", err)
					os.Exit(3)
				}
				mu.Lock()
				os.Stdout.WriteString(id.String() + "\n")
				mu.Unlock()
			}
		}()
	}
	select {}
}

func TestCrashKeepsEveryAcknowledgedEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	var acked []ID
	for round := 0; round < 4; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashHelperEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAfter := 200 + rand.IntN(1500)
		sc := bufio.NewScanner(out)
		lines, killed := 0, false
		for sc.Scan() {
			line := sc.Text()
			id, err := ParseID(line)
			if err != nil {
				t.Fatalf("round %d: child printed %q: %v", round, line, err)
			}
			acked = append(acked, id)
			lines++
			if lines == killAfter && !killed {
				// Kill mid-burst; the lines already in the pipe are
				// acknowledged events too and are still read.
				cmd.Process.Signal(syscall.SIGKILL)
				killed = true
			}
		}
		cmd.Wait()
		if !killed {
			t.Fatalf("round %d: child exited after %d lines", round, lines)
		}

		s, err := Open(Options{Path: path})
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		for _, id := range acked {
			if _, err := s.Event(id); err != nil {
				s.Close()
				t.Fatalf("round %d: acknowledged event %s missing: %v", round, id, err)
			}
		}
		checkConsistency(t, s)
		st := s.Stats()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: killed after %d acknowledged events (%d in total); store holds %d", round, lines, len(acked), st.Events)
	}
}
