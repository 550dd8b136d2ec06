// Command alertlatency measures the time from a honeytoken request to the
// webhook receiving its alert, through a real `honeyapi serve` in another
// process: it runs the webhook receiver, mints a fresh token per use (with
// the deployment secret the server was started with), presents each at
// the decoy, and reports p50/p90/p99/max of request-sent → alert-received.
//
//	go run ./bench/alertlatency -decoy 127.0.0.1:8080 -secret S -listen 127.0.0.1:9999 -n 200
//
// (bench/alert-latency.sh starts the server and this program together.)
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"encoding/json"

	"github.com/honeyapi/honeyapi/alerts"
	"github.com/honeyapi/honeyapi/tokens"
)

func main() {
	decoy := flag.String("decoy", "127.0.0.1:8080", "decoy listener")
	secret := flag.String("secret", "", "deployment secret (HONEYAPI_SECRET of the server)")
	hookSecret := flag.String("hook-secret", "alert-latency-bench-secret", "webhook secret")
	listen := flag.String("listen", "127.0.0.1:9999", "webhook receiver address")
	n := flag.Int("n", 200, "honeytoken uses")
	gap := flag.Duration("gap", 20*time.Millisecond, "pause between uses")
	flag.Parse()

	m, err := tokens.NewMinter([]byte(*secret), tokens.MinterOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	sent := map[string]time.Time{}
	got := map[string]time.Duration{}
	done := make(chan struct{})
	http.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		body, _ := io.ReadAll(r.Body)
		if alerts.VerifySignature([]byte(*hookSecret), r.Header.Get(alerts.SignatureHeader), body, at, time.Minute) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p alerts.Payload
		json.Unmarshal(body, &p)
		w.WriteHeader(http.StatusNoContent)
		if p.Token == nil {
			return
		}
		mu.Lock()
		if t, ok := sent[p.Token.ID]; ok {
			if _, dup := got[p.Token.ID]; !dup {
				got[p.Token.ID] = at.Sub(t)
				if len(got) == *n {
					close(done)
				}
			}
		}
		mu.Unlock()
	})
	go func() {
		if err := http.ListenAndServe(*listen, nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}()
	time.Sleep(200 * time.Millisecond)
	client := &http.Client{Timeout: 10 * time.Second}
	for i := 0; i < *n; i++ {
		tok, _ := m.New(tokens.GitHub)
		req, _ := http.NewRequest("GET", "http://"+*decoy+"/api/v1/users", nil)
		req.Header.Set("Authorization", "Bearer "+tok.Value)
		mu.Lock()
		sent[tok.ID.String()] = time.Now()
		mu.Unlock()
		resp, err := client.Do(req)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		time.Sleep(*gap)
	}
	select {
	case <-done:
	case <-time.After(60 * time.Second):
	}
	mu.Lock()
	defer mu.Unlock()
	var ds []time.Duration
	for _, d := range got {
		ds = append(ds, d)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	if len(ds) == 0 {
		fmt.Println("no alerts received")
		os.Exit(1)
	}
	q := func(p float64) time.Duration { return ds[min(len(ds)-1, int(p*float64(len(ds))))] }
	fmt.Printf("honeytoken request -> webhook alert: %d/%d received; p50 %v  p90 %v  p99 %v  max %v\n",
		len(ds), *n, q(0.50).Round(10*time.Microsecond), q(0.90).Round(10*time.Microsecond), q(0.99).Round(10*time.Microsecond), ds[len(ds)-1].Round(10*time.Microsecond))
}
