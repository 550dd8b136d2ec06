// Package harness drives the conformance check of honeyapi's decoys: it
// reads an OpenAPI document (2.0, 3.0 or 3.1) on its own, independently of
// the decoys package and of kin-openapi, enumerates its operations, builds
// concrete requests for them, sends them over TCP and hands each response to
// validators this project did not write (libopenapi-validator and Stoplight
// Prism), collecting the failures per document.
//
// The document walker here works on the generic JSON tree of the original
// file (YAML is converted), resolving only local $refs, so that a bug in the
// engine's own loader cannot hide operations from the check.
package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Spec is one OpenAPI document, parsed into a generic tree.
type Spec struct {
	Name     string
	Raw      []byte
	Root     map[string]any
	Version  string // "2.0", "3.0.3", "3.1.0", ...
	Swagger2 bool
}

// ParseSpec parses a JSON or YAML OpenAPI document.
func ParseSpec(name string, raw []byte) (*Spec, error) {
	var root any
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&root); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	} else {
		if err := yaml.Unmarshal(raw, &root); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		root = normalizeYAML(root)
	}
	m, ok := root.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: not an object at the top level", name)
	}
	s := &Spec{Name: name, Raw: raw, Root: m}
	if v, ok := m["swagger"]; ok {
		s.Version = fmt.Sprint(v)
		s.Swagger2 = true
	} else if v, ok := m["openapi"]; ok {
		s.Version = fmt.Sprint(v)
	} else {
		return nil, fmt.Errorf("%s: neither swagger nor openapi field", name)
	}
	return s, nil
}

// Is31 reports whether the document is OpenAPI 3.1 or later.
func (s *Spec) Is31() bool {
	return !s.Swagger2 && !strings.HasPrefix(s.Version, "3.0")
}

func normalizeYAML(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalizeYAML(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = normalizeYAML(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = normalizeYAML(e)
		}
		return t
	default:
		return v
	}
}

// lookup follows a local JSON pointer ("#/components/schemas/Pet").
func (s *Spec) lookup(ref string) (any, error) {
	if !strings.HasPrefix(ref, "#") {
		return nil, fmt.Errorf("external $ref %q not supported", ref)
	}
	frag := ref[1:]
	if u, err := url.PathUnescape(frag); err == nil {
		frag = u
	}
	if frag == "" || frag == "/" {
		return s.Root, nil
	}
	var cur any = s.Root
	for _, tok := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			n, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("$ref %q: %q not found", ref, tok)
			}
			cur = n
		case []any:
			var i int
			if _, err := fmt.Sscanf(tok, "%d", &i); err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("$ref %q: bad index %q", ref, tok)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("$ref %q: cannot descend into %T", ref, cur)
		}
	}
	return cur, nil
}

// deref resolves $ref chains on an object node. In 3.1 a schema may carry
// siblings next to $ref; those are merged over the target (shallowly).
func (s *Spec) deref(node any) map[string]any {
	m, _ := node.(map[string]any)
	for i := 0; i < 32 && m != nil; i++ {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		target, err := s.lookup(ref)
		if err != nil {
			return nil
		}
		tm, _ := target.(map[string]any)
		if len(m) > 1 && tm != nil {
			merged := make(map[string]any, len(tm)+len(m))
			for k, v := range tm {
				merged[k] = v
			}
			for k, v := range m {
				if k != "$ref" {
					merged[k] = v
				}
			}
			tm = merged
		}
		m = tm
	}
	return m
}

// Methods in the order operations are listed.
var allMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Param is one parameter of an operation.
type Param struct {
	Name     string
	In       string // path, query, header, cookie, (2.0: formData, body handled separately)
	Required bool
	Schema   map[string]any // for 2.0, the parameter object itself (it carries type/format/items)
	Example  any
	HasEx    bool
	Style    string
	Explode  *bool
	// CollectionFormat is the 2.0 array encoding (csv, multi, ...).
	CollectionFormat string
	// Content is true when a 3.x parameter uses content instead of schema.
	Content bool
}

// Body is the request body an operation declares.
type Body struct {
	Required  bool
	MediaType string
	Schema    map[string]any
	Example   any
	HasEx     bool
	// Form holds 2.0 formData parameters (MediaType is then a form type).
	Form []*Param
}

// SchemeUse is one security scheme inside a requirement.
type SchemeUse struct {
	Name      string
	Type      string // http, apiKey, oauth2, openIdConnect, basic (2.0), mutualTLS
	Scheme    string // for http: bearer, basic, ...
	In        string // for apiKey: header, query, cookie
	ParamName string // for apiKey
}

// Requirement is one alternative of an operation's security: all schemes of
// it are needed together. An empty requirement means anonymous access.
type Requirement []SchemeUse

// Operation is one method on one path of the document.
type Operation struct {
	Method      string // upper case
	Path        string // the template as written in the document
	ID          string
	Params      []*Param
	Body        *Body
	BodyProblem string // why the request body cannot be built, if it cannot
	Security    []Requirement
	Responses   []string // declared status codes ("200", "4XX", "default")
	Consumes    []string // 2.0 only
}

// Key names the operation in reports.
func (o *Operation) Key() string { return o.Method + " " + o.Path }

// Secured reports whether every alternative requires a credential.
func (o *Operation) Secured() bool {
	if len(o.Security) == 0 {
		return false
	}
	for _, r := range o.Security {
		if len(r) == 0 {
			return false
		}
	}
	return true
}

// Declares reports whether a response for the status is declared, either
// exactly, by range (4XX) or by default.
func (o *Operation) Declares(status int) bool {
	code := fmt.Sprint(status)
	rng := fmt.Sprintf("%dXX", status/100)
	for _, r := range o.Responses {
		if r == code || strings.EqualFold(r, rng) || r == "default" {
			return true
		}
	}
	return false
}

// Has2xx reports whether the operation declares any success response.
func (o *Operation) Has2xx() bool {
	for _, r := range o.Responses {
		if len(r) == 3 && r[0] == '2' {
			return true
		}
	}
	return false
}

// Operations lists the operations of the document whose method is in
// methods (lower or upper case), sorted by path then method.
func (s *Spec) Operations(methods ...string) []*Operation {
	want := map[string]bool{}
	for _, m := range methods {
		want[strings.ToLower(m)] = true
	}
	paths, _ := s.Root["paths"].(map[string]any)
	keys := make([]string, 0, len(paths))
	for k := range paths {
		if strings.HasPrefix(k, "/") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var ops []*Operation
	for _, p := range keys {
		item := s.deref(paths[p])
		if item == nil {
			continue
		}
		for _, m := range allMethods {
			if !want[m] {
				continue
			}
			raw, ok := item[m].(map[string]any)
			if !ok {
				continue
			}
			ops = append(ops, s.operation(p, m, item, raw))
		}
	}
	return ops
}

func (s *Spec) operation(path, method string, item, op map[string]any) *Operation {
	o := &Operation{Method: strings.ToUpper(method), Path: path}
	o.ID, _ = op["operationId"].(string)

	// parameters: path-level first, then operation-level overriding by (in, name)
	byKey := map[string]int{}
	var bodyParam map[string]any
	var formParams []*Param
	add := func(list any) {
		arr, _ := list.([]any)
		for _, e := range arr {
			pm := s.deref(e)
			if pm == nil {
				continue
			}
			in, _ := pm["in"].(string)
			name, _ := pm["name"].(string)
			if in == "body" {
				bodyParam = pm
				continue
			}
			p := s.param(pm)
			if in == "formData" {
				// replace by name
				replaced := false
				for i, f := range formParams {
					if f.Name == name {
						formParams[i] = p
						replaced = true
					}
				}
				if !replaced {
					formParams = append(formParams, p)
				}
				continue
			}
			k := in + "\x00" + name
			if i, ok := byKey[k]; ok {
				o.Params[i] = p
				continue
			}
			byKey[k] = len(o.Params)
			o.Params = append(o.Params, p)
		}
	}
	add(item["parameters"])
	add(op["parameters"])

	// responses
	if rs, ok := op["responses"].(map[string]any); ok {
		for code := range rs {
			o.Responses = append(o.Responses, code)
		}
		sort.Strings(o.Responses)
	}

	// security: the operation's own, else the document's
	sec, hasSec := op["security"]
	if !hasSec {
		sec = s.Root["security"]
	}
	o.Security = s.requirements(sec)

	// request body
	if s.Swagger2 {
		o.Consumes = stringList(op["consumes"])
		if len(o.Consumes) == 0 {
			o.Consumes = stringList(s.Root["consumes"])
		}
		if bodyParam != nil {
			b := &Body{MediaType: pickMedia(o.Consumes, "application/json")}
			b.Required, _ = bodyParam["required"].(bool)
			b.Schema = s.deref(bodyParam["schema"])
			if ex, ok := bodyParam["x-example"]; ok {
				b.Example, b.HasEx = ex, true
			}
			o.Body = b
		} else if len(formParams) > 0 {
			mt := "application/x-www-form-urlencoded"
			for _, f := range formParams {
				if t, _ := f.Schema["type"].(string); t == "file" {
					mt = "multipart/form-data"
				}
			}
			if hasMedia(o.Consumes, "multipart/form-data") && !hasMedia(o.Consumes, "application/x-www-form-urlencoded") {
				mt = "multipart/form-data"
			}
			b := &Body{MediaType: mt, Form: formParams}
			for _, f := range formParams {
				if f.Required {
					b.Required = true
				}
			}
			o.Body = b
		}
	} else if rb := s.deref(op["requestBody"]); rb != nil {
		b := &Body{}
		b.Required, _ = rb["required"].(bool)
		content, _ := rb["content"].(map[string]any)
		mts := make([]string, 0, len(content))
		for k := range content {
			mts = append(mts, k)
		}
		sort.Strings(mts)
		b.MediaType = pickMedia(mts, "")
		if b.MediaType == "" {
			o.BodyProblem = fmt.Sprintf("no supported request media type among %v", mts)
		} else {
			mo, _ := content[b.MediaType].(map[string]any)
			b.Schema = s.deref(mo["schema"])
			if ex, ok := mo["example"]; ok {
				b.Example, b.HasEx = ex, true
			} else if exs, ok := mo["examples"].(map[string]any); ok {
				names := make([]string, 0, len(exs))
				for n := range exs {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					if e := s.deref(exs[n]); e != nil {
						if v, ok := e["value"]; ok {
							b.Example, b.HasEx = v, true
							break
						}
					}
				}
			}
		}
		o.Body = b
	}
	return o
}

func (s *Spec) param(pm map[string]any) *Param {
	p := &Param{}
	p.Name, _ = pm["name"].(string)
	p.In, _ = pm["in"].(string)
	p.Required, _ = pm["required"].(bool)
	if p.In == "path" {
		p.Required = true
	}
	p.Style, _ = pm["style"].(string)
	if e, ok := pm["explode"].(bool); ok {
		p.Explode = &e
	}
	if s.Swagger2 {
		p.Schema = pm
		p.CollectionFormat, _ = pm["collectionFormat"].(string)
		if ex, ok := pm["x-example"]; ok {
			p.Example, p.HasEx = ex, true
		}
		return p
	}
	if sc := s.deref(pm["schema"]); sc != nil {
		p.Schema = sc
	} else if c, ok := pm["content"].(map[string]any); ok {
		p.Content = true
		for _, v := range c {
			if mo, ok := v.(map[string]any); ok {
				p.Schema = s.deref(mo["schema"])
			}
			break
		}
	}
	if ex, ok := pm["example"]; ok {
		p.Example, p.HasEx = ex, true
	} else if exs, ok := pm["examples"].(map[string]any); ok {
		for _, e := range exs {
			if em := s.deref(e); em != nil {
				if v, ok := em["value"]; ok {
					p.Example, p.HasEx = v, true
					break
				}
			}
		}
	}
	return p
}

func (s *Spec) requirements(sec any) []Requirement {
	arr, ok := sec.([]any)
	if !ok {
		return nil
	}
	var defs map[string]any
	if s.Swagger2 {
		defs, _ = s.Root["securityDefinitions"].(map[string]any)
	} else if comps, ok := s.Root["components"].(map[string]any); ok {
		defs, _ = comps["securitySchemes"].(map[string]any)
	}
	var out []Requirement
	for _, e := range arr {
		req, _ := e.(map[string]any)
		names := make([]string, 0, len(req))
		for n := range req {
			names = append(names, n)
		}
		sort.Strings(names)
		r := Requirement{}
		for _, n := range names {
			d := s.deref(defs[n])
			u := SchemeUse{Name: n}
			if d != nil {
				u.Type, _ = d["type"].(string)
				u.Scheme, _ = d["scheme"].(string)
				u.Scheme = strings.ToLower(u.Scheme)
				u.In, _ = d["in"].(string)
				u.ParamName, _ = d["name"].(string)
			}
			r = append(r, u)
		}
		out = append(out, r)
	}
	return out
}

func stringList(v any) []string {
	arr, _ := v.([]any)
	var out []string
	for _, e := range arr {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func hasMedia(list []string, mt string) bool {
	for _, m := range list {
		if strings.EqualFold(strings.TrimSpace(strings.Split(m, ";")[0]), mt) {
			return true
		}
	}
	return false
}

// pickMedia chooses the request media type the harness can encode: JSON
// first, then any +json, then url-encoded forms. def is returned when list
// is empty.
func pickMedia(list []string, def string) string {
	if len(list) == 0 {
		return def
	}
	for _, want := range []func(string) bool{
		func(m string) bool { return m == "application/json" },
		func(m string) bool { return strings.HasSuffix(m, "+json") || strings.HasSuffix(m, "/json") },
		func(m string) bool { return m == "application/x-www-form-urlencoded" },
		func(m string) bool { return m == "*/*" || m == "application/*" },
	} {
		for _, m := range list {
			base := strings.ToLower(strings.TrimSpace(strings.Split(m, ";")[0]))
			if want(base) {
				return m
			}
		}
	}
	return ""
}
