package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"text/template"

	"gopkg.in/yaml.v3"
)

// Template is one built-in decoy API.
type Template struct {
	// Name identifies the template on the command line and in configuration
	// ("admin").
	Name string
	// Title is a one-line human title.
	Title string
	// Description says in one or two sentences what the decoy pretends to be.
	Description string
	// SpecFile is the path of the OpenAPI document inside FS(), e.g.
	// "admin/openapi.json".
	SpecFile string
	// SpecPaths are the request paths where the decoy serves its own
	// document, e.g. ["/v3/api-docs"]. A path ending in .yaml or .yml is
	// where a real server would answer with YAML.
	SpecPaths []string
	// Server names the response-header profile of the host: "nginx",
	// "envoy" or "apache".
	Server string
	// RateLimit is how the host announces its rate limit: "x-ratelimit",
	// "github", "gitlab", "ietf", "vault" or "none" (429 with Retry-After
	// only). Empty means "x-ratelimit".
	RateLimit string
	// Bait are the recon paths the host answers believably beside the API.
	// They are not part of the OpenAPI document.
	Bait []Bait
}

// Bait is a recon path (/.env, /actuator/env, /.git/config, backups…) and
// what it answers.
type Bait struct {
	// Path is the exact request path.
	Path string
	// Status is the HTTP status of the answer, usually 200.
	Status int
	// ContentType is the Content-Type of the answer.
	ContentType string
	// Body is a text/template source, rendered by Render.
	Body string
}

// defaultTemplate is the template served when none is configured.
const defaultTemplate = "admin"

// serverProfiles are the response-header profiles a manifest may name.
var serverProfiles = []string{"apache", "envoy", "nginx"}

//go:embed admin cicd cluster customers payments secrets
var files embed.FS

// catalogue holds every template, sorted by name. It is built once at init
// and never modified afterwards.
var catalogue []Template

func init() {
	ts, err := load(files)
	if err != nil {
		// Only a broken embedded file gets here; every test catches it.
		panic(err)
	}
	catalogue = ts
}

// List returns every built-in template, sorted by name.
func List() []Template {
	out := make([]Template, len(catalogue))
	for i, t := range catalogue {
		out[i] = t.clone()
	}
	return out
}

// Get returns the built-in template called name.
func Get(name string) (Template, bool) {
	i, ok := slices.BinarySearchFunc(catalogue, name, func(t Template, name string) int {
		return strings.Compare(t.Name, name)
	})
	if !ok {
		return Template{}, false
	}
	return catalogue[i].clone(), true
}

// Default returns the name of the template served when none is configured.
func Default() string { return defaultTemplate }

// FS returns the embedded files: each template's document and manifest,
// under a directory named after the template.
func FS() fs.FS { return files }

// clone returns a copy of t that shares no slices with the catalogue.
func (t Template) clone() Template {
	t.SpecPaths = slices.Clone(t.SpecPaths)
	t.Bait = slices.Clone(t.Bait)
	return t
}

// RateLimitStyles are the ways a host can announce its rate limit.
var RateLimitStyles = []string{"x-ratelimit", "github", "gitlab", "ietf", "vault", "none"}

// manifest is the shape of a template's template.yaml.
type manifest struct {
	Name        string   `yaml:"name"`
	Title       string   `yaml:"title"`
	Description string   `yaml:"description"`
	Spec        string   `yaml:"spec"`
	SpecPaths   []string `yaml:"spec_paths"`
	Server      string   `yaml:"server"`
	RateLimit   string   `yaml:"rate_limit"`
	Bait        []struct {
		Path        string `yaml:"path"`
		Status      int    `yaml:"status"`
		ContentType string `yaml:"content_type"`
		Body        string `yaml:"body"`
	} `yaml:"bait"`
}

// load reads every */template.yaml in fsys and returns the templates sorted
// by name.
func load(fsys fs.FS) ([]Template, error) {
	names, err := fs.Glob(fsys, "*/template.yaml")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	if len(names) == 0 {
		return nil, errors.New("templates: no template.yaml found")
	}
	var out []Template
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		dir := path.Dir(name)
		t, err := parseManifest(dir, data)
		if err != nil {
			return nil, fmt.Errorf("templates: %s: %w", name, err)
		}
		if _, err := fs.Stat(fsys, t.SpecFile); err != nil {
			return nil, fmt.Errorf("templates: %s: spec %q: %w", name, t.SpecFile, err)
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	if _, ok := slices.BinarySearchFunc(out, defaultTemplate, func(t Template, name string) int {
		return strings.Compare(t.Name, name)
	}); !ok {
		return nil, fmt.Errorf("templates: default template %q is missing", defaultTemplate)
	}
	return out, nil
}

// parseManifest decodes and checks the manifest of the template in
// directory dir. Unknown fields, a name that differs from the directory,
// relative or duplicate paths, unknown server profiles and bodies that are
// not valid templates are errors.
func parseManifest(dir string, data []byte) (Template, error) {
	var m manifest
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		if errors.Is(err, io.EOF) {
			return Template{}, errors.New("empty manifest")
		}
		return Template{}, err
	}
	if m.Name == "" {
		return Template{}, errors.New("name is required")
	}
	if m.Name != dir {
		return Template{}, fmt.Errorf("name %q differs from its directory %q", m.Name, dir)
	}
	if strings.TrimSpace(m.Title) == "" || strings.TrimSpace(m.Description) == "" {
		return Template{}, errors.New("title and description are required")
	}
	if m.Spec == "" || path.IsAbs(m.Spec) || strings.Contains(m.Spec, "..") {
		return Template{}, fmt.Errorf("spec %q must name a file beside the manifest", m.Spec)
	}
	if !slices.Contains(serverProfiles, m.Server) {
		return Template{}, fmt.Errorf("server %q is not one of %s", m.Server, strings.Join(serverProfiles, ", "))
	}
	if m.RateLimit != "" && !slices.Contains(RateLimitStyles, m.RateLimit) {
		return Template{}, fmt.Errorf("rate_limit %q is not one of %s", m.RateLimit, strings.Join(RateLimitStyles, ", "))
	}
	if len(m.SpecPaths) == 0 {
		return Template{}, errors.New("spec_paths is required")
	}
	seen := map[string]bool{}
	checkPath := func(what, p string) error {
		if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, " \t\r\n?#") {
			return fmt.Errorf("%s %q is not an absolute request path", what, p)
		}
		if seen[p] {
			return fmt.Errorf("%s %q is declared twice", what, p)
		}
		seen[p] = true
		return nil
	}
	for _, p := range m.SpecPaths {
		if err := checkPath("spec path", p); err != nil {
			return Template{}, err
		}
	}
	t := Template{
		Name:        m.Name,
		Title:       strings.TrimSpace(m.Title),
		Description: strings.TrimSpace(m.Description),
		SpecFile:    path.Join(dir, m.Spec),
		SpecPaths:   m.SpecPaths,
		Server:      m.Server,
		RateLimit:   m.RateLimit,
	}
	for _, b := range m.Bait {
		if err := checkPath("bait path", b.Path); err != nil {
			return Template{}, err
		}
		if b.Status == 0 {
			b.Status = 200
		}
		if b.Status < 100 || b.Status > 599 {
			return Template{}, fmt.Errorf("bait %s: status %d is not an HTTP status", b.Path, b.Status)
		}
		if b.ContentType == "" {
			return Template{}, fmt.Errorf("bait %s: content_type is required", b.Path)
		}
		if _, err := parseBody(b.Path, b.Body, newGenerator(nil, nil)); err != nil {
			return Template{}, fmt.Errorf("bait %s: %w", b.Path, err)
		}
		t.Bait = append(t.Bait, Bait{Path: b.Path, Status: b.Status, ContentType: b.ContentType, Body: b.Body})
	}
	return t, nil
}

// parseBody parses a bait body with the functions of g.
func parseBody(name, body string, g *generator) (*template.Template, error) {
	return template.New(name).Option("missingkey=error").Funcs(g.funcs()).Parse(body)
}
