package decoys

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"

	"github.com/honeyapi/honeyapi/templates"
)

// MaxDocumentBytes bounds the size of one document file (and of each file it
// references). Public descriptions reach 15 MB; 64 MiB leaves room.
const MaxDocumentBytes = 64 << 20

// Document is one loaded OpenAPI document, ready to serve.
type Document struct {
	// Name identifies the document: a template name or the file's base name.
	Name string
	// Source is the file path or "template:NAME" the document came from.
	Source string
	// Version is the document's declared version ("2.0", "3.0.3", "3.1.0").
	Version string
	// BasePath is the path prefix every operation is served under, taken
	// from servers (3.x) or basePath (2.0); "" for the root.
	BasePath string
	// SpecPaths are the request paths at which the document itself is served.
	SpecPaths []string
	// Spec is the parsed document (2.0 documents are converted to 3.0).
	Spec *openapi3.T
	// Raw is the original document bytes as loaded.
	Raw []byte
	// ServerProfile is the response-header profile the document prefers
	// ("nginx", "envoy", "apache"); Options.ServerProfile overrides it.
	ServerProfile string
	// RateLimitStyle is how the host announces its rate limit (a
	// templates.RateLimitStyles value; "" is "x-ratelimit").
	RateLimitStyle string
	// Bait are recon paths answered beside the API (templates only).
	Bait []templates.Bait

	order *keyOrder
	yaml  bool

	specOnce sync.Once
	specJSON []byte
	specYAML []byte
}

// LoadError is a document that cannot be used. It names the file and, where
// the problem has a place, the JSON pointer (or line) of that place.
type LoadError struct {
	File    string
	Pointer string // JSON pointer such as "#/paths/~1users/get", or "" if unknown
	Line    int    // 1-based line for syntax errors, 0 if unknown
	Err     error
}

func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString("decoys: ")
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Pointer != "" {
		b.WriteString(": at ")
		b.WriteString(e.Pointer)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *LoadError) Unwrap() error { return e.Err }

// ErrUnknownSpec is returned by Resolve for a name that is neither a file nor a template.
var ErrUnknownSpec = errors.New("no such file or built-in template")

// LoadFile loads an OpenAPI document (2.0, 3.0 or 3.1; JSON or YAML) from a
// file. Relative $refs are read from the file's directory; remote $refs are
// refused.
func LoadFile(file string) (*Document, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, &LoadError{File: file, Err: err}
	}
	data, err := readBounded(abs)
	if err != nil {
		return nil, &LoadError{File: file, Err: err}
	}
	doc, err := load(file, filepath.ToSlash(abs), data, readBounded)
	if err != nil {
		return nil, err
	}
	doc.Name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	doc.Source = file
	return doc, nil
}

// LoadTemplate loads a built-in template by name (see package templates).
func LoadTemplate(name string) (*Document, error) {
	t, ok := templates.Get(name)
	if !ok {
		return nil, fmt.Errorf("decoys: template %q: %w (built-in: %s)", name, ErrUnknownSpec, strings.Join(templateNames(), ", "))
	}
	fsys := templates.FS()
	data, err := fs.ReadFile(fsys, t.SpecFile)
	if err != nil {
		return nil, &LoadError{File: "template:" + name, Err: err}
	}
	read := func(p string) ([]byte, error) {
		return fs.ReadFile(fsys, strings.TrimPrefix(path.Clean(p), "/"))
	}
	doc, err := load("template:"+name, "/"+t.SpecFile, data, read)
	if err != nil {
		return nil, err
	}
	doc.Name = t.Name
	doc.Source = "template:" + t.Name
	if len(t.SpecPaths) > 0 {
		doc.SpecPaths = append([]string(nil), t.SpecPaths...)
	}
	doc.ServerProfile = t.Server
	doc.RateLimitStyle = t.RateLimit
	doc.Bait = append([]templates.Bait(nil), t.Bait...)
	return doc, nil
}

// Resolve loads spec as a file if one exists at that path, otherwise as a
// built-in template name.
func Resolve(spec string) (*Document, error) {
	if st, err := os.Stat(spec); err == nil && !st.IsDir() {
		return LoadFile(spec)
	}
	if _, ok := templates.Get(spec); ok {
		return LoadTemplate(spec)
	}
	return nil, fmt.Errorf("decoys: %q: %w (built-in templates: %s)", spec, ErrUnknownSpec, strings.Join(templateNames(), ", "))
}

func templateNames() []string {
	var names []string
	for _, t := range templates.List() {
		names = append(names, t.Name)
	}
	return names
}

func readBounded(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory", p)
	}
	if st.Size() > MaxDocumentBytes {
		return nil, fmt.Errorf("document is %d bytes, more than the %d-byte limit", st.Size(), MaxDocumentBytes)
	}
	return os.ReadFile(p)
}

// load parses data (the document at location loc, an absolute slash path)
// using read for any file it references.
func load(display, loc string, data []byte, read func(string) ([]byte, error)) (*Document, error) {
	var head struct {
		Swagger any `json:"swagger" yaml:"swagger"`
		OpenAPI any `json:"openapi" yaml:"openapi"`
	}
	isJSON := looksJSON(data)
	if isJSON {
		if err := json.Unmarshal(data, &head); err != nil {
			return nil, jsonSyntaxError(display, data, err)
		}
	} else if err := yaml.Unmarshal(data, &head); err != nil {
		return nil, yamlSyntaxError(display, err)
	}
	version := ""
	switch {
	case head.OpenAPI != nil:
		version = fmt.Sprint(head.OpenAPI)
		if !strings.HasPrefix(version, "3.") {
			return nil, &LoadError{File: display, Pointer: "#/openapi", Err: fmt.Errorf("unsupported OpenAPI version %q (want 3.0.x or 3.1.x)", version)}
		}
	case head.Swagger != nil:
		version = fmt.Sprint(head.Swagger)
		if version != "2.0" {
			return nil, &LoadError{File: display, Pointer: "#/swagger", Err: fmt.Errorf("unsupported Swagger version %q (want 2.0)", version)}
		}
	default:
		return nil, &LoadError{File: display, Pointer: "#", Err: errors.New(`not an OpenAPI document: neither "openapi" nor "swagger" is set`)}
	}

	order := newKeyOrder()
	var readMu sync.Mutex
	loader := openapi3.NewLoader()
	loader.Context = context.Background()
	loader.IsExternalRefsAllowed = true
	loader.ReadFromURIFunc = func(_ *openapi3.Loader, u *url.URL) ([]byte, error) {
		if u.Scheme != "" && u.Scheme != "file" {
			return nil, fmt.Errorf("remote $ref %q refused: only local files are read", u.String())
		}
		b, err := read(u.Path)
		if err != nil {
			return nil, err
		}
		readMu.Lock()
		order.index(b)
		readMu.Unlock()
		return b, nil
	}
	location := &url.URL{Path: loc}

	spec, err := parse(version, isJSON, data, loader, location)
	if err != nil {
		return nil, diagnose(display, data, isJSON, err)
	}
	order.index(data)

	doc := &Document{
		Version: version,
		Spec:    spec,
		Raw:     data,
		order:   order,
		yaml:    !isJSON,
	}
	if err := doc.check(display); err != nil {
		return nil, err
	}
	doc.BasePath = basePath(spec)
	if version == "2.0" {
		doc.SpecPaths = []string{"/swagger.json"}
	} else {
		doc.SpecPaths = []string{"/openapi.json", "/openapi.yaml"}
	}
	return doc, nil
}

// parse runs kin-openapi. A panic inside it (it has nil-pointer corners
// on hostile documents) becomes an error, so a bad file never crashes us.
func parse(version string, isJSON bool, data []byte, loader *openapi3.Loader, location *url.URL) (spec *openapi3.T, err error) {
	defer func() {
		if v := recover(); v != nil {
			spec, err = nil, fmt.Errorf("the OpenAPI parser could not read this document (%v)", v)
		}
	}()
	if version == "2.0" {
		var doc2 openapi2.T
		if isJSON {
			err = json.Unmarshal(data, &doc2)
		} else {
			var generic any
			if err = yaml.Unmarshal(data, &generic); err == nil {
				var j []byte
				if j, err = json.Marshal(jsonable(generic)); err == nil {
					err = json.Unmarshal(j, &doc2)
				}
			}
		}
		if err == nil {
			spec, err = openapi2conv.ToV3WithLoader(&doc2, loader, location)
		}
	} else {
		spec, err = loader.LoadFromDataWithPath(data, location)
	}
	return spec, err
}

// check rejects documents the decoy cannot serve, naming the place.
func (d *Document) check(display string) error {
	if d.Spec.Paths == nil || d.Spec.Paths.Len() == 0 {
		return &LoadError{File: display, Pointer: "#/paths", Err: errors.New("the document declares no paths, so there is nothing to serve")}
	}
	for _, p := range d.Spec.Paths.InMatchingOrder() {
		item := d.Spec.Paths.Value(p)
		if item == nil {
			continue
		}
		if !strings.HasPrefix(p, "/") {
			return &LoadError{File: display, Pointer: "#/paths/" + escapePointer(p), Err: errors.New("path must start with /")}
		}
		if _, err := parseTemplate(p); err != nil {
			return &LoadError{File: display, Pointer: "#/paths/" + escapePointer(p), Err: err}
		}
		for method, op := range item.Operations() {
			if op == nil || op.Responses == nil {
				continue
			}
			for code, resp := range op.Responses.Map() {
				if resp == nil || resp.Value == nil {
					return &LoadError{File: display, Pointer: "#/paths/" + escapePointer(p) + "/" + strings.ToLower(method) + "/responses/" + code, Err: fmt.Errorf("response %q does not resolve", refOf(resp))}
				}
			}
		}
	}
	return nil
}

func refOf(r *openapi3.ResponseRef) string {
	if r == nil {
		return ""
	}
	return r.Ref
}

func basePath(spec *openapi3.T) string {
	if len(spec.Servers) == 0 || spec.Servers[0] == nil {
		return ""
	}
	bp, err := spec.Servers[0].BasePath()
	if err != nil {
		return ""
	}
	bp = strings.TrimRight(bp, "/")
	if bp != "" && !strings.HasPrefix(bp, "/") {
		bp = "/" + bp
	}
	return bp
}

func looksJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	return len(t) > 0 && t[0] == '{'
}

// jsonable turns yaml.v3's generic values into ones encoding/json accepts.
func jsonable(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = jsonable(x)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[fmt.Sprint(k)] = jsonable(x)
		}
		return m
	case []any:
		for i, x := range t {
			t[i] = jsonable(x)
		}
		return t
	default:
		return v
	}
}

func jsonSyntaxError(display string, data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &LoadError{File: display, Line: lineAt(data, se.Offset), Err: fmt.Errorf("invalid JSON: %v", se)}
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &LoadError{File: display, Line: lineAt(data, te.Offset), Pointer: "#/" + strings.ReplaceAll(te.Field, ".", "/"), Err: fmt.Errorf("invalid value: %v", te)}
	}
	return &LoadError{File: display, Err: fmt.Errorf("invalid JSON: %w", err)}
}

func yamlSyntaxError(display string, err error) error {
	msg := err.Error()
	line := 0
	if i := strings.Index(msg, "line "); i >= 0 {
		fmt.Sscanf(msg[i+5:], "%d", &line)
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if line > 0 {
		msg = strings.TrimPrefix(msg, fmt.Sprintf("line %d: ", line))
	}
	return &LoadError{File: display, Line: line, Err: fmt.Errorf("invalid YAML: %s", msg)}
}

func lineAt(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

func escapePointer(s string) string {
	s = strings.ReplaceAll(s, "~", "~0")
	return strings.ReplaceAll(s, "/", "~1")
}

// diagnose turns a kin-openapi load error into a LoadError with the JSON
// pointer of the first broken place it can find in the raw document.
func diagnose(display string, data []byte, isJSON bool, kinErr error) error {
	var root any
	if isJSON {
		if err := json.Unmarshal(data, &root); err != nil {
			return jsonSyntaxError(display, data, err)
		}
	} else if err := yaml.Unmarshal(data, &root); err != nil {
		return yamlSyntaxError(display, err)
	}
	root = jsonable(root)
	if ptr, why := findBrokenRef(root, root, "#"); ptr != "" {
		return &LoadError{File: display, Pointer: ptr, Err: fmt.Errorf("%s (%v)", why, kinErr)}
	}
	if ptr, why := findBadShape(root); ptr != "" {
		return &LoadError{File: display, Pointer: ptr, Err: fmt.Errorf("%s (%v)", why, kinErr)}
	}
	return &LoadError{File: display, Err: kinErr}
}

// findBrokenRef walks the raw tree for a local $ref that does not resolve.
func findBrokenRef(root, node any, ptr string) (string, string) {
	switch t := node.(type) {
	case map[string]any:
		if ref, ok := t["$ref"].(string); ok && strings.HasPrefix(ref, "#") {
			if _, ok := resolvePointer(root, ref); !ok {
				return ptr, fmt.Sprintf("$ref %q does not resolve", ref)
			}
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if p, why := findBrokenRef(root, t[k], ptr+"/"+escapePointer(k)); p != "" {
				return p, why
			}
		}
	case []any:
		for i, x := range t {
			if p, why := findBrokenRef(root, x, fmt.Sprintf("%s/%d", ptr, i)); p != "" {
				return p, why
			}
		}
	}
	return "", ""
}

func resolvePointer(root any, ref string) (any, bool) {
	ref = strings.TrimPrefix(ref, "#")
	if ref == "" {
		return root, true
	}
	cur := root
	for _, part := range strings.Split(strings.TrimPrefix(ref, "/"), "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		if u, err := url.PathUnescape(part); err == nil {
			part = u
		}
		switch t := cur.(type) {
		case map[string]any:
			v, ok := t[part]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			var i int
			if _, err := fmt.Sscanf(part, "%d", &i); err != nil || i < 0 || i >= len(t) {
				return nil, false
			}
			cur = t[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// findBadShape reports the first place where an object was expected in the
// common structure (paths, path items, operations, responses).
func findBadShape(root any) (string, string) {
	m, ok := root.(map[string]any)
	if !ok {
		return "#", "the document is not an object"
	}
	paths, ok := m["paths"].(map[string]any)
	if !ok {
		return "#/paths", "paths must be an object"
	}
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, p := range keys {
		pp := "#/paths/" + escapePointer(p)
		item, ok := paths[p].(map[string]any)
		if !ok {
			return pp, "a path item must be an object"
		}
		for _, method := range []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"} {
			op, present := item[method]
			if !present {
				continue
			}
			opm, ok := op.(map[string]any)
			if !ok {
				return pp + "/" + method, "an operation must be an object"
			}
			if r, present := opm["responses"]; present {
				if _, ok := r.(map[string]any); !ok {
					return pp + "/" + method + "/responses", "responses must be an object"
				}
			}
		}
	}
	return "", ""
}
