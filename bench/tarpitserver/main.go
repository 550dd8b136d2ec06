// Command tarpitserver serves, on one loopback port behind the capture
// listener, a real API route (GET /internal/orders/:id, static JSON)
// beside a decoy of a built-in template that records every request
// (strict durability) and tarpits it. With -mode scheduler the tarpit
// holds scanners in its scheduler goroutine; with -mode naive a scanner's
// request sleeps in its handler instead (a goroutine per connection), for
// comparison. It prints "addr=ADDR pid=PID" once listening, and serves its
// tarpit figures at GET /bench/stats.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/honeyapi/honeyapi/actors"
	"github.com/honeyapi/honeyapi/decoys"
	"github.com/honeyapi/honeyapi/fingerprint"
	"github.com/honeyapi/honeyapi/recorder"
	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/tarpit"
)

func main() {
	mode := flag.String("mode", "scheduler", "scheduler or naive")
	spec := flag.String("spec", "admin", "template for the decoy")
	hold := flag.Duration("hold", time.Hour, "how long scanners are held")
	flag.Parse()

	dir, err := os.MkdirTemp("", "honeyapi-tarpit-bench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(store.Options{Path: filepath.Join(dir, "bench.db"), Durability: store.DurabilityStrict})
	if err != nil {
		log.Fatal(err)
	}
	tp, err := tarpit.New(tarpit.Config{MaxHeld: 50000, MaxHeldPerIP: 50000, MaxHold: *hold, KeepAlive: 10 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	recOpts := recorder.Options{Store: st, Tracker: actors.New(actors.Options{})}
	opts := decoys.Options{Secret: []byte("bench-secret")}
	if *mode == "scheduler" {
		recOpts.Tarpit, opts.Tarpit = tp, tp
	}
	rec := recorder.New(recOpts)
	opts.Record = rec.Record
	doc, err := decoys.Resolve(*spec)
	if err != nil {
		log.Fatal(err)
	}
	d, err := decoys.New([]*decoys.Document{doc}, opts)
	if err != nil {
		log.Fatal(err)
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	body := []byte(`{"id":"ord_17","status":"shipped","total":4299,"currency":"EUR"}`)
	e.GET("/internal/orders/:id", func(c echo.Context) error { return c.JSONBlob(http.StatusOK, body) })
	e.GET("/bench/stats", func(c echo.Context) error {
		// After a full collection, with freed memory returned to the OS.
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return c.JSON(http.StatusOK, map[string]any{"held": tp.Stats().Held, "goroutines": runtime.NumGoroutine(),
			"heap_inuse": ms.HeapInuse, "stack_inuse": ms.StackInuse, "sys": ms.Sys})
	})
	if *mode == "naive" {
		// The naive tarpit: a scanner's handler sleeps before answering.
		e.Pre(func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				if strings.Contains(c.Request().UserAgent(), "sqlmap") {
					select {
					case <-time.After(*hold):
					case <-c.Request().Context().Done():
						return nil
					}
				}
				return next(c)
			}
		})
	}
	decoys.Mount(e, d)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("addr=%s pid=%d\n", ln.Addr(), os.Getpid())
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	if *mode == "naive" {
		srv.ReadTimeout = 0 // the sleeping handler must not be cut short
	}
	log.Fatal(fingerprint.Serve(srv, fingerprint.NewListener(ln, fingerprint.ListenerOptions{})))
}
