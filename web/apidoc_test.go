package web

import (
	"bytes"
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/honeyapi/honeyapi/alerts"
	"github.com/honeyapi/honeyapi/decoys"
	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/tokens"
)

// adminRoutes are the admin JSON routes NewAdmin registers (the dashboard
// under /ui/ aside). The OpenAPI document must describe exactly these,
// and the web package's source must register exactly these.
var adminRoutes = []string{
	"GET /healthz",
	"GET /metrics",
	"GET /api/v1/openapi.yaml",
	"GET /api/v1/openapi.json",
	"GET /api/v1/events",
	"GET /api/v1/events/{id}",
	"GET /api/v1/actors",
	"GET /api/v1/actors/{id}",
	"GET /api/v1/tokens",
	"POST /api/v1/tokens",
	"POST /api/v1/tokens/seed",
	"GET /api/v1/tokens/{id}",
	"POST /api/v1/tokens/{id}/revoke",
	"POST /api/v1/sightings",
	"GET /api/v1/alerts",
	"POST /api/v1/alerts/test",
	"GET /api/v1/alerts/{id}",
	"POST /api/v1/alerts/{id}/retry",
	"GET /api/v1/decoys",
	"GET /api/v1/tarpit",
}

func loadAPIDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPIDocument())
	if err != nil {
		t.Fatalf("the OpenAPI document does not load: %v", err)
	}
	return doc
}

// docOperations lists the document's operations as "METHOD /path".
func docOperations(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	sort.Strings(out)
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func diff(a, b []string) (onlyA, onlyB []string) {
	inA, inB := map[string]bool{}, map[string]bool{}
	for _, x := range a {
		inA[x] = true
	}
	for _, x := range b {
		inB[x] = true
	}
	for _, x := range a {
		if !inB[x] {
			onlyA = append(onlyA, x)
		}
	}
	for _, x := range b {
		if !inA[x] {
			onlyB = append(onlyB, x)
		}
	}
	return onlyA, onlyB
}

func TestOpenAPIDocumentValidates(t *testing.T) {
	doc := loadAPIDoc(t)
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0") {
		t.Errorf("openapi %q, want 3.0.x", doc.OpenAPI)
	}
	ss := doc.Components.SecuritySchemes["bearerAuth"]
	if ss == nil || ss.Value.Type != "http" || ss.Value.Scheme != "bearer" {
		t.Fatalf("no bearerAuth http bearer security scheme: %+v", ss)
	}
	if len(doc.Security) != 1 || doc.Security[0]["bearerAuth"] == nil {
		t.Errorf("the document does not require bearerAuth by default: %v", doc.Security)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			open := op.Security != nil && len(*op.Security) == 0
			if open != (path == "/healthz") {
				t.Errorf("%s %s: open=%v; only /healthz is open", method, path, open)
			}
			if op.Responses.Status(http.StatusUnauthorized) == nil && path != "/healthz" {
				t.Errorf("%s %s documents no 401", method, path)
			}
		}
	}
	// The JSON form is the same document.
	b, err := openAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatalf("the JSON form does not load: %v", err)
	}
	if got, want := docOperations(fromJSON), docOperations(doc); !slices.Equal(got, want) {
		t.Errorf("the JSON form has operations %v, want %v", got, want)
	}
}

// routeLiteral is a route pattern for the admin JSON API: the first
// argument of a call, "METHOD /path", outside the dashboard.
var routeLiteral = regexp.MustCompile(`^([A-Z]+) (/api/\S*|/healthz|/metrics)$`)

// sourceRoutes are the admin JSON routes the web package's source
// registers, found as string literals passed first to any call (mux.Handle,
// HandleFunc or a helper), so a route added anywhere is seen.
func sourceRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := gotoken.NewFileSet()
	var out []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != gotoken.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err == nil && routeLiteral.MatchString(s) {
				out = append(out, s)
			}
			return true
		})
	}
	return out
}

func TestOpenAPIDocumentCoversEveryRoute(t *testing.T) {
	doc := loadAPIDoc(t)
	ops := docOperations(doc)
	if a, b := diff(sorted(adminRoutes), ops); len(a)+len(b) > 0 {
		t.Errorf("routes not in the OpenAPI document: %v; in the document but not in the test's list: %v", a, b)
	}
	src := sourceRoutes(t)
	if len(src) < 10 {
		t.Fatalf("found only %d routes in the source: the scan is broken", len(src))
	}
	if a, b := diff(sorted(src), ops); len(a)+len(b) > 0 {
		t.Errorf("registered in the source but not in the OpenAPI document: %v; documented but not registered: %v", a, b)
	}

	// The mux sends each documented operation to its own pattern (not to
	// the catch-all, nor to a neighbour).
	a, _ := newTestAdmin(t)
	for _, op := range ops {
		method, path, _ := strings.Cut(op, " ")
		concrete := regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(path, "0123456789abcdef")
		req := httptest.NewRequest(method, concrete, nil)
		if _, pattern := a.mux.Handler(req); pattern != op {
			t.Errorf("%s %s reaches the pattern %q, want %q", method, concrete, pattern, op)
		}
	}
}

func TestTokenKindsInTheDocument(t *testing.T) {
	doc := loadAPIDoc(t)
	var enum []string
	for _, v := range doc.Components.Schemas["TokenKind"].Value.Enum {
		enum = append(enum, v.(string))
	}
	var kinds []string
	for _, k := range tokens.Kinds() {
		kinds = append(kinds, string(k))
	}
	if a, b := diff(sorted(kinds), sorted(enum)); len(a)+len(b) > 0 {
		t.Errorf("token kinds missing from TokenKind: %v; in TokenKind but not a kind: %v", a, b)
	}
}

// schemaTypes are the Go types behind the document's object schemas.
var schemaTypes = map[string]any{
	"Event": store.Event{}, "Header": store.Header{}, "TLS": store.TLS{}, "Client": store.Client{},
	"EventList": EventList{}, "Actor": store.Actor{}, "ActorList": ActorList{}, "ActorDetail": ActorDetail{},
	"Placement": store.Placement{}, "Token": store.Token{}, "TokenList": TokenList{}, "TokenDetail": TokenDetail{},
	"NewToken": NewToken{}, "SeedRequest": SeedRequest{}, "SightedHeader": tokens.SightedHeader{},
	"Sighting": tokens.Sighting{}, "SightedToken": SightedToken{}, "SightingResult": SightingResult{},
	"Delivery": store.Delivery{}, "Alert": store.Alert{}, "AlertList": AlertList{}, "TestAlertRequest": TestAlertRequest{},
	"DecoyOperation": DecoyOperation{}, "DecoyDocument": DecoyDocument{}, "DecoyList": DecoyList{},
	"TarpitStats": TarpitStats{}, "TarpitActor": TarpitActor{}, "TarpitReport": TarpitReport{},
}

type jsonField struct {
	name string
	omit bool
	typ  reflect.Type
}

// jsonFields lists the JSON members of a struct type as encoding/json
// writes them (embedded structs flattened).
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		omit := strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
		out = append(out, jsonField{name: name, omit: omit, typ: f.Type})
	}
	return out
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	durationType = reflect.TypeFor[time.Duration]()
	idType       = reflect.TypeFor[store.ID]()
	rawType      = reflect.TypeFor[json.RawMessage]()
)

// schemaFits reports why s does not describe Go values of type typ, or "".
func schemaFits(ref *openapi3.SchemaRef, typ reflect.Type) string {
	s := ref.Value
	if len(s.AllOf) == 1 && s.Type == nil {
		ref, s = s.AllOf[0], s.AllOf[0].Value
	}
	is := func(want string) string {
		if s.Type == nil || !s.Type.Is(want) {
			return "is not of type " + want
		}
		return ""
	}
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch {
	case typ == timeType:
		if r := is("string"); r != "" {
			return r
		}
		if s.Format != "date-time" {
			return "has no format date-time"
		}
		return ""
	case typ == durationType:
		return is("integer")
	case typ == idType:
		return is("string")
	case typ == rawType:
		return is("object")
	}
	switch typ.Kind() {
	case reflect.String:
		return is("string")
	case reflect.Bool:
		return is("boolean")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return is("integer")
	case reflect.Float32, reflect.Float64:
		return is("number")
	case reflect.Slice:
		if typ.Elem().Kind() == reflect.Uint8 {
			if r := is("string"); r != "" {
				return r
			}
			if s.Format != "byte" {
				return "has no format byte"
			}
			return ""
		}
		if r := is("array"); r != "" {
			return r
		}
		if r := schemaFits(s.Items, typ.Elem()); r != "" {
			return "items " + r
		}
		return ""
	case reflect.Map:
		if r := is("object"); r != "" {
			return r
		}
		if s.AdditionalProperties.Schema == nil {
			return "does not describe its values (additionalProperties)"
		}
		if r := schemaFits(s.AdditionalProperties.Schema, typ.Elem()); r != "" {
			return "values " + r
		}
		return ""
	case reflect.Struct:
		for name, goType := range schemaTypes {
			if reflect.TypeOf(goType) == typ {
				if !strings.HasSuffix(ref.Ref, "/"+name) {
					return "is not a $ref to " + name
				}
				return ""
			}
		}
		return "is a " + typ.String() + ", which no schema describes"
	}
	return "has a Go type the test does not know: " + typ.String()
}

// Each object schema has exactly the members its Go type writes, of
// matching types, with the members always written marked required: the
// document cannot drift from the code silently.
func TestOpenAPISchemasMatchTheGoTypes(t *testing.T) {
	doc := loadAPIDoc(t)
	for name, v := range schemaTypes {
		ref := doc.Components.Schemas[name]
		if ref == nil {
			t.Errorf("no schema %s", name)
			continue
		}
		s := ref.Value
		fields := jsonFields(reflect.TypeOf(v))
		var goNames, docNames []string
		for _, f := range fields {
			goNames = append(goNames, f.name)
		}
		for p := range s.Properties {
			docNames = append(docNames, p)
		}
		if a, b := diff(goNames, docNames); len(a)+len(b) > 0 {
			t.Errorf("%s: members not documented: %v; documented but not in %T: %v", name, a, v, b)
		}
		for _, r := range s.Required {
			if s.Properties[r] == nil {
				t.Errorf("%s requires %q, which it does not describe", name, r)
			}
		}
		for _, f := range fields {
			p := s.Properties[f.name]
			if p == nil {
				continue
			}
			if r := schemaFits(p, f.typ); r != "" {
				t.Errorf("%s.%s %s (Go type %s)", name, f.name, r, f.typ)
			}
			required := slices.Contains(s.Required, f.name)
			if required == f.omit {
				t.Errorf("%s.%s: required=%v, but the Go field is always written=%v", name, f.name, required, !f.omit)
			}
		}
	}
}

// fixture is an admin handler over a store holding some of everything.
type fixture struct {
	admin   *Admin
	st      *store.Store
	event   store.ID
	actor   string
	token   *store.Token
	alert   store.ID
	minter  *tokens.Minter
	decoyOp decoys.OperationInfo
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := store.Open(store.Options{Path: filepath.Join(t.TempDir(), "h.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m, err := tokens.NewMinter(bytes.Repeat([]byte{9}, 32), tokens.MinterOptions{DecoyHost: "api.example.test", DNSZone: "t.example.test"})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := decoys.Resolve("admin")
	if err != nil {
		t.Fatal(err)
	}
	d, err := decoys.New([]*decoys.Document{doc}, decoys.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, minter: m, actor: "act_FIXTURE", decoyOp: d.OperationList()[0]}
	ctx := context.Background()

	tok, err := m.New(tokens.AWS)
	if err != nil {
		t.Fatal(err)
	}
	f.token = TokenRecord(m, tok, store.SourceAPI, "fixture")
	f.token.Placements = []store.Placement{{Time: time.Now(), Host: "ci", Repo: "git@example.test:app.git", Path: ".env"}}
	if err := st.SaveTokens(ctx, f.token); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	actor := &store.Actor{ID: f.actor, FirstSeen: now, LastSeen: now, Events: 2, IPs: []string{"198.51.100.7"},
		Fingerprints: []string{"fp:abc"}, Families: []string{"curl"}, Risk: 70, Stage: "exploitation",
		Signals: []string{"token_used"}, Sessions: 1, Keys: []string{"ip:198.51.100.7"}, WaitedMS: 4000, Holds: 1}
	f.event, err = st.Record(ctx, &store.Event{
		Kind: "request", Listener: "decoy", Remote: "198.51.100.7:5555", ClientIP: "198.51.100.7", Proto: "HTTP/1.1",
		Method: "GET", Host: "decoy.test", Path: "/api/x", Query: "a=1",
		Headers: []store.Header{{Name: "Host", Value: "decoy.test"}, {Name: "authorization", Value: "Bearer " + tok.Value}},
		RawHead: []byte("GET /api/x?a=1 HTTP/1.1\r\nHost: decoy.test\r\n\r\n"), Body: []byte(`{"x":1}`),
		Document: f.decoyOp.Document, Operation: f.decoyOp.Name, Status: 200, RespBytes: 120,
		ServeMS: 1.5, DelayMS: 200, Tarpit: "delay", WaitedMS: 210, TarpitEnd: "done",
		TLS:    &store.TLS{Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", SNI: "decoy.test", ALPN: "h2", JA4: "t13d1516h2_x_y"},
		Client: store.Client{HeaderFP: "hfp", UserAgent: "curl/8.0", UAFamily: "curl", Family: "curl", Tool: "curl", Reasons: []string{"ua"}},
		Actor:  f.actor, Session: "s1", Risk: 70, Stage: "exploitation", Signals: []string{"token_used"},
		Tags: []string{store.TokenTagPrefix + string(tok.Kind) + ":" + tok.ID.String()}, Note: "fixture",
	}, actor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Record(ctx, &store.Event{Kind: "malformed", Listener: "decoy", Remote: "198.51.100.7:5556", ClientIP: "198.51.100.7", Actor: f.actor}, actor); err != nil {
		t.Fatal(err)
	}
	al, err := alerts.TestAlert([]alerts.Route{{Name: "soc"}, {Name: "slack"}}, "", now)
	if err != nil {
		t.Fatal(err)
	}
	if f.alert, err = st.SaveAlert(ctx, al); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateDelivery(ctx, f.alert, store.Delivery{Channel: "soc", State: store.DeliveryDead, Attempts: 3, Done: now, LastError: "404"}); err != nil {
		t.Fatal(err)
	}
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		io.WriteString(w, "# TYPE honeyapi_requests_total counter\nhoneyapi_requests_total{code=\"200\",listener=\"decoy\"} 1\n")
	})
	f.admin, err = NewAdmin(AdminOptions{Token: token, Store: st, Minter: m, Decoy: d, Metrics: metrics,
		AlertRoutes: []alerts.Route{{Name: "soc"}, {Name: "slack"}}, NotifyAlerts: func() {},
		Tarpit: func() TarpitStats {
			return TarpitStats{Held: 2, HeldByIP: map[string]int{"198.51.100.7": 2}, InHandler: 1, Holds: 5, Refused: 1, WaitedSeconds: 12.5}
		},
		Sighting: func(s tokens.Sighting, remote string) (store.ID, []tokens.Hit, error) {
			id, kind, ok := m.Recognize(strings.TrimSpace(s.Text))
			if !ok {
				return store.ID{}, nil, io.EOF
			}
			ev, err := st.Record(context.Background(), &store.Event{Kind: "sighting", Remote: remote, ClientIP: "203.0.113.1"}, nil)
			return ev, []tokens.Hit{{ID: id, Kind: kind}}, err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// docClient sends requests to the admin handler over a real server and
// checks requests and responses against the OpenAPI document.
type docClient struct {
	t      *testing.T
	srv    *httptest.Server
	router routers.Router
}

func newDocClient(t *testing.T, h http.Handler) *docClient {
	t.Helper()
	doc := loadAPIDoc(t)
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &docClient{t: t, srv: srv, router: router}
}

// do sends method target (with the token unless auth is "-"), validates
// the exchange against the document and returns the status and body.
func (c *docClient) do(method, target string, body []byte, auth string) (int, []byte, http.Header) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.srv.URL+target, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch auth {
	case "":
		req.Header.Set("Authorization", "Bearer "+token)
	case "-":
	default:
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.srv.Client().Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.t.Fatal(err)
	}

	// Validate against the document, with the request as the server saw it.
	vreq, _ := http.NewRequest(method, c.srv.URL+target, nil)
	if body != nil {
		vreq.Body = io.NopCloser(bytes.NewReader(body))
		vreq.Header.Set("Content-Type", "application/json")
	}
	vreq.Header.Set("Authorization", req.Header.Get("Authorization"))
	route, params, err := c.router.FindRoute(vreq)
	if err != nil {
		c.t.Errorf("%s %s: not in the OpenAPI document: %v", method, target, err)
		return resp.StatusCode, got, resp.Header
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: opts}
	if resp.StatusCode < 400 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			c.t.Errorf("%s %s: the request does not match the document: %v", method, target, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header, Options: opts}
	out.SetBodyBytes(got)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		c.t.Errorf("%s %s: %d response does not match the document: %v\n%s", method, target, resp.StatusCode, err, bounded(string(got), 2000))
	}
	if op := route.Operation; op.Responses.Status(resp.StatusCode) == nil {
		c.t.Errorf("%s %s: status %d is not documented", method, target, resp.StatusCode)
	}
	return resp.StatusCode, got, resp.Header
}

func TestResponsesMatchTheDocument(t *testing.T) {
	f := newFixture(t)
	c := newDocClient(t, f.admin)
	tokID := f.token.ID
	expect := func(want int, method, target string, body []byte) []byte {
		t.Helper()
		code, got, _ := c.do(method, target, body, "")
		if code != want {
			t.Errorf("%s %s: %d, want %d: %s", method, target, code, want, bounded(string(got), 500))
		}
		return got
	}

	// Every GET route, with data.
	gets := map[string]string{
		"/healthz":                             "",
		"/metrics":                             "",
		"/api/v1/openapi.yaml":                 "",
		"/api/v1/openapi.json":                 "",
		"/api/v1/events":                       "",
		"/api/v1/events/{id}":                  "",
		"/api/v1/actors":                       "",
		"/api/v1/actors/{id}":                  "",
		"/api/v1/tokens":                       "",
		"/api/v1/tokens/{id}":                  "",
		"/api/v1/alerts":                       "",
		"/api/v1/alerts/{id}":                  "",
		"/api/v1/decoys":                       "",
		"/api/v1/tarpit":                       "",
		"/api/v1/events?order=asc&limit=1":     "paged",
		"/api/v1/events?token=" + tokID:        "by token",
		"/api/v1/actors?min_risk=50&since=24h": "filtered",
		"/api/v1/tokens?kind=aws&active=true":  "filtered",
		"/api/v1/alerts?state=dead&limit=10":   "filtered",
		"/api/v1/events?ip=198.51.100.7":       "by ip",
	}
	concrete := strings.NewReplacer("/api/v1/events/{id}", "/api/v1/events/"+f.event.String(),
		"/api/v1/actors/{id}", "/api/v1/actors/"+f.actor, "/api/v1/tokens/{id}", "/api/v1/tokens/"+tokID,
		"/api/v1/alerts/{id}", "/api/v1/alerts/"+f.alert.String())
	doc := loadAPIDoc(t)
	for _, op := range docOperations(doc) {
		if method, path, _ := strings.Cut(op, " "); method == "GET" {
			if _, ok := gets[path]; !ok {
				t.Errorf("GET %s is documented but not exercised here", path)
			}
		}
	}
	for target := range gets {
		expect(200, "GET", concrete.Replace(target), nil)
	}

	// What the data holds comes back.
	var decoysBody DecoyList
	json.Unmarshal(expect(200, "GET", "/api/v1/decoys", nil), &decoysBody)
	if len(decoysBody.Documents) != 1 || decoysBody.Documents[0].Hits != 1 {
		t.Errorf("decoys: %+v", decoysBody)
	} else if ops := decoysBody.Documents[0].Operations; len(ops) == 0 || ops[0].Name != f.decoyOp.Name || ops[0].Hits != 1 || ops[0].Last.IsZero() {
		t.Errorf("decoy operations: %+v", ops)
	}
	var list EventList
	json.Unmarshal(expect(200, "GET", "/api/v1/events?token="+tokID, nil), &list)
	if len(list.Events) != 1 || list.Events[0].ID != f.event {
		t.Errorf("events by token: %+v", list)
	}

	// Errors have the documented shape too.
	expect(404, "GET", "/api/v1/events/"+store.ID{1}.String(), nil)
	expect(404, "GET", "/api/v1/actors/act_NOBODY", nil)
	expect(404, "GET", "/api/v1/tokens/ffffffffffffffff", nil)
	expect(404, "GET", "/api/v1/alerts/"+store.ID{1}.String(), nil)
	expect(400, "GET", "/api/v1/events?order=sideways", nil)
	expect(400, "GET", "/api/v1/alerts?state=lost", nil)
	if code, _, h := c.do("GET", "/api/v1/events", nil, "-"); code != 401 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("without the token: %d %v", code, h)
	}

	// The writing routes.
	expect(201, "POST", "/api/v1/tokens", []byte(`{"kind":"github","note":"from the doc test"}`))
	expect(422, "POST", "/api/v1/tokens", []byte(`{"kind":"nonsense"}`))
	expect(200, "POST", "/api/v1/tokens/"+tokID+"/revoke", nil)
	expect(200, "POST", "/api/v1/tokens/seed", []byte(`{"kinds":["aws","dns"],"label":"build server"}`))
	expect(400, "POST", "/api/v1/tokens/seed", []byte(`{"kinds":["aws","nonsense"]}`))
	expect(201, "POST", "/api/v1/sightings", []byte(`{"text":"`+f.token.Value+`","source":"test"}`))
	expect(422, "POST", "/api/v1/sightings", []byte(`{"text":"nothing to see"}`))
	expect(202, "POST", "/api/v1/alerts/test", []byte(`{"channel":"soc"}`))
	expect(422, "POST", "/api/v1/alerts/test", []byte(`{"channel":"pager"}`))
	expect(200, "POST", "/api/v1/alerts/"+f.alert.String()+"/retry", nil)
	expect(404, "POST", "/api/v1/alerts/"+store.ID{1}.String()+"/retry", nil)
}

func TestOpenAPIDocumentIsServedBehindTheToken(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ path, ctype, marker string }{
		{"/api/v1/openapi.yaml", "application/yaml", "openapi: 3.0"},
		{"/api/v1/openapi.json", "application/json", `"openapi":"3.0`},
	} {
		rec := call(f.admin, "GET", tc.path, "Bearer "+token)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != tc.ctype || !strings.Contains(rec.Body.String(), tc.marker) {
			t.Errorf("%s: %d %q %.80q", tc.path, rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
		}
		if rec := call(f.admin, "GET", tc.path, ""); rec.Code != 401 || strings.Contains(rec.Body.String(), "openapi") {
			t.Errorf("%s without the token: %d %.80q", tc.path, rec.Code, rec.Body.String())
		}
	}
	// The served YAML is the embedded file itself.
	disk, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if rec := call(f.admin, "GET", "/api/v1/openapi.yaml", "Bearer "+token); !bytes.Equal(rec.Body.Bytes(), disk) {
		t.Error("the served document differs from web/openapi.yaml")
	}
}
