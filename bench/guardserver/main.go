// Command guardserver serves, in one process, a stand-in for a user's real
// API (a route returning static JSON) four times, each on its own loopback
// port: behind Echo without the honeytoken guard, behind Echo with
// tokens.GuardWithConfig, and the same pair on plain net/http with
// tokens.GuardHandler. The guards run in observe mode with a Reporter of
// default options (so at most 100 sightings/s after a burst of 200) sending
// to a stub admin API in this process (answering 202), so a load run with a
// honeytoken measures detection, OnHit and reporting together. It prints "bare=ADDR guard=ADDR barehttp=ADDR guardhttp=ADDR
// token=HONEYTOKEN" once all listen, and the reporter's counters on
// SIGTERM or SIGINT.
package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/honeyapi/honeyapi/tokens"
)

func main() {
	m, err := tokens.NewMinter([]byte("bench-deployment-secret-0123456789"), tokens.MinterOptions{})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := m.New(tokens.GitHub)
	if err != nil {
		log.Fatal(err)
	}

	var received atomic.Int64
	sink := listen()
	go serve(sink, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	rp, err := tokens.NewReporter(tokens.ReporterOptions{URL: "http://" + sink.Addr().String(), Token: "bench-admin-token", Source: "guard:bench"})
	if err != nil {
		log.Fatal(err)
	}
	var hits atomic.Int64
	cfg := tokens.DefaultGuardConfig
	cfg.Minter, cfg.Reporter = m, rp
	cfg.OnHit = func(*http.Request, []byte, []tokens.Hit) { hits.Add(1) }

	body := []byte(`{"id":17,"username":"jboyer","email":"joe.boyer@outlook.com","firstName":"Joe","lastName":"Boyer","status":"ACTIVE"}`)
	echoAPI := func(guarded bool) http.Handler {
		e := echo.New()
		e.HideBanner, e.HidePort = true, true
		if guarded {
			e.Use(tokens.GuardWithConfig(cfg))
		}
		e.GET("/api/v1/users/:id", func(c echo.Context) error { return c.JSONBlob(http.StatusOK, body) })
		return e
	}
	httpAPI := func(guarded bool) http.Handler {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /api/v1/users/{id}", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		})
		if guarded {
			return tokens.GuardHandler(cfg, mux)
		}
		return mux
	}

	lb, lg, lhb, lhg := listen(), listen(), listen(), listen()
	fmt.Printf("bare=%s guard=%s barehttp=%s guardhttp=%s token=%s\n", lb.Addr(), lg.Addr(), lhb.Addr(), lhg.Addr(), tok.Value)
	go serve(lb, echoAPI(false))
	go serve(lg, echoAPI(true))
	go serve(lhb, httpAPI(false))
	go serve(lhg, httpAPI(true))

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = rp.Close(ctx)
	st := rp.Stats()
	fmt.Fprintf(os.Stderr, "guard: %d requests with a honeytoken; reporter: %d sent, %d failed, %d dropped (over the rate or queue full); sink received %d\n",
		hits.Load(), st.Sent, st.Failed, st.Dropped, received.Load())
}

func listen() net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	return ln
}

func serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	log.Fatal(srv.Serve(ln))
}
