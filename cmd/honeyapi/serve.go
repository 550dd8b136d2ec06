package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/honeyapi/honeyapi/actors"
	"github.com/honeyapi/honeyapi/decoys"
	"github.com/honeyapi/honeyapi/fingerprint"
	"github.com/honeyapi/honeyapi/internal/config"
	"github.com/honeyapi/honeyapi/internal/deployment"
	"github.com/honeyapi/honeyapi/metrics"
	"github.com/honeyapi/honeyapi/recorder"
	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/tarpit"
	"github.com/honeyapi/honeyapi/templates"
	"github.com/honeyapi/honeyapi/tokens"
	"github.com/honeyapi/honeyapi/web"
)

// drainTimeout bounds a graceful shutdown: in-flight requests get this long
// to finish before connections are closed. It stays under Docker's default
// 10s stop grace period.
const drainTimeout = 8 * time.Second

func newServeCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve decoy APIs and the admin listener",
		Long: `Serve decoy APIs generated from OpenAPI documents (--spec, repeatable: a
file path, or a built-in template name; see "honeyapi templates"), and the
admin listener (health check) on a separate, loopback-only address.

Settings come from, lowest to highest precedence: defaults, the YAML file
(--config or HONEYAPI_CONFIG), HONEYAPI_* environment variables, flags.`,
		Example: `  honeyapi serve
  honeyapi serve --spec ./openapi.yaml --listen :8080
  honeyapi serve --spec admin --spec ./payments.json --server-profile envoy`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cmd.Flags(), a.lookupEnv)
			if err != nil {
				return usageError{err}
			}
			return serve(cmd.Context(), a, cfg)
		},
	}
	config.BindServeFlags(cmd.Flags())
	return cmd
}

// serve runs the decoy and admin listeners until ctx ends or SIGINT or
// SIGTERM arrives, then drains them.
func serve(ctx context.Context, a *app, cfg *config.Config) error {
	logger := newLogger(cfg, a.stderr)

	specs := cfg.Specs
	if len(specs) == 0 {
		specs = []string{templates.Default()}
	}
	docs, summary, err := loadSpecs(specs, logger)
	if err != nil {
		return err
	}

	id, err := deployment.Load(cfg.DB, []byte(cfg.Secret))
	if err != nil {
		return err
	}
	if id.Created {
		logger.Info().Str("key_file", id.Source).
			Msg("generated the deployment secret; keep this file with the database")
	}

	envTok, _ := a.lookupEnv("HONEYAPI_ADMIN_TOKEN")
	tok, err := deployment.LoadAdminToken(cfg.DB, envTok)
	if err != nil {
		return err
	}
	if tok.Created {
		// Printed once, outside the JSON log, and never logged.
		fmt.Fprintf(a.stderr, "honeyapi: generated the admin token %s (saved to %s, mode 0600); the admin API requires it as \"Authorization: Bearer <token>\"\n", tok.Token, tok.Source)
	}

	storeLog := logger.With().Str("component", "store").Logger()
	met := metrics.New()
	st, err := store.Open(store.Options{
		Path:       cfg.DB,
		Durability: cfg.Store.Durability,
		MaxSize:    cfg.Store.MaxBytes,
		RetainFor:  time.Duration(cfg.Store.Retention),
		Logger:     &storeLog,
		OnCommit:   met.Committed,
	})
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return fmt.Errorf("serve: the database %s is in use by another honeyapi process", cfg.DB)
		}
		return fmt.Errorf("serve: opening the database: %w", err)
	}
	defer st.Close()
	tracker := actors.New(actors.Options{})
	if err := tracker.Load(st); err != nil {
		return fmt.Errorf("serve: loading actors: %w", err)
	}
	minter, err := tokens.NewMinter(id.Secret, tokens.MinterOptions{DecoyHost: decoyHost(cfg), DNSZone: cfg.Tokens.DNSZone})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	met.SetStore(st.Stats)
	raiser, dispatcher, alertRoutes, err := startAlerts(cfg, st, logger, met.Alert)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	tp, err := newTarpit(cfg)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if tp != nil {
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
			defer cancel()
			_ = tp.Close(ctx)
		}()
	}
	if ts := tarpitStats(tp); ts != nil {
		met.SetTarpit(func() (int, float64) { x := ts(); return x.Held, x.WaitedSeconds })
	}
	recOpts := recorder.Options{Store: st, Tracker: tracker, Minter: minter, Listener: "decoy", Trusted: cfg.Trusted(), Logger: &storeLog, Tarpit: tp,
		OnEvent: func(ev *store.Event) {
			met.Request(ev.Listener, ev.Status)
			for _, tag := range ev.Tags {
				if rest, ok := strings.CutPrefix(tag, store.TokenTagPrefix); ok {
					kind, _, _ := strings.Cut(rest, ":")
					met.TokenHit(kind)
				}
			}
		}}
	if dispatcher != nil {
		recOpts.Alerts, recOpts.Notify = raiser, dispatcher.Notify
	}
	rec := recorder.New(recOpts)

	decoyLog := logger.With().Str("component", "decoy").Logger()
	d, err := decoys.New(docs, decoys.Options{
		Secret:          id.Secret,
		Epoch:           id.Epoch,
		ServerProfile:   cfg.Decoy.ServerProfile,
		Credentials:     cfg.Decoy.Credentials,
		MaxBodyBytes:    cfg.Decoy.MaxBodyBytes,
		PublicURL:       strings.TrimSuffix(cfg.Decoy.PublicURL, "/"),
		StateTTL:        time.Duration(cfg.Decoy.StateTTL),
		StateMaxObjects: cfg.Decoy.StateMaxObjects,
		Logger:          &decoyLog,
		Record:          rec.Record,
		Breadcrumb:      rec.Breadcrumb,
		Tarpit:          tp,
		RateLimit: decoys.RateLimit{Limit: cfg.Decoy.RateLimit, Window: time.Duration(cfg.Decoy.RateWindow),
			Style: cfg.Decoy.RateLimitStyle},
	})
	if err != nil {
		return fmt.Errorf("serve: building decoys: %w", err)
	}
	tlsCfg, err := decoyTLS(cfg)
	if err != nil {
		return err
	}

	rawLn, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("serve: decoy listener: %w", err)
	}
	decoyLn := fingerprint.NewListener(rawLn, fingerprint.ListenerOptions{TLSConfig: tlsCfg, OnMalformed: rec.Malformed, ErrorPage: d.ErrorPage})
	adminLn, err := net.Listen("tcp", cfg.AdminListen)
	if err != nil {
		decoyLn.Close()
		return fmt.Errorf("serve: admin listener: %w", err)
	}
	adminLog := logger.With().Str("component", "admin").Logger()
	admin, err := web.NewAdmin(web.AdminOptions{Token: tok.Token, Store: st, Logger: &adminLog,
		Minter: minter, Sighting: rec.Sighting, AlertRoutes: alertRoutes, NotifyAlerts: notifyOf(dispatcher),
		Decoy: d, Tarpit: tarpitStats(tp), Metrics: met.Handler()})
	if err != nil {
		return err
	}

	dnsSrv, dnsAddr, err := startBeacon(cfg, minter, rec, logger)
	if err != nil {
		decoyLn.Close()
		adminLn.Close()
		return err
	}

	decoySrv := newHTTPServer(newDecoyHandler(d, logger), logger.With().Str("component", "decoy_http").Logger())
	adminSrv := newHTTPServer(admin, logger.With().Str("component", "admin_http").Logger())

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The dispatcher delivers the outbox, including alerts raised before a
	// restart; it stops after the listeners have drained.
	dispatchCtx, stopDispatch := context.WithCancel(context.Background())
	dispatchDone := make(chan struct{})
	if dispatcher != nil {
		go func() { dispatcher.Run(dispatchCtx); close(dispatchDone) }()
	} else {
		close(dispatchDone)
	}
	defer func() { stopDispatch(); <-dispatchDone }()

	errc := make(chan error, 3)
	go func() { errc <- serveOn(decoySrv, decoyLn, "decoy", true) }()
	go func() { errc <- serveOn(adminSrv, adminLn, "admin", false) }()
	if dnsSrv != nil {
		go func() {
			if err := dnsSrv.run(); err != nil {
				errc <- err
			}
		}()
	}

	secretSource := "key_file"
	if id.Source == "config" {
		secretSource = "config"
	}
	logger.Info().
		Str("listen", decoyLn.Addr().String()).
		Str("admin_listen", adminLn.Addr().String()).
		Str("db", cfg.DB).
		Strs("specs", summary.names).
		Int("operations", summary.operations).
		Str("server_profile", cfg.Decoy.ServerProfile).
		Str("credentials", cfg.Decoy.Credentials).
		Str("secret_source", secretSource).
		Str("tls", cfg.TLS).
		Str("durability", cfg.Store.Durability).
		Str("dns_listen", dnsAddr).
		Str("dns_zone", cfg.Tokens.DNSZone).
		Str("token_host", minter.DecoyHost()).
		Strs("alert_channels", routeNames(alertRoutes)).
		Str("tarpit", cfg.Tarpit.Mode).
		Int("rate_limit", cfg.Decoy.RateLimit).
		Msg("serving")

	if !isLoopback(adminLn.Addr()) {
		logger.Warn().Str("admin_listen", adminLn.Addr().String()).
			Msg("the admin listener is reachable beyond this host; publish it only where attackers cannot reach it")
	}

	var serveErr error
	select {
	case <-ctx.Done():
		logger.Info().Msg("shutting down")
	case serveErr = <-errc:
		logger.Error().Err(serveErr).Msg("listener failed; shutting down")
	}
	stop() // a second signal now ends the process at once

	drainCtx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	shutdown := func(name string, srv *http.Server) {
		if err := srv.Shutdown(drainCtx); err != nil {
			logger.Warn().Err(err).Str("listener", name).Msg("drain timed out; closing connections")
			srv.Close()
		}
	}
	shutdown("decoy", decoySrv)
	shutdown("admin", adminSrv)
	if dnsSrv != nil {
		if err := dnsSrv.srv.Shutdown(drainCtx); err != nil {
			logger.Warn().Err(err).Msg("dns listener: drain timed out")
		}
	}
	logger.Info().Msg("stopped")
	return serveErr
}

// newTarpit builds the tarpit from the configuration; nil when it is off.
func newTarpit(cfg *config.Config) (*tarpit.Tarpit, error) {
	c := cfg.Tarpit
	if c.Mode == "off" {
		return nil, nil
	}
	return tarpit.New(tarpit.Config{
		Latency:      time.Duration(c.Latency),
		MaxDelay:     time.Duration(c.MaxDelay),
		HandlerDelay: time.Duration(c.HandlerDelay),
		Scanners:     tarpit.Mode(c.Scanners),
		DripRisk:     c.DripRisk,
		DripBytes:    c.DripBytes,
		DripInterval: time.Duration(c.DripInterval),
		KeepAlive:    time.Duration(c.KeepAlive),
		MaxHold:      time.Duration(c.MaxHold),
		MaxHeld:      c.MaxHeld,
		MaxHeldPerIP: c.MaxHeldPerIP,
		WriteTimeout: time.Duration(c.WriteTimeout),
	})
}

// tarpitStats adapts the tarpit's live figures for the admin API.
func tarpitStats(tp *tarpit.Tarpit) func() web.TarpitStats {
	if tp == nil {
		return nil
	}
	return func() web.TarpitStats {
		st := tp.Stats()
		return web.TarpitStats{Held: st.Held, HeldByIP: st.HeldByIP, InHandler: st.InHandler,
			Holds: st.Holds, Refused: st.Refused, WaitedSeconds: st.Waited.Seconds()}
	}
}

// serveOn serves srv on ln and returns nil after a graceful shutdown.
// A capture listener is served through fingerprint.Serve, which adds the
// per-connection capture context and HTTP/2 over TLS.
func serveOn(srv *http.Server, ln net.Listener, name string, capture bool) error {
	var err error
	if capture {
		err = fingerprint.Serve(srv, ln)
	} else {
		err = srv.Serve(ln)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %s listener: %w", name, err)
	}
	return nil
}

// specSummary describes the loaded specs for the startup log line.
type specSummary struct {
	names      []string
	operations int
}

// loadSpecs resolves each spec (a file if one exists at that path, else a
// built-in template) and fails on the first that cannot be loaded, naming it.
func loadSpecs(specs []string, logger zerolog.Logger) ([]*decoys.Document, specSummary, error) {
	var (
		docs []*decoys.Document
		sum  specSummary
	)
	for _, spec := range specs {
		if looksLikePath(spec) {
			if _, err := os.Stat(spec); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil, sum, fmt.Errorf("serve: spec %s: no such file, and not a built-in template name (see 'honeyapi templates')", spec)
				}
				return nil, sum, fmt.Errorf("serve: spec %s: %w", spec, err)
			}
		}
		doc, err := decoys.Resolve(spec)
		if err != nil {
			if strings.Contains(err.Error(), spec) {
				return nil, sum, fmt.Errorf("serve: %w", err)
			}
			return nil, sum, fmt.Errorf("serve: spec %s: %w", spec, err)
		}
		name, ops := spec, 0
		if doc != nil {
			docs = append(docs, doc)
			if doc.Name != "" {
				name = doc.Name
			}
			ops = countOperations(doc)
		}
		logger.Info().Str("spec", name).Str("source", spec).Int("operations", ops).Msg("loaded spec")
		sum.names = append(sum.names, name)
		sum.operations += ops
	}
	return docs, sum, nil
}

// looksLikePath reports whether spec is meant as a file rather than a
// template name, so a missing file gets a message about the file.
func looksLikePath(spec string) bool {
	if strings.ContainsAny(spec, `/\`) {
		return true
	}
	switch strings.ToLower(filepath.Ext(spec)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

func countOperations(doc *decoys.Document) int {
	if doc == nil || doc.Spec == nil || doc.Spec.Paths == nil {
		return 0
	}
	n := 0
	for _, item := range doc.Spec.Paths.Map() {
		if item != nil {
			n += len(item.Operations())
		}
	}
	return n
}

// isLoopback reports whether a listener accepts only local connections.
func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// decoyTLS returns the decoy listener's TLS configuration, or nil for
// plain HTTP.
func decoyTLS(cfg *config.Config) (*tls.Config, error) {
	var cert tls.Certificate
	var err error
	switch cfg.TLS {
	case "off", "":
		return nil, nil
	case "files":
		cert, err = tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("serve: tls_cert/tls_key: %w", err)
		}
	case "self-signed":
		host, _, _ := net.SplitHostPort(cfg.Listen)
		hosts := []string{"localhost"}
		if host != "" && host != "0.0.0.0" && host != "::" {
			hosts = append(hosts, host)
		}
		cert, err = fingerprint.SelfSignedCertificate(hosts)
		if err != nil {
			return nil, fmt.Errorf("serve: generating a certificate: %w", err)
		}
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10}, nil
}

// decoyHost is the host honeytokens point at (JWT issuers, DB URLs,
// canary URLs): the public URL's host if configured, else the built-in
// default.
func decoyHost(cfg *config.Config) string {
	if cfg.Tokens.DecoyHost != "" {
		return cfg.Tokens.DecoyHost
	}
	if u, err := url.Parse(cfg.Decoy.PublicURL); err == nil && u.Host != "" {
		return u.Host
	}
	return tokens.DefaultDecoyHost
}
