// Command echo-beside-real-api runs a small real API (orders) with Echo and
// mounts decoy routes beside it: the users API of an internal OpenAPI
// document, served under the same /api/v1 prefix. Real routes answer as
// they always did; every other path under /api/v1, and the decoy's own
// /openapi.json, answer from the decoy, which logs each request. The real
// routes sit behind tokens.Guard: a honeytoken of this deployment presented
// to them (a key an intruder found in a seeded repo, say) is logged, and
// the real API answers as it always does.
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
	"github.com/honeyapi/honeyapi/tokens"
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

// secret is the deployment secret: the decoy's data and the honeytokens
// both derive from it. Use honeyapi's (<db>.key) to recognise its tokens.
var secret = []byte("replace-with-a-deployment-secret")

// build wires the real API and the decoy into one Echo instance.
func build(spec string, logger *zerolog.Logger) (*echo.Echo, error) {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true

	// The real API, behind the honeytoken guard. To send hits to a
	// honeyapi server instead, set Reporter: tokens.NewReporter(...).
	minter, err := tokens.NewMinter(secret, tokens.MinterOptions{})
	if err != nil {
		return nil, err
	}
	api := e.Group("", tokens.GuardWithConfig(tokens.GuardConfig{
		Minter: minter,
		OnHit: func(r *http.Request, _ []byte, hits []tokens.Hit) {
			for _, h := range hits { // the token itself is never logged
				logger.Warn().Str("token", h.ID.String()).Str("kind", string(h.Kind)).Str("where", h.Where).
					Str("remote", r.RemoteAddr).Str("path", r.URL.Path).Msg("honeytoken presented to the real API")
			}
		},
	}))
	api.GET("/api/v1/orders", func(c echo.Context) error {
		return c.JSON(http.StatusOK, []order{{ID: 1, Status: "paid", Total: 42.5}})
	})
	api.GET("/api/v1/health", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "UP"})
	})

	// The decoy, mounted beside it.
	doc, err := decoys.LoadFile(spec)
	if err != nil {
		return nil, err
	}
	d, err := decoys.New([]*decoys.Document{doc}, decoys.Options{
		Secret: secret,
		Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	decoys.Mount(e, d)
	return e, nil
}
