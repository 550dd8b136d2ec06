package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/honeyapi/honeyapi/internal/config"
	"github.com/honeyapi/honeyapi/internal/deployment"
	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/web"
)

// source is where the CLI reads events and actors: the running server's
// admin API, or the database file when no server is running.
type source interface {
	Events(store.Query) ([]store.Event, error)
	Actors(store.ActorQuery) ([]store.Actor, error)
	Close() error
}

// openSource prefers the admin API of a running server (the database file
// is locked while it runs) and falls back to opening the file read-only.
func openSource(a *app, cfg *config.Config) (source, error) {
	envTok, _ := a.lookupEnv("HONEYAPI_ADMIN_TOKEN")
	base := "http://" + dialAddr(cfg.AdminListen)
	if tok, err := deployment.ReadAdminToken(cfg.DB, envTok); err == nil && tok != "" {
		c := &apiSource{base: base, token: tok, client: &http.Client{Timeout: 10 * time.Second}}
		if c.alive() {
			return c, nil
		}
	}
	st, err := store.Open(store.Options{Path: cfg.DB, ReadOnly: true})
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("the database %s is in use by a running server, and its admin API at %s did not answer with the admin token (set HONEYAPI_ADMIN_TOKEN or check admin_listen)", cfg.DB, base)
	}
	if err != nil {
		return nil, err
	}
	return fileSource{st}, nil
}

// dialAddr turns a listen address (":8081", "0.0.0.0:8081") into one to dial.
func dialAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

type fileSource struct{ st *store.Store }

func (f fileSource) Events(q store.Query) ([]store.Event, error)      { return f.st.Events(q) }
func (f fileSource) Actors(q store.ActorQuery) ([]store.Actor, error) { return f.st.Actors(q) }
func (f fileSource) Close() error                                     { return f.st.Close() }

type apiSource struct {
	base, token string
	client      *http.Client
}

func (c *apiSource) Close() error { return nil }

func (c *apiSource) alive() bool {
	req, _ := http.NewRequest("GET", c.base+"/api/v1/actors?limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	cl := &http.Client{Timeout: time.Second}
	resp, err := cl.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (c *apiSource) get(path string, v url.Values, out any) error {
	req, err := http.NewRequest("GET", c.base+path+"?"+v.Encode(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("admin API: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 256<<20)).Decode(out)
}

func (c *apiSource) Events(q store.Query) ([]store.Event, error) {
	v := url.Values{}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	if q.Actor != "" {
		v.Set("actor", q.Actor)
	}
	if q.IP != "" {
		v.Set("ip", q.IP)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Reverse {
		v.Set("order", "desc")
	} else {
		v.Set("order", "asc")
	}
	var zero store.ID
	if q.After != zero {
		v.Set("after", q.After.String())
	}
	if q.Before != zero {
		v.Set("before", q.Before.String())
	}
	var out web.EventList
	if err := c.get("/api/v1/events", v, &out); err != nil {
		return nil, err
	}
	return out.Events, nil
}

func (c *apiSource) Actors(q store.ActorQuery) ([]store.Actor, error) {
	v := url.Values{}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.MinRisk > 0 {
		v.Set("min_risk", strconv.Itoa(q.MinRisk))
	}
	if q.After != "" {
		v.Set("cursor", q.After)
	}
	var out web.ActorList
	if err := c.get("/api/v1/actors", v, &out); err != nil {
		return nil, err
	}
	return out.Actors, nil
}

// openQuery checks the flags the listing commands share and opens the
// source they read.
func openQuery(cmd *cobra.Command, a *app, since string, limit int) (source, time.Time, error) {
	cfg, err := config.Load(cmd.Flags(), a.lookupEnv)
	if err != nil {
		return nil, time.Time{}, usageError{err}
	}
	from, err := parseSince(since)
	if err != nil {
		return nil, time.Time{}, usageError{err}
	}
	if limit < 1 || limit > 1000 {
		return nil, time.Time{}, usageError{errors.New("--limit must be from 1 to 1000")}
	}
	src, err := openSource(a, cfg)
	return src, from, err
}

// parseSince accepts an RFC 3339 time or a duration meaning "that long ago".
func parseSince(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return time.Now().Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want an RFC 3339 time or a duration such as 15m or 24h", s)
}

func newEventsCmd(a *app) *cobra.Command {
	var (
		since, actor, ip string
		limit            int
		follow, asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "events",
		Short: "List recorded interactions",
		Long: `List recorded interactions, newest last. Works whether the server is running
(through its admin API, with the admin token) or not (reading the database file).`,
		Example: `  honeyapi events --since 1h
  honeyapi events --actor act_01JD3Q0Z4K9X2 --json
  honeyapi events --ip 203.0.113.7 --follow`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, from, err := openQuery(cmd, a, since, limit)
			if err != nil {
				return err
			}
			defer src.Close()
			q := store.Query{Since: from, Actor: actor, IP: ip, Limit: limit, Reverse: true}
			evs, err := src.Events(q)
			if err != nil {
				return err
			}
			for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
				evs[i], evs[j] = evs[j], evs[i]
			}
			p := newEventPrinter(a.stdout, asJSON)
			p.print(evs)
			if !follow {
				return p.flush()
			}
			p.flush()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var last store.ID
			if len(evs) > 0 {
				last = evs[len(evs)-1].ID
			}
			return followEvents(ctx, src, q, last, p)
		},
	}
	f := cmd.Flags()
	f.StringVar(&since, "since", "", "only events after this time (RFC 3339) or this long ago (15m, 24h)")
	f.StringVar(&actor, "actor", "", "only this actor's events")
	f.StringVar(&ip, "ip", "", "only events from this client IP")
	f.IntVar(&limit, "limit", 50, "how many events (1–1000)")
	f.BoolVarP(&follow, "follow", "f", false, "keep printing new events as they are recorded")
	f.BoolVar(&asJSON, "json", false, "one JSON object per line")
	return cmd
}

func followEvents(ctx context.Context, src source, q store.Query, last store.ID, p *eventPrinter) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	q.Reverse = false
	q.Since = time.Time{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		q.After = last
		evs, err := src.Events(q)
		if err != nil {
			return err
		}
		if len(evs) > 0 {
			last = evs[len(evs)-1].ID
			p.print(evs)
			p.flush()
		}
	}
}

type eventPrinter struct {
	w      io.Writer
	tw     *tabwriter.Writer
	json   bool
	header bool
}

func newEventPrinter(w io.Writer, asJSON bool) *eventPrinter {
	return &eventPrinter{w: w, json: asJSON, tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
}

func (p *eventPrinter) print(evs []store.Event) {
	if p.json {
		enc := json.NewEncoder(p.w)
		for i := range evs {
			_ = enc.Encode(&evs[i])
		}
		return
	}
	if !p.header {
		fmt.Fprintln(p.tw, "TIME\tACTOR\tCLIENT IP\tMETHOD\tPATH\tSTATUS\tCLIENT\tRISK\tSTAGE")
		p.header = true
	}
	for _, e := range evs {
		client := e.Client.Family
		if e.Client.Tool != "" && e.Client.Tool != e.Client.Family {
			client += "/" + e.Client.Tool
		}
		if e.Client.Mismatch {
			client += "!"
		}
		path := e.Path
		if e.Query != "" {
			path += "?" + e.Query
		}
		if e.Kind == "malformed" {
			path = "(malformed) " + e.Note
		}
		fmt.Fprintf(p.tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%d\t%s\n",
			e.Time.Local().Format("2006-01-02 15:04:05"), safe(e.Actor, 24), safe(e.ClientIP, 40), safe(e.Method, 10),
			safe(path, 80), e.Status, safe(client, 24), e.Risk, safe(e.Stage, 20))
	}
}

func (p *eventPrinter) flush() error {
	if p.json {
		return nil
	}
	return p.tw.Flush()
}

// safe makes attacker-controlled text harmless on a terminal: control
// characters (escape sequences that could rewrite the screen) are shown as
// Go escapes, tabs cannot break the table, and the length is bounded.
func safe(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n >= max {
			b.WriteString("…")
			break
		}
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) || r == '\t' {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		} else {
			b.WriteRune(r)
		}
		n++
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

func newActorsCmd(a *app) *cobra.Command {
	var (
		since   string
		limit   int
		minRisk int
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "actors",
		Short: "List actors: clients clustered by fingerprint, IP and credential",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, from, err := openQuery(cmd, a, since, limit)
			if err != nil {
				return err
			}
			defer src.Close()
			as, err := src.Actors(store.ActorQuery{Since: from, Limit: limit, MinRisk: minRisk})
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				for i := range as {
					_ = enc.Encode(&as[i])
				}
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ACTOR\tFIRST SEEN\tLAST SEEN\tEVENTS\tIPS\tCLIENTS\tRISK\tSTAGE\tTOP SIGNAL")
			for _, x := range as {
				top := "-"
				if len(x.Signals) > 0 {
					top = x.Signals[0]
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%d\t%s\t%s\n", safe(x.ID, 24),
					x.FirstSeen.Local().Format("2006-01-02 15:04"), x.LastSeen.Local().Format("2006-01-02 15:04"),
					x.Events, len(x.IPs), safe(strings.Join(x.Families, ","), 32), x.Risk, safe(x.Stage, 20), safe(top, 70))
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&since, "since", "", "only actors seen after this time (RFC 3339) or this long ago (15m, 24h)")
	f.IntVar(&limit, "limit", 50, "how many actors (1–1000)")
	f.IntVar(&minRisk, "min-risk", 0, "only actors with at least this risk (0–100)")
	f.BoolVar(&asJSON, "json", false, "one JSON object per line")
	return cmd
}

func newDBCmd(a *app) *cobra.Command {
	db := &cobra.Command{Use: "db", Short: "Maintain the database"}
	compact := &cobra.Command{
		Use:   "compact",
		Short: "Rewrite the database file without its free space (stop the server first)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cmd.Flags(), a.lookupEnv)
			if err != nil {
				return usageError{err}
			}
			before, err := os.Stat(cfg.DB)
			if err != nil {
				return fmt.Errorf("db compact: %w", err)
			}
			tmp := cfg.DB + ".compact"
			_ = os.Remove(tmp)
			if err := store.Compact(cfg.DB, tmp); err != nil {
				_ = os.Remove(tmp)
				if errors.Is(err, store.ErrLocked) {
					return fmt.Errorf("db compact: %s is in use by a running server; stop it first", cfg.DB)
				}
				return fmt.Errorf("db compact: %w", err)
			}
			if err := os.Chmod(tmp, before.Mode().Perm()); err != nil {
				return fmt.Errorf("db compact: %w", err)
			}
			if err := os.Rename(tmp, cfg.DB); err != nil {
				return fmt.Errorf("db compact: %w", err)
			}
			after, _ := os.Stat(cfg.DB)
			fmt.Fprintf(a.stdout, "compacted %s: %d → %d bytes\n", cfg.DB, before.Size(), after.Size())
			return nil
		},
	}
	db.AddCommand(compact)
	return db
}
