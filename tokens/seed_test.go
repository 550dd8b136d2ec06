package tokens

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// recognizeAll returns the tokens Recognize finds in data. It looks at each field between
// blanks, quotes and commas, at the value after a field's first "=" (KEY=value,
// --token=…), at a URL's password (Recognize itself only looks for generic-shaped
// passwords in URLs, not provider tokens such as ghp_… in .git-credentials), and at base64
// fields that decode to "user:secret" (docker auth).
func recognizeAll(m *Minter, data []byte) map[ID]Kind {
	found := map[ID]Kind{}
	try := func(s string) {
		if id, k, ok := m.Recognize(s); ok {
			found[id] = k
		}
	}
	fields := strings.FieldsFunc(string(data), func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '"' || r == '\'' || r == ','
	})
	for _, f := range fields {
		try(f)
		if b, err := base64.StdEncoding.DecodeString(f); err == nil {
			if _, pw, ok := strings.Cut(string(b), ":"); ok {
				try(pw)
			}
		}
		if _, v, ok := strings.Cut(f, "="); ok {
			try(v)
			f = v
		}
		if u, err := url.Parse(f); err == nil && u.User != nil {
			if pw, ok := u.User.Password(); ok {
				try(pw)
			}
		}
	}
	return found
}

func seedFilesOf(t *testing.T, m *Minter, opts SeedOptions) map[string]SeedFile {
	t.Helper()
	files, err := m.SeedFiles(opts)
	if err != nil {
		t.Fatalf("SeedFiles: %v", err)
	}
	out := map[string]SeedFile{}
	for _, f := range files {
		if _, dup := out[f.Path]; dup {
			t.Fatalf("SeedFiles: %s twice", f.Path)
		}
		out[f.Path] = f
	}
	return out
}

func TestSeedFilesHoldEveryKindRecognizably(t *testing.T) {
	m := newTestMinter(t, testSecret)
	files, err := m.SeedFiles(SeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[Kind]ID{}
	for _, f := range files {
		found := recognizeAll(m, f.Data)
		want := map[ID]Kind{}
		for _, tok := range f.Tokens {
			want[tok.ID] = tok.Kind
			if prev, ok := kinds[tok.Kind]; ok && prev != tok.ID {
				t.Errorf("%s: a second %s token; a seeding mints one per kind", f.Path, tok.Kind)
			}
			kinds[tok.Kind] = tok.ID
			if id, k, ok := m.Recognize(tok.Value); !ok || id != tok.ID || k != tok.Kind {
				t.Errorf("%s: Recognize(%q) = %v %q %v, want %v %q", f.Path, tok.Value, id, k, ok, tok.ID, tok.Kind)
			}
		}
		for id, k := range want {
			if found[id] != k {
				t.Errorf("%s: Recognize does not find its %s token in the file", f.Path, k)
			}
		}
		for id, k := range found {
			if want[id] != k {
				t.Errorf("%s: holds a %s token that SeedFile.Tokens does not list", f.Path, k)
			}
		}
	}
	for _, k := range Kinds() {
		if _, ok := kinds[k]; !ok {
			t.Errorf("no %s token in any file", k)
		}
	}
}

func TestSeedFilesKinds(t *testing.T) {
	m := newTestMinter(t, testSecret)
	files := seedFilesOf(t, m, SeedOptions{Kinds: []Kind{AWS, AWS}})
	var paths []string
	for p, f := range files {
		paths = append(paths, p)
		for _, tok := range f.Tokens {
			if tok.Kind != AWS {
				t.Errorf("%s: %s token, only aws was asked for", p, tok.Kind)
			}
		}
	}
	slices.Sort(paths)
	want := []string{".aws/config", ".aws/credentials", ".bash_history", ".env", "config/production.yaml", "terraform.tfvars"}
	if !slices.Equal(paths, want) {
		t.Errorf("aws only: files %q, want %q", paths, want)
	}

	files = seedFilesOf(t, m, SeedOptions{Kinds: []Kind{Kubeconfig}})
	if _, ok := files[".kube/config"]; !ok || len(files) != 2 { // and history
		t.Errorf("kubeconfig only: files %v, want .kube/config and .bash_history", files)
	}

	if _, err := m.SeedFiles(SeedOptions{Kinds: []Kind{"nope"}}); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("unknown kind: err %v, want ErrUnknownKind", err)
	}
	noZone, err := NewMinter(testSecret, MinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noZone.SeedFiles(SeedOptions{Kinds: []Kind{DNS}}); !errors.Is(err, ErrNoDNSZone) {
		t.Errorf("dns without zone: err %v, want ErrNoDNSZone", err)
	}
	for _, f := range seedFilesOf(t, noZone, SeedOptions{}) {
		for _, tok := range f.Tokens {
			if tok.Kind == DNS {
				t.Errorf("default kinds without a zone: %s holds a dns token", f.Path)
			}
		}
	}
}

func TestSeedFilesAreFresh(t *testing.T) {
	m := newTestMinter(t, testSecret)
	a := seedFilesOf(t, m, SeedOptions{Kinds: []Kind{GitHub}})
	b := seedFilesOf(t, m, SeedOptions{Kinds: []Kind{GitHub}})
	if a[".env"].Tokens[0].Value == b[".env"].Tokens[0].Value {
		t.Error("two seedings planted the same token")
	}
}

func tokenOf(t *testing.T, f SeedFile, k Kind) Token {
	t.Helper()
	for _, tok := range f.Tokens {
		if tok.Kind == k {
			return tok
		}
	}
	t.Fatalf("%s: no %s token", f.Path, k)
	return Token{}
}

// parseINI parses the aws-cli INI dialect: [section] headers and "key = value" lines.
func parseINI(t *testing.T, name string, data []byte) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	var sec map[string]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			sec = map[string]string{}
			out[line[1:len(line)-1]] = sec
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || sec == nil {
				t.Fatalf("%s:%d: not INI: %q", name, n, line)
			}
			sec[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out
}

func TestSeedFilesParse(t *testing.T) {
	m := newTestMinter(t, testSecret)
	now := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	files := seedFilesOf(t, m, SeedOptions{Now: now})

	t.Run("env", func(t *testing.T) {
		line := regexp.MustCompile(`^[A-Z][A-Z0-9_]*=\S+$`)
		for i, l := range strings.Split(strings.TrimSuffix(string(files[".env"].Data), "\n"), "\n") {
			if l != "" && !strings.HasPrefix(l, "#") && !line.MatchString(l) {
				t.Errorf(".env:%d: not KEY=value: %q", i+1, l)
			}
		}
	})

	t.Run("yaml", func(t *testing.T) {
		f := files["config/production.yaml"]
		var cfg struct {
			Database struct {
				Host, Name, User, Password string
				Port                       int
			}
			Cache struct{ Host string }
			AWS   struct {
				AccessKeyID     string `yaml:"access_key_id"`
				SecretAccessKey string `yaml:"secret_access_key"`
			}
			InternalAPI struct {
				APIKey       string `yaml:"api_key"`
				Password     string
				ServiceToken string `yaml:"service_token"`
			} `yaml:"internal_api"`
			Exports struct {
				WebhookURL string `yaml:"webhook_url"`
			}
			Slack  map[string]string
			Stripe struct {
				SecretKey string `yaml:"secret_key"`
			}
		}
		if err := yaml.Unmarshal(f.Data, &cfg); err != nil {
			t.Fatalf("config/production.yaml: %v", err)
		}
		db := tokenOf(t, f, DBURL)
		if cfg.Database.Password != db.Fields["password"] || cfg.Database.User != db.Fields["username"] ||
			cfg.Database.Host != db.Fields["host"] || cfg.Database.Port != 5432 {
			t.Errorf("database: %+v, want the dburl token's %v", cfg.Database, db.Fields)
		}
		aws := tokenOf(t, f, AWS)
		if secret, _ := m.AWSSecretFor(aws.Value); cfg.AWS.AccessKeyID != aws.Value || cfg.AWS.SecretAccessKey != secret {
			t.Errorf("aws: %+v", cfg.AWS)
		}
		if cfg.Cache.Host != tokenOf(t, f, DNS).Value {
			t.Errorf("cache.host %q, want the dns token", cfg.Cache.Host)
		}
		if cfg.InternalAPI.APIKey != tokenOf(t, f, APIKey).Value || cfg.InternalAPI.Password != tokenOf(t, f, Basic).Fields["password"] ||
			cfg.InternalAPI.ServiceToken != tokenOf(t, f, JWT).Value {
			t.Errorf("internal_api: %+v", cfg.InternalAPI)
		}
		if cfg.Exports.WebhookURL != tokenOf(t, f, URL).Value || cfg.Stripe.SecretKey != tokenOf(t, f, Stripe).Value {
			t.Errorf("exports %+v, stripe %+v", cfg.Exports, cfg.Stripe)
		}
		if cfg.Slack["bot_token"]+cfg.Slack["user_token"] != tokenOf(t, f, Slack).Value || cfg.Slack["alerts_channel"][0] != '#' {
			t.Errorf("slack: %v", cfg.Slack)
		}
	})

	t.Run("kubeconfig", func(t *testing.T) {
		f := files[".kube/config"]
		var kc struct {
			APIVersion string `yaml:"apiVersion"`
			Kind       string
			Clusters   []struct {
				Name    string
				Cluster struct {
					Server string
					CAData string `yaml:"certificate-authority-data"`
				}
			}
			Contexts []struct {
				Name    string
				Context struct{ Cluster, User, Namespace string }
			}
			CurrentContext string `yaml:"current-context"`
			Users          []struct {
				Name string
				User struct{ Token string }
			}
		}
		if err := yaml.Unmarshal(f.Data, &kc); err != nil {
			t.Fatalf(".kube/config: %v", err)
		}
		tok := tokenOf(t, f, Kubeconfig)
		if kc.APIVersion != "v1" || kc.Kind != "Config" || len(kc.Clusters) != 1 || len(kc.Contexts) != 1 || len(kc.Users) != 1 {
			t.Fatalf(".kube/config: unexpected shape %+v", kc)
		}
		c, x, u := kc.Clusters[0], kc.Contexts[0], kc.Users[0]
		if c.Name != tok.Fields["cluster"] || c.Cluster.Server != tok.Fields["server"] || u.Name != tok.Fields["user"] ||
			u.User.Token != tok.Value || x.Context.Cluster != c.Name || x.Context.User != u.Name || kc.CurrentContext != x.Name {
			t.Errorf(".kube/config: %+v does not match the token's %v", kc, tok.Fields)
		}
		der, err := base64.StdEncoding.DecodeString(c.Cluster.CAData)
		if err != nil {
			t.Fatalf("certificate-authority-data: %v", err)
		}
		block, rest := pem.Decode(der)
		if block == nil || block.Type != "CERTIFICATE" || len(rest) != 0 {
			t.Fatalf("certificate-authority-data is not one PEM certificate")
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatalf("CA certificate: %v", err)
		}
		if !cert.IsCA || cert.Subject.CommonName != "kubernetes" || cert.PublicKeyAlgorithm != x509.RSA ||
			!cert.NotBefore.Before(now) || !cert.NotAfter.After(now) || cert.CheckSignatureFrom(cert) != nil {
			t.Errorf("CA certificate: CN %q CA %v %v..%v", cert.Subject.CommonName, cert.IsCA, cert.NotBefore, cert.NotAfter)
		}
	})

	t.Run("docker", func(t *testing.T) {
		f := files[".docker/config.json"]
		var cfg struct {
			Auths map[string]struct{ Auth string }
		}
		if err := json.Unmarshal(f.Data, &cfg); err != nil {
			t.Fatalf(".docker/config.json: %v", err)
		}
		tok := tokenOf(t, f, Docker)
		a, ok := cfg.Auths[tok.Fields["server"]]
		if !ok {
			t.Fatalf(".docker/config.json: no auths entry for %q: %s", tok.Fields["server"], f.Data)
		}
		b, err := base64.StdEncoding.DecodeString(a.Auth)
		if err != nil || string(b) != tok.Fields["username"]+":"+tok.Value {
			t.Errorf("auth %q decodes to %q, %v", a.Auth, b, err)
		}
	})

	t.Run("aws", func(t *testing.T) {
		creds := parseINI(t, ".aws/credentials", files[".aws/credentials"].Data)
		tok := tokenOf(t, files[".aws/credentials"], AWS)
		secret, _ := m.AWSSecretFor(tok.Value)
		if d := creds["default"]; d["aws_access_key_id"] != tok.Value || d["aws_secret_access_key"] != secret {
			t.Errorf(".aws/credentials [default] = %v", d)
		}
		conf := parseINI(t, ".aws/config", files[".aws/config"].Data)
		if d := conf["default"]; d["endpoint_url"] != "https://"+m.DecoyHost() || d["region"] == "" {
			t.Errorf(".aws/config [default] = %v, want endpoint_url https://%s", d, m.DecoyHost())
		}
	})

	t.Run("tfvars", func(t *testing.T) {
		attr := regexp.MustCompile(`^[a-z_]+ += ("[^"\\]*"|[0-9]+)$`)
		for i, l := range strings.Split(strings.TrimSuffix(string(files["terraform.tfvars"].Data), "\n"), "\n") {
			if l != "" && !attr.MatchString(l) {
				t.Errorf("terraform.tfvars:%d: not an attribute: %q", i+1, l)
			}
		}
	})

	t.Run("git-credentials", func(t *testing.T) {
		for _, l := range strings.Fields(string(files[".git-credentials"].Data)) {
			u, err := url.Parse(l)
			if err != nil || u.Scheme != "https" || u.User == nil || u.Host == "" || u.Path != "" {
				t.Errorf(".git-credentials: %q: %v", l, err)
				continue
			}
			if _, ok := u.User.Password(); !ok {
				t.Errorf(".git-credentials: %q has no password", l)
			}
		}
	})

	t.Run("npmrc", func(t *testing.T) {
		f := files[".npmrc"]
		if !bytes.Contains(f.Data, []byte("//registry.npmjs.org/:_authToken="+tokenOf(t, f, NPM).Value+"\n")) {
			t.Errorf(".npmrc: %s", f.Data)
		}
	})

	t.Run("history", func(t *testing.T) {
		h := files[".bash_history"].Data
		if len(h) == 0 || h[len(h)-1] != '\n' || bytes.Contains(h, []byte("\n\n")) || bytes.Contains(h, []byte("\n#1")) {
			t.Errorf(".bash_history: blank lines, missing final newline or timestamps:\n%s", h)
		}
	})
}

// listTree returns every path under dir, slash-separated, with "/" after directories.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			rel += "/"
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestSeedWritesFilesWithModes(t *testing.T) {
	m := newTestMinter(t, testSecret)
	dir := t.TempDir()
	files, err := m.Seed(dir, SeedOptions{})
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	want := map[string]fs.FileMode{
		".env": 0o644, "config/production.yaml": 0o644, "terraform.tfvars": 0o644,
		".aws/credentials": 0o600, ".aws/config": 0o600, ".git-credentials": 0o600, ".npmrc": 0o600,
		".docker/config.json": 0o600, ".kube/config": 0o600, ".bash_history": 0o600,
		"config/": 0o755, ".aws/": 0o755, ".docker/": 0o700, ".kube/": 0o755,
	}
	var wantTree []string
	for p := range want {
		wantTree = append(wantTree, p)
	}
	slices.Sort(wantTree)
	if got := listTree(t, dir); !slices.Equal(got, wantTree) {
		t.Errorf("tree %q, want %q (no temporary files left)", got, wantTree)
	}
	for p, mode := range want {
		st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(strings.TrimSuffix(p, "/"))))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%s: mode %o, want %o", p, st.Mode().Perm(), mode)
		}
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, f.Data) || f.Appended || f.Mode != want[f.Path] {
			t.Errorf("%s: content or SeedFile (mode %o, appended %v) differ from what was written", f.Path, f.Mode, f.Appended)
		}
		if d := path2dir(f.Path); d != "" && f.DirMode != want[d+"/"] {
			t.Errorf("%s: DirMode %o, want %o", f.Path, f.DirMode, want[d+"/"])
		}
	}
}

func path2dir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

func writeFile(t *testing.T, dir, p, data string, mode fs.FileMode) {
	t.Helper()
	full := filepath.Join(dir, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}

func TestSeedDoesNotOverwriteWithoutForce(t *testing.T) {
	m := newTestMinter(t, testSecret)
	dir := t.TempDir()
	writeFile(t, dir, ".npmrc", "registry=https://registry.npmjs.org/\n", 0o600)
	writeFile(t, dir, ".kube/config", "apiVersion: v1\n", 0o600)
	writeFile(t, dir, ".bash_history", "ls\n", 0o600) // appended to, never a conflict
	before := listTree(t, dir)

	_, err := m.Seed(dir, SeedOptions{})
	var ce *SeedConflictError
	if !errors.Is(err, ErrSeedExists) || errors.Is(err, ErrSeedRefused) || !errors.As(err, &ce) {
		t.Fatalf("Seed over existing files: err %v, want a SeedConflictError matching ErrSeedExists", err)
	}
	if !slices.Equal(ce.Exists, []string{".kube/config", ".npmrc"}) {
		t.Errorf("Exists = %q, want .kube/config and .npmrc", ce.Exists)
	}
	if !strings.Contains(err.Error(), ".npmrc") || !strings.Contains(err.Error(), ".kube/config") {
		t.Errorf("error %q does not name the conflicting paths", err)
	}
	if got := listTree(t, dir); !slices.Equal(got, before) {
		t.Errorf("after a refused seeding the tree is %q, want it untouched: %q", got, before)
	}
	for p, want := range map[string]string{".npmrc": "registry=https://registry.npmjs.org/\n", ".kube/config": "apiVersion: v1\n", ".bash_history": "ls\n"} {
		if got, _ := os.ReadFile(filepath.Join(dir, p)); string(got) != want {
			t.Errorf("%s changed to %q", p, got)
		}
	}
}

func TestSeedForceOverwrites(t *testing.T) {
	m := newTestMinter(t, testSecret)
	dir := t.TempDir()
	writeFile(t, dir, ".npmrc", "registry=https://registry.npmjs.org/\n", 0o644)
	files, err := m.Seed(dir, SeedOptions{Force: true})
	if err != nil {
		t.Fatalf("Seed with Force: %v", err)
	}
	for _, f := range files {
		if f.Path != ".npmrc" {
			continue
		}
		got, _ := os.ReadFile(filepath.Join(dir, ".npmrc"))
		st, _ := os.Stat(filepath.Join(dir, ".npmrc"))
		if !bytes.Equal(got, f.Data) || st.Mode().Perm() != 0o600 {
			t.Errorf(".npmrc after Force: mode %o, content %q", st.Mode().Perm(), got)
		}
		return
	}
	t.Fatal("no .npmrc seeded")
}

func TestSeedAppendsHistory(t *testing.T) {
	m := newTestMinter(t, testSecret)
	for _, tc := range []struct {
		name, old string
		stamps    bool
	}{
		{"plain, no final newline", "ls -la\ncd /srv", false},
		{"timestamped", "#1700000000\nls -la\n#1700000042\ncd /srv\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, ".bash_history", tc.old, 0o640)
			files, err := m.Seed(dir, SeedOptions{})
			if err != nil {
				t.Fatalf("Seed: %v", err)
			}
			var h SeedFile
			for _, f := range files {
				if f.Path == ".bash_history" {
					h = f
				}
			}
			if !h.Appended {
				t.Fatal(".bash_history: Appended = false for an existing history")
			}
			got, _ := os.ReadFile(filepath.Join(dir, ".bash_history"))
			sep := ""
			if !strings.HasSuffix(tc.old, "\n") {
				sep = "\n"
			}
			if string(got) != tc.old+sep+string(h.Data) {
				t.Errorf("history is not the old one with our lines appended:\n%s", got)
			}
			if st, _ := os.Stat(filepath.Join(dir, ".bash_history")); st.Mode().Perm() != 0o640 {
				t.Errorf("appending changed the mode to %o", st.Mode().Perm())
			}
			if n := len(recognizeAll(m, h.Data)); n != len(h.Tokens) || n == 0 {
				t.Errorf("appended lines hold %d recognisable tokens, want %d", n, len(h.Tokens))
			}
			stamp := regexp.MustCompile(`(?m)^#\d{10}$`)
			lines := strings.Count(string(h.Data), "\n")
			if n := len(stamp.FindAllString(string(h.Data), -1)); tc.stamps && 2*n != lines || !tc.stamps && n != 0 {
				t.Errorf("%d timestamp lines in %d appended lines (timestamped history: %v)", n, lines, tc.stamps)
			}
		})
	}
}

func TestSeedRefusesSymlinks(t *testing.T) {
	m := newTestMinter(t, testSecret)
	for _, link := range []string{".env", ".aws", ".bash_history", ".kube/config"} {
		t.Run(link, func(t *testing.T) {
			dir, outside := t.TempDir(), t.TempDir()
			target := filepath.Join(outside, "target")
			if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
				t.Fatal(err)
			}
			if link == ".aws" {
				target = outside
			}
			full := filepath.Join(dir, filepath.FromSlash(link))
			os.MkdirAll(filepath.Dir(full), 0o755)
			if err := os.Symlink(target, full); err != nil {
				t.Skipf("symlinks: %v", err)
			}
			before := listTree(t, dir)
			_, err := m.Seed(dir, SeedOptions{Force: true})
			var ce *SeedConflictError
			if !errors.Is(err, ErrSeedRefused) || !errors.As(err, &ce) || len(ce.Refused) != 1 || !strings.HasPrefix(ce.Refused[0], link+" ") {
				t.Fatalf("Seed with a symlink at %s: err %v, want ErrSeedRefused naming it", link, err)
			}
			if got := listTree(t, dir); !slices.Equal(got, before) {
				t.Errorf("tree %q, want it untouched %q", got, before)
			}
			if got := listTree(t, outside); !slices.Equal(got, []string{"target"}) {
				t.Errorf("outside the seed directory: %q", got)
			}
			if b, _ := os.ReadFile(filepath.Join(outside, "target")); string(b) != "keep" {
				t.Errorf("the symlink's target was written: %q", b)
			}
		})
	}
}

func TestSeedNeedsDirectory(t *testing.T) {
	m := newTestMinter(t, testSecret)
	if _, err := m.Seed(filepath.Join(t.TempDir(), "missing"), SeedOptions{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing directory: err %v", err)
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := m.Seed(f, SeedOptions{}); err == nil {
		t.Error("a file as the seed directory: no error")
	}
}

// A failure while moving files into place undoes everything the seeding created.
func TestSeedRollsBack(t *testing.T) {
	m := newTestMinter(t, testSecret)
	dir := t.TempDir()
	writeFile(t, dir, ".bash_history", "ls\n", 0o600)
	s, err := m.newSeeder(SeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := s.files()
	if err != nil {
		t.Fatal(err)
	}
	for i := range files {
		files[i].Appended = files[i].Path == seedHistoryPath
	}
	// Something appears at a target after the preflight: a directory where .npmrc goes,
	// which sorts late so that earlier files have been committed.
	if err := os.Mkdir(filepath.Join(dir, ".npmrc"), 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	w := &seedWriter{root: root}
	if err := w.write(files, []byte("ls\n")); !errors.Is(err, ErrSeedRefused) {
		t.Fatalf("write: err %v, want ErrSeedRefused", err)
	}
	if len(w.files) == 0 {
		t.Fatal("the failure came before any file was committed; the test does not exercise rollback")
	}
	w.rollback()
	if got := listTree(t, dir); !slices.Equal(got, []string{".bash_history", ".npmrc/"}) {
		t.Errorf("after rollback: %q, want only what was there before", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, ".bash_history")); string(b) != "ls\n" {
		t.Errorf("history after rollback: %q", b)
	}
}
