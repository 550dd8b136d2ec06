package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// EnvConfigFile names the environment variable that points at the YAML
// config file when --config is not given.
const EnvConfigFile = "HONEYAPI_CONFIG"

// FlagConfigFile is the flag that points at the YAML config file.
const FlagConfigFile = "config"

// Field describes one setting: where it lives in YAML, in the environment
// and on the command line.
type Field struct {
	// Key is the YAML key, with a dot for nesting ("decoy.server_profile").
	Key string
	// Env is the environment variable that sets it.
	Env string
	// Flag is the command-line flag that sets it, without dashes; "" if the
	// setting has no flag.
	Flag string
	// Usage says what the setting means, in one line.
	Usage string

	ptr func(*Config) any
}

// fields is the one table of settings. Order is the order of the README
// reference and of --help.
var fields = []Field{
	{Key: "listen", Env: "HONEYAPI_LISTEN", Flag: "listen",
		Usage: "address the decoy APIs listen on",
		ptr:   func(c *Config) any { return &c.Listen }},
	{Key: "admin_listen", Env: "HONEYAPI_ADMIN_LISTEN", Flag: "admin-listen",
		Usage: "address of the admin listener (health, dashboard, admin API); keep it on loopback",
		ptr:   func(c *Config) any { return &c.AdminListen }},
	{Key: "db", Env: "HONEYAPI_DB", Flag: "db",
		Usage: "database file; the deployment key file is kept beside it as <db>.key",
		ptr:   func(c *Config) any { return &c.DB }},
	{Key: "specs", Env: "HONEYAPI_SPEC", Flag: "spec",
		Usage: "OpenAPI file or built-in template name to serve (flag repeatable, env comma-separated)",
		ptr:   func(c *Config) any { return &c.Specs }},
	{Key: "secret", Env: "HONEYAPI_SECRET",
		Usage: "deployment secret seeding synthetic data (at least 16 bytes); unset: generated into <db>.key",
		ptr:   func(c *Config) any { return &c.Secret }},
	{Key: "log_level", Env: "HONEYAPI_LOG_LEVEL", Flag: "log-level",
		Usage: "minimum log level: " + strings.Join(LogLevels, ", "),
		ptr:   func(c *Config) any { return &c.LogLevel }},
	{Key: "log_format", Env: "HONEYAPI_LOG_FORMAT", Flag: "log-format",
		Usage: "log format on stderr: " + strings.Join(LogFormats, ", "),
		ptr:   func(c *Config) any { return &c.LogFormat }},
	{Key: "decoy.server_profile", Env: "HONEYAPI_SERVER_PROFILE", Flag: "server-profile",
		Usage: "response-header profile of the decoys: " + strings.Join(ServerProfiles, ", ") + "; empty: the template's own",
		ptr:   func(c *Config) any { return &c.Decoy.ServerProfile }},
	{Key: "decoy.credentials", Env: "HONEYAPI_CREDENTIALS", Flag: "credentials",
		Usage: "credentials presented to secured operations: any (accept all) or reject (401)",
		ptr:   func(c *Config) any { return &c.Decoy.Credentials }},
	{Key: "decoy.public_url", Env: "HONEYAPI_PUBLIC_URL", Flag: "public-url",
		Usage: "scheme and host that URLs in responses point at; empty: the request's own host",
		ptr:   func(c *Config) any { return &c.Decoy.PublicURL }},
	{Key: "decoy.max_body_bytes", Env: "HONEYAPI_MAX_BODY_BYTES", Flag: "max-body-bytes",
		Usage: "largest request body the decoys read, in bytes",
		ptr:   func(c *Config) any { return &c.Decoy.MaxBodyBytes }},
	{Key: "decoy.state_ttl", Env: "HONEYAPI_STATE_TTL", Flag: "state-ttl",
		Usage: "how long a client's writes are remembered (Go duration: 30m, 1h)",
		ptr:   func(c *Config) any { return &c.Decoy.StateTTL }},
	{Key: "decoy.state_max_objects", Env: "HONEYAPI_STATE_MAX_OBJECTS", Flag: "state-max-objects",
		Usage: "most objects remembered across all clients",
		ptr:   func(c *Config) any { return &c.Decoy.StateMaxObjects }},
	{Key: "decoy.rate_limit", Env: "HONEYAPI_RATE_LIMIT", Flag: "rate-limit",
		Usage: "requests per rate window a client may make before 429 with Retry-After; 0 disables",
		ptr:   func(c *Config) any { return &c.Decoy.RateLimit }},
	{Key: "decoy.rate_window", Env: "HONEYAPI_RATE_WINDOW", Flag: "rate-window",
		Usage: "the rate-limit window, from a client's first request (Go duration)",
		ptr:   func(c *Config) any { return &c.Decoy.RateWindow }},
	{Key: "decoy.rate_limit_style", Env: "HONEYAPI_RATE_LIMIT_STYLE", Flag: "rate-limit-style",
		Usage: "how the limit is announced: x-ratelimit, github, gitlab, ietf, vault, none; empty: the template's own",
		ptr:   func(c *Config) any { return &c.Decoy.RateLimitStyle }},
	{Key: "tarpit.mode", Env: "HONEYAPI_TARPIT", Flag: "tarpit",
		Usage: "adaptive (delays grow with risk; scanners held) or off",
		ptr:   func(c *Config) any { return &c.Tarpit.Mode }},
	{Key: "tarpit.latency", Env: "HONEYAPI_TARPIT_LATENCY", Flag: "tarpit-latency",
		Usage: "median latency of a response to a plausible human (log-normal)",
		ptr:   func(c *Config) any { return &c.Tarpit.Latency }},
	{Key: "tarpit.max_delay", Env: "HONEYAPI_TARPIT_MAX_DELAY", Flag: "tarpit-max-delay",
		Usage: "longest wait before the first byte of a response",
		ptr:   func(c *Config) any { return &c.Tarpit.MaxDelay }},
	{Key: "tarpit.handler_delay", Env: "HONEYAPI_TARPIT_HANDLER_DELAY", Flag: "tarpit-handler-delay",
		Usage: "longest wait kept in the handler; longer ones are held by the scheduler",
		ptr:   func(c *Config) any { return &c.Tarpit.HandlerDelay }},
	{Key: "tarpit.scanners", Env: "HONEYAPI_TARPIT_SCANNERS", Flag: "tarpit-scanners",
		Usage: "what obvious scanners get: endless, hold, drip or delay",
		ptr:   func(c *Config) any { return &c.Tarpit.Scanners }},
	{Key: "tarpit.drip_risk", Env: "HONEYAPI_TARPIT_DRIP_RISK", Flag: "tarpit-drip-risk",
		Usage: "risk score from which response bodies drip (above 100: never)",
		ptr:   func(c *Config) any { return &c.Tarpit.DripRisk }},
	{Key: "tarpit.drip_bytes", Env: "HONEYAPI_TARPIT_DRIP_BYTES", Flag: "tarpit-drip-bytes",
		Usage: "bytes sent per drip interval",
		ptr:   func(c *Config) any { return &c.Tarpit.DripBytes }},
	{Key: "tarpit.drip_interval", Env: "HONEYAPI_TARPIT_DRIP_INTERVAL", Flag: "tarpit-drip-interval",
		Usage: "time between drips",
		ptr:   func(c *Config) any { return &c.Tarpit.DripInterval }},
	{Key: "tarpit.keepalive", Env: "HONEYAPI_TARPIT_KEEPALIVE", Flag: "tarpit-keepalive",
		Usage: "time between the whitespace bytes that keep a scanner waiting",
		ptr:   func(c *Config) any { return &c.Tarpit.KeepAlive }},
	{Key: "tarpit.max_hold", Env: "HONEYAPI_TARPIT_MAX_HOLD", Flag: "tarpit-max-hold",
		Usage: "longest a scanner is held before its response is sent",
		ptr:   func(c *Config) any { return &c.Tarpit.MaxHold }},
	{Key: "tarpit.max_held", Env: "HONEYAPI_TARPIT_MAX_HELD", Flag: "tarpit-max-held",
		Usage: "most connections held at once; past it responses are fast and normal",
		ptr:   func(c *Config) any { return &c.Tarpit.MaxHeld }},
	{Key: "tarpit.max_held_per_ip", Env: "HONEYAPI_TARPIT_MAX_HELD_PER_IP", Flag: "tarpit-max-held-per-ip",
		Usage: "most connections held at once per client IP",
		ptr:   func(c *Config) any { return &c.Tarpit.MaxHeldPerIP }},
	{Key: "tarpit.write_timeout", Env: "HONEYAPI_TARPIT_WRITE_TIMEOUT", Flag: "tarpit-write-timeout",
		Usage: "a held connection whose socket accepts nothing for this long is closed",
		ptr:   func(c *Config) any { return &c.Tarpit.WriteTimeout }},
	{Key: "tls", Env: "HONEYAPI_TLS", Flag: "tls",
		Usage: "serve the decoys over HTTPS so TLS fingerprints exist: " + strings.Join(TLSModes, ", "),
		ptr:   func(c *Config) any { return &c.TLS }},
	{Key: "tls_cert", Env: "HONEYAPI_TLS_CERT", Flag: "tls-cert",
		Usage: "PEM certificate for tls: files",
		ptr:   func(c *Config) any { return &c.TLSCert }},
	{Key: "tls_key", Env: "HONEYAPI_TLS_KEY", Flag: "tls-key",
		Usage: "PEM private key for tls: files",
		ptr:   func(c *Config) any { return &c.TLSKey }},
	{Key: "trusted_proxies", Env: "HONEYAPI_TRUSTED_PROXIES", Flag: "trusted-proxy",
		Usage: "CIDR of a proxy whose X-Forwarded-For/Forwarded is believed (flag repeatable, env comma-separated)",
		ptr:   func(c *Config) any { return &c.TrustedProxies }},
	{Key: "store.durability", Env: "HONEYAPI_DURABILITY", Flag: "durability",
		Usage: "strict: a response waits until its event is on disk; async: events are committed in the background",
		ptr:   func(c *Config) any { return &c.Store.Durability }},
	{Key: "store.max_bytes", Env: "HONEYAPI_STORE_MAX_BYTES", Flag: "store-max-bytes",
		Usage: "largest size of the database file, in bytes",
		ptr:   func(c *Config) any { return &c.Store.MaxBytes }},
	{Key: "store.retention", Env: "HONEYAPI_RETENTION", Flag: "retention",
		Usage: "how long events are kept (Go duration; 0 keeps them until size forces them out)",
		ptr:   func(c *Config) any { return &c.Store.Retention }},
	{Key: "tokens.decoy_host", Env: "HONEYAPI_TOKEN_HOST", Flag: "token-host",
		Usage: "host URL-bearing honeytokens point at (jwt iss, dburl, url, kubeconfig, .aws/config); empty: decoy.public_url's host, else api.internal.corp",
		ptr:   func(c *Config) any { return &c.Tokens.DecoyHost }},
	{Key: "tokens.dns_zone", Env: "HONEYAPI_DNS_ZONE", Flag: "dns-zone",
		Usage: "zone DNS-beacon tokens are minted under (delegate it to dns_listen); empty: no dns tokens",
		ptr:   func(c *Config) any { return &c.Tokens.DNSZone }},
	{Key: "tokens.dns_listen", Env: "HONEYAPI_DNS_LISTEN", Flag: "dns-listen",
		Usage: "address of the authoritative DNS listener for the zone (UDP and TCP, e.g. :53); empty: off",
		ptr:   func(c *Config) any { return &c.Tokens.DNSListen }},
	{Key: "tokens.dns_answer", Env: "HONEYAPI_DNS_ANSWER", Flag: "dns-answer",
		Usage: "IP address DNS-beacon names resolve to; empty: no address (the lookup alone fires)",
		ptr:   func(c *Config) any { return &c.Tokens.DNSAnswer }},
	{Key: "alerts.slack.webhook_url", Env: "HONEYAPI_SLACK_WEBHOOK_URL",
		Usage: "Slack incoming-webhook URL alerts are posted to (a secret: no flag)",
		ptr:   func(c *Config) any { return &c.Alerts.Slack.WebhookURL }},
	{Key: "alerts.slack.bot_token", Env: "HONEYAPI_SLACK_BOT_TOKEN",
		Usage: "Slack bot token (chat.postMessage) instead of a webhook (a secret: no flag)",
		ptr:   func(c *Config) any { return &c.Alerts.Slack.BotToken }},
	{Key: "alerts.slack.channel", Env: "HONEYAPI_SLACK_CHANNEL", Flag: "slack-channel",
		Usage: "Slack channel for the bot token (#security-alerts or an ID)",
		ptr:   func(c *Config) any { return &c.Alerts.Slack.Channel }},
	{Key: "alerts.slack.min_severity", Env: "HONEYAPI_SLACK_MIN_SEVERITY", Flag: "slack-min-severity",
		Usage: "least severity sent to Slack: info, high, critical; empty: info",
		ptr:   func(c *Config) any { return &c.Alerts.Slack.MinSeverity }},
	{Key: "alerts.dashboard_url", Env: "HONEYAPI_DASHBOARD_URL", Flag: "dashboard-url",
		Usage: "base URL of the dashboard, linked from alerts; empty: no link",
		ptr:   func(c *Config) any { return &c.Alerts.DashboardURL }},
	{Key: "alerts.dead_after", Env: "HONEYAPI_ALERTS_DEAD_AFTER", Flag: "alerts-dead-after",
		Usage: "how long an undeliverable alert is retried before it is dead-lettered (Go duration)",
		ptr:   func(c *Config) any { return &c.Alerts.DeadAfter }},
	{Key: "alerts.rules.exploitation", Env: "HONEYAPI_ALERT_EXPLOITATION", Flag: "alert-exploitation",
		Usage: "severity of exploitation attempts (injection payloads): info, high, critical or off",
		ptr:   func(c *Config) any { return &c.Alerts.Rules.Exploitation }},
	{Key: "alerts.rules.new_actor", Env: "HONEYAPI_ALERT_NEW_ACTOR", Flag: "alert-new-actor",
		Usage: "severity of a new actor reaching a decoy: info, high, critical or off",
		ptr:   func(c *Config) any { return &c.Alerts.Rules.NewActor }},
	{Key: "alerts.rules.stage", Env: "HONEYAPI_ALERT_STAGE", Flag: "alert-stage",
		Usage: "severity of an actor reaching a new kill-chain stage: info, high, critical or off",
		ptr:   func(c *Config) any { return &c.Alerts.Rules.Stage }},
}

// Fields returns the table of settings, in reference order.
func Fields() []Field { return append([]Field(nil), fields...) }

func fieldByKey(key string) (Field, bool) {
	for _, f := range fields {
		if f.Key == key {
			return f, true
		}
	}
	return Field{}, false
}

// Default returns the field's default value as text ("" when empty).
func (f Field) Default() string { return f.format(Default()) }

func (f Field) format(c *Config) string {
	switch p := f.ptr(c).(type) {
	case *string:
		return *p
	case *[]string:
		return strings.Join(*p, ",")
	case *int:
		return strconv.Itoa(*p)
	case *int64:
		return strconv.FormatInt(*p, 10)
	case *Duration:
		return p.String()
	}
	return ""
}

// set parses text into the field of c. Lists are comma-separated.
func (f Field) set(c *Config, text string) error {
	switch p := f.ptr(c).(type) {
	case *string:
		*p = text
	case *[]string:
		*p = splitList(text)
	case *int:
		n, err := strconv.Atoi(strings.TrimSpace(text))
		if err != nil {
			return fmt.Errorf("%q is not a whole number", text)
		}
		*p = n
	case *int64:
		n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", text)
		}
		*p = n
	case *Duration:
		d, err := parseDuration(text)
		if err != nil {
			return err
		}
		*p = d
	}
	return nil
}

func splitList(text string) []string {
	var out []string
	for _, s := range strings.Split(text, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func parseDuration(text string) (Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(text))
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (use Go notation such as 90s, 30m, 1h)", text)
	}
	return Duration(d), nil
}

// ApplyEnv overrides c with every HONEYAPI_* variable that lookup finds
// non-empty. lookup is normally os.LookupEnv.
func ApplyEnv(c *Config, lookup func(string) (string, bool)) error {
	for _, f := range fields {
		v, ok := lookup(f.Env)
		if !ok || v == "" {
			continue
		}
		if err := f.set(c, v); err != nil {
			return fmt.Errorf("config: env %s: %w", f.Env, err)
		}
	}
	return nil
}

// BindGlobalFlags registers the flags every command accepts: --config and
// --db. Register them as persistent flags of the root command.
func BindGlobalFlags(fs *pflag.FlagSet) {
	fs.String(FlagConfigFile, "", "YAML config file (env "+EnvConfigFile+")")
	for _, f := range fields {
		if f.Key == "db" {
			bindFlag(fs, f)
		}
	}
}

// BindServeFlags registers a flag for every setting that has one, except
// those BindGlobalFlags registers. Defaults shown in --help are Default's.
func BindServeFlags(fs *pflag.FlagSet) {
	for _, f := range fields {
		if f.Flag != "" && f.Key != "db" {
			bindFlag(fs, f)
		}
	}
}

func bindFlag(fs *pflag.FlagSet, f Field) {
	usage := f.Usage + " (env " + f.Env + ")"
	switch p := f.ptr(Default()).(type) {
	case *string:
		fs.String(f.Flag, *p, usage)
	case *[]string:
		fs.StringArray(f.Flag, *p, usage)
	case *int:
		fs.Int(f.Flag, *p, usage)
	case *int64:
		fs.Int64(f.Flag, *p, usage)
	case *Duration:
		fs.Duration(f.Flag, time.Duration(*p), usage)
	}
}

// ApplyFlags overrides c with the flags the user actually set on the
// command line; flags left at their defaults change nothing.
func ApplyFlags(c *Config, fs *pflag.FlagSet) error {
	if fs == nil {
		return nil
	}
	byFlag := make(map[string]Field, len(fields))
	for _, f := range fields {
		if f.Flag != "" {
			byFlag[f.Flag] = f
		}
	}
	var err error
	fs.Visit(func(fl *pflag.Flag) { // Visit sees only flags that were set.
		f, ok := byFlag[fl.Name]
		if !ok || err != nil {
			return
		}
		list, isList := f.ptr(c).(*[]string)
		if sv, ok := fl.Value.(pflag.SliceValue); ok && isList {
			*list = append([]string(nil), sv.GetSlice()...)
			return
		}
		if e := f.set(c, fl.Value.String()); e != nil {
			err = fmt.Errorf("config: flag --%s: %w", fl.Name, e)
		}
	})
	return err
}
