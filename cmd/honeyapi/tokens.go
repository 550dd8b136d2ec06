package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/honeyapi/honeyapi/internal/config"
	"github.com/honeyapi/honeyapi/internal/deployment"
	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/tokens"
	"github.com/honeyapi/honeyapi/web"
)

// quietExit makes a command exit with code without printing an error: "no
// honeytoken" from check and scan is an answer, not a failure.
type quietExit struct{ code int }

func (q quietExit) Error() string { return "exit " + strconv.Itoa(q.code) }

// codeError is an error with its own exit code (scan fails with 2, as grep
// does, because 1 means "nothing found").
type codeError struct {
	code int
	err  error
}

func (c codeError) Error() string { return c.err.Error() }
func (c codeError) Unwrap() error { return c.err }

func newTokensCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tokens",
		Short: "Mint, seed, list and recognise honeytokens",
		Long: `Honeytokens are fake credentials in the exact formats of real provider secrets.
Each carries a MAC under this deployment's key (<db>.key), so any honeyapi with
the key recognises it offline, wherever it is presented. The database keeps
where each token was planted and every use.

Kinds: ` + kindNames() + `.`,
	}
	cmd.AddCommand(newTokensNewCmd(a), newTokensListCmd(a), newTokensShowCmd(a), newTokensRevokeCmd(a),
		newTokensCheckCmd(a), newTokensScanCmd(a), newTokensSeedCmd(a))
	return cmd
}

func kindNames() string {
	var out []string
	for _, k := range tokens.Kinds() {
		out = append(out, string(k))
	}
	return strings.Join(out, ", ")
}

// loadMinter builds the deployment's Minter. With create false, a missing
// key file is an error rather than a new key: recognising with a fresh key
// would silently find nothing.
func loadMinter(cfg *config.Config, create bool) (*tokens.Minter, error) {
	if !create && cfg.Secret == "" {
		if _, err := os.Stat(deployment.KeyFilePath(cfg.DB)); err != nil {
			return nil, fmt.Errorf("no deployment key at %s: run this where the server's database lives (--db), or set HONEYAPI_SECRET to the deployment secret", deployment.KeyFilePath(cfg.DB))
		}
	}
	id, err := deployment.Load(cfg.DB, []byte(cfg.Secret))
	if err != nil {
		return nil, err
	}
	return tokens.NewMinter(id.Secret, tokens.MinterOptions{DecoyHost: decoyHost(cfg), DNSZone: cfg.Tokens.DNSZone})
}

// tokenStore is where the token commands read and write token records: the
// running server's admin API, or the database file when no server runs.
type tokenStore interface {
	Save(ctx context.Context, m *tokens.Minter, recs ...*store.Token) error
	List(q store.TokenQuery) ([]store.Token, error)
	Show(id string) (*store.Token, []store.Event, error)
	Revoke(ctx context.Context, id string) (*store.Token, error)
	Close() error
}

func openTokenStore(a *app, cfg *config.Config, write bool) (tokenStore, error) {
	envTok, _ := a.lookupEnv("HONEYAPI_ADMIN_TOKEN")
	base := "http://" + dialAddr(cfg.AdminListen)
	if tok, err := deployment.ReadAdminToken(cfg.DB, envTok); err == nil && tok != "" {
		c := &apiSource{base: base, token: tok, client: &http.Client{Timeout: 10 * time.Second}}
		if c.alive() {
			return apiTokens{c}, nil
		}
	}
	if !write {
		if _, err := os.Stat(cfg.DB); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no database at %s (and no server answering at %s)", cfg.DB, base)
		}
	}
	st, err := store.Open(store.Options{Path: cfg.DB, ReadOnly: !write})
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("the database %s is in use by a running server, and its admin API at %s did not answer with the admin token (set HONEYAPI_ADMIN_TOKEN or check admin_listen)", cfg.DB, base)
	}
	if err != nil {
		return nil, err
	}
	return fileTokens{st}, nil
}

type fileTokens struct{ st *store.Store }

func (f fileTokens) Save(ctx context.Context, _ *tokens.Minter, recs ...*store.Token) error {
	return f.st.SaveTokens(ctx, recs...)
}
func (f fileTokens) List(q store.TokenQuery) ([]store.Token, error) { return f.st.Tokens(q) }
func (f fileTokens) Show(id string) (*store.Token, []store.Event, error) {
	t, err := f.st.Token(id)
	if err != nil {
		return nil, nil, err
	}
	hits, err := f.st.Events(store.Query{Token: id, Limit: 50, Reverse: true})
	return t, hits, err
}
func (f fileTokens) Revoke(ctx context.Context, id string) (*store.Token, error) {
	return f.st.RevokeToken(ctx, id)
}
func (f fileTokens) Close() error { return f.st.Close() }

type apiTokens struct{ c *apiSource }

func (t apiTokens) Close() error { return nil }

func (t apiTokens) do(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, t.c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+t.c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := t.c.client.Do(req)
	if err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return store.ErrNotFound
	}
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("admin API: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(out)
}

func (t apiTokens) Save(_ context.Context, _ *tokens.Minter, recs ...*store.Token) error {
	for _, r := range recs {
		req := web.NewToken{Kind: r.Kind, Note: r.Note, Value: r.Value, Fields: r.Fields, Source: r.Source, Placements: r.Placements}
		if err := t.do("POST", "/api/v1/tokens", req, nil); err != nil {
			return fmt.Errorf("registering token %s: %w", r.ID, err)
		}
	}
	return nil
}

func (t apiTokens) List(q store.TokenQuery) ([]store.Token, error) {
	v := url.Values{}
	if q.Kind != "" {
		v.Set("kind", q.Kind)
	}
	if q.Source != "" {
		v.Set("source", q.Source)
	}
	if q.Active {
		v.Set("active", "true")
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.After != "" {
		v.Set("cursor", q.After)
	}
	var out web.TokenList
	err := t.do("GET", "/api/v1/tokens?"+v.Encode(), nil, &out)
	return out.Tokens, err
}

func (t apiTokens) Show(id string) (*store.Token, []store.Event, error) {
	var out web.TokenDetail
	if err := t.do("GET", "/api/v1/tokens/"+url.PathEscape(id), nil, &out); err != nil {
		return nil, nil, err
	}
	return &out.Token, out.Hits, nil
}

func (t apiTokens) Revoke(_ context.Context, id string) (*store.Token, error) {
	var out store.Token
	if err := t.do("POST", "/api/v1/tokens/"+url.PathEscape(id)+"/revoke", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func newTokensNewCmd(a *app) *cobra.Command {
	var note string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "new KIND",
		Short: "Mint a honeytoken and record it",
		Long:  "Mint a honeytoken of KIND (" + kindNames() + ") and record it in the database.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(cmd.Flags(), a.lookupEnv)
			if err != nil {
				return usageError{err}
			}
			kind := tokens.Kind(strings.ToLower(args[0]))
			if !kind.Valid() {
				return usageError{fmt.Errorf("unknown kind %q; kinds: %s", args[0], kindNames())}
			}
			if kind == tokens.DNS && cfg.Tokens.DNSZone == "" {
				return usageError{errors.New("dns tokens need a zone: set tokens.dns_zone (--dns-zone, HONEYAPI_DNS_ZONE) and delegate it to the DNS listener")}
			}
			m, err := loadMinter(cfg, true)
			if err != nil {
				return err
			}
			tok, err := m.New(kind)
			if err != nil {
				return err
			}
			rec := web.TokenRecord(m, tok, store.SourceCLI, note)
			rec.Created = time.Now().UTC()
			ts, err := openTokenStore(a, cfg, true)
			if err != nil {
				return err
			}
			defer ts.Close()
			if err := ts.Save(cmd.Context(), m, rec); err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(rec)
			}
			printToken(a.stdout, rec)
			return nil
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "where you will plant it, for the alert (\"prod .env on build-01\")")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the token record as JSON")
	return cmd
}

// printToken prints a token for a person: the value to plant and its parts.
func printToken(w io.Writer, t *store.Token) {
	fmt.Fprintf(w, "%s honeytoken %s", t.Kind, t.ID)
	if t.Note != "" {
		fmt.Fprintf(w, " (%s)", safe(t.Note, 200))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  value: %s\n", t.Value)
	keys := make([]string, 0, len(t.Fields))
	for k := range t.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if t.Kind == string(tokens.Basic) && k == "password" {
			continue // the value
		}
		fmt.Fprintf(w, "  %s: %s\n", k, t.Fields[k])
	}
	if t.Decoy != "" {
		fmt.Fprintf(w, "  points at: %s\n", t.Decoy)
	}
}

func newTokensListCmd(a *app) *cobra.Command {
	var (
		kind, source string
		active       bool
		limit        int
		asJSON       bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List honeytokens, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cmd.Flags(), a.lookupEnv)
			if err != nil {
				return usageError{err}
			}
			if limit < 1 || limit > 1000 {
				return usageError{errors.New("--limit must be from 1 to 1000")}
			}
			ts, err := openTokenStore(a, cfg, false)
			if err != nil {
				return err
			}
			defer ts.Close()
			list, err := ts.List(store.TokenQuery{Kind: kind, Source: source, Active: active, Limit: limit})
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				for i := range list {
					_ = enc.Encode(&list[i])
				}
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tKIND\tSOURCE\tCREATED\tHITS\tLAST HIT\tSTATE\tWHERE")
			for _, t := range list {
				last, state := "-", "active"
				if !t.LastHit.IsZero() {
					last = t.LastHit.Local().Format("2006-01-02 15:04")
				}
				if !t.Revoked.IsZero() {
					state = "revoked"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", t.ID, safe(t.Kind, 16), safe(t.Source, 12),
					t.Created.Local().Format("2006-01-02 15:04"), t.Hits, last, state, safe(whereOf(&t), 70))
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&kind, "kind", "", "only tokens of this kind")
	f.StringVar(&source, "source", "", "only tokens from this source: cli, seed, breadcrumb, api, sighted")
	f.BoolVar(&active, "active", false, "leave out revoked tokens")
	f.IntVar(&limit, "limit", 100, "how many tokens (1–1000)")
	f.BoolVar(&asJSON, "json", false, "one JSON object per line")
	return cmd
}

// whereOf summarises where a token was planted.
func whereOf(t *store.Token) string {
	var parts []string
	if t.Note != "" {
		parts = append(parts, t.Note)
	}
	if n := len(t.Placements); n > 0 {
		p := t.Placements[n-1]
		s := p.Path
		if p.Repo != "" {
			s = p.Repo + ":" + s
		}
		if p.Where != "" {
			s = p.Where
		}
		if n > 1 {
			s += fmt.Sprintf(" (+%d more)", n-1)
		}
		parts = append(parts, s)
	}
	if t.Actor != "" {
		parts = append(parts, "served to "+t.Actor)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "; ")
}

func newTokensShowCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show a honeytoken, where it was planted and its recent uses",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(cmd.Flags(), a.lookupEnv)
			if err != nil {
				return usageError{err}
			}
			ts, err := openTokenStore(a, cfg, false)
			if err != nil {
				return err
			}
			defer ts.Close()
			t, hits, err := ts.Show(strings.ToLower(args[0]))
			if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrBadTokenID) {
				return fmt.Errorf("no token %q", safe(args[0], 40))
			}
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(web.TokenDetail{Token: *t, Hits: hits})
			}
			printToken(a.stdout, t)
			fmt.Fprintf(a.stdout, "  source: %s, created %s\n", t.Source, t.Created.Local().Format(time.RFC3339))
			if !t.Revoked.IsZero() {
				fmt.Fprintf(a.stdout, "  revoked: %s\n", t.Revoked.Local().Format(time.RFC3339))
			}
			if t.Actor != "" {
				fmt.Fprintf(a.stdout, "  served to actor %s in event %s\n", safe(t.Actor, 64), t.Event)
			}
			for _, p := range t.Placements {
				fmt.Fprintf(a.stdout, "  planted %s:", p.Time.Local().Format("2006-01-02 15:04"))
				for _, kv := range [][2]string{{"host", p.Host}, {"repo", p.Repo}, {"path", p.Path}, {"where", p.Where}} {
					if kv[1] != "" {
						fmt.Fprintf(a.stdout, " %s=%s", kv[0], safe(kv[1], 200))
					}
				}
				fmt.Fprintln(a.stdout)
			}
			fmt.Fprintf(a.stdout, "  hits: %d\n", t.Hits)
			if len(hits) > 0 {
				p := newEventPrinter(a.stdout, false)
				p.print(hits)
				return p.flush()
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the token and its recent hits as JSON")
	return cmd
}

func newTokensRevokeCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Retire a honeytoken (its uses are still recorded, and marked as of a revoked token)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(cmd.Flags(), a.lookupEnv)
			if err != nil {
				return usageError{err}
			}
			ts, err := openTokenStore(a, cfg, true)
			if err != nil {
				return err
			}
			defer ts.Close()
			t, err := ts.Revoke(cmd.Context(), strings.ToLower(args[0]))
			if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrBadTokenID) {
				return fmt.Errorf("no token %q", safe(args[0], 40))
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "revoked %s token %s at %s\n", t.Kind, t.ID, t.Revoked.Local().Format(time.RFC3339))
			return nil
		},
	}
}

func newTokensCheckCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "check STRING|-",
		Short: "Say whether STRING is a honeytoken of this deployment (exit 0) or not (exit 1)",
		Long: `Say whether STRING is a honeytoken of this deployment: exit status 0 and its
kind and id when it is, 1 when it is not. "-" reads the string from standard
input (keeps it out of shell history). Works offline with the deployment key.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(cmd.Flags(), a.lookupEnv)
			if err != nil {
				return usageError{err}
			}
			m, err := loadMinter(cfg, false)
			if err != nil {
				return codeError{2, err}
			}
			s := args[0]
			if s == "-" {
				b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<20))
				if err != nil {
					return err
				}
				s = string(b)
			}
			s = strings.TrimSpace(s)
			if id, kind, ok := m.Recognize(s); ok {
				fmt.Fprintf(a.stdout, "honeytoken: %s %s\n", kind, id)
				return nil
			}
			// A line around the token (an env assignment, a header) also counts.
			if hits := m.Find(s); len(hits) > 0 {
				for _, h := range hits {
					fmt.Fprintf(a.stdout, "honeytoken: %s %s\n", h.Kind, h.ID)
				}
				return nil
			}
			fmt.Fprintln(a.stdout, "not a honeytoken of this deployment")
			return quietExit{1}
		},
	}
}

func newTokensScanCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "scan FILE|-...",
		Short: "Find honeytokens in files or logs (exit 0 when found, 1 when none)",
		Long: `Find this deployment's honeytokens in files or standard input ("-"), line by
line: Authorization headers, env assignments, URLs, JSON logs, Basic
credentials in base64. Prints FILE:LINE: KIND ID for each, and exits 0 when
any was found, 1 when none, 2 on error (like grep).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(cmd.Flags(), a.lookupEnv)
			if err != nil {
				return usageError{err}
			}
			m, err := loadMinter(cfg, false)
			if err != nil {
				return codeError{2, err}
			}
			found := 0
			enc := json.NewEncoder(a.stdout)
			for _, name := range args {
				var r io.Reader
				if name == "-" {
					r = cmd.InOrStdin()
					name = "(stdin)"
				} else {
					f, err := os.Open(name)
					if err != nil {
						return codeError{2, err}
					}
					defer f.Close()
					r = f
				}
				err := m.Scan(r, func(line int, h tokens.Hit) error {
					found++
					if asJSON {
						return enc.Encode(map[string]any{"file": name, "line": line, "kind": h.Kind, "id": h.ID.String()})
					}
					_, err := fmt.Fprintf(a.stdout, "%s:%d: %s %s\n", name, line, h.Kind, h.ID)
					return err
				})
				if err != nil {
					return codeError{2, fmt.Errorf("%s: %w", name, err)}
				}
			}
			if found == 0 {
				return quietExit{1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per token found")
	return cmd
}

func newTokensSeedCmd(a *app) *cobra.Command {
	var (
		into, note string
		kinds      []string
		force      bool
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "seed --into DIR",
		Short: "Write realistic files holding fresh honeytokens into a repo or home directory",
		Long: `Write realistic files holding fresh honeytokens into DIR, a repository or a home
directory: .env, config/production.yaml, terraform.tfvars, .aws/credentials and
.aws/config (endpoint_url at the decoy), .git-credentials, .npmrc,
.docker/config.json, .kube/config and .bash_history lines, each with the mode
the real tool gives it. Nothing is overwritten without --force (shell history is
appended to); symlinks are refused. Each token is recorded with where it was
planted (host, repository, file), so an alert says which file leaked.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cmd.Flags(), a.lookupEnv)
			if err != nil {
				return usageError{err}
			}
			if into == "" {
				return usageError{errors.New("--into DIR is required")}
			}
			var ks []tokens.Kind
			for _, k := range kinds {
				for _, part := range strings.Split(k, ",") {
					if part = strings.TrimSpace(strings.ToLower(part)); part == "" {
						continue
					}
					kind := tokens.Kind(part)
					if !kind.Valid() {
						return usageError{fmt.Errorf("unknown kind %q; kinds: %s", part, kindNames())}
					}
					if kind == tokens.DNS && cfg.Tokens.DNSZone == "" {
						return usageError{errors.New("dns tokens need a zone: set tokens.dns_zone (--dns-zone)")}
					}
					ks = append(ks, kind)
				}
			}
			m, err := loadMinter(cfg, true)
			if err != nil {
				return err
			}
			// Open the store first: a seeding nobody records is a token
			// whose alert says nothing.
			ts, err := openTokenStore(a, cfg, true)
			if err != nil {
				return err
			}
			defer ts.Close()
			files, err := m.Seed(into, tokens.SeedOptions{Kinds: ks, Force: force})
			if err != nil {
				return err
			}
			recs := placements(m, files, into, note)
			if err := ts.Save(cmd.Context(), m, recs...); err != nil {
				return fmt.Errorf("the files are written but recording the tokens failed (they are still recognised; run seed again with --force to re-record): %w", err)
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				for _, r := range recs {
					_ = enc.Encode(r)
				}
				return nil
			}
			for _, f := range files {
				verb := "wrote"
				if f.Appended {
					verb = "appended to"
				}
				var names []string
				for _, t := range f.Tokens {
					names = append(names, string(t.Kind))
				}
				fmt.Fprintf(a.stdout, "%s %s (%04o): %s\n", verb, f.Path, f.Mode.Perm(), strings.Join(names, ", "))
			}
			fmt.Fprintf(a.stdout, "recorded %d honeytokens\n", len(recs))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&into, "into", "", "directory to seed (a repository or a home directory); must exist")
	f.StringSliceVar(&kinds, "kinds", nil, "kinds to seed, comma-separated (default: all; dns only with tokens.dns_zone)")
	f.StringVar(&note, "note", "", "a note kept with every token (\"laptop of the release manager\")")
	f.BoolVar(&force, "force", false, "overwrite files that exist")
	f.BoolVar(&asJSON, "json", false, "print the token records as JSON, one per line")
	return cmd
}

// placements turns seeded files into token records: one per token, with a
// placement per file it went into.
func placements(m *tokens.Minter, files []tokens.SeedFile, dir, note string) []*store.Token {
	host, _ := os.Hostname()
	repo := repoOf(dir)
	now := time.Now().UTC()
	byID := map[tokens.ID]*store.Token{}
	var out []*store.Token
	for _, f := range files {
		for _, t := range f.Tokens {
			rec := byID[t.ID]
			if rec == nil {
				rec = web.TokenRecord(m, t, store.SourceSeed, note)
				rec.Created = now
				byID[t.ID] = rec
				out = append(out, rec)
			}
			rec.Placements = append(rec.Placements, store.Placement{Time: now, Host: host, Repo: repo, Path: f.Path})
		}
	}
	return out
}

// repoOf names the repository at dir: the URL of its "origin" remote when
// it is a git work tree, else its absolute path.
func repoOf(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	b, err := os.ReadFile(filepath.Join(abs, ".git", "config"))
	if err != nil || len(b) > 1<<20 {
		return abs
	}
	inOrigin := false
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			inOrigin = line == `[remote "origin"]`
			continue
		}
		if k, v, ok := strings.Cut(line, "="); inOrigin && ok && strings.TrimSpace(k) == "url" {
			v = strings.TrimSpace(v)
			// Never keep a credential of the remote's (https://user:pass@…).
			if u, err := url.Parse(v); err == nil && u.User != nil {
				u.User = nil
				v = u.String()
			}
			return v
		}
	}
	return abs
}
