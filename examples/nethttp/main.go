// Command nethttp mounts a decoy beside a real net/http handler. The Decoy
// is an http.Handler: give it the paths it should answer.
//
//	go run ./examples/nethttp -listen 127.0.0.1:8080
package main

import (
	"errors"
	"flag"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/honeyapi/honeyapi/decoys"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	mux, err := build("secrets")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// build serves the real /status endpoint and hands every other path to a
// decoy of a built-in template (or an OpenAPI file).
func build(spec string) (*http.ServeMux, error) {
	doc, err := decoys.Resolve(spec)
	if err != nil {
		return nil, err
	}
	d, err := decoys.New([]*decoys.Document{doc}, decoys.Options{Secret: []byte("replace-with-a-deployment-secret")})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.Handle("/", decoys.Handler(d))
	return mux, nil
}
