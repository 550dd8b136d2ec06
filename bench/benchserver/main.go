// Command benchserver serves, in one process, a bare Echo handler that
// returns static JSON and a decoy of a built-in template three times: not
// recording, recording with strict durability (each response waits for its
// event's fsync'd commit) and with async durability, each on its own
// loopback port behind the capture listener, so one load run compares them
// on the same machine. It prints "bare=ADDR decoy=ADDR strict=ADDR
// async=ADDR" once all listen. Databases go to a temporary directory.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/honeyapi/honeyapi/actors"
	"github.com/honeyapi/honeyapi/decoys"
	"github.com/honeyapi/honeyapi/fingerprint"
	"github.com/honeyapi/honeyapi/recorder"
	"github.com/honeyapi/honeyapi/store"
)

func main() {
	spec := flag.String("spec", "admin", "template name or OpenAPI file for the decoy")
	flag.Parse()

	bare := echo.New()
	bare.HideBanner, bare.HidePort = true, true
	body := []byte(`{"id":17,"username":"jboyer","email":"joe.boyer@outlook.com","firstName":"Joe","lastName":"Boyer","status":"ACTIVE"}`)
	bare.GET("/api/v1/users/:id", func(c echo.Context) error { return c.JSONBlob(http.StatusOK, body) })

	dir, err := os.MkdirTemp("", "honeyapi-bench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	decoy := func(durability string) http.Handler {
		doc, err := decoys.Resolve(*spec)
		if err != nil {
			log.Fatal(err)
		}
		opts := decoys.Options{Secret: []byte("bench-secret")}
		if durability != "" {
			st, err := store.Open(store.Options{Path: filepath.Join(dir, durability+".db"), Durability: durability})
			if err != nil {
				log.Fatal(err)
			}
			rec := recorder.New(recorder.Options{Store: st, Tracker: actors.New(actors.Options{})})
			opts.Record = rec.Record
		}
		d, err := decoys.New([]*decoys.Document{doc}, opts)
		if err != nil {
			log.Fatal(err)
		}
		e := echo.New()
		e.HideBanner, e.HidePort = true, true
		decoys.Mount(e, d)
		return e
	}

	lb, ld, ls, la := listen(), listen(), listen(), listen()
	fmt.Printf("bare=%s decoy=%s strict=%s async=%s\n", lb.Addr(), ld.Addr(), ls.Addr(), la.Addr())
	go serve(lb, bare, false)
	go serve(ld, decoy(""), true)
	go serve(ls, decoy("strict"), true)
	serve(la, decoy("async"), true)
}

func listen() net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	return ln
}

func serve(ln net.Listener, h http.Handler, capture bool) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	if capture {
		log.Fatal(fingerprint.Serve(srv, fingerprint.NewListener(ln, fingerprint.ListenerOptions{})))
	}
	log.Fatal(srv.Serve(ln))
}
