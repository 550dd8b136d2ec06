package harness

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// Credentials the harness presents. They are deliberately not in any real
// provider's format.
const (
	BearerToken = "conformance-bearer-3f9c2a71"
	APIKey      = "conformance-apikey-8d41e0b6"
	BasicUser   = "octocat"
	BasicPass   = "conformance-pass"
)

// Request is a concrete request built for an operation.
type Request struct {
	Op          *Operation
	Method      string
	Path        string // escaped path, base path included
	Query       url.Values
	Header      http.Header
	Body        []byte
	ContentType string
	// Auth describes the credential presented ("" when none).
	Auth string
}

// URL is the request target (path and query) relative to a host.
func (r *Request) URL() string {
	if len(r.Query) == 0 {
		return r.Path
	}
	return r.Path + "?" + r.Query.Encode()
}

// HTTP builds an *http.Request against base ("http://127.0.0.1:1234").
func (r *Request) HTTP(base string) (*http.Request, error) {
	var body *bytes.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequest(r.Method, base+r.URL(), body)
	} else {
		req, err = http.NewRequest(r.Method, base+r.URL(), nil)
	}
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if r.ContentType != "" {
		req.Header.Set("Content-Type", r.ContentType)
	}
	return req, nil
}

var pathVar = regexp.MustCompile(`\{([^{}]+)\}`)

// Build makes a concrete request for op under basePath. With withCredential
// the first satisfiable security requirement is met; without it no
// credential is sent. A non-empty skip says why the request cannot be built.
func (s *Spec) Build(op *Operation, basePath string, withCredential bool) (req *Request, skip string) {
	r := &Request{Op: op, Method: op.Method, Query: url.Values{}, Header: http.Header{}}
	r.Header.Set("Accept", "application/json, */*;q=0.5")
	r.Header.Set("User-Agent", "conformance-check/1.0")

	params := map[string]*Param{}
	for _, p := range op.Params {
		params[p.In+"\x00"+p.Name] = p
	}

	// path
	var failed string
	path := pathVar.ReplaceAllStringFunc(op.Path, func(m string) string {
		name := m[1 : len(m)-1]
		p, ok := params["path\x00"+name]
		if !ok {
			failed = fmt.Sprintf("path parameter {%s} is not declared", name)
			return m
		}
		v, reason := s.paramString(p)
		if reason != "" {
			failed = reason
			return m
		}
		return url.PathEscape(v)
	})
	if failed != "" {
		return nil, failed
	}
	r.Path = strings.TrimSuffix(basePath, "/") + path

	// required query, header and cookie parameters
	var cookies []string
	for _, p := range op.Params {
		if !p.Required || p.In == "path" {
			continue
		}
		switch p.In {
		case "query":
			if reason := s.addQuery(r.Query, p); reason != "" {
				return nil, reason
			}
		case "header":
			v, reason := s.paramString(p)
			if reason != "" {
				return nil, reason
			}
			r.Header.Set(p.Name, v)
		case "cookie":
			v, reason := s.paramString(p)
			if reason != "" {
				return nil, reason
			}
			cookies = append(cookies, p.Name+"="+v)
		}
	}

	// body
	if op.BodyProblem != "" && (op.Body == nil || op.Body.Required) {
		return nil, op.BodyProblem
	}
	if op.Body != nil && op.Body.MediaType != "" {
		if reason := s.buildBody(r, op.Body); reason != "" {
			if op.Body.Required {
				return nil, reason
			}
			r.Body, r.ContentType = nil, ""
		}
	}

	// credentials
	if withCredential && len(op.Security) > 0 {
		satisfied := false
		for _, reqm := range op.Security {
			if len(reqm) == 0 {
				satisfied = true // anonymous access allowed
				break
			}
			if desc, ok := applyCredential(r, reqm, &cookies); ok {
				r.Auth = desc
				satisfied = true
				break
			}
		}
		if !satisfied {
			return nil, "no security requirement the harness can satisfy: " + describeSecurity(op.Security)
		}
	}
	if len(cookies) > 0 {
		r.Header.Set("Cookie", strings.Join(cookies, "; "))
	}
	return r, ""
}

func describeSecurity(reqs []Requirement) string {
	var alts []string
	for _, r := range reqs {
		var parts []string
		for _, u := range r {
			parts = append(parts, u.Name+"("+u.Type+" "+u.Scheme+u.In+")")
		}
		alts = append(alts, strings.Join(parts, "+"))
	}
	return strings.Join(alts, " | ")
}

// applyCredential satisfies one requirement, or reports that it cannot.
func applyCredential(r *Request, reqm Requirement, cookies *[]string) (string, bool) {
	auth := ""
	var query [][2]string
	var headers [][2]string
	var cks []string
	var desc []string
	setAuth := func(v string) bool {
		if auth != "" && auth != v {
			return false
		}
		auth = v
		return true
	}
	for _, u := range reqm {
		switch {
		case u.Type == "http" && u.Scheme == "bearer",
			u.Type == "oauth2", u.Type == "openIdConnect":
			if !setAuth("Bearer " + BearerToken) {
				return "", false
			}
			desc = append(desc, u.Name+":bearer")
		case (u.Type == "http" && u.Scheme == "basic") || u.Type == "basic":
			if !setAuth("Basic " + base64.StdEncoding.EncodeToString([]byte(BasicUser+":"+BasicPass))) {
				return "", false
			}
			desc = append(desc, u.Name+":basic")
		case u.Type == "apiKey":
			switch strings.ToLower(u.In) {
			case "header":
				v := APIKey
				if strings.EqualFold(u.ParamName, "Authorization") {
					v = "Bearer " + BearerToken
					if !setAuth(v) {
						return "", false
					}
				} else {
					headers = append(headers, [2]string{u.ParamName, v})
				}
			case "query":
				query = append(query, [2]string{u.ParamName, APIKey})
			case "cookie":
				cks = append(cks, u.ParamName+"="+APIKey)
			default:
				return "", false
			}
			desc = append(desc, u.Name+":apiKey-"+strings.ToLower(u.In))
		default:
			return "", false
		}
	}
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	for _, h := range headers {
		r.Header.Set(h[0], h[1])
	}
	for _, q := range query {
		r.Query.Set(q[0], q[1])
	}
	*cookies = append(*cookies, cks...)
	return strings.Join(desc, "+"), true
}

// paramString serialises a parameter for the path, a header or a cookie
// (style simple / form with one value).
func (s *Spec) paramString(p *Param) (string, string) {
	v, reason := s.paramValue(p)
	if reason != "" {
		return "", reason
	}
	switch t := v.(type) {
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = scalarString(e)
		}
		sep := ","
		if s.Swagger2 {
			sep = collectionSep(p.CollectionFormat)
		}
		return strings.Join(parts, sep), ""
	case map[string]any:
		return "", fmt.Sprintf("%s parameter %q is an object (not synthesised)", p.In, p.Name)
	}
	return scalarString(v), ""
}

func (s *Spec) paramValue(p *Param) (any, string) {
	if p.Content {
		// content-encoded parameter: JSON text of a valid value
		v, err := s.Value(p.Schema, p.Name)
		if err != nil {
			return nil, fmt.Sprintf("%s parameter %q: %v", p.In, p.Name, err)
		}
		b, _ := json.Marshal(v)
		return string(b), ""
	}
	if p.HasEx && p.Schema != nil {
		if _, hasPattern := p.Schema["pattern"]; hasPattern {
			if str, ok := p.Example.(string); ok {
				if re, err := regexp.Compile(p.Schema["pattern"].(string)); err != nil || re.MatchString(str) {
					return str, ""
				}
			}
		}
	}
	v, err := s.Value(p.Schema, p.Name)
	if err != nil {
		if p.HasEx {
			if _, ok := p.Example.(map[string]any); !ok {
				return p.Example, ""
			}
		}
		return nil, fmt.Sprintf("%s parameter %q: %v", p.In, p.Name, err)
	}
	if v == nil {
		return nil, fmt.Sprintf("%s parameter %q: only null is allowed", p.In, p.Name)
	}
	return v, ""
}

func (s *Spec) addQuery(q url.Values, p *Param) string {
	v, reason := s.paramValue(p)
	if reason != "" {
		return reason
	}
	switch t := v.(type) {
	case []any:
		if s.Swagger2 {
			if p.CollectionFormat == "multi" {
				for _, e := range t {
					q.Add(p.Name, scalarString(e))
				}
				return ""
			}
			parts := make([]string, len(t))
			for i, e := range t {
				parts[i] = scalarString(e)
			}
			q.Set(p.Name, strings.Join(parts, collectionSep(p.CollectionFormat)))
			return ""
		}
		explode := p.Explode == nil || *p.Explode
		sep := ","
		switch p.Style {
		case "spaceDelimited":
			sep, explode = " ", false
		case "pipeDelimited":
			sep, explode = "|", false
		}
		if explode {
			for _, e := range t {
				q.Add(p.Name, scalarString(e))
			}
			return ""
		}
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = scalarString(e)
		}
		q.Set(p.Name, strings.Join(parts, sep))
	case map[string]any:
		if p.Content {
			b, _ := json.Marshal(t)
			q.Set(p.Name, string(b))
			return ""
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		switch {
		case p.Style == "deepObject":
			for _, k := range keys {
				q.Set(p.Name+"["+k+"]", scalarString(t[k]))
			}
		case p.Explode == nil || *p.Explode:
			for _, k := range keys {
				q.Set(k, scalarString(t[k]))
			}
		default:
			var parts []string
			for _, k := range keys {
				parts = append(parts, k, scalarString(t[k]))
			}
			q.Set(p.Name, strings.Join(parts, ","))
		}
	default:
		q.Set(p.Name, scalarString(v))
	}
	return ""
}

func collectionSep(f string) string {
	switch f {
	case "ssv":
		return " "
	case "tsv":
		return "\t"
	case "pipes":
		return "|"
	}
	return ","
}

func scalarString(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return t.String()
	case float64:
		if t == float64(int64(t)) {
			return fmt.Sprintf("%d", int64(t))
		}
		return fmt.Sprint(t)
	case map[string]any, []any:
		b, _ := json.Marshal(t)
		return string(b)
	}
	return fmt.Sprint(v)
}

func (s *Spec) buildBody(r *Request, b *Body) string {
	mt := strings.ToLower(strings.TrimSpace(strings.Split(b.MediaType, ";")[0]))
	if b.Form != nil {
		// 2.0 formData parameters
		vals := map[string]any{}
		for _, f := range b.Form {
			if !f.Required {
				continue
			}
			v, reason := s.paramValue(f)
			if reason != "" {
				return reason
			}
			vals[f.Name] = v
		}
		return encodeForm(r, mt, vals, nil)
	}
	var v any
	var err error
	if b.Schema == nil && b.HasEx {
		v = b.Example
	} else {
		v, err = s.BodyValue(b.Schema)
		if err != nil {
			if b.HasEx {
				v = b.Example
			} else {
				return fmt.Sprintf("request body: %v", err)
			}
		}
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "/json") || mt == "*/*" || mt == "application/*":
		body, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprintf("request body: %v", err)
		}
		r.Body = body
		r.ContentType = "application/json"
		if mt != "*/*" && mt != "application/*" {
			r.ContentType = b.MediaType
		}
		return ""
	case mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data":
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s body is not an object", mt)
		}
		return encodeForm(r, mt, obj, b.Schema)
	}
	return fmt.Sprintf("request media type %s is not synthesised", b.MediaType)
}

func encodeForm(r *Request, mt string, vals map[string]any, schema map[string]any) string {
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if mt == "application/x-www-form-urlencoded" {
		form := url.Values{}
		for _, k := range keys {
			switch t := vals[k].(type) {
			case map[string]any:
				return fmt.Sprintf("form field %q is an object (not synthesised)", k)
			case []any:
				for _, e := range t {
					form.Add(k, scalarString(e))
				}
			default:
				form.Set(k, scalarString(t))
			}
		}
		r.Body = []byte(form.Encode())
		r.ContentType = "application/x-www-form-urlencoded"
		return ""
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.SetBoundary("conformance-boundary-7f3a9c")
	for _, k := range keys {
		v := vals[k]
		binary := false
		if schema != nil {
			if props, ok := schema["properties"].(map[string]any); ok {
				if ps, ok := props[k].(map[string]any); ok {
					if f, _ := ps["format"].(string); f == "binary" {
						binary = true
					}
				}
			}
		}
		if binary {
			fw, err := w.CreateFormFile(k, "conformance.txt")
			if err != nil {
				return err.Error()
			}
			_, _ = fw.Write([]byte("conformance\n"))
			continue
		}
		var text string
		switch v.(type) {
		case map[string]any, []any:
			b, _ := json.Marshal(v)
			text = string(b)
		default:
			text = scalarString(v)
		}
		if err := w.WriteField(k, text); err != nil {
			return err.Error()
		}
	}
	if err := w.Close(); err != nil {
		return err.Error()
	}
	r.Body = buf.Bytes()
	r.ContentType = w.FormDataContentType()
	return ""
}
