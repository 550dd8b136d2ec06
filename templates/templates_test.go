package templates

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
)

var wantNames = []string{"admin", "cicd", "cluster", "customers", "payments", "secrets"}

func TestListIsSortedAndComplete(t *testing.T) {
	var names []string
	for _, tpl := range List() {
		names = append(names, tpl.Name)
	}
	if !sort.StringsAreSorted(names) {
		t.Errorf("List not sorted: %v", names)
	}
	if !slices.Equal(names, wantNames) {
		t.Errorf("List names = %v, want %v", names, wantNames)
	}
}

func TestGet(t *testing.T) {
	for _, name := range wantNames {
		tpl, ok := Get(name)
		if !ok {
			t.Errorf("Get(%q) not found", name)
			continue
		}
		if tpl.Name != name {
			t.Errorf("Get(%q).Name = %q", name, tpl.Name)
		}
		if tpl.Title == "" || tpl.Description == "" || tpl.SpecFile == "" || len(tpl.SpecPaths) == 0 {
			t.Errorf("Get(%q) has empty fields: %+v", name, tpl)
		}
		if !slices.Contains([]string{"nginx", "envoy", "apache"}, tpl.Server) {
			t.Errorf("Get(%q).Server = %q", name, tpl.Server)
		}
	}
	for _, name := range []string{"", "Admin", "nope", "admin/"} {
		if _, ok := Get(name); ok {
			t.Errorf("Get(%q) found a template", name)
		}
	}
}

func TestDefault(t *testing.T) {
	if got := Default(); got != "admin" {
		t.Errorf("Default() = %q, want admin", got)
	}
	if _, ok := Get(Default()); !ok {
		t.Errorf("Default() %q is not a template", Default())
	}
}

func TestListReturnsCopies(t *testing.T) {
	a := List()
	a[0].SpecPaths[0] = "/changed"
	a[0].Bait[0].Body = "changed"
	b := List()
	if b[0].SpecPaths[0] == "/changed" || b[0].Bait[0].Body == "changed" {
		t.Error("List shares slices with the catalogue")
	}
	g, _ := Get(b[0].Name)
	g.SpecPaths[0] = "/changed"
	if h, _ := Get(b[0].Name); h.SpecPaths[0] == "/changed" {
		t.Error("Get shares slices with the catalogue")
	}
}

func TestSpecFilesAreEmbedded(t *testing.T) {
	for _, tpl := range List() {
		data, err := fs.ReadFile(FS(), tpl.SpecFile)
		if err != nil {
			t.Errorf("%s: %v", tpl.Name, err)
			continue
		}
		if !json.Valid(data) {
			t.Errorf("%s: %s is not valid JSON", tpl.Name, tpl.SpecFile)
		}
	}
}

// loadDocument loads a template's document the way the decoy engine does,
// converting 2.0 to 3.0, and returns it with its declared version.
func loadDocument(t *testing.T, tpl Template) (*openapi3.T, string, []byte) {
	t.Helper()
	data, err := fs.ReadFile(FS(), tpl.SpecFile)
	if err != nil {
		t.Fatal(err)
	}
	var probe struct {
		Swagger string `json:"swagger"`
		OpenAPI string `json:"openapi"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		t.Fatalf("%s: %v", tpl.SpecFile, err)
	}
	if probe.Swagger != "" {
		var d2 openapi2.T
		if err := json.Unmarshal(data, &d2); err != nil {
			t.Fatalf("%s: unmarshal 2.0: %v", tpl.SpecFile, err)
		}
		if d2.BasePath == "" || !strings.HasPrefix(d2.BasePath, "/") {
			t.Errorf("%s: basePath %q is not a path", tpl.SpecFile, d2.BasePath)
		}
		doc, err := openapi2conv.ToV3(&d2)
		if err != nil {
			t.Fatalf("%s: convert 2.0: %v", tpl.SpecFile, err)
		}
		return doc, probe.Swagger, data
	}
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		t.Fatalf("%s: load: %v", tpl.SpecFile, err)
	}
	return doc, probe.OpenAPI, data
}

func TestDocumentsValidate(t *testing.T) {
	versions := map[string]string{}
	for _, tpl := range List() {
		t.Run(tpl.Name, func(t *testing.T) {
			doc, version, raw := loadDocument(t, tpl)
			versions[tpl.Name] = version
			if err := doc.Validate(context.Background()); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			checkInfo(t, doc)
			checkServers(t, tpl, doc, version)
			checkSecurity(t, doc, version)
			checkOperations(t, doc)
			checkErrorResponses(t, doc)
			checkSchemaExamples(t, doc)
			checkSecretMarkers(t, raw)
			checkNoPlaceholders(t, tpl.SpecFile, string(raw))
			checkPathsDoNotShadowOperations(t, tpl, doc, version)
		})
	}
	var v2, v31, v30 int
	for name, v := range versions {
		switch {
		case v == "2.0":
			v2++
			if name != "cicd" {
				t.Errorf("%s is 2.0; only cicd should be", name)
			}
		case strings.HasPrefix(v, "3.1"):
			v31++
		case strings.HasPrefix(v, "3.0"):
			v30++
		default:
			t.Errorf("%s has version %q", name, v)
		}
	}
	if v2 != 1 || v31 < 1 || v2+v31+v30 != len(wantNames) {
		t.Errorf("version mix: %d×2.0, %d×3.1, %d×3.0; want one 2.0, at least one 3.1, the rest 3.0", v2, v31, v30)
	}
	if versions["customers"] != "3.1.0" {
		t.Errorf("customers is %q, want 3.1.0", versions["customers"])
	}
}

func checkInfo(t *testing.T, doc *openapi3.T) {
	t.Helper()
	i := doc.Info
	if i == nil || i.Title == "" || i.Version == "" || len(i.Description) < 80 {
		t.Errorf("info is incomplete: %+v", i)
		return
	}
	if i.Contact == nil || i.Contact.Email == "" || i.Contact.Name == "" {
		t.Errorf("info.contact is incomplete: %+v", i.Contact)
	}
}

func checkServers(t *testing.T, tpl Template, doc *openapi3.T, version string) {
	t.Helper()
	if len(doc.Servers) == 0 {
		t.Fatal("no servers")
	}
	if u := doc.Servers[0].URL; !strings.HasPrefix(u, "/") || strings.Contains(u, "://") {
		t.Errorf("servers[0].url %q is not a relative path", u)
	}
}

func checkSecurity(t *testing.T, doc *openapi3.T, version string) {
	t.Helper()
	if doc.Components == nil || len(doc.Components.SecuritySchemes) == 0 {
		t.Fatal("no securitySchemes")
	}
	if len(doc.Security) == 0 {
		t.Error("no top-level security requirement")
	}
	public := 0
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.Security != nil && len(*op.Security) == 0 {
				public++
			}
		}
	}
	// The 2.0 document imitates an API whose every endpoint needs a token.
	if public == 0 && version != "2.0" {
		t.Error("no public operation (security: [])")
	}
}

func checkOperations(t *testing.T, doc *openapi3.T) {
	t.Helper()
	n := 0
	var created, updated, deleted, etag bool
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			n++
			where := method + " " + path
			if op.OperationID == "" || op.Summary == "" || len(op.Tags) == 0 {
				t.Errorf("%s: operationId, summary and tags are required", where)
			}
			params := append(slices.Clone(item.Parameters), op.Parameters...)
			for _, p := range params {
				if p.Value.In == "path" && (p.Value.Schema == nil || p.Value.Schema.Value == nil || p.Value.Schema.Value.Type == nil) {
					t.Errorf("%s: path parameter %s is untyped", where, p.Value.Name)
				}
			}
			if r := op.Responses.Value("201"); r != nil && r.Value.Headers["Location"] != nil {
				created = true
			}
			if (method == "PUT" || method == "PATCH") && op.Responses.Value("200") != nil {
				updated = true
			}
			if method == "DELETE" && op.Responses.Value("204") != nil {
				deleted = true
			}
			if r := op.Responses.Value("200"); method == "GET" && r != nil && r.Value.Headers["ETag"] != nil {
				etag = true
			}
		}
	}
	if n < 20 || n > 60 {
		t.Errorf("%d operations, want 20–60", n)
	}
	if !created || !updated || !deleted || !etag {
		t.Errorf("CRUD shape: 201+Location %v, PUT/PATCH 200 %v, DELETE 204 %v, GET with ETag %v", created, updated, deleted, etag)
	}
}

func checkErrorResponses(t *testing.T, doc *openapi3.T) {
	t.Helper()
	if len(doc.Components.Responses) < 6 {
		t.Errorf("only %d reusable responses", len(doc.Components.Responses))
	}
	used := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			hasError := false
			for code, r := range op.Responses.Map() {
				if code == "default" || code[0] == '4' || code[0] == '5' {
					hasError = true
					if r.Ref != "" {
						used[code] = true
					}
				}
			}
			public := op.Security != nil && len(*op.Security) == 0
			if !hasError && !public {
				t.Errorf("%s %s declares no error response", method, path)
			}
		}
	}
	for _, code := range []string{"400", "401", "403", "404", "409", "422", "429", "default"} {
		if !used[code] {
			t.Errorf("no operation references a reusable %s response", code)
		}
	}
}

// checkSchemaExamples validates the OpenAPI 3.1 "examples" arrays of
// schemas, which kin-openapi's Validate does not check.
func checkSchemaExamples(t *testing.T, doc *openapi3.T) {
	t.Helper()
	seen := map[*openapi3.Schema]bool{}
	var walk func(where string, s *openapi3.SchemaRef)
	walk = func(where string, s *openapi3.SchemaRef) {
		if s == nil || s.Value == nil || seen[s.Value] {
			return
		}
		seen[s.Value] = true
		for i, ex := range s.Value.Examples {
			if err := doc.ValidateSchemaJSON(s.Value, ex); err != nil {
				t.Errorf("%s: examples[%d] %v: %v", where, i, ex, err)
			}
		}
		for name, p := range s.Value.Properties {
			walk(where+"."+name, p)
		}
		for _, group := range []openapi3.SchemaRefs{s.Value.AllOf, s.Value.OneOf, s.Value.AnyOf} {
			for i, sub := range group {
				walk(fmt.Sprintf("%s[%d]", where, i), sub)
			}
		}
		walk(where+"[]", s.Value.Items)
		if ap := s.Value.AdditionalProperties.Schema; ap != nil {
			walk(where+"{}", ap)
		}
	}
	for name, s := range doc.Components.Schemas {
		walk(name, s)
	}
}

// checkSecretMarkers checks that the document marks credential-bearing
// properties with a known x-honeyapi-secret kind.
func checkSecretMarkers(t *testing.T, raw []byte) {
	t.Helper()
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	kinds := SecretKinds()
	n := 0
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if k == "x-honeyapi-secret" {
					n++
					if s, _ := e.(string); !slices.Contains(kinds, s) {
						t.Errorf("x-honeyapi-secret %v is not one of %v", e, kinds)
					}
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
	if n == 0 {
		t.Error("no property is marked x-honeyapi-secret")
	}
}

var placeholder = regexp.MustCompile(`(?i)example\.(com|org|net)|lorem|ipsum|\bfoo\b|\bbar\b|\bbaz\b|acme|changeme|TODO|xxx`)

func checkNoPlaceholders(t *testing.T, where, text string) {
	t.Helper()
	if m := placeholder.FindString(text); m != "" {
		t.Errorf("%s contains placeholder text %q", where, m)
	}
}

// checkPathsDoNotShadowOperations checks that no spec path or bait path is
// also an operation of the document (the decoy would not know which to
// answer).
func checkPathsDoNotShadowOperations(t *testing.T, tpl Template, doc *openapi3.T, version string) {
	t.Helper()
	base := doc.Servers[0].URL
	var templatesPaths [][]string
	for p := range doc.Paths.Map() {
		templatesPaths = append(templatesPaths, strings.Split(strings.TrimSuffix(base, "/")+p, "/"))
	}
	matches := func(path string) bool {
		segs := strings.Split(path, "/")
		for _, tp := range templatesPaths {
			if len(tp) != len(segs) {
				continue
			}
			ok := true
			for i := range tp {
				if !strings.HasPrefix(tp[i], "{") && tp[i] != segs[i] {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
		return false
	}
	paths := slices.Clone(tpl.SpecPaths)
	for _, b := range tpl.Bait {
		paths = append(paths, b.Path)
	}
	for _, p := range paths {
		if matches(p) {
			t.Errorf("%s is both a spec or bait path and an operation", p)
		}
	}
}

func TestBaitIsDistinctFromSpecPaths(t *testing.T) {
	for _, tpl := range List() {
		if len(tpl.Bait) < 3 {
			t.Errorf("%s: only %d bait paths", tpl.Name, len(tpl.Bait))
		}
		for _, b := range tpl.Bait {
			if slices.Contains(tpl.SpecPaths, b.Path) {
				t.Errorf("%s: %s is a spec path and a bait path", tpl.Name, b.Path)
			}
			checkNoPlaceholders(t, tpl.Name+" "+b.Path, b.Body)
		}
	}
}

func TestParseManifestErrors(t *testing.T) {
	valid := `name: demo
title: Demo
description: A demo.
spec: openapi.json
spec_paths: [/openapi.json]
server: nginx
bait:
  - path: /.env
    content_type: text/plain
    body: "A={{ hex \"a\" 8 }}"
`
	if _, err := parseManifest("demo", []byte(valid)); err != nil {
		t.Fatalf("valid manifest: %v", err)
	}
	tests := []struct {
		name     string
		old, new string
		dir      string
	}{
		{"unknown field", "server: nginx", "server: nginx\nport: 80", "demo"},
		{"name differs from directory", "name: demo", "name: other", "demo"},
		{"missing name", "name: demo\n", "", "demo"},
		{"missing title", "title: Demo\n", "", "demo"},
		{"unknown server", "server: nginx", "server: caddy", "demo"},
		{"relative spec path", "[/openapi.json]", "[openapi.json]", "demo"},
		{"no spec paths", "spec_paths: [/openapi.json]", "spec_paths: []", "demo"},
		{"spec outside directory", "spec: openapi.json", "spec: ../admin/openapi.json", "demo"},
		{"bait path twice", "[/openapi.json]", "[/.env]", "demo"},
		{"bait without content type", "    content_type: text/plain\n", "", "demo"},
		{"bad status", "    content_type: text/plain", "    content_type: text/plain\n    status: 42", "demo"},
		{"bad template", `{{ hex \"a\" 8 }}`, `{{ hex \"a\" 8 `, "demo"},
		{"unknown template function", `{{ hex \"a\" 8 }}`, `{{ shell \"id\" }}`, "demo"},
		{"not yaml", valid, "name: [demo", "demo"},
		{"empty", valid, "", "demo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := strings.Replace(valid, tt.old, tt.new, 1)
			if m == valid && tt.old != valid {
				t.Fatalf("replacement of %q did not apply", tt.old)
			}
			if _, err := parseManifest(tt.dir, []byte(m)); err == nil {
				t.Errorf("parseManifest accepted:\n%s", m)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	manifest := func(name string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("name: " + name + "\ntitle: T\ndescription: D\nspec: openapi.json\nspec_paths: [/openapi.json]\nserver: envoy\n")}
	}
	spec := &fstest.MapFile{Data: []byte(`{"openapi":"3.0.3"}`)}
	ok := fstest.MapFS{
		"payments/template.yaml": manifest("payments"),
		"payments/openapi.json":  spec,
		"admin/template.yaml":    manifest("admin"),
		"admin/openapi.json":     spec,
	}
	ts, err := load(ok)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[0].Name != "admin" || ts[1].Name != "payments" || ts[0].SpecFile != "admin/openapi.json" {
		t.Errorf("load = %+v", ts)
	}
	if ts[0].Bait != nil {
		t.Errorf("Bait = %v, want none", ts[0].Bait)
	}

	noDefault := fstest.MapFS{"payments/template.yaml": manifest("payments"), "payments/openapi.json": spec}
	if _, err := load(noDefault); err == nil {
		t.Error("load accepted a catalogue without the default template")
	}
	noSpec := fstest.MapFS{"admin/template.yaml": manifest("admin")}
	if _, err := load(noSpec); err == nil {
		t.Error("load accepted a manifest whose spec is missing")
	}
	if _, err := load(fstest.MapFS{}); err == nil {
		t.Error("load accepted an empty catalogue")
	}
}

func FuzzParseManifest(f *testing.F) {
	for _, name := range wantNames {
		data, err := fs.ReadFile(FS(), name+"/template.yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("name: x\nbait:\n  - path: /\n    body: '{{'"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = parseManifest("admin", data)
	})
}
