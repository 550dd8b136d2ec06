package decoys

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/honeyapi/honeyapi/templates"
)

// successResponse picks the status a real API gives for a successful call:
// 201 for creation, 204 for deletion, else the lowest declared 2xx.
func successResponse(op *openapi3.Operation, method string) (int, *openapi3.Response) {
	if op.Responses == nil {
		return http.StatusOK, nil
	}
	prefer := []int{200, 201, 202, 204}
	switch method {
	case http.MethodPost:
		prefer = []int{201, 200, 202, 204}
	case http.MethodDelete:
		prefer = []int{204, 200, 202}
	}
	for _, c := range prefer {
		if r := op.Responses.Status(c); r != nil && r.Value != nil {
			return c, r.Value
		}
	}
	var codes []int
	for k := range op.Responses.Map() {
		if c, err := strconv.Atoi(k); err == nil && c >= 200 && c < 400 && strconv.Itoa(c) == k {
			codes = append(codes, c)
		}
	}
	sort.Ints(codes)
	if len(codes) > 0 {
		return codes[0], op.Responses.Status(codes[0]).Value
	}
	if r := op.Responses.Value("2XX"); r != nil && r.Value != nil {
		if method == http.MethodPost {
			return 201, r.Value
		}
		return 200, r.Value
	}
	if r := op.Responses.Default(); r != nil && r.Value != nil {
		return 200, r.Value
	}
	// The operation declares only errors (Kubernetes' /logs/ declares
	// nothing but 401): answer what the document says it answers.
	var errs []int
	for k := range op.Responses.Map() {
		if c, err := strconv.Atoi(k); err == nil && strconv.Itoa(c) == k {
			errs = append(errs, c)
		}
	}
	sort.Ints(errs)
	if len(errs) > 0 {
		return errs[0], op.Responses.Status(errs[0]).Value
	}
	return 200, nil
}

// pickMedia chooses the response media type: one the client accepts,
// preferring JSON.
func pickMedia(resp *openapi3.Response, accept string) (string, *openapi3.MediaType) {
	if resp == nil || len(resp.Content) == 0 {
		return "", nil
	}
	types := make([]string, 0, len(resp.Content))
	for t := range resp.Content {
		types = append(types, t)
	}
	// A string body (a log, an archive) is served as the text or binary
	// type the operation offers, not as a JSON string.
	rank := func(t string) int {
		r := mediaRank(t)
		if m := resp.Content[t]; isJSONMedia(t) && m != nil && m.Schema != nil && m.Schema.Value != nil {
			if typ, _ := schemaType(m.Schema.Value, ""); typ == "string" {
				r += 10
			}
		}
		return r
	}
	sort.Slice(types, func(i, j int) bool {
		return rank(types[i]) < rank(types[j]) || rank(types[i]) == rank(types[j]) && types[i] < types[j]
	})
	if accept != "" && !strings.Contains(accept, "*/*") {
		for _, t := range types {
			if strings.Contains(accept, strings.SplitN(t, ";", 2)[0]) {
				return t, resp.Content[t]
			}
		}
	}
	return types[0], resp.Content[types[0]]
}

func mediaRank(t string) int {
	switch {
	case t == "application/json":
		return 0
	case strings.HasSuffix(strings.SplitN(t, ";", 2)[0], "+json") || strings.Contains(t, "json"):
		return 1
	case strings.HasPrefix(t, "text/"):
		return 3
	case t == "*/*":
		return 4
	}
	return 2
}

func isJSONMedia(t string) bool {
	t = strings.SplitN(t, ";", 2)[0]
	return t == "application/json" || strings.HasSuffix(t, "+json") || strings.Contains(t, "json") || t == "*/*"
}

func contentType(t string) string {
	if t == "*/*" || t == "" {
		return "application/json; charset=utf-8"
	}
	if t == "application/json" {
		return "application/json; charset=utf-8"
	}
	return t
}

// success answers a valid request with the operation's success response.
// coll and id identify the resource; over are fields the client wrote.
func (x *exchange) success(coll, id string, over map[string]any) {
	status, resp := successResponse(x.op.op, x.r.Method)
	seed := x.d.seed(x.doc, coll, id)
	g := x.newSynth()
	g.resource = coll
	g.overrides = over
	if id != "" {
		g.reflect = map[string]string{}
		for k, v := range x.params {
			g.reflect[k] = v
		}
		segs := x.op.route.segs
		g.lastParam = segs[len(segs)-1].names[0]
		g.reflect[g.lastParam] = id
	} else if x.r.Method == http.MethodGet {
		g.list = x.d.listPlan(x, resp, coll)
		seed = x.d.seed(x.doc, coll)
	}
	g.root = true
	x.respond(g, status, resp, seed, id == "" && g.list == nil && len(x.params) == 0 && x.r.Method == http.MethodGet)
}

// create answers a POST that creates a resource: a fresh id, the submitted
// fields echoed, 201 with Location, and the object remembered for this client.
func (x *exchange) create(coll string) {
	status, resp := successResponse(x.op.op, x.r.Method)
	fields := x.bodyFields()
	_, media := pickMedia(resp, x.r.Header.Get("Accept"))
	var id string
	var idName string
	var idVal any
	if media != nil && media.Schema != nil {
		g := x.newSynth()
		if name, ps := findIDProp(x.doc, media.Schema); ps != nil {
			idName = name
			idVal = g.gen(ps, x.d.seed(x.doc, coll, "create", x.client, strconv.FormatInt(time.Now().UnixNano(), 10)), name, 1)
			id = fmt.Sprint(idVal)
			if f, ok := idVal.(float64); ok {
				id = strconv.FormatInt(int64(f), 10)
			}
		}
	}
	if id == "" {
		id = strconv.FormatInt(int64(1000+x.d.state.next()), 10)
	}
	over := mergeFields(nil, fields)
	if idName != "" {
		if over == nil {
			over = map[string]any{}
		}
		over[idName] = plain(idVal)
	}
	x.d.state.put(x.client, coll, id, over)
	loc := x.base + x.d.opts.Prefix + coll + "/" + url.PathEscape(id)
	if status == http.StatusCreated || status == http.StatusAccepted {
		x.header("Location", loc)
	}
	g := x.newSynth()
	g.resource = coll
	g.overrides = over
	g.root = true
	x.respond(g, status, resp, x.d.seed(x.doc, coll, id), false)
}

// findIDProp finds the identifier property of a resource schema, looking
// one level into an envelope ({"data": {...}}).
func findIDProp(doc *docState, sr *openapi3.SchemaRef) (string, *openapi3.SchemaRef) {
	if sr == nil || sr.Value == nil {
		return "", nil
	}
	s := doc.flat(sr.Value)
	for _, k := range doc.propOrder(s) {
		if n := normName(k); n == "id" || n == "uuid" {
			return k, s.Properties[k]
		}
	}
	for _, k := range []string{"data", "item", "result", "resource"} {
		if p := s.Properties[k]; p != nil && p.Value != nil {
			if name, ps := findIDProp(doc, p); ps != nil {
				return name, ps
			}
		}
	}
	return "", nil
}

func mergeFields(base, add map[string]any) map[string]any {
	if len(add) == 0 {
		return base
	}
	out := make(map[string]any, len(base)+len(add))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range add {
		out[k] = v
	}
	return out
}

// respond renders the body for status/resp and writes it with the
// operation's declared headers, an ETag and conditional-GET handling.
func (x *exchange) respond(g *synth, status int, resp *openapi3.Response, seed uint64, singleton bool) {
	mt, media := pickMedia(resp, x.r.Header.Get("Accept"))
	var body []byte
	if media != nil {
		body = x.render(g, mt, media, seed, singleton)
	}
	if resp != nil {
		x.declaredHeaders(g, resp, seed)
	}
	if g.list != nil && resp != nil && hasHeader(resp, "Link") {
		if link := g.list.link(x); link != "" {
			x.header("Link", link)
		}
	}
	if x.r.Method == http.MethodGet || x.r.Method == http.MethodHead {
		if status == http.StatusOK && body != nil {
			sum := sha256.Sum256(body)
			etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
			x.header("ETag", etag)
			if inm := x.r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, etag) {
				x.write(http.StatusNotModified, "", nil)
				return
			}
		}
	}
	if media == nil {
		x.write(status, "", nil)
		return
	}
	x.write(status, contentType(mt), body)
}

func hasHeader(resp *openapi3.Response, name string) bool {
	for k := range resp.Headers {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

func etagMatch(inm, etag string) bool {
	if strings.TrimSpace(inm) == "*" {
		return true
	}
	weak := strings.TrimPrefix(etag, "W/")
	for _, part := range strings.Split(inm, ",") {
		if strings.TrimPrefix(strings.TrimSpace(part), "W/") == weak {
			return true
		}
	}
	return false
}

// render produces the body bytes for one media type.
func (x *exchange) render(g *synth, mt string, media *openapi3.MediaType, seed uint64, singleton bool) []byte {
	var v any
	if singleton || media.Schema == nil {
		if ex, ok := x.example(media); ok {
			v = ex
		}
	}
	if v == nil {
		if media.Schema == nil {
			if isJSONMedia(mt) {
				return []byte("{}")
			}
			return nil
		}
		v = g.gen(media.Schema, seed, "", 0)
	}
	switch {
	case strings.Contains(mt, "ndjson") || strings.Contains(mt, "jsonl") || strings.Contains(mt, "json-seq"):
		// A stream of JSON lines: each line an instance of the schema.
		var b []byte
		for i := 0; i < 3; i++ {
			if i > 0 && media.Schema != nil {
				v = g.gen(media.Schema, mixi(seed, i), "", 0)
			}
			b = appendJSON(b, v)
			b = append(b, '\n')
		}
		return b
	case isJSONMedia(mt):
		return appendJSON(make([]byte, 0, 1024), v)
	case strings.HasPrefix(mt, "text/"), strings.Contains(mt, "yaml"):
		if s, ok := v.(string); ok {
			return []byte(s)
		}
		return appendJSON(nil, v)
	case strings.Contains(mt, "xml"):
		return renderXML(v, rootName(media))
	default:
		if s, ok := v.(string); ok {
			return []byte(s)
		}
		return []byte(hexString(seed, 64))
	}
}

// example returns the media type's example if it validates against the
// schema (real documents ship invalid examples), with URLs moved to the
// decoy's own host.
func (x *exchange) example(media *openapi3.MediaType) (any, bool) {
	var ex any
	switch {
	case media.Example != nil:
		ex = media.Example
	case len(media.Examples) > 0:
		names := make([]string, 0, len(media.Examples))
		for n := range media.Examples {
			names = append(names, n)
		}
		names = x.doc.order.order(names)
		for _, n := range names {
			if e := media.Examples[n]; e != nil && e.Value != nil && e.Value.Value != nil {
				ex = e.Value.Value
				break
			}
		}
	case media.Schema != nil && media.Schema.Value != nil && media.Schema.Value.Example != nil:
		ex = media.Schema.Value.Example
	}
	if ex == nil {
		return nil, false
	}
	if media.Schema != nil && media.Schema.Value != nil {
		ok, seen := x.doc.cache.exOK.Load(media)
		if !seen {
			valid := media.Schema.Value.VisitJSON(ex, openapi3.VisitAsResponse()) == nil
			x.doc.cache.exOK.Store(media, valid)
			ok = valid
		}
		if !ok.(bool) {
			return nil, false
		}
	}
	g := x.newSynth()
	return rehostAll(fromPlain(ex, x.doc.order), g), true
}

func rehostAll(v any, g *synth) any {
	switch t := v.(type) {
	case string:
		if strings.HasPrefix(t, "http://") || strings.HasPrefix(t, "https://") {
			return g.rehost(t)
		}
	case *object:
		for i := range t.vals {
			t.vals[i] = rehostAll(t.vals[i], g)
		}
	case []any:
		for i := range t {
			t[i] = rehostAll(t[i], g)
		}
	}
	return v
}

// declaredHeaders sets the response headers the operation declares, with
// values that validate against their schemas.
func (x *exchange) declaredHeaders(g *synth, resp *openapi3.Response, seed uint64) {
	names := make([]string, 0, len(resp.Headers))
	for k := range resp.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		lower := strings.ToLower(name)
		if lower == "content-type" || lower == "link" || lower == "location" || lower == "etag" || lower == "content-length" {
			continue
		}
		h := resp.Headers[name]
		if h == nil || h.Value == nil {
			continue
		}
		var sr *openapi3.SchemaRef
		if h.Value.Schema != nil {
			sr = h.Value.Schema
		} else {
			for _, mt := range h.Value.Content {
				sr = mt.Schema
				break
			}
		}
		// Known headers get believable values unless the document constrains
		// them (a format or pattern): then the schema decides.
		constrained := sr != nil && sr.Value != nil && (sr.Value.Format != "" || sr.Value.Pattern != "" || len(sr.Value.Enum) > 0)
		if v, ok := x.knownHeader(lower); ok && !constrained && (sr == nil || sr.Value == nil || headerFits(sr.Value, v)) {
			x.header(name, v)
			continue
		}
		if sr == nil {
			continue
		}
		v := g.gen(sr, mix(seed, name), headerPropName(lower), 1)
		x.header(name, headerValue(v))
	}
}

// headerFits reports whether a header value validates against its schema.
func headerFits(s *openapi3.Schema, v string) bool {
	var val any = v
	if t, _ := schemaType(s, ""); t == "integer" || t == "number" {
		f, ok := parseNumber(v)
		if !ok {
			return false
		}
		val = f
	}
	return s.VisitJSON(val, openapi3.EnableFormatValidation()) == nil
}

func headerPropName(h string) string {
	h = strings.TrimPrefix(h, "x-")
	return strings.ReplaceAll(h, "-", "_")
}

// knownHeader gives believable values for headers real APIs send.
func (x *exchange) knownHeader(lower string) (string, bool) {
	switch {
	case strings.HasSuffix(lower, "ratelimit-limit"):
		return "5000", true
	case strings.HasSuffix(lower, "ratelimit-remaining"):
		n := x.d.state.tick(x.client)
		return strconv.Itoa(4999 - n%5000), true
	case strings.HasSuffix(lower, "ratelimit-reset"):
		return strconv.FormatInt(time.Now().Truncate(time.Hour).Add(time.Hour).Unix(), 10), true
	case strings.HasSuffix(lower, "ratelimit-used"):
		return strconv.Itoa(x.d.state.requests(x.client) % 5000), true
	case strings.HasSuffix(lower, "ratelimit-resource"):
		return "core", true
	case strings.HasSuffix(lower, "request-id"), lower == "x-correlation-id", lower == "x-trace-id":
		return requestID(), true
	case lower == "retry-after":
		return "60", true
	}
	return "", false
}

func headerValue(v any) string {
	switch t := v.(type) {
	case string:
		return strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return -1
			}
			return r
		}, t)
	case nil:
		return ""
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = headerValue(e)
		}
		return strings.Join(parts, ",")
	case *object:
		var parts []string
		for i, k := range t.keys {
			parts = append(parts, k+","+headerValue(t.vals[i]))
		}
		return strings.Join(parts, ",")
	}
	return string(appendJSON(nil, v))
}

// fail answers with the document's own error shape for status.
func (x *exchange) fail(status int, message string) {
	var resp *openapi3.Response
	if x.op != nil && x.op.op.Responses != nil {
		if r := x.op.op.Responses.Status(status); r != nil && r.Value != nil {
			resp = r.Value
		} else if r := x.op.op.Responses.Value(fmt.Sprintf("%dXX", status/100)); r != nil && r.Value != nil {
			resp = r.Value
		}
	}
	if resp == nil {
		resp = x.doc.errorShape(status)
	}
	if resp == nil && x.op != nil && x.op.op.Responses != nil {
		if r := x.op.op.Responses.Default(); r != nil && r.Value != nil && len(r.Value.Content) > 0 {
			resp = r.Value
		}
	}
	g := x.newSynth()
	g.errCtx = &errContext{status: status, message: message, path: bounded(x.r.URL.Path, 256)}
	if resp == nil {
		body := appendJSON(nil, &object{keys: []string{"error", "message"}, vals: []any{http.StatusText(status), message}})
		x.write(status, "application/json; charset=utf-8", body)
		return
	}
	mt, media := pickMedia(resp, "")
	seed := x.d.seed(x.doc, "error", strconv.Itoa(status))
	var body []byte
	if x.doc.Version == "2.0" && x.op != nil && media != nil {
		// In Swagger 2.0 every response of an operation has the
		// operation's "produces" types; a shared error response converted
		// to 3.0 carries the document's instead.
		if !x.op.produces()[mt] {
			if alt := firstKey(x.op.produces()); alt != "" && !isJSONMedia(alt) {
				// The error object, labelled with the operation's type, as
				// 2.0 validators expect.
				if media.Schema != nil {
					body = appendJSON(nil, g.gen(media.Schema, seed, "", 0))
				}
				x.declaredHeaders(g, resp, seed)
				x.write(status, alt, body)
				return
			}
		}
	}
	if media != nil && media.Schema != nil {
		body = x.render(g, mt, media, seed, false)
	} else if media != nil {
		if ex, ok := x.example(media); ok {
			body = appendJSON(nil, ex)
		}
	}
	x.declaredHeaders(g, resp, seed)
	if media == nil {
		x.write(status, "", nil)
		return
	}
	x.write(status, contentType(mt), body)
}

// produces lists the media types of the operation's success response (in
// 2.0 documents, the operation's "produces").
func (o *operation) produces() map[string]bool {
	_, resp := successResponse(o.op, o.method)
	m := map[string]bool{}
	if resp != nil {
		for t := range resp.Content {
			m[t] = true
		}
	}
	return m
}

func firstKey(m map[string]bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

// indexErrors finds the document's own error responses: for each status the
// response most operations declare, and the most common error shape overall.
func (ds *docState) indexErrors() {
	ds.errors = map[int]*openapi3.Response{}
	counts := map[int]map[*openapi3.Response]int{}
	overall := map[*openapi3.Response]int{}
	for _, rt := range ds.routes {
		for _, op := range rt.ops {
			if op.op.Responses == nil {
				continue
			}
			for code, rr := range op.op.Responses.Map() {
				if rr == nil || rr.Value == nil || len(rr.Value.Content) == 0 {
					continue
				}
				c, err := strconv.Atoi(code)
				if err != nil || c < 400 {
					if code == "default" || code == "4XX" {
						overall[rr.Value]++
					}
					continue
				}
				if counts[c] == nil {
					counts[c] = map[*openapi3.Response]int{}
				}
				counts[c][rr.Value]++
				overall[rr.Value]++
			}
		}
	}
	best := func(m map[*openapi3.Response]int) *openapi3.Response {
		var b *openapi3.Response
		n := 0
		for r, c := range m {
			if c > n || c == n && b != nil && responseKey(r) < responseKey(b) {
				b, n = r, c
			}
		}
		return b
	}
	for c, m := range counts {
		ds.errors[c] = best(m)
	}
	ds.generic = best(overall)
}

func responseKey(r *openapi3.Response) string {
	if r.Description != nil {
		return *r.Description
	}
	return ""
}

func (ds *docState) errorShape(status int) *openapi3.Response {
	if r := ds.errors[status]; r != nil {
		return r
	}
	return ds.generic
}

// serveFixed answers the document's own description and bait paths.
func (x *exchange) serveFixed(fp fixedPath) {
	if x.r.Method != http.MethodGet && x.r.Method != http.MethodHead {
		x.header("Allow", "GET, HEAD")
		x.fail(http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	if fp.bait != nil {
		host := strings.TrimPrefix(strings.TrimPrefix(x.base, "https://"), "http://")
		data := templates.BaitData{Host: host, BaseURL: x.base}
		if x.d.opts.Breadcrumb != nil {
			seed := []byte(fp.doc.Name + "\x00" + x.path)
			data.Secret = func(kind, name string) string {
				v, _ := x.breadcrumb(kind, name, seed, nil)
				return v // empty: Render makes its own value
			}
		}
		body, err := templates.Render(*fp.bait, data, x.d.secret)
		if err != nil {
			x.fail(http.StatusNotFound, "Not Found")
			return
		}
		status := fp.bait.Status
		if status == 0 {
			status = http.StatusOK
		}
		x.write(status, fp.bait.ContentType, body)
		return
	}
	js, ym := fp.doc.specBytes()
	if fp.spec == "yaml" {
		x.write(http.StatusOK, "application/yaml", ym)
		return
	}
	x.write(http.StatusOK, "application/json", js)
}

// specBytes renders the document as JSON and YAML once, keeping key order.
func (d *Document) specBytes() ([]byte, []byte) {
	d.specOnce.Do(func() {
		if bytes.Contains(d.Raw, []byte(extPrefix)) {
			// Our own vendor extensions would give the decoy away.
			var n yaml.Node
			if yaml.Unmarshal(d.Raw, &n) == nil {
				stripExtensions(&n, 0)
				d.specJSON = appendJSON(nil, nodeValue(&n, 0))
				clearStyle(&n, 0)
				var buf bytes.Buffer
				enc := yaml.NewEncoder(&buf)
				enc.SetIndent(2)
				if enc.Encode(&n) == nil {
					d.specYAML = buf.Bytes()
					return
				}
			}
		}
		if d.yaml {
			d.specYAML = d.Raw
			d.specJSON = yamlToJSON(d.Raw)
		} else {
			d.specJSON = d.Raw
			d.specYAML = jsonToYAML(d.Raw)
		}
	})
	return d.specJSON, d.specYAML
}

// extPrefix starts honeyapi's own vendor extensions (x-honeyapi-secret),
// which are removed from the documents the decoy serves.
const extPrefix = "x-honeyapi-"

func stripExtensions(n *yaml.Node, depth int) {
	if depth > 512 {
		return
	}
	if n.Kind == yaml.MappingNode {
		kept := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			if strings.HasPrefix(n.Content[i].Value, extPrefix) {
				continue
			}
			kept = append(kept, n.Content[i], n.Content[i+1])
		}
		n.Content = kept
	}
	for _, c := range n.Content {
		stripExtensions(c, depth+1)
	}
}

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return normalizeNumbers(v), nil
}

func normalizeNumbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		f, _ := t.Float64()
		return f
	case map[string]any:
		for k, x := range t {
			t[k] = normalizeNumbers(x)
		}
	case []any:
		for i, x := range t {
			t[i] = normalizeNumbers(x)
		}
	}
	return v
}

func formFields(r *http.Request, body []byte) map[string]any {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return nil
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil
	}
	out := map[string]any{}
	for k, v := range vals {
		if len(v) > 0 && len(out) < 64 {
			out[k] = v[0]
		}
	}
	return out
}
