// Command loadgen sends GET requests over keep-alive connections from a
// fixed number of workers for a fixed time and prints requests/s and
// latency percentiles as one JSON line. It only targets loopback addresses.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

type result struct {
	Target   string  `json:"target"`
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	RPS      float64 `json:"rps"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	Bytes    int64   `json:"bytes_per_response"`
}

func main() {
	target := flag.String("url", "", "URL to GET (loopback only)")
	conc := flag.Int("c", 32, "concurrent connections")
	dur := flag.Duration("d", 10*time.Second, "duration")
	header := flag.String("H", "", "one extra header, \"Name: value\"")
	name := flag.String("name", "", "label for the result")
	flag.Parse()
	u, err := url.Parse(*target)
	if err != nil || u.Host == "" {
		log.Fatal("loadgen: -url is required")
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		log.Fatal("loadgen: only loopback targets are allowed")
	}
	tr := &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	hname, hval, _ := strings.Cut(*header, ":")

	var (
		mu      sync.Mutex
		lats    []time.Duration
		errs    int
		size    int64
		wg      sync.WaitGroup
		stop    = time.Now().Add(*dur)
		started = time.Now()
	)
	for i := 0; i < *conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			e := 0
			var n int64
			for time.Now().Before(stop) {
				req, _ := http.NewRequest("GET", *target, nil)
				if hname != "" {
					req.Header.Set(strings.TrimSpace(hname), strings.TrimSpace(hval))
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					e++
					continue
				}
				n, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 400 {
					e++
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lats = append(lats, local...)
			errs += e
			size = n
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(started)
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	pct := func(p float64) float64 {
		if len(lats) == 0 {
			return 0
		}
		return float64(lats[int(float64(len(lats)-1)*p)].Microseconds()) / 1000
	}
	r := result{Target: *name, Requests: len(lats), Errors: errs, RPS: float64(len(lats)) / elapsed.Seconds(), P50ms: pct(0.50), P99ms: pct(0.99), Bytes: size}
	if r.Target == "" {
		r.Target = *target
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}
