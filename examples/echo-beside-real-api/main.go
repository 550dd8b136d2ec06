// Command echo-beside-real-api runs a small real API (orders) with Echo and
// mounts decoy routes beside it: the users API of an internal OpenAPI
// document, served under the same /api/v1 prefix. Real routes answer as
// they always did; every other path under /api/v1, and the decoy's own
// /openapi.json, answer from the decoy, which logs each request.
//
//	go run ./examples/echo-beside-real-api -listen 127.0.0.1:8080
//	curl -s 127.0.0.1:8080/api/v1/orders                   # real
//	curl -s -H 'Authorization: Bearer x' 127.0.0.1:8080/api/v1/users/7   # decoy
package main

import (
	"errors"
	"flag"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/honeyapi/honeyapi/decoys"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to listen on")
	spec := flag.String("spec", "examples/specs/internal-users.yaml", "decoy OpenAPI document")
	flag.Parse()
	logger := zerolog.New(os.Stderr).With().Timestamp().Logger()
	e, err := build(*spec, &logger)
	if err != nil {
		logger.Fatal().Err(err).Msg("cannot start")
	}
	srv := &http.Server{
		Addr:              *listen,
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	logger.Info().Str("listen", *listen).Msg("real API with decoys beside it")
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Fatal().Err(err).Msg("server failed")
	}
}

type order struct {
	ID     int     `json:"id"`
	Status string  `json:"status"`
	Total  float64 `json:"total"`
}

// build wires the real API and the decoy into one Echo instance.
func build(spec string, logger *zerolog.Logger) (*echo.Echo, error) {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true

	// The real API.
	e.GET("/api/v1/orders", func(c echo.Context) error {
		return c.JSON(http.StatusOK, []order{{ID: 1, Status: "paid", Total: 42.5}})
	})
	e.GET("/api/v1/health", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "UP"})
	})

	// The decoy, mounted beside it.
	doc, err := decoys.LoadFile(spec)
	if err != nil {
		return nil, err
	}
	d, err := decoys.New([]*decoys.Document{doc}, decoys.Options{
		Secret: []byte("replace-with-a-deployment-secret"),
		Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	decoys.Mount(e, d)
	return e, nil
}
