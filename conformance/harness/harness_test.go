package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A small document with the features the conformance run relies on: a
// server base path, bearer security with an anonymous operation, a path
// parameter with bounds, a required query parameter with bounds, a pattern,
// formats, a write with a request body and a 401 response shape.
const testSpec30 = `
openapi: 3.0.3
info: {title: harness, version: "1"}
servers: [{url: "https://api.example.com/api/v1"}]
security: [{bearer: []}]
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
  schemas:
    User:
      type: object
      additionalProperties: false
      required: [id, login, created_at]
      properties:
        id: {type: integer, minimum: 1, readOnly: true}
        login: {type: string, pattern: "^[a-z][a-z0-9-]{2,20}$"}
        email: {type: string, format: email}
        created_at: {type: string, format: date-time, readOnly: true}
        role: {type: string, enum: [admin, member]}
    Error:
      type: object
      required: [message]
      properties:
        message: {type: string}
  responses:
    Unauthorized:
      description: no credential
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Error"}
paths:
  /users/{id}:
    get:
      operationId: getUser
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer, minimum: 1, maximum: 999}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/User"}
        "401": {$ref: "#/components/responses/Unauthorized"}
  /users:
    get:
      operationId: listUsers
      parameters:
        - {name: limit, in: query, required: true, schema: {type: integer, minimum: 5, maximum: 100}}
        - {name: cursor, in: query, schema: {type: string}}
      responses:
        "200":
          description: ok
          headers:
            X-Total-Count: {required: true, schema: {type: integer}}
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/User"}}
        "401": {$ref: "#/components/responses/Unauthorized"}
    post:
      operationId: createUser
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/User"}
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: {$ref: "#/components/schemas/User"}
        "401": {$ref: "#/components/responses/Unauthorized"}
  /status:
    get:
      operationId: status
      security: []
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                required: [status]
                properties:
                  status: {type: string, enum: [ok, degraded]}
`

// fakeDecoy answers the test document. mode picks a misbehaviour.
type fakeDecoy struct {
	mode   string
	served atomic.Int64
	seen   atomic.Value // last request line with auth, for assertions
}

var userPath = regexp.MustCompile(`^/api/v1/users/(\d+)$`)

func (f *fakeDecoy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.served.Add(1)
	n := f.served.Load()
	w.Header().Set("Content-Type", "application/json")
	writeJSON := func(status int, v any) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	if r.URL.Path == "/api/v1/status" && r.Method == "GET" {
		writeJSON(200, map[string]any{"status": "ok"})
		return
	}
	if f.mode != "open" && r.Header.Get("Authorization") != "Bearer "+BearerToken {
		if f.mode == "bad401" {
			writeJSON(401, map[string]any{"error": "nope"}) // lacks the required message
			return
		}
		writeJSON(401, map[string]any{"message": "Requires authentication"})
		return
	}
	f.seen.Store(r.Method + " " + r.URL.RequestURI())
	user := map[string]any{"id": 7, "login": "octocat", "email": "octocat@example.com", "created_at": "2023-04-01T10:00:00Z", "role": "member"}
	switch f.mode {
	case "badbody":
		user["created_at"] = "last tuesday" // not a date-time
		user["id"] = "seven"                // not an integer
	case "extra":
		user["password_hash"] = "x" // additionalProperties: false
	case "random":
		user["id"] = n // differs on every request
	}
	switch {
	case userPath.MatchString(r.URL.Path) && r.Method == "GET":
		if f.mode == "notfound" {
			writeJSON(404, map[string]any{"message": "Not Found"})
			return
		}
		writeJSON(200, user)
	case r.URL.Path == "/api/v1/users" && r.Method == "GET":
		if f.mode != "noheader" {
			w.Header().Set("X-Total-Count", "1")
		}
		writeJSON(200, []any{user})
	case r.URL.Path == "/api/v1/users" && r.Method == "POST":
		var in map[string]any
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in["login"] == nil {
			writeJSON(400, map[string]any{"message": "bad body"})
			return
		}
		user["login"] = in["login"]
		writeJSON(201, user)
	default:
		writeJSON(404, map[string]any{"message": "Not Found"})
	}
}

func runFake(t *testing.T, mode string, v Validator, spec *Spec, through func(upstream string) string) (*Report, *fakeDecoy) {
	t.Helper()
	basePath := "/api/v1"
	if through != nil {
		basePath = "" // Prism adds it when forwarding
	}
	return runFakeAt(t, mode, v, spec, through, basePath)
}

func runFakeAt(t *testing.T, mode string, v Validator, spec *Spec, through func(upstream string) string, basePath string) (*Report, *fakeDecoy) {
	t.Helper()
	fd := &fakeDecoy{mode: mode}
	srv := httptest.NewServer(fd) // loopback only
	t.Cleanup(srv.Close)
	base := srv.URL
	if through != nil {
		base = through(srv.URL)
	}
	ops := spec.Operations("get", "post", "put", "patch", "delete")
	rep := Run(context.Background(), spec, ops, Config{
		BaseURL: base, BasePath: basePath, Validator: v, Parallel: 3, Label: "harness/" + mode,
	})
	t.Log(rep.Summary())
	for _, f := range rep.Failures {
		t.Log("  ", f)
	}
	for _, s := range rep.SkipInfo {
		t.Log("   skip:", s)
	}
	return rep, fd
}

func mustSpec(t *testing.T, src string) *Spec {
	t.Helper()
	s, err := ParseSpec("harness.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustLib(t *testing.T, s *Spec) *LibOpenAPI {
	t.Helper()
	v, err := NewLibOpenAPI(s.Raw)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func hasFailure(rep *Report, op, check, substr string) bool {
	for _, f := range rep.Failures {
		if f.Op == op && f.Check == check && strings.Contains(f.Message, substr) {
			return true
		}
	}
	return false
}

func TestLibOpenAPIAcceptsValidDecoy(t *testing.T) {
	s := mustSpec(t, testSpec30)
	rep, fd := runFake(t, "good", mustLib(t, s), s, nil)
	if len(rep.Failures) != 0 {
		t.Fatalf("a conforming server got %d failures", len(rep.Failures))
	}
	if rep.Checked != 4 || rep.Ops != 4 {
		t.Fatalf("checked %d of %d operations, want 4 of 4 (skips: %v)", rep.Checked, rep.Ops, rep.SkipInfo)
	}
	if got, _ := fd.seen.Load().(string); !strings.HasPrefix(got, "POST /api/v1/users") {
		t.Errorf("last authorised request %q", got)
	}
}

func TestLibOpenAPIReportsInvalidBody(t *testing.T) {
	s := mustSpec(t, testSpec30)
	rep, _ := runFake(t, "badbody", mustLib(t, s), s, nil)
	if !hasFailure(rep, "GET /users/{id}", "response", "created_at") {
		t.Errorf("an invalid date-time in GET /users/{id} was not reported")
	}
	if !hasFailure(rep, "GET /users/{id}", "response", "id") {
		t.Errorf("a string id in GET /users/{id} was not reported")
	}
	if !hasFailure(rep, "GET /users", "response", "") || !hasFailure(rep, "POST /users", "response", "") {
		t.Errorf("invalid list / create responses were not reported")
	}
	if hasFailure(rep, "GET /status", "response", "") {
		t.Errorf("a valid response was reported")
	}
}

func TestLibOpenAPIReportsUndeclaredProperty(t *testing.T) {
	s := mustSpec(t, testSpec30)
	rep, _ := runFake(t, "extra", mustLib(t, s), s, nil)
	if !hasFailure(rep, "GET /users/{id}", "response", "password_hash") {
		t.Errorf("a property forbidden by additionalProperties: false was not reported")
	}
}

func TestLibOpenAPIReportsMissingHeader(t *testing.T) {
	s := mustSpec(t, testSpec30)
	rep, _ := runFake(t, "noheader", mustLib(t, s), s, nil)
	if !hasFailure(rep, "GET /users", "response", "X-Total-Count") {
		t.Errorf("a missing required response header was not reported")
	}
}

func TestHarnessReportsStatusConsistencyAndAuth(t *testing.T) {
	s := mustSpec(t, testSpec30)
	v := mustLib(t, s)
	rep, _ := runFake(t, "notfound", v, s, nil)
	if !hasFailure(rep, "GET /users/{id}", "status", "got 404") {
		t.Errorf("a 404 for a well-formed request was not reported")
	}
	rep, _ = runFake(t, "random", v, s, nil)
	if !hasFailure(rep, "GET /users/{id}", "consistency", "different body") {
		t.Errorf("a body that changes between two GETs was not reported")
	}
	rep, _ = runFake(t, "open", v, s, nil)
	if !hasFailure(rep, "GET /users/{id}", "unauthenticated", "want 401") {
		t.Errorf("a secured operation answering without credentials was not reported")
	}
	if hasFailure(rep, "GET /status", "unauthenticated", "") {
		t.Errorf("an anonymous operation was checked for 401")
	}
	rep, _ = runFake(t, "bad401", v, s, nil)
	if !hasFailure(rep, "GET /users/{id}", "unauthenticated-response", "message") {
		t.Errorf("a 401 body not matching the declared 401 shape was not reported")
	}
}

func TestRequestsAreBuiltFromSchemas(t *testing.T) {
	s := mustSpec(t, testSpec30)
	ops := s.Operations("get", "post")
	byKey := map[string]*Operation{}
	for _, op := range ops {
		byKey[op.Key()] = op
	}
	r, skip := s.Build(byKey["GET /users"], "/api/v1", true)
	if skip != "" {
		t.Fatal(skip)
	}
	if got := r.URL(); got != "/api/v1/users?limit=5" {
		t.Errorf("GET /users URL %q, want the minimum limit", got)
	}
	if r.Header.Get("Authorization") != "Bearer "+BearerToken {
		t.Errorf("no bearer credential: %v", r.Header)
	}
	r, _ = s.Build(byKey["POST /users"], "/api/v1", true)
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	if _, ok := body["id"]; ok {
		t.Errorf("readOnly id sent in a request body: %s", r.Body)
	}
	if !regexp.MustCompile(`^[a-z][a-z0-9-]{2,20}$`).MatchString(fmt.Sprint(body["login"])) {
		t.Errorf("login %v does not match its pattern", body["login"])
	}
	r, _ = s.Build(byKey["GET /users/{id}"], "/api/v1", false)
	if r.Header.Get("Authorization") != "" || r.Path != "/api/v1/users/1" {
		t.Errorf("unauthenticated request %s %v", r.Path, r.Header)
	}
	if !byKey["GET /users/{id}"].Secured() || byKey["GET /status"].Secured() {
		t.Errorf("security requirements misread")
	}
}

func TestGeneratorBoundsPatternsAndFormats(t *testing.T) {
	s := mustSpec(t, `{"openapi":"3.1.0","info":{"title":"g","version":"1"},"paths":{}}`)
	cases := []struct {
		schema string
		check  func(any) bool
	}{
		{`{"type":"integer","minimum":10,"maximum":20}`, func(v any) bool { return v == int64(10) }},
		{`{"type":"integer","exclusiveMinimum":0}`, func(v any) bool { return v == int64(1) }},
		{`{"type":"integer","maximum":0}`, func(v any) bool { return v == int64(0) }},
		{`{"type":["null","string"],"format":"uuid"}`, func(v any) bool { return v == FixedUUID }},
		{`{"type":"string","pattern":"^[A-Z]{3}-\\d{4}$"}`, func(v any) bool {
			return regexp.MustCompile(`^[A-Z]{3}-\d{4}$`).MatchString(fmt.Sprint(v))
		}},
		{`{"type":"string","minLength":12}`, func(v any) bool { return len(fmt.Sprint(v)) >= 12 }},
		{`{"type":"string","enum":["b","a"]}`, func(v any) bool { return v == "b" }},
		{`{"const":"fixed"}`, func(v any) bool { return v == "fixed" }},
		{`{"type":"array","minItems":2,"uniqueItems":true,"items":{"type":"string"}}`, func(v any) bool {
			a, ok := v.([]any)
			return ok && len(a) == 2 && a[0] != a[1]
		}},
		{`{"allOf":[{"type":"object","required":["a"],"properties":{"a":{"type":"integer"}}},{"required":["b"],"properties":{"b":{"type":"boolean"}}}]}`, func(v any) bool {
			m, ok := v.(map[string]any)
			return ok && m["a"] == int64(1) && m["b"] == true
		}},
	}
	for _, c := range cases {
		var schema map[string]any
		if err := json.Unmarshal([]byte(c.schema), &schema); err != nil {
			t.Fatal(err)
		}
		v, err := s.Value(schema, "")
		if err != nil || !c.check(v) {
			t.Errorf("schema %s: got %#v, %v", c.schema, v, err)
		}
	}
}

// The same document as Swagger 2.0, for Prism (libopenapi-validator reads
// 3.x only) and for the 2.0 side of the walker.
const testSpec20 = `{
  "swagger": "2.0",
  "info": {"title": "harness", "version": "1"},
  "basePath": "/api/v1",
  "produces": ["application/json"],
  "consumes": ["application/json"],
  "securityDefinitions": {"token": {"type": "apiKey", "in": "header", "name": "Authorization"}},
  "security": [{"token": []}],
  "definitions": {
    "User": {"type": "object", "additionalProperties": false, "required": ["id", "login", "created_at"],
      "properties": {"id": {"type": "integer", "minimum": 1, "readOnly": true},
        "login": {"type": "string", "pattern": "^[a-z][a-z0-9-]{2,20}$"},
        "email": {"type": "string", "format": "email"},
        "created_at": {"type": "string", "format": "date-time", "readOnly": true},
        "role": {"type": "string", "enum": ["admin", "member"]}}},
    "Error": {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}}
  },
  "paths": {
    "/users/{id}": {"get": {"parameters": [{"name": "id", "in": "path", "required": true, "type": "integer", "minimum": 1}],
      "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/User"}},
                    "401": {"description": "no", "schema": {"$ref": "#/definitions/Error"}}}}},
    "/users": {
      "get": {"parameters": [{"name": "limit", "in": "query", "required": true, "type": "integer", "minimum": 5}],
        "responses": {"200": {"description": "ok", "headers": {"X-Total-Count": {"type": "integer"}},
                              "schema": {"type": "array", "items": {"$ref": "#/definitions/User"}}},
                      "401": {"description": "no", "schema": {"$ref": "#/definitions/Error"}}}},
      "post": {"parameters": [{"name": "body", "in": "body", "required": true, "schema": {"$ref": "#/definitions/User"}}],
        "responses": {"201": {"description": "ok", "schema": {"$ref": "#/definitions/User"}},
                      "401": {"description": "no", "schema": {"$ref": "#/definitions/Error"}}}}
    },
    "/status": {"get": {"security": [], "responses": {"200": {"description": "ok",
      "schema": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string", "enum": ["ok"]}}}}}}}
  }
}`

func TestSwagger2Walker(t *testing.T) {
	s := mustSpec(t, testSpec20)
	if !s.Swagger2 {
		t.Fatal("not recognised as 2.0")
	}
	ops := s.Operations("get", "post")
	if len(ops) != 4 {
		t.Fatalf("%d operations", len(ops))
	}
	for _, op := range ops {
		r, skip := s.Build(op, "/api/v1", true)
		if skip != "" {
			t.Fatalf("%s: %s", op.Key(), skip)
		}
		if op.Secured() && r.Header.Get("Authorization") != "Bearer "+BearerToken {
			t.Errorf("%s: apiKey Authorization header not set", op.Key())
		}
		if op.Method == "POST" && !strings.Contains(string(r.Body), `"login"`) {
			t.Errorf("POST body %s", r.Body)
		}
	}
	if _, err := NewLibOpenAPI(s.Raw); err == nil {
		t.Error("libopenapi-validator accepted a 2.0 document; the run would validate nothing")
	}
}

// requirePrism finds Prism; without it the test is skipped locally and
// fails under CI.
func requirePrism(t *testing.T) string {
	t.Helper()
	bin, err := FindPrism("..")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %v", err)
		}
		t.Skip(err)
	}
	return bin
}

func TestPrismReportsInvalidBodyOn2(t *testing.T) {
	bin := requirePrism(t)
	s := mustSpec(t, testSpec20)
	specPath := filepath.Join(t.TempDir(), "harness.json")
	if err := os.WriteFile(specPath, s.Raw, 0o644); err != nil {
		t.Fatal(err)
	}
	through := func(upstream string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		// Prism routes on the document's paths without the base path: it
		// gets requests without it and adds it when forwarding upstream.
		p, err := StartPrism(ctx, bin, specPath, upstream+"/api/v1", 90*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Stop)
		return p.URL
	}
	rep, _ := runFake(t, "good", PrismViolations{}, s, through)
	if len(rep.Failures) != 0 || rep.Checked != 4 {
		t.Fatalf("a conforming server through Prism: %d failures, %d of 4 checked", len(rep.Failures), rep.Checked)
	}
	rep, _ = runFake(t, "badbody", PrismViolations{}, s, through)
	if !hasFailure(rep, "GET /users/{id}", "response", "created_at") && !hasFailure(rep, "GET /users/{id}", "response", "id") {
		t.Errorf("Prism did not report an invalid body")
	}
	rep, _ = runFake(t, "bad401", PrismViolations{}, s, through)
	if !hasFailure(rep, "GET /users/{id}", "unauthenticated-response", "message") {
		t.Errorf("Prism did not report an invalid 401 body")
	}
	// Prism matching no operation (here: the base path sent twice) must be
	// a failure, never a silent pass: it validates nothing then.
	rep, _ = runFakeAt(t, "good", PrismViolations{}, s, through, "/api/v1")
	if !hasFailure(rep, "GET /users/{id}", "response", "matched no operation") {
		t.Errorf("requests Prism could not route were not reported")
	}
}

func TestURITemplateFormat(t *testing.T) {
	for _, ok := range []string{
		"https://api.github.com/gists{/gist_id}",
		"http://127.0.0.1:8080/users/{user}/repos{?type,page,per_page,sort}",
		"https://example.com/{+path}/x{#frag}{;list*}{&a,b:3}",
		"plain/literal%20ok",
		"",
	} {
		if err := validateURITemplate(ok); err != nil {
			t.Errorf("%q rejected: %v", ok, err)
		}
	}
	for _, bad := range []string{"{", "a}b", "{}", "{a b}", "x{/a", "sp ace", "{a:0}", "{a:12345}", "{.}", "%zz", "{a{b}}"} {
		if err := validateURITemplate(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// exchangeFor runs one canned response through a validator.
func exchangeFor(t *testing.T, v Validator, method, target, contentType, body string) Verdict {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	req.Header.Set("Authorization", "Bearer "+BearerToken)
	resp := &http.Response{StatusCode: 200, Header: http.Header{}, Request: req}
	resp.Header.Set("Content-Type", contentType)
	return v.Check(req, resp, []byte(body))
}

const testSpec31 = `{
  "openapi": "3.1.0",
  "info": {"title": "t", "version": "1"},
  "paths": {
    "/item": {"get": {"responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
      "type": "object", "required": ["name", "tags"],
      "properties": {"name": {"type": "string", "nullable": true}, "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        "link": {"type": "string", "format": "uri-template"}}}}}}}}},
    "/export": {"get": {"responses": {"200": {"description": "ok", "content": {
      "application/x-ndjson": {"schema": {"type": "string"}}}}}}}
  }
}`

func TestLibOpenAPIOn31(t *testing.T) {
	s := mustSpec(t, testSpec31)
	v := mustLib(t, s)
	// nullable is no keyword in 3.1: the schema still compiles, null is no string
	if got := exchangeFor(t, v, "GET", "/item", "application/json", `{"name": null, "tags": null}`); len(got.Response) == 0 {
		t.Errorf("null for a 3.1 type: string accepted: %+v", got)
	}
	if got := exchangeFor(t, v, "GET", "/item", "application/json", `{"name": "x", "tags": null, "link": "/gists{/gist_id}"}`); len(got.Response)+len(got.Unvalidated) != 0 {
		t.Errorf("a valid 3.1 body rejected: %+v", got)
	}
	if got := exchangeFor(t, v, "GET", "/item", "application/json", `{"name": "x", "tags": [], "link": "/gists{/gist_id"}`); len(got.Response) == 0 {
		t.Errorf("an invalid uri-template accepted: %+v", got)
	}
	if got := exchangeFor(t, v, "GET", "/export", "application/x-ndjson", "{\"a\":1}\n{\"a\":2}\n"); len(got.Response)+len(got.Unvalidated) != 0 {
		t.Errorf("an NDJSON body declared as a string rejected: %+v", got)
	}
}
