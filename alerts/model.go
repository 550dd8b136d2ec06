package alerts

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Severity orders alerts: a channel receives alerts at or above its
// minimum severity.
type Severity string

// Severities, lowest first.
const (
	Info     Severity = "info"
	High     Severity = "high"
	Critical Severity = "critical"
)

// Rank orders severities (info 1, high 2, critical 3; unknown 0).
func (s Severity) Rank() int {
	switch s {
	case Info:
		return 1
	case High:
		return 2
	case Critical:
		return 3
	}
	return 0
}

// PayloadVersion is the version of the webhook JSON payload. Fields are
// only ever added within a version.
const PayloadVersion = 1

// Payload is one alert as channels deliver it: the body of a webhook
// (JSON) and what a Slack message renders. Every string that comes from a
// request (paths, user agents, notes an attacker could influence) is
// attacker-controlled: channels escape it for their medium.
type Payload struct {
	Version int `json:"version"`
	// ID identifies the alert; it is also the idempotency key: a receiver
	// that sees the same ID twice has seen the same alert twice.
	ID       string    `json:"id"`
	Time     time.Time `json:"time"`
	Severity Severity  `json:"severity"`
	// Rule names what raised the alert: "token_used", "exploitation",
	// "new_actor", "stage", "test".
	Rule    string `json:"rule"`
	Title   string `json:"title"`
	Summary string `json:"summary"`
	// Count is how many events the alert stands for (a burst from one
	// actor is one alert); FirstSeen and LastSeen bound them.
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Token is set when a honeytoken was used.
	Token *TokenInfo `json:"token,omitempty"`
	// Client is who did it; Request is the request that raised the alert.
	Client  ClientInfo   `json:"client"`
	Request *RequestInfo `json:"request,omitempty"`
	// DashboardURL links to the event on the dashboard, when configured.
	DashboardURL string `json:"dashboard_url,omitempty"`
	// Test marks alerts sent by "honeyapi alerts test".
	Test bool `json:"test,omitempty"`
}

// TokenInfo says which honeytoken was used and where it had been planted.
type TokenInfo struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Note   string `json:"note,omitempty"`
	Source string `json:"source,omitempty"` // cli, seed, breadcrumb, api, sighted
	// Planted says where, in words: "build-01 git@example.com:acme/app.git .env",
	// or for a breadcrumb "served to act_… in GET /.env".
	Planted string `json:"planted,omitempty"`
	Decoy   string `json:"decoy,omitempty"`
	// Where the token was presented in the request ("header Authorization (Bearer)").
	Where string `json:"where,omitempty"`
	// Signature is "valid" when an AWS signature by the token's secret verified.
	Signature string `json:"signature,omitempty"`
	Revoked   bool   `json:"revoked,omitempty"`
}

// ClientInfo is what is known of the client.
type ClientInfo struct {
	IP        string   `json:"ip,omitempty"`
	Actor     string   `json:"actor,omitempty"`
	Risk      int      `json:"risk,omitempty"`
	Stage     string   `json:"stage,omitempty"`
	Family    string   `json:"family,omitempty"`
	Tool      string   `json:"tool,omitempty"`
	UserAgent string   `json:"user_agent,omitempty"`
	JA3       string   `json:"ja3,omitempty"`
	JA4       string   `json:"ja4,omitempty"`
	HeaderFP  string   `json:"header_fp,omitempty"`
	Signals   []string `json:"signals,omitempty"`
}

// RequestInfo is the request that raised the alert.
type RequestInfo struct {
	Event    string `json:"event"`
	Kind     string `json:"kind,omitempty"` // request, token_used, sighting, dns
	Listener string `json:"listener,omitempty"`
	Method   string `json:"method,omitempty"`
	Host     string `json:"host,omitempty"`
	Path     string `json:"path,omitempty"`
	Query    string `json:"query,omitempty"`
	Status   int    `json:"status,omitempty"`
}

// Channel delivers alerts somewhere (Slack, a webhook).
type Channel interface {
	// Name is the channel's name in configuration, logs and the outbox.
	Name() string
	// Send delivers one alert. It returns nil once the receiver accepted
	// it, a *RetryAfterError when the receiver asked to wait, a
	// *PermanentError when retrying cannot help (a 4xx other than 408 and
	// 429, a bad configuration), and any other error for a failure worth
	// retrying (network, timeout, 5xx).
	Send(ctx context.Context, p *Payload) error
}

// RetryAfterError reports that the receiver asked to be retried after a
// delay (HTTP 429 or 503 with Retry-After, Slack's rate limit).
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("retry after %s: %v", e.After, e.Err)
}
func (e *RetryAfterError) Unwrap() error { return e.Err }

// PermanentError reports a failure retrying cannot fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a *PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// RetryAfter returns the delay a *RetryAfterError asks for.
func RetryAfter(err error) (time.Duration, bool) {
	var r *RetryAfterError
	if errors.As(err, &r) {
		return r.After, true
	}
	return 0, false
}
