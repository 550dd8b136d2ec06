package tokens

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Seeding writes freshly minted honeytokens into the files an engineer really has: a
// repository's .env, config/production.yaml and terraform.tfvars, and a home directory's
// .aws, .docker and .kube configuration, .git-credentials, .npmrc and shell history. Each
// file holds ordinary settings around the tokens, in the layout and with the file mode the
// real tool writes, so nothing marks it out from the files beside it.
//
// SeedFiles builds the files in memory (for a download); Seed writes them under a directory.

// SeedOptions configures Minter.SeedFiles and Minter.Seed.
type SeedOptions struct {
	// Kinds are the kinds to mint and plant, one token of each. Empty means every kind this
	// Minter can mint: all of Kinds(), with DNS only when MinterOptions.DNSZone is set.
	// Naming DNS explicitly without a zone fails with ErrNoDNSZone.
	Kinds []Kind
	// Force lets Seed replace existing files. Without it Seed writes nothing when any target
	// file exists. Shell history is appended to, with or without Force; symlinks and other
	// non-regular files at a target path (or in place of one of its directories) are refused
	// even with Force.
	Force bool
	// Now anchors the dates written into the files (the kubeconfig CA certificate's validity,
	// shell history timestamps). Zero means time.Now().
	Now time.Time
}

// SeedFile is one file of a seeding.
type SeedFile struct {
	// Path is the file's path relative to the seed directory, slash-separated
	// (".aws/credentials").
	Path string
	// Mode is the file's permission bits, as the real tool creates the file (0600 for
	// credential stores, 0644 for project files).
	Mode fs.FileMode
	// DirMode is the mode given to Path's parent directory when Seed has to create it, as the
	// real tool creates it (.docker 0700, .aws and .kube 0755); 0 for top-level files.
	DirMode fs.FileMode
	// Data is the content written: the whole file, or for an Appended file the lines added.
	Data []byte
	// Tokens are the honeytokens whose secrets appear in Data (a token may appear in several
	// files; companion files such as .aws/config have none).
	Tokens []Token
	// Appended reports that Seed appended Data to an existing file (shell history) instead
	// of creating it.
	Appended bool
}

// Errors of Seed; a *SeedConflictError matches them with errors.Is.
var (
	// ErrSeedExists is matched when target files exist and SeedOptions.Force is not set.
	ErrSeedExists = errors.New("tokens: seed target exists")
	// ErrSeedRefused is matched when a target path, or one of its directories, is a symlink
	// or not a regular file (or directory): Seed never follows or replaces one.
	ErrSeedRefused = errors.New("tokens: seed target refused")
)

// SeedConflictError lists the target paths that stopped Seed before it wrote anything.
type SeedConflictError struct {
	// Dir is the seed directory.
	Dir string
	// Exists are existing regular files that Force would replace.
	Exists []string
	// Refused are paths that are symlinks or of the wrong type, each with the reason
	// ("symlink", "not a regular file", "not a directory").
	Refused []string
}

func (e *SeedConflictError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tokens: seed %s: nothing written:", e.Dir)
	if len(e.Exists) > 0 {
		fmt.Fprintf(&b, " %d file(s) already exist (Force replaces them): %s", len(e.Exists), strings.Join(e.Exists, ", "))
	}
	if len(e.Refused) > 0 {
		if len(e.Exists) > 0 {
			b.WriteByte(';')
		}
		fmt.Fprintf(&b, " refused, never followed or replaced: %s", strings.Join(e.Refused, ", "))
	}
	return b.String()
}

// Is reports whether target is ErrSeedExists (some files exist) or ErrSeedRefused (some
// paths were refused).
func (e *SeedConflictError) Is(target error) bool {
	return target == ErrSeedExists && len(e.Exists) > 0 || target == ErrSeedRefused && len(e.Refused) > 0
}

// Seed file paths and modes. The modes are those the owning tools create: aws-cli creates
// ~/.aws with the default 0777&^umask and its files 0600; docker's config file writer
// creates ~/.docker 0700 and config.json 0600; client-go's kubeconfig writer creates ~/.kube
// 0755 and the file 0600; git credential-store and npm write 0600; bash history is 0600.
const (
	seedEnvPath       = ".env"
	seedYAMLPath      = "config/production.yaml"
	seedTFVarsPath    = "terraform.tfvars"
	seedAWSCredsPath  = ".aws/credentials"
	seedAWSConfigPath = ".aws/config"
	seedGitCredsPath  = ".git-credentials"
	seedNPMRCPath     = ".npmrc"
	seedDockerPath    = ".docker/config.json"
	seedKubePath      = ".kube/config"
	seedHistoryPath   = ".bash_history"
)

var seedDirModes = map[string]fs.FileMode{
	"config":  0o755,
	".aws":    0o755,
	".docker": 0o700,
	".kube":   0o755,
}

// seeder holds one seeding's tokens and the random choices of its surrounding text.
type seeder struct {
	m   *Minter
	tok map[Kind]Token
	rnd *mrand.Rand
	now time.Time

	svc    string // service name, used for buckets, databases, channels
	region string
	stamps bool // write bash history timestamps (#epoch lines)
}

// SeedFiles mints one token of each requested kind and returns the files that hold them,
// without touching the file system. Every token appears in at least one file.
func (m *Minter) SeedFiles(opts SeedOptions) ([]SeedFile, error) {
	s, err := m.newSeeder(opts)
	if err != nil {
		return nil, err
	}
	return s.files()
}

func (m *Minter) seedKinds(kinds []Kind) ([]Kind, error) {
	if len(kinds) == 0 {
		out := make([]Kind, 0, len(allKinds))
		for _, k := range allKinds {
			if k == DNS && m.zone == "" {
				continue
			}
			out = append(out, k)
		}
		return out, nil
	}
	out := make([]Kind, 0, len(kinds))
	for _, k := range kinds {
		if !k.Valid() {
			return nil, fmt.Errorf("%w %q", ErrUnknownKind, k)
		}
		if k == DNS && m.zone == "" {
			return nil, ErrNoDNSZone
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out, nil
}

func (m *Minter) newSeeder(opts SeedOptions) (*seeder, error) {
	kinds, err := m.seedKinds(opts.Kinds)
	if err != nil {
		return nil, err
	}
	var key [32]byte
	rand.Read(key[:])
	s := &seeder{m: m, tok: make(map[Kind]Token, len(kinds)), rnd: mrand.New(mrand.NewChaCha8(key)), now: opts.Now}
	if s.now.IsZero() {
		s.now = time.Now()
	}
	for _, k := range kinds {
		t, err := m.New(k)
		if err != nil {
			return nil, fmt.Errorf("tokens: seed: mint %s: %w", k, err)
		}
		s.tok[k] = t
	}
	s.svc = seedPick(s.rnd, []string{"billing-api", "orders-service", "payments-gateway", "accounts-api",
		"notifications", "checkout", "ledger", "customer-portal", "reporting-api", "inventory-sync"})
	s.region = "us-east-1"
	if t, ok := s.tok[AWS]; ok && t.Fields["region"] != "" {
		s.region = t.Fields["region"]
	}
	return s, nil
}

func seedPick(r *mrand.Rand, list []string) string { return list[r.IntN(len(list))] }

// has reports whether a token of kind k is part of this seeding, and returns it.
func (s *seeder) has(k Kind) (Token, bool) {
	t, ok := s.tok[k]
	return t, ok
}

// files renders every file that holds at least one requested token, plus the companions
// of those files (.aws/config beside .aws/credentials).
func (s *seeder) files() ([]SeedFile, error) {
	var out []SeedFile
	add := func(p string, mode fs.FileMode, data []byte, kinds []Kind) {
		f := SeedFile{Path: p, Mode: mode, DirMode: seedDirModes[path.Dir(p)], Data: data}
		for _, k := range kinds {
			f.Tokens = append(f.Tokens, s.tok[k])
		}
		out = append(out, f)
	}
	for _, r := range []struct {
		path   string
		mode   fs.FileMode
		render func() ([]byte, []Kind)
	}{
		{seedEnvPath, 0o644, s.env},
		{seedYAMLPath, 0o644, s.yaml},
		{seedTFVarsPath, 0o644, s.tfvars},
		{seedAWSCredsPath, 0o600, s.awsCredentials},
		{seedGitCredsPath, 0o600, s.gitCredentials},
		{seedNPMRCPath, 0o600, s.npmrc},
		{seedDockerPath, 0o600, s.dockerConfig},
		{seedHistoryPath, 0o600, s.history},
	} {
		data, kinds := r.render()
		if len(kinds) == 0 {
			continue
		}
		add(r.path, r.mode, data, kinds)
		if r.path == seedAWSCredsPath {
			add(seedAWSConfigPath, 0o600, s.awsConfig(), nil)
		}
	}
	if t, ok := s.has(Kubeconfig); ok {
		data, err := s.kubeconfig(t)
		if err != nil {
			return nil, err
		}
		add(seedKubePath, 0o600, data, []Kind{Kubeconfig})
	}
	// Keep a stable, readable order: top-level project files, then dot-directories.
	slices.SortStableFunc(out, func(a, b SeedFile) int { return seedOrder(a.Path) - seedOrder(b.Path) })
	return out, nil
}

func seedOrder(p string) int {
	for i, q := range []string{seedEnvPath, seedYAMLPath, seedTFVarsPath, seedAWSCredsPath, seedAWSConfigPath,
		seedDockerPath, seedKubePath, seedGitCredsPath, seedNPMRCPath, seedHistoryPath} {
		if p == q {
			return i
		}
	}
	return 99
}

// lines collects a file's text and the kinds whose tokens it wrote.
type lines struct {
	b     strings.Builder
	kinds []Kind
}

func (l *lines) f(format string, args ...any) {
	fmt.Fprintf(&l.b, format, args...)
	l.b.WriteByte('\n')
}

func (l *lines) used(k Kind) {
	if !slices.Contains(l.kinds, k) {
		l.kinds = append(l.kinds, k)
	}
}

func (l *lines) result() ([]byte, []Kind) { return []byte(l.b.String()), l.kinds }

// --- .env --------------------------------------------------------------------------------

func (s *seeder) env() ([]byte, []Kind) {
	var l lines
	host := s.m.host
	l.f("# %s - production", s.svc)
	l.f("# Read by docker compose and the systemd unit. Rotate via the ops runbook.")
	l.f("APP_ENV=production")
	l.f("APP_NAME=%s", s.svc)
	l.f("PORT=8080")
	l.f("LOG_LEVEL=info")
	l.f("BASE_URL=https://%s", host)
	l.f("")
	if t, ok := s.has(DBURL); ok {
		l.f("DATABASE_URL=%s?sslmode=require", t.Value)
		l.used(DBURL)
	} else {
		l.f("DATABASE_URL=postgres://localhost:5432/%s?sslmode=disable", strings.ReplaceAll(s.svc, "-", "_"))
	}
	l.f("DATABASE_POOL_SIZE=%d", 10+5*s.rnd.IntN(4))
	l.f("REDIS_URL=redis://redis:6379/0")
	if t, ok := s.has(AWS); ok {
		l.f("")
		l.f("AWS_ACCESS_KEY_ID=%s", t.Value)
		l.f("AWS_SECRET_ACCESS_KEY=%s", t.Fields["secret_access_key"])
		l.f("AWS_DEFAULT_REGION=%s", s.region)
		l.f("S3_BUCKET=%s-prod-uploads", s.svc)
		l.used(AWS)
	}
	l.f("")
	if t, ok := s.has(Stripe); ok {
		if strings.HasPrefix(t.Value, "rk_") {
			l.f("STRIPE_RESTRICTED_KEY=%s", t.Value)
		} else {
			l.f("STRIPE_SECRET_KEY=%s", t.Value)
		}
		l.used(Stripe)
	}
	if t, ok := s.has(OpenAI); ok {
		l.f("OPENAI_API_KEY=%s", t.Value)
		l.f("OPENAI_MODEL=gpt-4o-mini")
		l.used(OpenAI)
	}
	if t, ok := s.has(Google); ok {
		l.f("GOOGLE_MAPS_API_KEY=%s", t.Value)
		l.used(Google)
	}
	if t, ok := s.has(Slack); ok {
		if strings.HasPrefix(t.Value, "xoxp-") {
			l.f("SLACK_USER_TOKEN=%s", t.Value)
		} else {
			l.f("SLACK_BOT_TOKEN=%s", t.Value)
		}
		l.f("SLACK_ALERTS_CHANNEL=%s-alerts", s.svc)
		l.used(Slack)
	}
	if t, ok := s.has(GitHub); ok {
		l.f("GITHUB_TOKEN=%s", t.Value)
		l.used(GitHub)
	}
	if t, ok := s.has(GitLab); ok {
		l.f("GITLAB_TOKEN=%s", t.Value)
		l.used(GitLab)
	}
	if t, ok := s.has(GitCredentials); ok {
		l.f("GITEA_URL=%s", t.Fields["url"])
		l.f("GITEA_TOKEN=%s", t.Value)
		l.used(GitCredentials)
	}
	if t, ok := s.has(NPM); ok {
		l.f("NPM_TOKEN=%s", t.Value)
		l.used(NPM)
	}
	if t, ok := s.has(Docker); ok {
		l.f("REGISTRY_HOST=%s", t.Fields["server"])
		l.f("REGISTRY_USERNAME=%s", t.Fields["username"])
		l.f("REGISTRY_TOKEN=%s", t.Value)
		l.used(Docker)
	}
	l.f("")
	l.f("INTERNAL_API_URL=https://%s/api", host)
	if t, ok := s.has(APIKey); ok {
		l.f("INTERNAL_API_KEY=%s", t.Value)
		l.used(APIKey)
	}
	if t, ok := s.has(Basic); ok {
		l.f("INTERNAL_API_USER=%s", t.Fields["username"])
		l.f("INTERNAL_API_PASSWORD=%s", t.Fields["password"])
		l.used(Basic)
	}
	if t, ok := s.has(JWT); ok {
		l.f("SERVICE_AUTH_TOKEN=%s", t.Value)
		l.used(JWT)
	}
	if t, ok := s.has(URL); ok {
		l.f("EXPORT_WEBHOOK_URL=%s", t.Value)
		l.used(URL)
	}
	return l.result()
}

// --- config/production.yaml --------------------------------------------------------------

func (s *seeder) yaml() ([]byte, []Kind) {
	var l lines
	host := s.m.host
	l.f("# %s production configuration", s.svc)
	l.f("server:")
	l.f("  addr: \":8080\"")
	l.f("  public_url: https://%s", host)
	l.f("  read_timeout: 15s")
	l.f("  write_timeout: 30s")
	l.f("")
	if t, ok := s.has(DBURL); ok {
		l.f("database:")
		l.f("  driver: postgres")
		l.f("  host: %s", t.Fields["host"])
		l.f("  port: %s", t.Fields["port"])
		l.f("  name: %s", t.Fields["database"])
		l.f("  user: %s", t.Fields["username"])
		l.f("  password: %q", t.Fields["password"])
		l.f("  sslmode: require")
		l.f("  max_open_conns: 25")
		l.f("")
		l.used(DBURL)
	}
	l.f("cache:")
	if t, ok := s.has(DNS); ok {
		l.f("  host: %s", t.Value)
		l.used(DNS)
	} else {
		l.f("  host: redis")
	}
	l.f("  port: 6379")
	l.f("  ttl: 10m")
	l.f("")
	if t, ok := s.has(AWS); ok {
		l.f("aws:")
		l.f("  region: %s", s.region)
		l.f("  access_key_id: %s", t.Value)
		l.f("  secret_access_key: %q", t.Fields["secret_access_key"])
		l.f("  s3_bucket: %s-prod-uploads", s.svc)
		l.f("")
		l.used(AWS)
	}
	if t, ok := s.has(Stripe); ok {
		l.f("stripe:")
		l.f("  secret_key: %s", t.Value)
		l.f("  currency: usd")
		l.f("")
		l.used(Stripe)
	}
	if t, ok := s.has(Slack); ok {
		l.f("slack:")
		if strings.HasPrefix(t.Value, "xoxp-") {
			l.f("  user_token: %s", t.Value)
		} else {
			l.f("  bot_token: %s", t.Value)
		}
		l.f("  alerts_channel: \"#%s-alerts\"", s.svc)
		l.f("")
		l.used(Slack)
	}
	if t, ok := s.has(OpenAI); ok {
		l.f("openai:")
		l.f("  api_key: %s", t.Value)
		l.f("  model: gpt-4o-mini")
		l.f("  timeout: 60s")
		l.f("")
		l.used(OpenAI)
	}
	if t, ok := s.has(Google); ok {
		l.f("google:")
		l.f("  maps_api_key: %s", t.Value)
		l.f("")
		l.used(Google)
	}
	apikey, hasKey := s.has(APIKey)
	basic, hasBasic := s.has(Basic)
	jwt, hasJWT := s.has(JWT)
	if hasKey || hasBasic || hasJWT {
		l.f("internal_api:")
		l.f("  base_url: https://%s/api", host)
		if hasKey {
			l.f("  api_key: %q", apikey.Value)
			l.used(APIKey)
		}
		if hasBasic {
			l.f("  username: %s", basic.Fields["username"])
			l.f("  password: %q", basic.Fields["password"])
			l.used(Basic)
		}
		if hasJWT {
			l.f("  service_token: %s", jwt.Value)
			l.used(JWT)
		}
		l.f("  retries: 3")
		l.f("")
	}
	if t, ok := s.has(URL); ok {
		l.f("exports:")
		l.f("  schedule: \"0 3 * * *\"")
		l.f("  webhook_url: %s", t.Value)
		l.used(URL)
	}
	return l.result()
}

// --- terraform.tfvars --------------------------------------------------------------------

func (s *seeder) tfvars() ([]byte, []Kind) {
	type kv struct{ k, v string }
	var l lines
	var vars []kv
	add := func(k, v string) { vars = append(vars, kv{k, v}) }
	if t, ok := s.has(AWS); ok {
		add("aws_access_key", t.Value)
		add("aws_secret_key", t.Fields["secret_access_key"])
		l.used(AWS)
	}
	if t, ok := s.has(DBURL); ok {
		add("db_username", t.Fields["username"])
		add("db_password", t.Fields["password"])
		l.used(DBURL)
	}
	if t, ok := s.has(GitHub); ok {
		add("github_token", t.Value)
		l.used(GitHub)
	}
	if t, ok := s.has(GitLab); ok {
		add("gitlab_token", t.Value)
		l.used(GitLab)
	}
	if len(vars) == 0 {
		return nil, nil
	}
	l.f("environment = \"production\"")
	l.f("region      = %q", s.region)
	l.f("")
	// terraform fmt aligns the "=" of consecutive attributes.
	w := 0
	for _, v := range vars {
		w = max(w, len(v.k))
	}
	for _, v := range vars {
		l.f("%-*s = %q", w, v.k, v.v)
	}
	l.f("")
	l.f("instance_type = \"t3.medium\"")
	l.f("min_size      = 2")
	l.f("max_size      = %d", 4+2*s.rnd.IntN(3))
	return l.result()
}

// --- ~/.aws ------------------------------------------------------------------------------

func (s *seeder) awsCredentials() ([]byte, []Kind) {
	t, ok := s.has(AWS)
	if !ok {
		return nil, nil
	}
	var l lines
	l.f("[default]")
	l.f("aws_access_key_id = %s", t.Value)
	l.f("aws_secret_access_key = %s", t.Fields["secret_access_key"])
	l.used(AWS)
	return l.result()
}

// awsConfig points the default profile at the decoy, so SDKs and the CLI sign their
// requests (SigV4, with the honeytoken key id) to it.
func (s *seeder) awsConfig() []byte {
	var l lines
	l.f("[default]")
	l.f("region = %s", s.region)
	l.f("output = json")
	l.f("endpoint_url = https://%s", s.m.host)
	b, _ := l.result()
	return b
}

// --- ~/.git-credentials, ~/.npmrc, ~/.docker/config.json ---------------------------------

func (s *seeder) gitCredentials() ([]byte, []Kind) {
	var l lines
	if t, ok := s.has(GitCredentials); ok {
		host := strings.TrimPrefix(t.Fields["url"], "https://")
		l.f("https://%s:%s@%s", t.Fields["username"], t.Value, host)
		l.used(GitCredentials)
	}
	if t, ok := s.has(GitHub); ok {
		user := seedPick(s.rnd, []string{"jmarsh-work", "k-okafor", "dvoronin", "sam-ci", "ops-bot"})
		if strings.HasPrefix(t.Value, "ghs_") {
			user = "x-access-token" // GitHub App installation tokens
		}
		l.f("https://%s:%s@github.com", user, t.Value)
		l.used(GitHub)
	}
	if t, ok := s.has(GitLab); ok {
		l.f("https://oauth2:%s@gitlab.com", t.Value)
		l.used(GitLab)
	}
	return l.result()
}

func (s *seeder) npmrc() ([]byte, []Kind) {
	t, ok := s.has(NPM)
	if !ok {
		return nil, nil
	}
	var l lines
	l.f("//registry.npmjs.org/:_authToken=%s", t.Value)
	l.f("save-exact=true")
	l.used(NPM)
	return l.result()
}

// dockerConfig is config.json as the docker CLI writes it after "docker login": tab
// indentation, the auth field base64(username:password), no trailing newline.
func (s *seeder) dockerConfig() ([]byte, []Kind) {
	t, ok := s.has(Docker)
	if !ok {
		return nil, nil
	}
	type auth struct {
		Auth string `json:"auth"`
	}
	cfg := struct {
		Auths map[string]auth `json:"auths"`
	}{Auths: map[string]auth{
		t.Fields["server"]: {Auth: base64.StdEncoding.EncodeToString([]byte(t.Fields["username"] + ":" + t.Value))},
	}}
	b, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil { // a map of strings always marshals
		panic(err)
	}
	return b, []Kind{Docker}
}

// --- ~/.kube/config ----------------------------------------------------------------------

// kubeconfig is the file as kubectl writes it (client-go's YAML: keys sorted, two-space
// indentation), with a bearer-token user and a CA certificate of the kind kubeadm makes.
func (s *seeder) kubeconfig(t Token) ([]byte, error) {
	ca, err := s.kubeCA()
	if err != nil {
		return nil, err
	}
	cluster, user := t.Fields["cluster"], t.Fields["user"]
	ctx := user + "@" + cluster
	var l lines
	l.f("apiVersion: v1")
	l.f("clusters:")
	l.f("- cluster:")
	l.f("    certificate-authority-data: %s", ca)
	l.f("    server: %s", t.Fields["server"])
	l.f("  name: %s", cluster)
	l.f("contexts:")
	l.f("- context:")
	l.f("    cluster: %s", cluster)
	l.f("    namespace: %s", s.svc)
	l.f("    user: %s", user)
	l.f("  name: %s", ctx)
	l.f("current-context: %s", ctx)
	l.f("kind: Config")
	l.f("preferences: {}")
	l.f("users:")
	l.f("- name: %s", user)
	l.f("  user:")
	l.f("    token: %s", t.Value)
	b, _ := l.result()
	return b, nil
}

// kubeCA returns base64(PEM) of a self-signed cluster CA certificate shaped like
// kubeadm's: RSA 2048, CN=kubernetes, valid ten years from a date before Now.
func (s *seeder) kubeCA() (string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", fmt.Errorf("tokens: seed: kubeconfig CA key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		return "", fmt.Errorf("tokens: seed: kubeconfig CA serial: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", fmt.Errorf("tokens: seed: kubeconfig CA key: %w", err)
	}
	ski := sha1.Sum(pub)
	notBefore := s.now.UTC().Add(-time.Duration(30+s.rnd.IntN(700)) * 24 * time.Hour).
		Add(-time.Duration(s.rnd.IntN(86400)) * time.Second).Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "kubernetes"},
		NotBefore:             notBefore,
		NotAfter:              notBefore.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          ski[:],
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", fmt.Errorf("tokens: seed: kubeconfig CA certificate: %w", err)
	}
	return base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
}

// --- ~/.bash_history ---------------------------------------------------------------------

// history is a stretch of shell history: everyday commands with, here and there, one that
// uses a credential the way engineers really do (exports, curl, psql, kubectl, dig).
func (s *seeder) history() ([]byte, []Kind) {
	host := s.m.host
	var kinds []Kind
	var episodes [][]string
	ep := func(k Kind, cmds ...string) {
		episodes = append(episodes, cmds)
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	if t, ok := s.has(AWS); ok {
		ep(AWS, "export AWS_ACCESS_KEY_ID="+t.Value,
			"export AWS_SECRET_ACCESS_KEY="+t.Fields["secret_access_key"],
			"aws sts get-caller-identity",
			"aws s3 ls s3://"+s.svc+"-prod-uploads/ --recursive | tail")
	}
	if t, ok := s.has(GitHub); ok {
		ep(GitHub, "export GITHUB_TOKEN="+t.Value,
			"curl -s -H \"Authorization: token "+t.Value+"\" https://api.github.com/user | jq .login")
	}
	if t, ok := s.has(GitLab); ok {
		ep(GitLab, "curl --header \"PRIVATE-TOKEN: "+t.Value+"\" \"https://gitlab.com/api/v4/projects?membership=true\" | jq '.[].path_with_namespace'")
	}
	if t, ok := s.has(Slack); ok {
		ep(Slack, "curl -s -X POST -H \"Authorization: Bearer "+t.Value+"\" https://slack.com/api/auth.test")
	}
	if t, ok := s.has(Stripe); ok {
		ep(Stripe, "stripe charges list --limit 5 --api-key "+t.Value)
	}
	if t, ok := s.has(NPM); ok {
		ep(NPM, "npm config set //registry.npmjs.org/:_authToken="+t.Value, "npm whoami")
	}
	if t, ok := s.has(OpenAI); ok {
		ep(OpenAI, "curl https://api.openai.com/v1/models -H \"Authorization: Bearer "+t.Value+"\" | jq '.data[].id' | head")
	}
	if t, ok := s.has(JWT); ok {
		ep(JWT, "curl -s -H \"Authorization: Bearer "+t.Value+"\" 'https://"+host+"/api/v1/accounts?limit=5' | jq .")
	}
	if t, ok := s.has(APIKey); ok {
		ep(APIKey, "curl -H \"X-API-Key: "+t.Value+"\" https://"+host+"/api/v1/health")
	}
	if t, ok := s.has(Basic); ok {
		ep(Basic, "curl -u "+t.Fields["username"]+":"+t.Fields["password"]+" https://"+host+"/admin/metrics")
	}
	if t, ok := s.has(DBURL); ok {
		ep(DBURL, "psql \""+t.Value+"?sslmode=require\" -c '\\dt'",
			"pg_dump -Fc -f /tmp/"+t.Fields["database"]+".dump \""+t.Value+"\"")
	}
	if t, ok := s.has(URL); ok {
		ep(URL, "curl -sSL -o export.csv.gz "+t.Value)
	}
	if t, ok := s.has(DNS); ok {
		ep(DNS, "dig +short "+t.Value, "nslookup "+t.Value)
	}
	if t, ok := s.has(Kubeconfig); ok {
		ep(Kubeconfig, "kubectl --server="+t.Fields["server"]+" --token="+t.Value+" --insecure-skip-tls-verify get pods -A")
	}
	if t, ok := s.has(Docker); ok {
		ep(Docker, "echo "+t.Value+" | docker login "+t.Fields["server"]+" -u "+t.Fields["username"]+" --password-stdin")
	}
	if t, ok := s.has(GitCredentials); ok {
		gitHost := strings.TrimPrefix(t.Fields["url"], "https://")
		ep(GitCredentials, "git clone https://"+t.Fields["username"]+":"+t.Value+"@"+gitHost+"/platform/"+s.svc+".git")
	}
	if len(episodes) == 0 {
		return nil, nil
	}
	filler := [][]string{
		{"cd ~/src/" + s.svc, "git status", "git pull --rebase"},
		{"make test"},
		{"docker compose up -d", "docker compose logs -f --tail=100 api"},
		{"kubectl get pods -n " + s.svc, "kubectl logs deploy/" + s.svc + " --since=10m"},
		{"ls -la"},
		{"vim .env"},
		{"go test ./...", "git add -p", "git commit -m \"fix retry on 502\""},
		{"htop"},
		{"ssh bastion-01"},
		{"terraform plan -var-file=terraform.tfvars"},
		{"cat ~/.aws/config"},
		{"history | grep curl"},
	}
	s.rnd.Shuffle(len(filler), func(i, j int) { filler[i], filler[j] = filler[j], filler[i] })
	s.rnd.Shuffle(len(episodes), func(i, j int) { episodes[i], episodes[j] = episodes[j], episodes[i] })
	// Interleave: one or two filler episodes between credential episodes.
	var cmds []string
	fi := 0
	for _, e := range episodes {
		for n := 1 + s.rnd.IntN(2); n > 0 && fi < len(filler); n-- {
			cmds = append(cmds, filler[fi]...)
			fi++
		}
		cmds = append(cmds, e...)
	}
	for ; fi < len(filler); fi++ {
		cmds = append(cmds, filler[fi]...)
	}
	var b bytes.Buffer
	at := s.now.Add(-time.Duration(len(cmds)*90+s.rnd.IntN(3600)) * time.Second)
	for _, c := range cmds {
		if s.stamps {
			b.WriteString("#" + strconv.FormatInt(at.Unix(), 10) + "\n")
			at = at.Add(time.Duration(20+s.rnd.IntN(160)) * time.Second)
		}
		b.WriteString(c)
		b.WriteByte('\n')
	}
	return b.Bytes(), kinds
}

// historyHasStamps reports whether existing bash history carries HISTTIMEFORMAT
// timestamps ("#" followed by a Unix time on its own line).
func historyHasStamps(b []byte) bool {
	for line := range bytes.Lines(b) {
		line = bytes.TrimRight(line, "\r\n")
		if len(line) >= 10 && len(line) <= 11 && line[0] == '#' {
			if _, err := strconv.ParseInt(string(line[1:]), 10, 64); err == nil {
				return true
			}
		}
	}
	return false
}

// --- writing -----------------------------------------------------------------------------

// Seed mints one token of each requested kind and writes the files that hold them under
// dir, which must exist. It returns the files as written.
//
// Before writing anything it checks every target: without Force, any existing target file
// fails the whole seeding with a *SeedConflictError (errors.Is ErrSeedExists) that lists
// them; a symlink, or anything but a regular file, at a target path or in place of one of
// its directories fails it with ErrSeedRefused, even with Force. Shell history is appended
// to when it exists (SeedFile.Appended), with timestamps if it already has them.
//
// Each file is written to a temporary file in its directory, given its mode before any
// content, synced, and then moved into place; without Force a file is linked into place, so
// one created in the meantime is never replaced. If any step fails, the files and
// directories this call created are removed (files replaced under Force cannot be restored).
// All access goes through an os.Root at dir, so nothing outside dir is touched.
func (m *Minter) Seed(dir string, opts SeedOptions) ([]SeedFile, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("tokens: seed: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("tokens: seed: %s is not a directory", dir)
	}
	s, err := m.newSeeder(opts)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("tokens: seed: %w", err)
	}
	defer root.Close()

	// Existing history decides whether our history lines carry timestamps; render after.
	hist, histExists, err := seedReadHistory(root)
	if err != nil {
		return nil, fmt.Errorf("tokens: seed %s: %w", dir, err)
	}
	s.stamps = histExists && historyHasStamps(hist)
	files, err := s.files()
	if err != nil {
		return nil, err
	}

	// Preflight: check every path component of every target, in order, without following
	// anything.
	conflict := &SeedConflictError{Dir: dir}
	checked := map[string]bool{} // directory → exists as a real directory or is missing
	for i := range files {
		f := &files[i]
		parts := strings.Split(f.Path, "/")
		usable := true // every existing parent is a real directory
		for j := 1; j < len(parts); j++ {
			d := strings.Join(parts[:j], "/")
			ok, seen := checked[d]
			if !seen {
				ok = true
				switch st, err := root.Lstat(d); {
				case errors.Is(err, fs.ErrNotExist):
				case err != nil:
					return nil, fmt.Errorf("tokens: seed %s: %w", dir, err)
				case st.Mode()&fs.ModeSymlink != 0:
					conflict.Refused = append(conflict.Refused, d+" (symlink)")
					ok = false
				case !st.IsDir():
					conflict.Refused = append(conflict.Refused, d+" (not a directory)")
					ok = false
				}
				checked[d] = ok
			}
			usable = usable && ok
		}
		if !usable {
			continue
		}
		switch st, err := root.Lstat(f.Path); {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("tokens: seed %s: %w", dir, err)
		case st.Mode()&fs.ModeSymlink != 0:
			conflict.Refused = append(conflict.Refused, f.Path+" (symlink)")
		case !st.Mode().IsRegular():
			conflict.Refused = append(conflict.Refused, f.Path+" (not a regular file)")
		case f.Path == seedHistoryPath:
			f.Appended = true
		case !opts.Force:
			conflict.Exists = append(conflict.Exists, f.Path)
		}
	}
	if len(conflict.Exists) > 0 || len(conflict.Refused) > 0 {
		return nil, conflict
	}

	w := &seedWriter{root: root, force: opts.Force}
	if err := w.write(files, hist); err != nil {
		w.rollback()
		return nil, fmt.Errorf("tokens: seed %s: %w (rolled back the files and directories this seeding created)", dir, err)
	}
	return files, nil
}

// seedReadHistory reads existing shell history (a regular file only).
func seedReadHistory(root *os.Root) ([]byte, bool, error) {
	st, err := root.Lstat(seedHistoryPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if !st.Mode().IsRegular() {
		return nil, false, nil // refused by the preflight
	}
	b, err := root.ReadFile(seedHistoryPath)
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// seedWriter writes a seeding and remembers what it created, to undo it on failure.
type seedWriter struct {
	root    *os.Root
	force   bool
	dirs    []string // created directories, parents first
	files   []string // created files
	temps   []string // temporary files not yet moved into place
	appends []seedAppend
}

type seedAppend struct {
	path string
	size int64 // length before our lines
}

func (w *seedWriter) write(files []SeedFile, hist []byte) error {
	// Directories first, with their modes set explicitly (MkdirAll would leave them to the
	// umask).
	for _, f := range files {
		parts := strings.Split(f.Path, "/")
		for j := 1; j < len(parts); j++ {
			d := strings.Join(parts[:j], "/")
			mode := seedDirModes[d]
			if mode == 0 {
				mode = 0o755
			}
			if err := w.mkdir(d, mode); err != nil {
				return err
			}
		}
	}
	// Stage every new file before moving any into place, so a failure to write (a full
	// disk) leaves the directory as it was.
	tmp := make([]string, len(files))
	for i, f := range files {
		if f.Appended {
			continue
		}
		name, err := w.stage(f)
		if err != nil {
			return err
		}
		tmp[i] = name
	}
	for i, f := range files {
		if f.Appended {
			continue
		}
		if err := w.commit(tmp[i], f.Path); err != nil {
			return err
		}
	}
	for i := range files {
		if files[i].Appended {
			if err := w.appendTo(files[i].Path, files[i].Data, hist); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *seedWriter) mkdir(d string, mode fs.FileMode) error {
	err := w.root.Mkdir(d, mode)
	if errors.Is(err, fs.ErrExist) {
		st, err := w.root.Lstat(d)
		if err != nil {
			return err
		}
		if !st.IsDir() { // replaced since the preflight
			return fmt.Errorf("%s: %w (not a directory)", d, ErrSeedRefused)
		}
		return nil
	}
	if err != nil {
		return err
	}
	w.dirs = append(w.dirs, d)
	dh, err := w.root.Open(d)
	if err != nil {
		return err
	}
	defer dh.Close()
	return dh.Chmod(mode)
}

// stage writes f to a new temporary file beside its target, mode first, and syncs it.
func (w *seedWriter) stage(f SeedFile) (string, error) {
	dir, base := path.Split(f.Path)
	var name string
	var fh *os.File
	for tries := 0; ; tries++ {
		var r [6]byte
		rand.Read(r[:])
		name = dir + "." + base + "." + hex.EncodeToString(r[:]) + ".tmp"
		var err error
		fh, err = w.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || tries > 8 {
			return "", err
		}
	}
	w.temps = append(w.temps, name)
	err := fh.Chmod(f.Mode)
	if err == nil {
		_, err = fh.Write(f.Data)
	}
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", f.Path, err)
	}
	return name, nil
}

// commit moves a staged file into place. Without Force it hard-links the file (a link
// never replaces an existing name, so a file created since the preflight is kept) and falls
// back to a checked rename where hard links are unsupported; under Force it renames.
func (w *seedWriter) commit(tmp, target string) error {
	st, err := w.root.Lstat(target)
	existed := err == nil
	switch {
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	case existed && !st.Mode().IsRegular():
		return fmt.Errorf("%s: %w (no longer a regular file)", target, ErrSeedRefused)
	case existed && !w.force:
		return fmt.Errorf("%s: %w (created while seeding)", target, ErrSeedExists)
	}
	if !w.force {
		err := w.root.Link(tmp, target)
		if err == nil {
			w.files = append(w.files, target)
			if err := w.root.Remove(tmp); err != nil {
				return err
			}
			w.dropTemp(tmp)
			return nil
		}
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: %w (created while seeding)", target, ErrSeedExists)
		}
	}
	if err := w.root.Rename(tmp, target); err != nil {
		return err
	}
	w.dropTemp(tmp)
	if !existed {
		w.files = append(w.files, target)
	}
	return nil
}

func (w *seedWriter) dropTemp(name string) {
	if i := slices.Index(w.temps, name); i >= 0 {
		w.temps = slices.Delete(w.temps, i, i+1)
	}
}

// appendTo appends data to existing history, on a line of its own. It opens the file only
// if it is still the regular file the preflight saw.
func (w *seedWriter) appendTo(p string, data, prev []byte) error {
	before, err := w.root.Lstat(p)
	if err != nil {
		return err
	}
	if !before.Mode().IsRegular() {
		return fmt.Errorf("%s: %w (no longer a regular file)", p, ErrSeedRefused)
	}
	fh, err := w.root.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return err
	}
	if !os.SameFile(before, st) {
		return fmt.Errorf("%s: %w (replaced while seeding)", p, ErrSeedRefused)
	}
	w.appends = append(w.appends, seedAppend{path: p, size: st.Size()})
	if len(prev) > 0 && prev[len(prev)-1] != '\n' && int64(len(prev)) == st.Size() {
		data = append([]byte{'\n'}, data...)
	}
	if _, err := fh.Write(data); err != nil {
		return err
	}
	return fh.Sync()
}

// rollback removes what this seeding created: temporary files, new files, new
// directories (deepest first), and truncates appended history back to its old length.
func (w *seedWriter) rollback() {
	for _, a := range w.appends {
		if fh, err := w.root.OpenFile(a.path, os.O_WRONLY, 0); err == nil {
			fh.Truncate(a.size)
			fh.Close()
		}
	}
	for _, t := range w.temps {
		w.root.Remove(t)
	}
	for _, f := range w.files {
		w.root.Remove(f)
	}
	for i := len(w.dirs) - 1; i >= 0; i-- {
		w.root.Remove(w.dirs[i]) // only if empty
	}
}
