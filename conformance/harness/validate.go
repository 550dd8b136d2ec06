package harness

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/cache"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/content"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi/datamodel"
)

// Validator judges one exchange. It gets the request as sent (rebuilt, with
// its body) and the response with its body already read.
type Validator interface {
	Name() string
	Check(req *http.Request, resp *http.Response, body []byte) Verdict
}

// Verdict is what a validator found in one exchange.
type Verdict struct {
	// Response lists the problems in the response: the decoy's failures.
	Response []string
	// Request lists the problems in the request: the harness's, not the
	// decoy's.
	Request []string
	// Unvalidated says why the validator could not judge the response at all
	// (a limitation of the validator with this document, not a verdict).
	Unvalidated []string
}

// LibOpenAPI validates with github.com/pb33f/libopenapi-validator against
// the original document bytes (OpenAPI 3.0 and 3.1 only).
type LibOpenAPI struct {
	// mu serialises validation: compiling a schema on first use is not safe
	// for concurrent use in libopenapi-validator (the race detector shows
	// two goroutines cloning the same YAML nodes). Requests still run in
	// parallel; only the judging is one at a time.
	mu sync.Mutex
	v  validator.Validator
}

// NewLibOpenAPI builds the validator for an OpenAPI 3.x document.
func NewLibOpenAPI(raw []byte) (*LibOpenAPI, error) {
	cfg := datamodel.NewDocumentConfiguration()
	cfg.AllowFileReferences = false
	cfg.AllowRemoteReferences = false
	doc, err := libopenapi.NewDocumentWithConfiguration(raw, cfg)
	if err != nil {
		return nil, fmt.Errorf("libopenapi: %w", err)
	}
	if doc.GetSpecInfo().SpecFormat == datamodel.OAS2 {
		return nil, fmt.Errorf("libopenapi-validator validates OpenAPI 3.x only, not Swagger 2.0")
	}
	opts := []config.Option{
		config.WithFormatAssertions(),
		// The default uri-template check splits the string at "/" and so
		// rejects valid RFC 6570 templates like "/gists{/gist_id}", which
		// GitHub's own API returns. Replace it with a correct check.
		config.WithCustomFormat("uri-template", validateURITemplate),
	}
	// Newline-delimited JSON is not one JSON value, but the validator
	// decodes every media type whose name contains "json" as JSON. Read
	// these bodies as text, as it reads other non-JSON media types.
	for _, mt := range []string{"application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/json-seq"} {
		opts = append(opts, config.WithBodyDecoder(mt, content.TextDecoder()))
	}
	if !strings.HasPrefix(doc.GetSpecInfo().Version, "3.0") {
		// OpenAPI 3.1 schemas are plain JSON Schema 2020-12. The validator's
		// "OpenAPI mode" refuses to compile any 3.1 schema that still carries
		// the 3.0 keyword nullable (ReadMe's document does); in 3.1 that
		// keyword means nothing, so validate as JSON Schema: a null where
		// the schema says type string is then rightly an error.
		opts = append(opts, config.WithoutOpenAPIMode())
	}
	// Compile schemas on first use instead of all of them up front: warming
	// every schema of GitHub's 13 MB description takes minutes, and the run
	// needs only the response schemas of the operations it sends.
	lazy := &lazySchemaCache{}
	lazy.warming.Store(true)
	opts = append(opts, config.WithSchemaCache(lazy))
	v, errs := validator.NewValidator(doc, opts...)
	lazy.warming.Store(false)
	if len(errs) > 0 {
		return nil, fmt.Errorf("libopenapi-validator: %v", errs)
	}
	return &LibOpenAPI{v: v}, nil
}

// lazySchemaCache is a schema cache that claims to hold every schema while
// the validator is being built (so its warm-up compiles nothing) and then
// behaves as an ordinary concurrent cache. Lookups after construction treat
// the empty entry as a miss, so nothing unvalidated slips through.
type lazySchemaCache struct {
	warming atomic.Bool
	m       sync.Map
}

func (c *lazySchemaCache) Load(key uint64) (*cache.SchemaCacheEntry, bool) {
	if c.warming.Load() {
		return nil, true
	}
	v, ok := c.m.Load(key)
	if !ok {
		return nil, false
	}
	return v.(*cache.SchemaCacheEntry), true
}

func (c *lazySchemaCache) Store(key uint64, value *cache.SchemaCacheEntry) {
	if c.warming.Load() || value == nil {
		return
	}
	c.m.Store(key, value)
}

func (c *lazySchemaCache) Range(f func(key uint64, value *cache.SchemaCacheEntry) bool) {
	c.m.Range(func(k, v any) bool { return f(k.(uint64), v.(*cache.SchemaCacheEntry)) })
}

// validateURITemplate checks RFC 6570 syntax: literals and {expressions}
// made of an optional operator and comma-separated variable specs, each
// with an optional :N prefix or * explode modifier.
func validateURITemplate(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{':
			end := strings.IndexByte(s[i+1:], '}')
			if end < 0 {
				return fmt.Errorf("unclosed expression at %d", i)
			}
			if err := checkExpression(s[i+1 : i+1+end]); err != nil {
				return err
			}
			i += end + 1
		case c == '}':
			return fmt.Errorf("unmatched } at %d", i)
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return fmt.Errorf("bad percent-encoding at %d", i)
			}
			i += 2
		case c <= ' ' || c == 0x7f || strings.IndexByte("\"'<>\\^`|", c) >= 0:
			return fmt.Errorf("character %q not allowed in a literal", c)
		}
	}
	return nil
}

func checkExpression(e string) error {
	if e == "" {
		return fmt.Errorf("empty expression")
	}
	if strings.IndexByte("+#./;?&=,!@|", e[0]) >= 0 {
		e = e[1:]
	}
	for _, spec := range strings.Split(e, ",") {
		name := spec
		if i := strings.IndexByte(spec, ':'); i >= 0 {
			name = spec[:i]
			n := spec[i+1:]
			if n == "" || len(n) > 4 || n[0] == '0' || strings.Trim(n, "0123456789") != "" {
				return fmt.Errorf("bad prefix modifier in %q", spec)
			}
		} else {
			name = strings.TrimSuffix(spec, "*")
		}
		if name == "" || name[0] == '.' || name[len(name)-1] == '.' {
			return fmt.Errorf("bad variable name %q", spec)
		}
		for i := 0; i < len(name); i++ {
			c := name[i]
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '.':
			case c == '%' && i+2 < len(name) && isHex(name[i+1]) && isHex(name[i+2]):
				i += 2
			default:
				return fmt.Errorf("bad variable name %q", spec)
			}
		}
	}
	return nil
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// Name implements Validator.
func (l *LibOpenAPI) Name() string { return "libopenapi-validator" }

// Check implements Validator.
func (l *LibOpenAPI) Check(req *http.Request, resp *http.Response, body []byte) Verdict {
	l.mu.Lock()
	defer l.mu.Unlock()
	var v Verdict
	if req.GetBody != nil {
		if b, err := req.GetBody(); err == nil {
			req.Body = b
		}
	}
	if ok, errs := l.v.ValidateHttpRequest(req); !ok {
		v.Request = formatLibErrors(errs)
	}
	if req.GetBody != nil {
		if b, err := req.GetBody(); err == nil {
			req.Body = b
		}
	}
	resp.Body = newBody(body)
	if ok, errs := l.v.ValidateHttpResponse(req, resp); !ok {
		for _, e := range errs {
			msg := formatLibErrors([]*verrors.ValidationError{e})[0]
			if strings.Contains(e.Message, "failed schema compilation") {
				// the validator cannot compile this schema of the document
				// (e.g. $dynamicRef): it has judged nothing
				v.Unvalidated = append(v.Unvalidated, msg)
				continue
			}
			v.Response = append(v.Response, msg)
		}
	}
	return v
}

func formatLibErrors(errs []*verrors.ValidationError) []string {
	var out []string
	for _, e := range errs {
		var b strings.Builder
		b.WriteString(e.Message)
		if e.Reason != "" && e.Reason != e.Message {
			b.WriteString(": ")
			b.WriteString(e.Reason)
		}
		for i, f := range e.SchemaValidationErrors {
			if i == 8 {
				fmt.Fprintf(&b, " [... %d more]", len(e.SchemaValidationErrors)-i)
				break
			}
			loc := f.FieldPath
			if loc == "" {
				loc = "/" + strings.Join(f.InstancePath, "/")
			}
			fmt.Fprintf(&b, " [%s: %s]", loc, f.Reason)
		}
		out = append(out, b.String())
	}
	if len(out) == 0 {
		out = append(out, "invalid (no detail)")
	}
	return out
}

// PrismViolations reads the violations Prism's validation proxy reports in
// the sl-violations response header.
type PrismViolations struct{}

// Name implements Validator.
func (PrismViolations) Name() string { return "prism" }

type prismViolation struct {
	Location []any  `json:"location"`
	Severity string `json:"severity"`
	Code     any    `json:"code"`
	Message  string `json:"message"`
}

// Check implements Validator.
func (PrismViolations) Check(req *http.Request, resp *http.Response, body []byte) Verdict {
	var respProblems, reqProblems []string
	h := resp.Header.Get("sl-violations")
	if h == "" {
		return Verdict{}
	}
	var vs []prismViolation
	if err := json.Unmarshal([]byte(h), &vs); err != nil {
		return Verdict{Response: []string{"unparseable sl-violations header: " + h}}
	}
	for _, v := range vs {
		var loc []string
		for _, l := range v.Location {
			loc = append(loc, fmt.Sprint(l))
		}
		msg := fmt.Sprintf("%s: %s (code %v, at %s)", v.Severity, v.Message, v.Code, strings.Join(loc, "."))
		lower := strings.ToLower(v.Message)
		switch {
		case strings.Contains(lower, "route not found") || strings.Contains(lower, "route not resolved") ||
			strings.Contains(lower, "no route"):
			// Prism validated nothing: never let that pass silently
			respProblems = append(respProblems, "prism matched no operation, nothing was validated: "+msg)
		case len(loc) > 0 && loc[0] == "request":
			if strings.EqualFold(v.Severity, "error") {
				reqProblems = append(reqProblems, msg)
			}
		default:
			// response errors, and response warnings too (an undeclared
			// status code is reported as a warning)
			respProblems = append(respProblems, msg)
		}
	}
	return Verdict{Response: respProblems, Request: reqProblems}
}
