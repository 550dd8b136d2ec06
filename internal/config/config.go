package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Config is every setting of a honeyapi deployment. The zero value is not
// valid; start from Default.
type Config struct {
	// Listen is the address the decoy APIs listen on (host:port).
	// Default ":8080", every interface.
	Listen string `yaml:"listen"`

	// AdminListen is the address of the admin listener (health check, and
	// later the dashboard, admin API and metrics). It never shares the decoy
	// listener. Default "127.0.0.1:8081", loopback only.
	AdminListen string `yaml:"admin_listen"`

	// DB is the path of the database file. The deployment key file lives
	// beside it as DB + ".key". Default "./honeyapi.db".
	DB string `yaml:"db"`

	// Specs are the OpenAPI documents served as decoys: each entry is a file
	// path if such a file exists, otherwise the name of a built-in template.
	// Empty (the default) means the built-in default template.
	Specs []string `yaml:"specs"`

	// Secret is the deployment secret that seeds synthetic data, so the same
	// id returns the same object across restarts. Empty (the default) means
	// the secret is generated on first start and kept in the key file beside
	// the database. Set it (at least 16 bytes) to share one secret between
	// several sensors. There is deliberately no flag: command lines are
	// visible to every user of the machine.
	Secret string `yaml:"secret"`

	// LogLevel is the minimum level logged: trace, debug, info, warn, error
	// or disabled. Default "info".
	LogLevel string `yaml:"log_level"`

	// LogFormat is "json" (default; one JSON object per line on stderr) or
	// "console" (human-readable).
	LogFormat string `yaml:"log_format"`

	// TLS makes the decoy listener serve HTTPS, so TLS fingerprints (JA3,
	// JA4) exist: "off" (default), "self-signed" (a certificate generated
	// at start), or "files" (TLSCert and TLSKey). Setting tls_cert and
	// tls_key alone implies "files".
	TLS string `yaml:"tls"`
	// TLSCert and TLSKey are PEM files for tls: files.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`

	// TrustedProxies are the CIDR ranges of proxies in front of the decoy
	// whose X-Forwarded-For and Forwarded headers are believed. Empty (the
	// default) believes no one: the client IP is the socket's peer.
	TrustedProxies []string `yaml:"trusted_proxies"`

	// Decoy holds the settings of the decoy engine.
	Decoy Decoy `yaml:"decoy"`

	// Tarpit sets how decoy responses are slowed down.
	Tarpit Tarpit `yaml:"tarpit"`

	// Store holds the settings of the event database.
	Store Store `yaml:"store"`

	// Tokens holds the settings of honeytokens.
	Tokens Tokens `yaml:"tokens"`

	// Alerts holds the alert channels and rules.
	Alerts Alerts `yaml:"alerts"`
}

// Alerts configures alerting (package alerts).
type Alerts struct {
	// Webhooks receive signed JSON alerts (YAML only: a list).
	Webhooks []Webhook `yaml:"webhooks"`
	// Slack receives Block Kit messages.
	Slack Slack `yaml:"slack"`
	// DashboardURL is linked from each alert ("https://honeyapi.corp:8081").
	DashboardURL string `yaml:"dashboard_url"`
	// DeadAfter is how long an undeliverable alert is retried before it is
	// dead-lettered. Default 24h.
	DeadAfter Duration `yaml:"dead_after"`
	// Rules sets the severity of each configurable rule, or "off".
	Rules AlertRules `yaml:"rules"`
}

// AlertRules are the severities of the configurable alert rules ("info",
// "high", "critical" or "off"). A honeytoken used is always critical.
type AlertRules struct {
	Exploitation string `yaml:"exploitation"`
	NewActor     string `yaml:"new_actor"`
	Stage        string `yaml:"stage"`
}

// Webhook is one signed-webhook channel.
type Webhook struct {
	Name        string            `yaml:"name"`
	URL         string            `yaml:"url"`
	Secret      string            `yaml:"secret"`
	Headers     map[string]string `yaml:"headers"`
	MinSeverity string            `yaml:"min_severity"`
}

// Slack is the Slack channel: an incoming webhook URL, or a bot token and
// a channel.
type Slack struct {
	WebhookURL  string `yaml:"webhook_url"`
	BotToken    string `yaml:"bot_token"`
	Channel     string `yaml:"channel"`
	MinSeverity string `yaml:"min_severity"`
}

// Tokens holds the settings of honeytokens (package tokens) and of the DNS
// beacon listener (package beacon).
type Tokens struct {
	// DecoyHost is the host URL-bearing tokens point at (JWT issuers,
	// database URLs, canary URLs, kubeconfig servers, .aws/config
	// endpoint_url). Empty: the host of decoy.public_url, else
	// api.internal.corp. Point it (DNS or /etc/hosts of the machines where
	// tokens are seeded) at the decoy listener.
	DecoyHost string `yaml:"decoy_host"`
	// DNSZone is the zone DNS-beacon tokens are minted under, delegated to
	// this server's DNS listener. Empty: no DNS tokens.
	DNSZone string `yaml:"dns_zone"`
	// DNSListen is the address of the authoritative DNS listener (UDP and
	// TCP), e.g. ":53". Empty: no DNS listener.
	DNSListen string `yaml:"dns_listen"`
	// DNSAnswer is the IP address token names resolve to (A or AAAA);
	// empty answers them with no address (NODATA).
	DNSAnswer string `yaml:"dns_answer"`
}

// Store holds the settings of the event database (package store).
type Store struct {
	// Durability is "strict" (default): a decoy response is released only
	// after its event is committed to disk; or "async": events are queued
	// and committed in the background (faster; a crash can lose the last
	// moments).
	Durability string `yaml:"durability"`
	// MaxBytes is the most the database file may grow to; an attacker
	// cannot fill the disk. Default 1 GiB.
	MaxBytes int64 `yaml:"max_bytes"`
	// Retention is how long events are kept (Go duration). Default 720h
	// (30 days).
	Retention Duration `yaml:"retention"`
}

// Decoy holds the settings passed to the decoy engine (decoys.Options).
type Decoy struct {
	// ServerProfile names the response-header profile every decoy response
	// carries: "nginx", "envoy", "apache" or "none". Empty (the default)
	// leaves the choice to the decoy engine: the template's own profile,
	// else nginx.
	ServerProfile string `yaml:"server_profile"`

	// Credentials says what the decoy does when a credential is presented to
	// an operation that requires one: "any" (default) accepts every
	// credential, "reject" answers 401 as if it were wrong.
	Credentials string `yaml:"credentials"`

	// PublicURL is the scheme and host that URLs in responses point at, such
	// as "https://api.example.com". Empty (the default) means the request's
	// own host.
	PublicURL string `yaml:"public_url"`

	// MaxBodyBytes bounds a request body; larger bodies are refused.
	// Default 1048576 (1 MiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`

	// StateTTL is how long a client's writes (POST, PUT, PATCH, DELETE) are
	// remembered, as a Go duration string ("1h", "30m"). Default 1h.
	StateTTL Duration `yaml:"state_ttl"`

	// StateMaxObjects bounds the objects remembered across all clients.
	// Default 10000.
	StateMaxObjects int `yaml:"state_max_objects"`

	// RateLimit requests per RateWindow per client, announced in
	// RateLimitStyle (empty: the template's own style); past it, 429 with
	// Retry-After. 0 disables rate limiting. Default 300 per 1m.
	RateLimit      int      `yaml:"rate_limit"`
	RateWindow     Duration `yaml:"rate_window"`
	RateLimitStyle string   `yaml:"rate_limit_style"`
}

// Tarpit configures the tarpit (see package tarpit).
type Tarpit struct {
	// Mode is "adaptive" (default) or "off".
	Mode         string   `yaml:"mode"`
	Latency      Duration `yaml:"latency"`
	MaxDelay     Duration `yaml:"max_delay"`
	HandlerDelay Duration `yaml:"handler_delay"`
	Scanners     string   `yaml:"scanners"`
	DripRisk     int      `yaml:"drip_risk"`
	DripBytes    int      `yaml:"drip_bytes"`
	DripInterval Duration `yaml:"drip_interval"`
	KeepAlive    Duration `yaml:"keepalive"`
	MaxHold      Duration `yaml:"max_hold"`
	MaxHeld      int      `yaml:"max_held"`
	MaxHeldPerIP int      `yaml:"max_held_per_ip"`
	WriteTimeout Duration `yaml:"write_timeout"`
}

// TarpitModes and TarpitScannerModes are the accepted values.
var (
	TarpitModes        = []string{"adaptive", "off"}
	TarpitScannerModes = []string{"endless", "hold", "drip", "delay"}
	RateLimitStyles    = []string{"", "x-ratelimit", "github", "gitlab", "ietf", "vault", "none"}
)

// Duration is a time.Duration written in YAML as a Go duration string
// ("90s", "1h30m").
type Duration time.Duration

// String returns the duration in Go's notation.
func (d Duration) String() string { return time.Duration(d).String() }

// Allowed values of the enumerated settings.
var (
	// LogLevels are the accepted values of log_level.
	LogLevels = []string{"trace", "debug", "info", "warn", "error", "disabled"}
	// LogFormats are the accepted values of log_format.
	LogFormats = []string{"json", "console"}
	// ServerProfiles are the accepted values of decoy.server_profile.
	ServerProfiles = []string{"nginx", "envoy", "apache", "none"}
	// CredentialModes are the accepted values of decoy.credentials.
	CredentialModes = []string{"any", "reject"}
	// TLSModes are the accepted values of tls.
	TLSModes = []string{"off", "self-signed", "files"}
	// DurabilityModes are the accepted values of store.durability.
	DurabilityModes = []string{"strict", "async"}
)

// MinSecretBytes is the shortest secret Validate accepts.
const MinSecretBytes = 16

// Default returns the configuration used when nothing is set: decoys from
// the built-in default template on :8080, the admin listener on loopback.
func Default() *Config {
	return &Config{
		Listen:      ":8080",
		AdminListen: "127.0.0.1:8081",
		DB:          "./honeyapi.db",
		LogLevel:    "info",
		LogFormat:   "json",
		TLS:         "off",
		Alerts: Alerts{
			DeadAfter: Duration(24 * time.Hour),
			Rules:     AlertRules{Exploitation: "high", NewActor: "info", Stage: "info"},
		},
		Decoy: Decoy{
			Credentials:     "any",
			MaxBodyBytes:    1 << 20,
			StateTTL:        Duration(time.Hour),
			StateMaxObjects: 10000,
			RateLimit:       300,
			RateWindow:      Duration(time.Minute),
		},
		Tarpit: Tarpit{
			Mode:         "adaptive",
			Latency:      Duration(60 * time.Millisecond),
			MaxDelay:     Duration(30 * time.Second),
			HandlerDelay: Duration(time.Second),
			Scanners:     "endless",
			DripRisk:     60,
			DripBytes:    4,
			DripInterval: Duration(time.Second),
			KeepAlive:    Duration(10 * time.Second),
			MaxHold:      Duration(24 * time.Hour),
			MaxHeld:      10000,
			MaxHeldPerIP: 64,
			WriteTimeout: Duration(30 * time.Second),
		},
		Store: Store{
			Durability: "strict",
			MaxBytes:   1 << 30,
			Retention:  Duration(30 * 24 * time.Hour),
		},
	}
}

// Validate checks every setting and reports all problems at once, each
// naming the YAML key, environment variable and flag that set it.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s%s: %s", key, where(key), fmt.Sprintf(format, args...)))
	}
	oneOf := func(key, value string, allowed []string) {
		if !slices.Contains(allowed, value) {
			bad(key, "%q is not one of %s", value, strings.Join(allowed, ", "))
		}
	}

	if err := checkAddr(c.Listen); err != nil {
		bad("listen", "%v", err)
	}
	if err := checkAddr(c.AdminListen); err != nil {
		bad("admin_listen", "%v", err)
	}
	if sameListener(c.Listen, c.AdminListen) {
		bad("admin_listen", "%q overlaps listen %q; the admin listener never shares the decoy listener", c.AdminListen, c.Listen)
	}
	if strings.TrimSpace(c.DB) == "" {
		bad("db", "must not be empty")
	}
	for i, s := range c.Specs {
		if strings.TrimSpace(s) == "" {
			bad("specs", "entry %d is empty", i+1)
		}
	}
	if c.Secret != "" && len(c.Secret) < MinSecretBytes {
		// Never echo the secret itself.
		bad("secret", "is %d bytes; use at least %d (or leave it unset to generate one)", len(c.Secret), MinSecretBytes)
	}
	oneOf("log_level", c.LogLevel, LogLevels)
	oneOf("log_format", c.LogFormat, LogFormats)
	if c.Decoy.ServerProfile != "" {
		oneOf("decoy.server_profile", c.Decoy.ServerProfile, ServerProfiles)
	}
	oneOf("decoy.credentials", c.Decoy.Credentials, CredentialModes)
	if c.Decoy.PublicURL != "" {
		if err := checkPublicURL(c.Decoy.PublicURL); err != nil {
			bad("decoy.public_url", "%v", err)
		}
	}
	if z := c.Tokens.DNSZone; z != "" && (len(z) > 200 || strings.ContainsAny(z, " /:@") || !strings.Contains(strings.Trim(z, "."), ".")) {
		bad("tokens.dns_zone", "%q is not a DNS zone such as t.example.net", z)
	}
	if a := c.Tokens.DNSAnswer; a != "" {
		if _, err := netip.ParseAddr(a); err != nil {
			bad("tokens.dns_answer", "%q is not an IP address", a)
		}
	}
	if h := c.Tokens.DecoyHost; h != "" && (len(h) > 253 || strings.ContainsAny(h, " /@?#")) {
		bad("tokens.decoy_host", "%q is not a host name", h)
	}
	sev := []string{"info", "high", "critical"}
	if c.Alerts.Slack.MinSeverity != "" {
		oneOf("alerts.slack.min_severity", c.Alerts.Slack.MinSeverity, sev)
	}
	for k, v := range map[string]string{"alerts.rules.exploitation": c.Alerts.Rules.Exploitation,
		"alerts.rules.new_actor": c.Alerts.Rules.NewActor, "alerts.rules.stage": c.Alerts.Rules.Stage} {
		oneOf(k, v, append(sev, "off"))
	}
	if c.Alerts.Slack.WebhookURL != "" && c.Alerts.Slack.BotToken != "" {
		bad("alerts.slack", "set webhook_url or bot_token with channel, not both")
	}
	if c.Alerts.DeadAfter <= 0 {
		bad("alerts.dead_after", "%s must be positive", c.Alerts.DeadAfter)
	}
	names := map[string]bool{}
	for i, w := range c.Alerts.Webhooks {
		where := fmt.Sprintf("alerts.webhooks[%d]", i)
		if w.Name == "" || w.URL == "" || w.Secret == "" {
			bad(where, "each webhook needs a name, a url and a secret")
		}
		if names[w.Name] || w.Name == "slack" {
			bad(where, "the name %q is taken", w.Name)
		}
		names[w.Name] = true
		if w.MinSeverity != "" {
			oneOf(where+".min_severity", w.MinSeverity, sev)
		}
	}
	if c.Decoy.MaxBodyBytes <= 0 {
		bad("decoy.max_body_bytes", "%d must be positive", c.Decoy.MaxBodyBytes)
	}
	if c.Decoy.StateTTL <= 0 {
		bad("decoy.state_ttl", "%s must be positive", c.Decoy.StateTTL)
	}
	if c.Decoy.StateMaxObjects <= 0 {
		bad("decoy.state_max_objects", "%d must be positive", c.Decoy.StateMaxObjects)
	}
	if c.Decoy.RateLimit < 0 {
		bad("decoy.rate_limit", "%d must not be negative (0 disables rate limiting)", c.Decoy.RateLimit)
	}
	if c.Decoy.RateWindow <= 0 {
		bad("decoy.rate_window", "%s must be positive", c.Decoy.RateWindow)
	}
	oneOf("decoy.rate_limit_style", c.Decoy.RateLimitStyle, RateLimitStyles)
	oneOf("tarpit.mode", c.Tarpit.Mode, TarpitModes)
	oneOf("tarpit.scanners", c.Tarpit.Scanners, TarpitScannerModes)
	for _, d := range []struct {
		key string
		v   Duration
	}{{"tarpit.latency", c.Tarpit.Latency}, {"tarpit.max_delay", c.Tarpit.MaxDelay}, {"tarpit.handler_delay", c.Tarpit.HandlerDelay},
		{"tarpit.drip_interval", c.Tarpit.DripInterval}, {"tarpit.keepalive", c.Tarpit.KeepAlive}, {"tarpit.max_hold", c.Tarpit.MaxHold},
		{"tarpit.write_timeout", c.Tarpit.WriteTimeout}} {
		if d.v <= 0 {
			bad(d.key, "%s must be positive", d.v)
		}
	}
	for _, n := range []struct {
		key string
		v   int
	}{{"tarpit.drip_risk", c.Tarpit.DripRisk}, {"tarpit.drip_bytes", c.Tarpit.DripBytes}, {"tarpit.max_held", c.Tarpit.MaxHeld}, {"tarpit.max_held_per_ip", c.Tarpit.MaxHeldPerIP}} {
		if n.v <= 0 {
			bad(n.key, "%d must be positive", n.v)
		}
	}
	if c.Tarpit.DripBytes > 65536 {
		bad("tarpit.drip_bytes", "%d is above 65536", c.Tarpit.DripBytes)
	}
	if c.TLS == "off" && c.TLSCert != "" && c.TLSKey != "" {
		c.TLS = "files"
	}
	oneOf("tls", c.TLS, TLSModes)
	if c.TLS == "files" && (c.TLSCert == "" || c.TLSKey == "") {
		bad("tls", "files needs both tls_cert and tls_key")
	}
	for _, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err2 := netip.ParseAddr(p); err2 != nil {
				bad("trusted_proxies", "%q is not a CIDR range or an address", p)
			}
		}
	}
	oneOf("store.durability", c.Store.Durability, DurabilityModes)
	if c.Store.MaxBytes < 8<<20 {
		bad("store.max_bytes", "%d is below the 8 MiB minimum", c.Store.MaxBytes)
	}
	if c.Store.Retention < 0 {
		bad("store.retention", "%s must not be negative", c.Store.Retention)
	}
	return errors.Join(errs...)
}

// Trusted returns TrustedProxies as prefixes (a bare address is a /32 or
// /128). It assumes Validate passed.
func (c *Config) Trusted() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range c.TrustedProxies {
		if pre, err := netip.ParsePrefix(p); err == nil {
			out = append(out, pre.Masked())
		} else if a, err := netip.ParseAddr(p); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out
}

// ZerologLevel returns LogLevel as a zerolog level. It assumes Validate
// passed.
func (c *Config) ZerologLevel() zerolog.Level {
	lvl, err := zerolog.ParseLevel(c.LogLevel)
	if err != nil || c.LogLevel == "" {
		return zerolog.InfoLevel
	}
	return lvl
}

// where names the environment variable and flag of a key, for messages.
func where(key string) string {
	f, ok := fieldByKey(key)
	if !ok {
		return ""
	}
	parts := []string{"env " + f.Env}
	if f.Flag != "" {
		parts = append(parts, "flag --"+f.Flag)
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func checkAddr(addr string) error {
	if addr == "" {
		return errors.New("must not be empty")
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %v", addr, err)
	}
	if port == "" {
		return fmt.Errorf("%q has no port", addr)
	}
	return nil
}

// sameListener reports whether two listen addresses would collide: the same
// fixed port on the same host, or on a wildcard host.
func sameListener(a, b string) bool {
	ha, pa, err1 := net.SplitHostPort(a)
	hb, pb, err2 := net.SplitHostPort(b)
	if err1 != nil || err2 != nil || pa != pb || pa == "0" {
		return false
	}
	wildcard := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return ha == hb || wildcard(ha) || wildcard(hb)
}

func checkPublicURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q must start with http:// or https://", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", raw)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q must be only a scheme and host, like https://api.example.com", raw)
	}
	return nil
}
