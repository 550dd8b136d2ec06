package decoys

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRateLimitAnnouncedAndEnforced(t *testing.T) {
	for _, tc := range []struct {
		template, style string
		limitHeader     string
	}{
		{"customers", "", "X-Ratelimit-Limit"},
		{"cicd", "", "Ratelimit-Limit"},
		{"payments", "", ""},
		{"payments", "github", "X-Ratelimit-Limit"},
	} {
		t.Run(tc.template+"/"+tc.style, func(t *testing.T) {
			doc, err := LoadTemplate(tc.template)
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var tags [][]string
			d, err := New([]*Document{doc}, Options{Secret: []byte("rate"), RateLimit: RateLimit{Limit: 3, Window: time.Minute, Style: tc.style},
				Record: func(in *Interaction) error { mu.Lock(); tags = append(tags, in.Tags); mu.Unlock(); return nil }})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(d)
			defer srv.Close()
			path := doc.SpecPaths[0]
			var last *http.Response
			for i := 0; i < 5; i++ {
				resp, err := http.Get(srv.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				last = resp
				if i < 3 {
					if resp.StatusCode != 200 {
						t.Fatalf("request %d: %d", i+1, resp.StatusCode)
					}
					if tc.limitHeader != "" {
						if got := resp.Header.Get(tc.limitHeader); got != "3" {
							t.Fatalf("request %d: %s = %q; headers %v", i+1, tc.limitHeader, got, resp.Header)
						}
					} else if resp.Header.Get("X-Ratelimit-Limit") != "" || resp.Header.Get("Ratelimit-Limit") != "" {
						t.Fatalf("the %s style announces no limit: %v", tc.template, resp.Header)
					}
				}
			}
			if last.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("past the limit: %d", last.StatusCode)
			}
			ra, err := strconv.Atoi(last.Header.Get("Retry-After"))
			if err != nil || ra < 1 || ra > 60 {
				t.Fatalf("Retry-After %q", last.Header.Get("Retry-After"))
			}
			mu.Lock()
			defer mu.Unlock()
			if !has(tags[3], "rate_limited") || has(tags[3], "retry_after_ignored") {
				t.Fatalf("first 429 tags %v", tags[3])
			}
			if !has(tags[4], "retry_after_ignored") {
				t.Fatalf("second 429 tags %v", tags[4])
			}
		})
	}
}

func has(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func TestRateLimitWindowResetsAndIsBounded(t *testing.T) {
	l := newLimiter(RateLimit{Limit: 1, Window: time.Second, MaxClients: 2})
	now := time.Now()
	if st := l.take("a", now); st.limited || st.remaining != 0 {
		t.Fatalf("first: %+v", st)
	}
	if st := l.take("a", now); !st.limited {
		t.Fatalf("second: %+v", st)
	}
	if st := l.take("a", now.Add(time.Second)); st.limited {
		t.Fatalf("after the window: %+v", st)
	}
	l.take("b", now)
	// The table is full: a third client is served, not tracked.
	if st := l.take("c", now); st.limited || len(l.m) != 2 {
		t.Fatalf("third client: %+v, %d tracked", st, len(l.m))
	}
	// Once windows have passed, the sweep makes room.
	if l.take("c", now.Add(3*time.Second)); len(l.m) != 1 {
		t.Fatalf("%d tracked after a sweep, want 1", len(l.m))
	}
	doc, err := LoadTemplate("payments")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New([]*Document{doc}, Options{RateLimit: RateLimit{Style: "bogus"}}); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("a bogus style: %v", err)
	}
}
