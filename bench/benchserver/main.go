// Command benchserver serves, in one process, a bare Echo handler that
// returns static JSON and a decoy of a built-in template, each on its own
// loopback port, so one load run compares them on the same machine.
// It prints "bare=ADDR decoy=ADDR" once both listen.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/honeyapi/honeyapi/decoys"
)

func main() {
	spec := flag.String("spec", "admin", "template name or OpenAPI file for the decoy")
	flag.Parse()

	bare := echo.New()
	bare.HideBanner, bare.HidePort = true, true
	body := []byte(`{"id":17,"username":"jboyer","email":"joe.boyer@outlook.com","firstName":"Joe","lastName":"Boyer","status":"ACTIVE"}`)
	bare.GET("/api/v1/users/:id", func(c echo.Context) error { return c.JSONBlob(http.StatusOK, body) })

	doc, err := decoys.Resolve(*spec)
	if err != nil {
		log.Fatal(err)
	}
	d, err := decoys.New([]*decoys.Document{doc}, decoys.Options{Secret: []byte("bench-secret")})
	if err != nil {
		log.Fatal(err)
	}
	de := echo.New()
	de.HideBanner, de.HidePort = true, true
	decoys.Mount(de, d)

	lb := listen()
	ld := listen()
	fmt.Printf("bare=%s decoy=%s\n", lb.Addr(), ld.Addr())
	go serve(lb, bare)
	serve(ld, de)
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
