package alerts

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/honeyapi/honeyapi/actors"
	"github.com/honeyapi/honeyapi/store"
)

// Rules say which events raise alerts and how severe they are. A honeytoken
// used is always critical. The others are configurable: a severity, or ""
// to turn the rule off.
type Rules struct {
	// Exploitation: an injection payload (SQL, command, template,
	// traversal, SSRF, XSS) in a request. Default high.
	Exploitation Severity
	// NewActor: an actor's first event. Default info.
	NewActor Severity
	// Stage: an actor reaching a new kill-chain stage. Default info.
	Stage Severity
}

// DefaultRules are the rules with their default severities.
var DefaultRules = Rules{Exploitation: High, NewActor: Info, Stage: Info}

// Aggregation windows: a burst from one actor within the window is one
// alert with a count (then one follow-up for the rest of the window).
var windows = map[string]time.Duration{
	"token_used":   time.Minute,
	"exploitation": 5 * time.Minute,
	"new_actor":    15 * time.Minute,
	"stage":        15 * time.Minute,
}

// Raiser builds the alerts an event raises, addressed to the channels that
// want their severity. It is what the recorder calls before committing an
// event: the alerts are committed with it.
type Raiser struct {
	Rules    Rules
	Channels []Route
	// Tokens looks up a honeytoken's record (where it was planted) for
	// the alert; nil leaves the alert with what the event says.
	Tokens func(id string) (*store.Token, error)
	// Logger receives every alert raised (the JSON log stream carries
	// alerts too). Nil: none.
	Logger *zerolog.Logger
	// DashboardURL is the base URL of the dashboard; alerts link to
	// <DashboardURL>/events/<event id>.
	DashboardURL string
}

// Route is a channel name and the least severity it receives.
type Route struct {
	Name        string
	MinSeverity Severity
}

// Raise returns the alerts ev raises (nil when none or no channel wants
// them). actor is the actor record as updated by the event.
func (r *Raiser) Raise(ev *store.Event, actor *store.Actor) []*store.Alert {
	if r == nil || len(r.Channels) == 0 {
		return nil
	}
	var out []*store.Alert
	add := func(rule string, sev Severity, key, title, summary string, tok *TokenInfo) {
		if sev.Rank() == 0 {
			return
		}
		var deliveries []store.Delivery
		for _, c := range r.Channels {
			if sev.Rank() >= c.MinSeverity.Rank() {
				deliveries = append(deliveries, store.Delivery{Channel: c.Name})
			}
		}
		if len(deliveries) == 0 {
			return
		}
		p := r.payload(ev, actor, rule, sev, title, summary, tok)
		body, err := json.Marshal(p)
		if err != nil {
			return
		}
		out = append(out, &store.Alert{
			Time: ev.Time, Severity: string(sev), Rule: rule, Key: key, Window: windows[rule],
			Actor: ev.Actor, Payload: body, Deliveries: deliveries,
		})
		if r.Logger != nil {
			r.Logger.Warn().Str("alert", rule).Str("severity", string(sev)).Str("actor", ev.Actor).
				Str("client_ip", ev.ClientIP).Str("title", clip(title, 200)).Msg("alert raised")
		}
	}

	// A honeytoken used: critical, always, one alert per token.
	for _, tag := range ev.Tags {
		rest, ok := strings.CutPrefix(tag, store.TokenTagPrefix)
		if !ok {
			continue
		}
		kind, id, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		tok := r.tokenInfo(id, kind, ev)
		title := "Honeytoken used: " + kind + " " + id
		if tok.Note != "" {
			title += " (" + clip(tok.Note, 80) + ")"
		}
		summary := fmt.Sprintf("A %s honeytoken was presented by %s", kind, orDash(ev.ClientIP))
		if tok.Where != "" {
			summary += " in " + tok.Where
		}
		add("token_used", Critical, "token_used:"+ev.Actor+":"+id, title, summary, tok)
	}
	if exploitation(ev) {
		add("exploitation", r.Rules.Exploitation, "exploitation:"+ev.Actor,
			"Exploitation attempt against "+orDash(ev.Document)+" decoy",
			fmt.Sprintf("%s sent %s", orDash(ev.ClientIP), strings.Join(injections(ev), ", ")), nil)
	}
	if actor != nil && actor.Events == 1 {
		add("new_actor", r.Rules.NewActor, "new_actor",
			"New actor reached a decoy", fmt.Sprintf("%s (%s) first seen", orDash(ev.ClientIP), orDash(ev.Client.Family)), nil)
	}
	for _, tag := range ev.Tags {
		if stage, ok := strings.CutPrefix(tag, actors.StageTagPrefix); ok && !(actor != nil && actor.Events == 1) {
			add("stage", r.Rules.Stage, "stage:"+ev.Actor+":"+stage,
				"Actor reached "+strings.ReplaceAll(stage, "_", " "), fmt.Sprintf("%s moved to %s", orDash(ev.ClientIP), stage), nil)
		}
	}
	return out
}

func exploitation(ev *store.Event) bool { return len(injections(ev)) > 0 }

func injections(ev *store.Event) []string {
	var out []string
	for _, s := range ev.Signals {
		if name, _, _ := strings.Cut(s, ":"); name == "injection" {
			out = append(out, clip(s, 64))
		}
	}
	return out
}

func (r *Raiser) tokenInfo(id, kind string, ev *store.Event) *TokenInfo {
	ti := &TokenInfo{ID: id, Kind: kind}
	// Where it was presented: the event's note says, per token.
	for _, part := range strings.Split(ev.Note, "; ") {
		if strings.HasPrefix(part, "honeytoken "+id+" ") {
			if _, where, ok := strings.Cut(part, " presented in "); ok {
				ti.Where = clip(where, 256)
			}
		}
	}
	for _, t := range ev.Tags {
		if t == "sigv4:valid" {
			ti.Signature = "valid"
		}
	}
	if r.Tokens == nil {
		return ti
	}
	rec, err := r.Tokens(id)
	if err != nil || rec == nil {
		return ti
	}
	ti.Note, ti.Source, ti.Decoy, ti.Revoked = rec.Note, rec.Source, rec.Decoy, !rec.Revoked.IsZero()
	if n := len(rec.Placements); n > 0 {
		p := rec.Placements[0]
		var parts []string
		for _, s := range []string{p.Host, p.Repo, p.Path, p.Where} {
			if s != "" {
				parts = append(parts, s)
			}
		}
		ti.Planted = strings.Join(parts, " ")
		if n > 1 {
			ti.Planted += fmt.Sprintf(" (and %d more places)", n-1)
		}
	}
	if rec.Source == store.SourceBreadcrumb && rec.Actor != "" {
		ti.Planted = "served to " + rec.Actor + " in " + ti.Planted
	}
	return ti
}

func (r *Raiser) payload(ev *store.Event, actor *store.Actor, rule string, sev Severity, title, summary string, tok *TokenInfo) *Payload {
	p := &Payload{
		Version: PayloadVersion, Time: ev.Time, Severity: sev, Rule: rule, Title: title, Summary: summary,
		Count: 1, FirstSeen: ev.Time, LastSeen: ev.Time, Token: tok,
		Client: ClientInfo{
			IP: ev.ClientIP, Actor: ev.Actor, Risk: ev.Risk, Stage: ev.Stage, Family: ev.Client.Family,
			Tool: ev.Client.Tool, UserAgent: clip(ev.Client.UserAgent, 512), HeaderFP: ev.Client.HeaderFP,
		},
		Request: &RequestInfo{
			Kind: ev.Kind, Listener: ev.Listener, Method: clip(ev.Method, 32), Host: clip(ev.Host, 256),
			Path: clip(ev.Path, 1024), Query: clip(ev.Query, 1024), Status: ev.Status,
		},
	}
	if ev.TLS != nil {
		p.Client.JA3, p.Client.JA4 = ev.TLS.JA3Hash, ev.TLS.JA4
	}
	if actor != nil {
		p.Client.Risk, p.Client.Stage = actor.Risk, actor.Stage
		for i, s := range actor.Signals {
			if i == 5 {
				break
			}
			p.Client.Signals = append(p.Client.Signals, clip(s, 160))
		}
	}
	return p
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// TestAlert builds the alert "honeyapi alerts test" sends: addressed to the
// named channel (every channel when name is ""), whatever its minimum
// severity.
func TestAlert(routes []Route, name string, now time.Time) (*store.Alert, error) {
	var deliveries []store.Delivery
	for _, r := range routes {
		if name == "" || r.Name == name {
			deliveries = append(deliveries, store.Delivery{Channel: r.Name})
		}
	}
	if len(deliveries) == 0 {
		if name == "" {
			return nil, fmt.Errorf("no alert channel is configured (alerts.slack, alerts.webhooks)")
		}
		return nil, fmt.Errorf("no alert channel named %q", name)
	}
	p := &Payload{
		Version: PayloadVersion, Time: now, Severity: Info, Rule: "test", Test: true,
		Title:   "honeyapi test alert",
		Summary: "This is a test of honeyapi's alert delivery. Nothing happened.",
		Count:   1, FirstSeen: now, LastSeen: now,
	}
	body, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return &store.Alert{Time: now, Severity: string(Info), Rule: "test", Payload: body, Deliveries: deliveries}, nil
}
