package decoys

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/rs/zerolog"

	"github.com/honeyapi/honeyapi/tarpit"
	"github.com/honeyapi/honeyapi/templates"
)

// Options configure a Decoy. The zero value is usable.
type Options struct {
	// Secret seeds synthetic data; the same secret gives the same objects
	// across restarts. Empty means a fixed built-in secret (tests only).
	Secret []byte
	// Epoch anchors synthesised dates (they fall in the years before it).
	// Zero means a fixed built-in anchor.
	Epoch time.Time
	// ServerProfile names the response-header profile: "nginx", "envoy",
	// "apache" or "none". Empty means the document's own (templates), else nginx.
	ServerProfile string
	// Credentials says what happens when a credential is presented to an
	// operation that requires one: "any" (default) accepts every credential,
	// "reject" answers 401 as if it were wrong.
	Credentials string
	// MaxBodyBytes bounds a request body; larger bodies get 413. Default 1 MiB.
	MaxBodyBytes int64
	// PublicURL is the scheme and host URLs in responses point at
	// ("https://api.example.com"). Empty means the request's own host.
	PublicURL string
	// StateTTL is how long a client's writes (POST/PUT/PATCH/DELETE) are
	// remembered. Default 1h.
	StateTTL time.Duration
	// StateMaxObjects bounds the objects remembered across all clients.
	// Default 10000.
	StateMaxObjects int
	// Prefix is a path prefix stripped before matching, for decoys mounted
	// under an Echo group or a sub-path. Default "".
	Prefix string
	// ClientKey identifies the client whose write state a request sees.
	// Default: the remote IP address.
	ClientKey func(*http.Request) string
	// Logger receives one line per interaction. Nil means no logging.
	Logger *zerolog.Logger
	// Record, when set, is called for every answered request after the
	// response is decided and before any byte of it is released. With a
	// recorder that waits for its event to be durable, every response a
	// client sees is on disk. When Record returns an error the connection
	// is dropped without a response.
	Record func(*Interaction) error
	// Breadcrumb, when set, supplies the credentials embedded in responses
	// that would naturally hold secrets: schema properties marked
	// x-honeyapi-secret and {{ secret }} placeholders in bait bodies. It is
	// called with the kind asked for, the field or variable name, and a
	// seed that is stable for one object of one document (an AWS key id and
	// its secret in one object share it). It returns the text to embed and
	// the honeytoken it belongs to; ok false means synthesise as usual. A
	// value that does not validate against its property's schema is not
	// used. Breadcrumbs embedded in a response are listed in the
	// Interaction.
	Breadcrumb func(r *http.Request, kind, name string, seed []byte) (text string, b Breadcrumb, ok bool)
	// RateLimit announces and enforces a rate limit per client (see
	// RateLimit); the zero value disables it.
	RateLimit RateLimit
	// Tarpit, when set, delivers every response by the plan Record put in
	// the Interaction (or, without Record, one it decides with no risk
	// score): short delays in the handler, long holds and drips by its
	// scheduler.
	Tarpit *tarpit.Tarpit
}

// Breadcrumb is a honeytoken embedded in a decoy response.
type Breadcrumb struct {
	TokenID string // the token's ID (16 hex digits)
	Kind    string
	Value   string // the token as minted (for AWS, the key id)
	Fields  map[string]string
	// Where says where in the response it was embedded, e.g.
	// "GET /actuator/env AWS_ACCESS_KEY_ID"; the decoy fills it in.
	Where string
}

// Interaction is one answered request, as handed to Options.Record.
type Interaction struct {
	Request    *http.Request
	Start      time.Time
	Body       []byte // the request body as read (at most MaxBodyBytes)
	BodyLen    int64  // the body's length as sent, when known
	Document   string
	Operation  string // operationId, or "METHOD /template"
	Status     int
	RespBytes  int
	Tags       []string // "spec", "bait", "operation", "unknown_path"
	Credential string   // the credential presented, if any (never logged)
	// Breadcrumbs are the honeytokens embedded in the response (see
	// Options.Breadcrumb), each once.
	Breadcrumbs []Breadcrumb
	// Tarpit is the delivery plan; Record sets it (tarpit.Tarpit.Decide)
	// when Options.Tarpit is set, and records it with the event.
	Tarpit *tarpit.Plan
}

var defaultEpoch = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// Decoy serves one or more documents as decoy APIs. It is an http.Handler.
type Decoy struct {
	opts    Options
	docs    []*docState
	routes  trie
	fixed   map[string]fixedPath
	state   *stateStore
	limiter *limiter
	secret  []byte
	started time.Time
}

var _ http.Handler = (*Decoy)(nil)

type docState struct {
	*Document
	cache   schemaCache
	profile profile
	routes  []*route
	errors  map[int]*openapi3.Response // document-wide error shape per status
	generic *openapi3.Response         // the document's most common error shape
}

type route struct {
	doc      *docState
	template string
	segs     []segment
	item     *openapi3.PathItem
	ops      map[string]*operation
	allow    string
}

type operation struct {
	route    *route
	method   string
	op       *openapi3.Operation
	kin      *routers.Route
	security openapi3.SecurityRequirements
	isItem   bool
}

type fixedPath struct {
	doc  *docState
	spec string // "json" or "yaml" for the document itself
	bait *templates.Bait
}

// New builds a decoy from loaded documents.
func New(docs []*Document, opts Options) (*Decoy, error) {
	if len(docs) == 0 {
		return nil, errors.New("decoys: no documents to serve")
	}
	if opts.RateLimit.Style != "" && !slices.Contains(templates.RateLimitStyles, opts.RateLimit.Style) {
		return nil, fmt.Errorf("decoys: rate-limit style %q is not one of %s", opts.RateLimit.Style, strings.Join(templates.RateLimitStyles, ", "))
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.StateTTL <= 0 {
		opts.StateTTL = time.Hour
	}
	if opts.StateMaxObjects <= 0 {
		opts.StateMaxObjects = 10000
	}
	if opts.Epoch.IsZero() {
		opts.Epoch = defaultEpoch
	}
	switch opts.Credentials {
	case "", "any":
		opts.Credentials = "any"
	case "reject":
	default:
		return nil, fmt.Errorf("decoys: credentials must be \"any\" or \"reject\", not %q", opts.Credentials)
	}
	if opts.ServerProfile != "" {
		if _, ok := profiles[opts.ServerProfile]; !ok {
			return nil, fmt.Errorf("decoys: unknown server profile %q (known: %s)", opts.ServerProfile, strings.Join(profileNames(), ", "))
		}
	}
	opts.Prefix = strings.TrimRight(opts.Prefix, "/")
	secret := opts.Secret
	if len(secret) == 0 {
		secret = []byte("honeyapi-default-secret")
	}
	d := &Decoy{
		opts:    opts,
		fixed:   map[string]fixedPath{},
		state:   newStateStore(opts.StateTTL, opts.StateMaxObjects),
		limiter: newLimiter(opts.RateLimit),
		secret:  secret,
		started: time.Now(),
	}
	names := map[string]bool{}
	for _, doc := range docs {
		if doc == nil || doc.Spec == nil {
			return nil, errors.New("decoys: nil document")
		}
		if names[doc.Name] {
			return nil, fmt.Errorf("decoys: two documents are named %q", doc.Name)
		}
		names[doc.Name] = true
		ds, err := d.addDoc(doc)
		if err != nil {
			return nil, err
		}
		d.docs = append(d.docs, ds)
	}
	return d, nil
}

func (d *Decoy) addDoc(doc *Document) (*docState, error) {
	if doc.order == nil {
		doc.order = newKeyOrder()
	}
	pname := d.opts.ServerProfile
	if pname == "" {
		pname = doc.ServerProfile
	}
	p, ok := profiles[pname]
	if !ok {
		p = profiles["nginx"]
	}
	ds := &docState{Document: doc, profile: p}
	for _, tmpl := range doc.Spec.Paths.InMatchingOrder() {
		item := doc.Spec.Paths.Value(tmpl)
		if item == nil {
			continue
		}
		segs, err := parseTemplate(doc.BasePath + tmpl)
		if err != nil {
			return nil, &LoadError{File: doc.Source, Pointer: "#/paths/" + escapePointer(tmpl), Err: err}
		}
		rt := &route{doc: ds, template: tmpl, segs: segs, item: item, ops: map[string]*operation{}}
		var methods []string
		for method, op := range item.Operations() {
			if op == nil {
				continue
			}
			o := &operation{
				route:  rt,
				method: method,
				op:     op,
				kin:    &routers.Route{Spec: doc.Spec, Path: tmpl, PathItem: item, Method: method, Operation: op},
				isItem: len(segs) > 0 && segs[len(segs)-1].kind() == 2,
			}
			if op.Security != nil {
				o.security = *op.Security
			} else {
				o.security = doc.Spec.Security
			}
			rt.ops[method] = o
			methods = append(methods, method)
		}
		if len(methods) == 0 {
			continue
		}
		if rt.ops[http.MethodGet] != nil && rt.ops[http.MethodHead] == nil {
			methods = append(methods, http.MethodHead)
		}
		sort.Slice(methods, func(i, j int) bool { return methodRank(methods[i]) < methodRank(methods[j]) })
		rt.allow = strings.Join(methods, ", ")
		ds.routes = append(ds.routes, rt)
		d.routes.insert(segs, rt)
	}
	ds.indexErrors()
	for _, sp := range doc.SpecPaths {
		kind := "json"
		if strings.HasSuffix(sp, ".yaml") || strings.HasSuffix(sp, ".yml") {
			kind = "yaml"
		}
		if _, dup := d.fixed[sp]; !dup {
			d.fixed[sp] = fixedPath{doc: ds, spec: kind}
		}
	}
	for i := range doc.Bait {
		b := &doc.Bait[i]
		if _, dup := d.fixed[b.Path]; !dup {
			d.fixed[b.Path] = fixedPath{doc: ds, bait: b}
		}
	}
	return ds, nil
}

func methodRank(m string) int {
	for i, x := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"} {
		if x == m {
			return i
		}
	}
	return 99
}

// Documents returns the documents the decoy serves.
func (d *Decoy) Documents() []*Document {
	out := make([]*Document, len(d.docs))
	for i, ds := range d.docs {
		out[i] = ds.Document
	}
	return out
}

// Operations counts the operations the decoy serves.
func (d *Decoy) Operations() int {
	n := 0
	for _, ds := range d.docs {
		for _, rt := range ds.routes {
			n += len(rt.ops)
		}
	}
	return n
}

// OperationInfo describes one operation a decoy serves.
type OperationInfo struct {
	Document    string `json:"document"`
	Method      string `json:"method"`
	Path        string `json:"path"` // the path template, relative to the document's base path
	OperationID string `json:"operation_id,omitempty"`
	Summary     string `json:"summary,omitempty"`
	// Name is what events record as Operation: the operationId, or
	// "METHOD /template" without one.
	Name string `json:"name"`
}

// OperationList lists the operations the decoy serves, document by
// document, in path order.
func (d *Decoy) OperationList() []OperationInfo {
	var out []OperationInfo
	for _, ds := range d.docs {
		for _, rt := range ds.routes {
			methods := make([]string, 0, len(rt.ops))
			for m := range rt.ops {
				methods = append(methods, m)
			}
			sort.Slice(methods, func(i, j int) bool { return methodRank(methods[i]) < methodRank(methods[j]) })
			for _, m := range methods {
				op := rt.ops[m]
				name := op.op.OperationID
				if name == "" {
					name = m + " " + rt.template
				}
				out = append(out, OperationInfo{Document: ds.Name, Method: m, Path: rt.template,
					OperationID: op.op.OperationID, Summary: op.op.Summary, Name: name})
			}
		}
	}
	return out
}

// seed derives a deterministic seed from the deployment secret, the
// document and the given parts (collection, resource id…).
func (d *Decoy) seed(doc *docState, parts ...string) uint64 {
	m := hmac.New(sha256.New, d.secret)
	m.Write([]byte(doc.Name))
	for _, p := range parts {
		m.Write([]byte{0})
		m.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	return binary.LittleEndian.Uint64(m.Sum(sum[:0]))
}

// exchange is one request in flight.
type exchange struct {
	d       *Decoy
	w       http.ResponseWriter
	r       *http.Request
	doc     *docState
	op      *operation
	path    string // the request path after the prefix, escaped
	params  map[string]string
	base    string
	client  string
	status  int
	size    int
	start   time.Time
	body    []byte
	bodyLen int64
	tooBig  bool
	tags    []string
	cred    string
	crumbs  []Breadcrumb
	rl      *rlState
}

// ServeHTTP answers a request as the decoy API would.
func (d *Decoy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{d: d, w: w, r: r, start: time.Now(), doc: d.docs[0]}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			// A bug must never show a Go panic page; answer like the API would.
			if x.status == 0 {
				x.fail(http.StatusInternalServerError, "Internal Server Error")
			}
			if d.opts.Logger != nil {
				d.opts.Logger.Error().Str("panic", fmt.Sprint(v)).Str("stack", string(debug.Stack())).Str("path", bounded(r.URL.Path, 256)).Msg("decoy handler panicked")
			}
		}
		d.log(x)
	}()
	x.base = d.baseURL(r)
	x.client = d.clientKey(r)
	x.serve()
}

func (d *Decoy) clientKey(r *http.Request) string {
	if d.opts.ClientKey != nil {
		return d.opts.ClientKey(r)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// readBody reads the request body, bounded by MaxBodyBytes, for
// validation and recording alike.
func (x *exchange) readBody() {
	r := x.r
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, x.d.opts.MaxBodyBytes+1))
	x.bodyLen = int64(len(b))
	if r.ContentLength > x.bodyLen {
		x.bodyLen = r.ContentLength
	}
	if int64(len(b)) > x.d.opts.MaxBodyBytes {
		b = b[:x.d.opts.MaxBodyBytes]
		x.tooBig = true
	}
	if err == nil || len(b) > 0 {
		x.body = b
	}
}

func (x *exchange) serve() {
	d, r := x.d, x.r
	x.readBody()
	p := r.URL.EscapedPath()
	if d.opts.Prefix != "" {
		if p != d.opts.Prefix && !strings.HasPrefix(p, d.opts.Prefix+"/") {
			x.fail(http.StatusNotFound, "Not Found")
			return
		}
		p = strings.TrimPrefix(p, d.opts.Prefix)
	}
	if p == "" {
		p = "/"
	}
	x.path = p
	x.doc = d.docFor(p)
	if d.limiter != nil {
		now := time.Now()
		st := d.limiter.take(x.client, now)
		x.rl = &st
		if st.limited {
			x.tags = append(x.tags, "rate_limited")
			if st.ignored {
				x.tags = append(x.tags, "retry_after_ignored")
			}
			x.header("Retry-After", strconv.Itoa(st.retryAfter(now)))
			x.fail(http.StatusTooManyRequests, "API rate limit exceeded")
			return
		}
	}
	if fp, ok := d.fixed[p]; ok {
		x.doc = fp.doc
		if fp.bait != nil {
			x.tags = append(x.tags, "bait")
		} else {
			x.tags = append(x.tags, "spec")
		}
		x.serveFixed(fp)
		return
	}
	parts, ok := splitPath(p)
	if !ok || len(p) > 4096 {
		x.fail(http.StatusNotFound, "Not Found")
		return
	}
	rt := d.routes.match(parts)
	if rt == nil {
		x.tags = append(x.tags, "unknown_path")
		x.fail(http.StatusNotFound, "Not Found")
		return
	}
	x.tags = append(x.tags, "operation")
	x.doc = rt.doc
	op := rt.ops[r.Method]
	if op == nil && r.Method == http.MethodHead {
		op = rt.ops[http.MethodGet]
	}
	if op == nil {
		x.header("Allow", rt.allow)
		if r.Method == http.MethodOptions {
			x.write(http.StatusNoContent, "", nil)
			return
		}
		x.fail(http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	x.op = op
	x.params = rt.params(parts)
	x.handle()
}

// docFor picks the document whose base path is the longest prefix of p,
// for answering paths that match no operation in that API's style.
func (d *Decoy) docFor(p string) *docState {
	best := d.docs[0]
	bestLen := -1
	for _, ds := range d.docs {
		bp := ds.BasePath
		if (bp == "" || p == bp || strings.HasPrefix(p, bp+"/")) && len(bp) > bestLen {
			best, bestLen = ds, len(bp)
		}
	}
	return best
}

func (x *exchange) handle() {
	d, r, op := x.d, x.r, x.op
	if !x.authorized() {
		return
	}
	if x.tooBig {
		x.fail(http.StatusRequestEntityTooLarge, "Request body too large")
		return
	}
	if !x.validate() {
		return
	}
	coll, id := x.collection()
	switch {
	case r.Method == http.MethodDelete && op.isItem:
		if !d.state.remove(x.client, coll, id) {
			x.fail(http.StatusNotFound, "Not Found")
			return
		}
		x.success(coll, id, nil)
	case (r.Method == http.MethodPut || r.Method == http.MethodPatch) && op.isItem:
		fields := x.bodyFields()
		over, ok := d.state.update(x.client, coll, id, fields, r.Method == http.MethodPut)
		if !ok {
			x.fail(http.StatusNotFound, "Not Found")
			return
		}
		x.success(coll, id, over)
	case r.Method == http.MethodPost && !op.isItem && x.creates():
		x.create(coll)
	default:
		if op.isItem {
			over, deleted := d.state.get(x.client, coll, id)
			if deleted {
				x.fail(http.StatusNotFound, "Not Found")
				return
			}
			if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
				over = mergeFields(over, x.bodyFields())
			}
			x.success(coll, id, over)
			return
		}
		x.success(coll, "", x.bodyFieldsIfWrite())
	}
}

// collection returns the collection key (the concrete path without a
// trailing id) and the id, for item operations.
func (x *exchange) collection() (string, string) {
	if !x.op.isItem {
		return x.path, ""
	}
	i := strings.LastIndexByte(x.path, '/')
	segs := x.op.route.segs
	return x.path[:i], x.params[segs[len(segs)-1].names[0]]
}

func (x *exchange) bodyFieldsIfWrite() map[string]any {
	switch x.r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		return x.bodyFields()
	}
	return nil
}

// bodyFields returns the submitted JSON object's fields (bounded), to echo
// them back and remember them.
func (x *exchange) bodyFields() map[string]any {
	if len(x.body) == 0 {
		return nil
	}
	v, err := decodeJSON(x.body)
	if err != nil {
		return formFields(x.r, x.body)
	}
	m, _ := v.(map[string]any)
	return m
}

// creates reports whether a POST to a collection creates a resource there:
// it answers 201, or an item route exists below it.
func (x *exchange) creates() bool {
	if x.op.op.Responses != nil && x.op.op.Responses.Status(http.StatusCreated) != nil {
		return true
	}
	parts, _ := splitPath(x.path + "/1")
	if rt := x.d.routes.match(parts); rt != nil && rt.ops[http.MethodGet] != nil {
		return true
	}
	return false
}

func (x *exchange) authorized() bool {
	reqs := x.op.security
	if len(reqs) == 0 {
		return true
	}
	var schemes openapi3.SecuritySchemes
	if c := x.doc.Spec.Components; c != nil {
		schemes = c.SecuritySchemes
	}
	for _, req := range reqs {
		if len(req) == 0 {
			return true
		}
	}
	presented := false
	for _, req := range reqs {
		all := true
		for name := range req {
			var ss *openapi3.SecurityScheme
			if ref := schemes[name]; ref != nil {
				ss = ref.Value
			}
			cred := credential(x.r, ss)
			if cred == "" {
				all = false
				break
			}
			if x.cred == "" {
				x.cred = cred
			}
		}
		if all {
			presented = true
			break
		}
	}
	if presented && x.d.opts.Credentials == "any" {
		return true
	}
	if ch := challenge(reqs, schemes, x.realm(), presented); ch != "" {
		x.header("WWW-Authenticate", ch)
	}
	if presented {
		x.fail(http.StatusUnauthorized, "Bad credentials")
	} else {
		x.fail(http.StatusUnauthorized, "Requires authentication")
	}
	return false
}

// credential returns the credential the request presents for a security
// scheme, or "" if it presents none.
func credential(r *http.Request, ss *openapi3.SecurityScheme) string {
	auth := r.Header.Get("Authorization")
	withScheme := func(scheme string) string {
		if len(auth) <= len(scheme)+1 || !strings.EqualFold(auth[:len(scheme)], scheme) || auth[len(scheme)] != ' ' {
			return ""
		}
		if strings.TrimSpace(auth[len(scheme)+1:]) == "" {
			return ""
		}
		return auth
	}
	if ss == nil {
		return withScheme("Bearer")
	}
	switch ss.Type {
	case "apiKey":
		switch ss.In {
		case "header":
			return r.Header.Get(ss.Name)
		case "query":
			return r.URL.Query().Get(ss.Name)
		case "cookie":
			if c, err := r.Cookie(ss.Name); err == nil {
				return c.Value
			}
		}
		return ""
	case "http":
		scheme := ss.Scheme
		if scheme == "" {
			scheme = "Bearer"
		}
		return withScheme(scheme)
	case "mutualTLS":
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			return "mtls"
		}
		return ""
	}
	return withScheme("Bearer")
}

// challenge builds the WWW-Authenticate value for the first HTTP-style
// scheme the operation accepts (RFC 7235, RFC 6750).
func challenge(reqs openapi3.SecurityRequirements, schemes openapi3.SecuritySchemes, realm string, presented bool) string {
	for _, req := range reqs {
		names := make([]string, 0, len(req))
		for n := range req {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			ref := schemes[name]
			if ref == nil || ref.Value == nil {
				continue
			}
			ss := ref.Value
			switch {
			case ss.Type == "http" && strings.EqualFold(ss.Scheme, "basic"):
				return fmt.Sprintf(`Basic realm="%s", charset="UTF-8"`, realm)
			case ss.Type == "http" && strings.EqualFold(ss.Scheme, "bearer"), ss.Type == "oauth2", ss.Type == "openIdConnect":
				if presented {
					return fmt.Sprintf(`Bearer realm="%s", error="invalid_token", error_description="The access token is invalid or has expired"`, realm)
				}
				return fmt.Sprintf(`Bearer realm="%s"`, realm)
			case ss.Type == "http" && ss.Scheme != "":
				return fmt.Sprintf(`%s realm="%s"`, titleCase(ss.Scheme), realm)
			}
		}
	}
	return ""
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + strings.ToLower(s[1:])
}

func (x *exchange) realm() string {
	host := x.base[strings.Index(x.base, "://")+3:]
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return host
}

// validate checks parameters and body against the operation with
// kin-openapi's request validator and answers the document's 400/404/415/422.
func (x *exchange) validate() bool {
	r2 := x.r.Clone(context.Background())
	if x.body != nil {
		r2.Body = io.NopCloser(bytes.NewReader(x.body))
	} else {
		r2.Body = http.NoBody
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    r2,
		PathParams: x.params,
		Route:      x.op.kin,
		Options: &openapi3filter.Options{
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		},
	}
	if x.r.Method == http.MethodPatch {
		// PATCH is a partial update: documents often reuse the full schema,
		// and real servers accept a body without its required fields.
		in.Options.MultiError = true
	}
	err := validateRequest(in)
	if x.r.Method == http.MethodPatch {
		err = dropRequired(err)
	}
	if err == nil {
		return true
	}
	var re *openapi3filter.RequestError
	if !errors.As(err, &re) {
		x.fail(http.StatusBadRequest, "Bad Request")
		return false
	}
	declared := func(code int) bool {
		return x.op.op.Responses != nil && x.op.op.Responses.Status(code) != nil
	}
	pick := func(codes ...int) int {
		for _, c := range codes {
			if declared(c) {
				return c
			}
		}
		return codes[len(codes)-1]
	}
	switch {
	case re.Parameter != nil && re.Parameter.In == "path":
		x.fail(pick(http.StatusNotFound, http.StatusBadRequest, http.StatusNotFound), "Not Found")
	case re.Parameter != nil:
		x.fail(pick(http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusBadRequest), fmt.Sprintf("Invalid value for %s parameter %q", re.Parameter.In, bounded(re.Parameter.Name, 64)))
	case re.RequestBody != nil && strings.Contains(re.Reason, "content type"), strings.Contains(re.Error(), "header Content-Type"):
		x.fail(pick(http.StatusUnsupportedMediaType, http.StatusBadRequest), "Unsupported Media Type")
	case re.RequestBody != nil && len(x.body) == 0:
		x.fail(pick(http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusBadRequest), "Request body is required")
	default:
		msg := "Validation Failed"
		var se *openapi3.SchemaError
		if errors.As(err, &se) {
			if f := se.JSONPointer(); len(f) > 0 {
				msg = fmt.Sprintf("Invalid value for field %q", bounded(strings.Join(f, "."), 64))
			}
		}
		x.fail(pick(http.StatusUnprocessableEntity, http.StatusBadRequest, http.StatusUnprocessableEntity), msg)
	}
	return false
}

// dropRequired removes "required property missing" errors from a
// validation result, returning nil when nothing else is wrong.
func dropRequired(err error) error {
	if err == nil {
		return nil
	}
	var me openapi3.MultiError
	if errors.As(err, &me) {
		var keep openapi3.MultiError
		for _, e := range me {
			if e = dropRequired(e); e != nil {
				keep = append(keep, e)
			}
		}
		if len(keep) == 0 {
			return nil
		}
		return keep
	}
	var re *openapi3filter.RequestError
	if errors.As(err, &re) && re.RequestBody != nil && re.Err != nil {
		inner := dropRequired(re.Err)
		if inner == nil {
			return nil
		}
		cp := *re
		cp.Err = inner
		return &cp
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) && se.SchemaField == "required" {
		return nil
	}
	return err
}

// validateRequest runs kin-openapi's validator, turning a panic inside it
// (hostile input in a corner it did not expect) into a validation error.
func validateRequest(in *openapi3filter.RequestValidationInput) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			err = &openapi3filter.RequestError{Input: in, Reason: "invalid request"}
		}
	}()
	return openapi3filter.ValidateRequest(context.Background(), in)
}

// baseURL is scheme://host for URLs in responses.
func (d *Decoy) baseURL(r *http.Request) string {
	if d.opts.PublicURL != "" {
		return strings.TrimRight(d.opts.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + cleanHost(r.Host)
}

// cleanHost keeps a Host header only if it is a plausible host[:port];
// attacker-controlled text never reaches a body or header unchecked.
func cleanHost(h string) string {
	if h == "" || len(h) > 255 {
		return "localhost"
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == ':' || c == '[' || c == ']') {
			return "localhost"
		}
	}
	return strings.ToLower(h)
}

func bounded(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func (x *exchange) header(k, v string) {
	x.w.Header()[k] = []string{v}
}

// write sends a response with the profile's headers.
func (x *exchange) write(status int, ctype string, body []byte) {
	h := x.w.Header()
	x.doc.profile.apply(h, x.start)
	if ctype != "" && status != http.StatusNoContent && status != http.StatusNotModified {
		h["Content-Type"] = []string{ctype}
	}
	if status == http.StatusNoContent || status == http.StatusNotModified {
		body = nil
	}
	if x.rl != nil {
		style := x.d.opts.RateLimit.Style
		if style == "" {
			style = x.doc.RateLimitStyle
		}
		setRateHeaders(h, style, *x.rl, time.Now())
	}
	x.status = status
	x.size = len(body)
	var plan *tarpit.Plan
	tp := x.d.opts.Tarpit
	if rec := x.d.opts.Record; rec != nil {
		in := x.interaction()
		if err := rec(in); err != nil {
			in.Tarpit.Cancel()
			// Not recorded, so not answered: drop the connection.
			if x.d.opts.Logger != nil {
				x.d.opts.Logger.Error().Err(err).Msg("recording failed; dropping the connection unanswered")
			}
			panic(http.ErrAbortHandler)
		}
		plan = in.Tarpit
	} else if tp != nil {
		plan = tp.Decide(tarpit.Client{IP: x.client}, x.start)
	}
	if tp != nil && plan != nil {
		tp.Deliver(x.w, x.r, plan, status, body)
		return
	}
	x.w.WriteHeader(status)
	if x.r.Method != http.MethodHead && len(body) > 0 {
		_, _ = x.w.Write(body)
	}
}

func (d *Decoy) log(x *exchange) {
	if d.opts.Logger == nil {
		return
	}
	ev := d.opts.Logger.Info().
		Str("doc", x.doc.Name).
		Str("method", bounded(x.r.Method, 32)).
		Str("path", bounded(x.r.URL.Path, 512)).
		Int("status", x.status).
		Int("bytes", x.size).
		Str("remote", x.r.RemoteAddr).
		Str("user_agent", bounded(x.r.UserAgent(), 256)).
		Dur("duration", time.Since(x.start))
	if q := x.r.URL.RawQuery; q != "" {
		ev = ev.Str("query", bounded(q, 512))
	}
	if x.op != nil {
		id := x.op.op.OperationID
		if id == "" {
			id = x.op.method + " " + x.op.route.template
		}
		ev = ev.Str("operation", id)
	}
	ev.Msg("decoy request")
}

func (x *exchange) interaction() *Interaction {
	in := &Interaction{
		Request:     x.r,
		Start:       x.start,
		Body:        x.body,
		BodyLen:     x.bodyLen,
		Document:    x.doc.Name,
		Status:      x.status,
		RespBytes:   x.size,
		Tags:        x.tags,
		Credential:  x.cred,
		Breadcrumbs: x.crumbs,
	}
	if x.op != nil {
		in.Operation = x.op.op.OperationID
		if in.Operation == "" {
			in.Operation = x.op.method + " " + x.op.route.template
		}
	}
	if in.Credential == "" {
		// Unsecured operations still see credentials attackers try.
		if a := x.r.Header.Get("Authorization"); a != "" {
			in.Credential = a
		}
	}
	return in
}

// breadcrumb asks Options.Breadcrumb for a credential to embed; accept
// checks the text (against the property's schema). Each token is listed
// once in the interaction.
func (x *exchange) breadcrumb(kind, name string, seed []byte, accept func(string) bool) (string, bool) {
	if x.d.opts.Breadcrumb == nil {
		return "", false
	}
	text, b, ok := x.d.opts.Breadcrumb(x.r, kind, name, seed)
	if !ok || text == "" || accept != nil && !accept(text) {
		return "", false
	}
	for _, c := range x.crumbs {
		if c.TokenID == b.TokenID {
			return text, true
		}
	}
	if len(x.crumbs) < 64 {
		b.Where = bounded(x.r.Method, 16) + " " + bounded(x.r.URL.Path, 256) + " " + bounded(name, 128)
		x.crumbs = append(x.crumbs, b)
	}
	return text, true
}

// newSynth returns a response synthesiser for this exchange.
func (x *exchange) newSynth() *synth {
	g := newSynth(x.doc, x.base, x.d.opts.Epoch)
	if x.d.opts.Breadcrumb != nil {
		g.breadcrumb = x.breadcrumb
	}
	return g
}

func requestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
