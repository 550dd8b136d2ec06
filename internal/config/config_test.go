package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// sample values per key: one for each layer (YAML, env, flag), all valid
// and all different from each other and from the default.
var samples = map[string][3]string{
	"listen":                    {"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"},
	"admin_listen":              {"127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003"},
	"db":                        {"/var/lib/a.db", "/var/lib/b.db", "/var/lib/c.db"},
	"specs":                     {"yaml.yaml", "env-a,env-b", "flag.json"},
	"secret":                    {"yaml-secret-0123456789", "env-secret-0123456789", ""},
	"log_level":                 {"debug", "warn", "error"},
	"log_format":                {"console", "json", "console"},
	"decoy.server_profile":      {"envoy", "apache", "none"},
	"decoy.credentials":         {"reject", "any", "reject"},
	"decoy.public_url":          {"https://a.example.com", "https://b.example.com", "http://c.example.com"},
	"decoy.max_body_bytes":      {"1000", "2000", "3000"},
	"decoy.state_ttl":           {"2h0m0s", "30m0s", "5m0s"},
	"decoy.state_max_objects":   {"11", "22", "33"},
	"decoy.rate_limit":          {"10", "0", "5000"},
	"decoy.rate_window":         {"1h0m0s", "10s", "24h0m0s"},
	"decoy.rate_limit_style":    {"github", "none", "ietf"},
	"tarpit.mode":               {"off", "adaptive", "off"},
	"tarpit.latency":            {"10ms", "200ms", "1s"},
	"tarpit.max_delay":          {"5s", "1m0s", "2m0s"},
	"tarpit.handler_delay":      {"500ms", "2s", "3s"},
	"tarpit.scanners":           {"hold", "drip", "delay"},
	"tarpit.drip_risk":          {"50", "80", "101"},
	"tarpit.drip_bytes":         {"1", "2", "16"},
	"tarpit.drip_interval":      {"2s", "3s", "500ms"},
	"tarpit.keepalive":          {"5s", "20s", "1m0s"},
	"tarpit.max_hold":           {"1h0m0s", "2h0m0s", "10m0s"},
	"tarpit.max_held":           {"100", "20000", "5"},
	"tarpit.max_held_per_ip":    {"8", "16", "1"},
	"tarpit.write_timeout":      {"10s", "1m0s", "5s"},
	"tls":                       {"self-signed", "off", "self-signed"},
	"tls_cert":                  {"/etc/a.pem", "/etc/b.pem", "/etc/c.pem"},
	"tls_key":                   {"/etc/a.key", "/etc/b.key", "/etc/c.key"},
	"trusted_proxies":           {"10.0.0.0/8", "192.168.0.0/16,172.16.0.0/12", "127.0.0.1/32"},
	"store.durability":          {"async", "strict", "async"},
	"store.max_bytes":           {"10000000", "20000000", "30000000"},
	"store.retention":           {"1h0m0s", "2h0m0s", "3h0m0s"},
	"tokens.decoy_host":         {"a.internal", "b.internal", "c.internal"},
	"tokens.dns_zone":           {"a.example.net", "b.example.net", "c.example.net"},
	"tokens.dns_listen":         {"127.0.0.1:5301", "127.0.0.1:5302", "127.0.0.1:5303"},
	"tokens.dns_answer":         {"192.0.2.1", "192.0.2.2", "2001:db8::3"},
	"alerts.slack.webhook_url":  {"https://hooks.slack.com/services/T1/B1/a", "https://hooks.slack.com/services/T2/B2/b", "https://hooks.slack.com/services/T3/B3/c"},
	"alerts.slack.bot_token":    {"xoxb-yaml", "xoxb-env", "xoxb-flag"},
	"alerts.slack.channel":      {"sec-a", "sec-b", "sec-c"},
	"alerts.slack.min_severity": {"high", "critical", "info"},
	"alerts.dashboard_url":      {"https://a.example/", "https://b.example/", "https://c.example/"},
	"alerts.dead_after":         {"1h0m0s", "2h0m0s", "3h0m0s"},
	"alerts.rules.exploitation": {"critical", "off", "info"},
	"alerts.rules.new_actor":    {"high", "off", "critical"},
	"alerts.rules.stage":        {"high", "off", "critical"},
}

// yamlFor writes key: value in YAML, nesting dotted keys.
func yamlFor(key, value string) string {
	v := value
	if key == "specs" || key == "trusted_proxies" {
		v = "[" + value + "]"
	}
	parts := strings.Split(key, ".")
	var b strings.Builder
	for i, p := range parts {
		b.WriteString(strings.Repeat("  ", i) + p + ":")
		if i < len(parts)-1 {
			b.WriteString("\n")
		}
	}
	return b.String() + " " + v + "\n"
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func newFlags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	BindGlobalFlags(fs)
	BindServeFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return fs
}

func flagArgs(f Field, value string) []string {
	if f.Key == "specs" || f.Key == "trusted_proxies" {
		return []string{"--" + f.Flag, value}
	}
	return []string{"--" + f.Flag + "=" + value}
}

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

// TestPrecedence checks, for every setting, that each layer overrides the
// ones below it: defaults < YAML < env < flags.
func TestPrecedence(t *testing.T) {
	for _, f := range Fields() {
		s, ok := samples[f.Key]
		if !ok {
			t.Fatalf("no sample values for %s: add them to the test", f.Key)
		}
		layers := []struct {
			name       string
			yaml, env  bool
			flag       bool
			wantLayer  int // index into s, or -1 for the default
			skipNoFlag bool
		}{
			{name: "defaults", wantLayer: -1},
			{name: "yaml", yaml: true, wantLayer: 0},
			{name: "env over yaml", yaml: true, env: true, wantLayer: 1},
			{name: "flag over env", yaml: true, env: true, flag: true, wantLayer: 2, skipNoFlag: true},
			{name: "flag over yaml", yaml: true, flag: true, wantLayer: 2, skipNoFlag: true},
		}
		for _, l := range layers {
			t.Run(f.Key+"/"+l.name, func(t *testing.T) {
				if l.skipNoFlag && f.Flag == "" {
					t.Skip("no flag")
				}
				envs := map[string]string{}
				var args []string
				if l.yaml {
					envs[EnvConfigFile] = writeFile(t, "honeyapi.yaml", yamlFor(f.Key, s[0]))
				}
				if l.env {
					envs[f.Env] = s[1]
				}
				if l.flag {
					args = flagArgs(f, s[2])
				}
				c, err := Load(newFlags(t, args...), env(envs))
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				want := f.Default()
				if l.wantLayer >= 0 {
					want = s[l.wantLayer]
				}
				if got := f.format(c); got != want {
					t.Errorf("%s = %q, want %q", f.Key, got, want)
				}
			})
		}
	}
}

func TestFlagLeftAtDefaultDoesNotOverride(t *testing.T) {
	c, err := Load(newFlags(t), env(map[string]string{"HONEYAPI_LISTEN": "127.0.0.1:7777"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:7777" {
		t.Errorf("Listen = %q, want the env value", c.Listen)
	}
	// Explicitly set to the default value: the flag still wins.
	c, err = Load(newFlags(t, "--listen", ":8080"), env(map[string]string{"HONEYAPI_LISTEN": "127.0.0.1:7777"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":8080" {
		t.Errorf("Listen = %q, want the flag value", c.Listen)
	}
}

func TestConfigFlagBeatsConfigEnv(t *testing.T) {
	fromEnv := writeFile(t, "env.yaml", "listen: 127.0.0.1:1111\n")
	fromFlag := writeFile(t, "flag.yaml", "listen: 127.0.0.1:2222\n")
	c, err := Load(newFlags(t, "--config", fromFlag), env(map[string]string{EnvConfigFile: fromEnv}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:2222" {
		t.Errorf("Listen = %q, want the --config file's", c.Listen)
	}
}

func TestSpecsLists(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  string
		args []string
		want string
	}{
		{name: "yaml list", yaml: "specs:\n  - a.yaml\n  - admin\n", want: "a.yaml,admin"},
		{name: "env comma separated, blanks dropped", env: " a.yaml , ,admin ", want: "a.yaml,admin"},
		{name: "flag repeated", args: []string{"--spec", "x.yaml", "--spec", "admin"}, want: "x.yaml,admin"},
		{name: "flag keeps commas in a path", args: []string{"--spec", "a,b.yaml"}, want: "a,b.yaml"},
		{name: "flag replaces yaml list", yaml: "specs: [a, b, c]\n", args: []string{"--spec", "z"}, want: "z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			envs := map[string]string{}
			if tt.yaml != "" {
				envs[EnvConfigFile] = writeFile(t, "c.yaml", tt.yaml)
			}
			if tt.env != "" {
				envs["HONEYAPI_SPEC"] = tt.env
			}
			c, err := Load(newFlags(t, tt.args...), env(envs))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(c.Specs, ","); got != tt.want {
				t.Errorf("Specs = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFullYAMLFile(t *testing.T) {
	path := writeFile(t, "full.yaml", `# every key
listen: ":9090"
admin_listen: 127.0.0.1:9091
db: /data/honeyapi.db
specs:
  - admin
  - ./openapi.yaml
secret: "0123456789abcdef0123"
log_level: debug
log_format: console
decoy:
  server_profile: envoy
  credentials: reject
  public_url: https://api.example.com
  max_body_bytes: 65536
  state_ttl: 90m
  state_max_objects: 500
`)
	c := Default()
	if err := c.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	got := []string{c.Listen, c.AdminListen, c.DB, strings.Join(c.Specs, ","), c.Secret, c.LogLevel, c.LogFormat,
		c.Decoy.ServerProfile, c.Decoy.Credentials, c.Decoy.PublicURL}
	want := []string{":9090", "127.0.0.1:9091", "/data/honeyapi.db", "admin,./openapi.yaml", "0123456789abcdef0123",
		"debug", "console", "envoy", "reject", "https://api.example.com"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("field %d = %q, want %q", i, got[i], want[i])
		}
	}
	if c.Decoy.MaxBodyBytes != 65536 || c.Decoy.StateTTL.String() != "1h30m0s" || c.Decoy.StateMaxObjects != 500 {
		t.Errorf("decoy numbers = %d %s %d", c.Decoy.MaxBodyBytes, c.Decoy.StateTTL, c.Decoy.StateMaxObjects)
	}
}

func TestEmptyYAMLFileChangesNothing(t *testing.T) {
	c := Default()
	if err := c.LoadFile(writeFile(t, "empty.yaml", "# nothing\n")); err != nil {
		t.Fatal(err)
	}
	if c.Listen != Default().Listen {
		t.Errorf("Listen = %q", c.Listen)
	}
}

func TestYAMLErrorsNameFileAndKey(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		wants []string
	}{
		{name: "unknown top-level key", yaml: "listen: :1\nlistne: :2\n",
			wants: []string{`unknown key "listne"`, "line 2", "admin_listen"}},
		{name: "unknown nested key", yaml: "decoy:\n  server_profle: nginx\n",
			wants: []string{`unknown key "decoy.server_profle"`, "line 2", "under decoy", "server_profile"}},
		{name: "bad duration", yaml: "decoy:\n  state_ttl: soon\n",
			wants: []string{"decoy.state_ttl", `"soon" is not a duration`, "line 2"}},
		{name: "duration without unit", yaml: "decoy:\n  state_ttl: 3600\n",
			wants: []string{"decoy.state_ttl", "not a duration"}},
		{name: "not a number", yaml: "decoy:\n  max_body_bytes: lots\n",
			wants: []string{"decoy.max_body_bytes", "line 2"}},
		{name: "specs not a list", yaml: "specs: {a: b}\n",
			wants: []string{"specs", "line 1"}},
		{name: "not a mapping", yaml: "- listen\n",
			wants: []string{"must be a mapping"}},
		{name: "syntax error", yaml: "listen: [\n",
			wants: []string{"line"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "bad.yaml", tt.yaml)
			_, err := Load(nil, env(map[string]string{EnvConfigFile: path}))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			msg := err.Error()
			for _, w := range append([]string{path}, tt.wants...) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func TestMissingConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.yaml")
	_, err := Load(newFlags(t, "--config", path), env(nil))
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want one naming %s", err, path)
	}
}

func TestBadEnvAndFlagValuesNameTheirSource(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		wants []string
	}{
		{name: "env duration", env: map[string]string{"HONEYAPI_STATE_TTL": "forever"},
			wants: []string{"HONEYAPI_STATE_TTL", `"forever" is not a duration`}},
		{name: "env number", env: map[string]string{"HONEYAPI_STATE_MAX_OBJECTS": "many"},
			wants: []string{"HONEYAPI_STATE_MAX_OBJECTS", "whole number"}},
		{name: "unknown profile", env: map[string]string{"HONEYAPI_SERVER_PROFILE": "iis"},
			wants: []string{"decoy.server_profile", `"iis"`, "nginx, envoy, apache, none", "HONEYAPI_SERVER_PROFILE", "--server-profile"}},
		{name: "unknown credentials mode", args: []string{"--credentials", "maybe"},
			wants: []string{"decoy.credentials", `"maybe"`}},
		{name: "bad log level", args: []string{"--log-level", "loud"},
			wants: []string{"log_level", `"loud"`}},
		{name: "bad log format", args: []string{"--log-format", "xml"},
			wants: []string{"log_format", `"xml"`}},
		{name: "public url with a path", args: []string{"--public-url", "https://a.example.com/v1"},
			wants: []string{"decoy.public_url", "only a scheme and host"}},
		{name: "public url without scheme", args: []string{"--public-url", "api.example.com"},
			wants: []string{"decoy.public_url"}},
		{name: "listen without port", args: []string{"--listen", "localhost"},
			wants: []string{"listen", "host:port"}},
		{name: "admin on the decoy listener", args: []string{"--admin-listen", "127.0.0.1:8080"},
			wants: []string{"admin_listen", "never shares"}},
		{name: "zero body size", args: []string{"--max-body-bytes", "0"},
			wants: []string{"decoy.max_body_bytes", "positive"}},
		{name: "negative ttl", args: []string{"--state-ttl", "-1m"},
			wants: []string{"decoy.state_ttl", "positive"}},
		{name: "short secret", env: map[string]string{"HONEYAPI_SECRET": "hunter2"},
			wants: []string{"secret", "at least 16"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(newFlags(t, tt.args...), env(tt.env))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestSecretNeverInErrors(t *testing.T) {
	_, err := Load(nil, env(map[string]string{"HONEYAPI_SECRET": "tooshort"}))
	if err == nil || strings.Contains(err.Error(), "tooshort") {
		t.Fatalf("err = %v; want an error that does not repeat the secret", err)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := Default()
	c.LogLevel = "loud"
	c.Decoy.Credentials = "maybe"
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "log_level") || !strings.Contains(err.Error(), "decoy.credentials") {
		t.Fatalf("err = %v, want both problems", err)
	}
}

func TestEmptyEnvIsUnset(t *testing.T) {
	c, err := Load(nil, env(map[string]string{"HONEYAPI_LISTEN": ""}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":8080" {
		t.Errorf("Listen = %q, want the default", c.Listen)
	}
}

// TestREADMEDocumentsEveryField keeps the configuration reference in the
// README in step with the table of settings.
func TestREADMEDocumentsEveryField(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Skipf("README.md: %v", err)
	}
	readme := string(data)
	for _, f := range Fields() {
		leaf := f.Key[strings.LastIndex(f.Key, ".")+1:]
		for _, w := range []string{"`" + leaf + "`", "`" + f.Env + "`"} {
			if !strings.Contains(readme, w) {
				t.Errorf("README.md does not mention %s (setting %s)", w, f.Key)
			}
		}
		if f.Flag != "" && !strings.Contains(readme, "`--"+f.Flag) {
			t.Errorf("README.md does not mention --%s", f.Flag)
		}
	}
}
