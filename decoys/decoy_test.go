package decoys

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
)

type testServer struct {
	t   *testing.T
	d   *Decoy
	url string
}

func serve(t *testing.T, file string, opts Options) *testServer {
	t.Helper()
	doc, err := LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New([]*Document{doc}, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	return &testServer{t: t, d: d, url: srv.URL}
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func (s *testServer) do(method, path, body string, hdr ...string) result {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	s.validate(req, resp, b)
	return result{status: resp.StatusCode, header: resp.Header, body: b}
}

// validate checks every response against its own document with
// kin-openapi's response validator (the conformance module checks again
// with a validator this project did not write).
func (s *testServer) validate(req *http.Request, resp *http.Response, body []byte) {
	s.t.Helper()
	p := req.URL.EscapedPath()
	parts, ok := splitPath(p)
	if !ok {
		return
	}
	rt := s.d.routes.match(parts)
	if rt == nil {
		return
	}
	op := rt.ops[req.Method]
	if op == nil || resp.StatusCode == http.StatusNotModified {
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: rt.params(parts), Route: op.kin},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if op.op.Responses.Status(resp.StatusCode) == nil && op.op.Responses.Default() == nil &&
		op.op.Responses.Value(strconv.Itoa(resp.StatusCode/100)+"XX") == nil && resp.StatusCode >= 400 {
		// An error the document does not declare (401 on an operation that
		// lists none): a real API sends it too; its body uses the
		// document-wide shape, checked by the tests themselves.
		return
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil && !strings.Contains(err.Error(), "unsupported content type") {
		s.t.Errorf("%s %s -> %d does not validate against its document: %v\nbody: %.400s", req.Method, p, resp.StatusCode, err, body)
	}
}

const bearer = "Bearer 0123456789abcdef"

func TestItemReflectsIDAndIsStable(t *testing.T) {
	s := serve(t, "testdata/users.yaml", Options{Secret: []byte("k1")})
	a := s.do("GET", "/api/v1/users/42", "", "Authorization", bearer)
	if a.status != 200 {
		t.Fatalf("status %d, want 200: %s", a.status, a.body)
	}
	if id := a.json(t)["id"]; id != float64(42) {
		t.Errorf("id = %v, want the path's 42", id)
	}
	b := s.do("GET", "/api/v1/users/42", "", "Authorization", bearer)
	if !bytes.Equal(a.body, b.body) {
		t.Errorf("same id, different bodies:\n%s\n%s", a.body, b.body)
	}
	// A restart with the same secret serves the same object.
	s2 := serve(t, "testdata/users.yaml", Options{Secret: []byte("k1")})
	c := s2.do("GET", "/api/v1/users/42", "", "Authorization", bearer)
	if !bytes.Equal(a.body, c.body) {
		t.Errorf("same secret after restart, different bodies:\n%s\n%s", a.body, c.body)
	}
	s3 := serve(t, "testdata/users.yaml", Options{Secret: []byte("k2")})
	if e := s3.do("GET", "/api/v1/users/42", "", "Authorization", bearer); bytes.Equal(a.body, e.body) {
		t.Errorf("different secrets served the same object: %s", e.body)
	}
	if o := s.do("GET", "/api/v1/users/43", "", "Authorization", bearer); bytes.Equal(a.body, o.body) {
		t.Errorf("different ids served the same object")
	}
}

func TestKeysInDocumentOrder(t *testing.T) {
	s := serve(t, "testdata/users.yaml", Options{})
	r := s.do("GET", "/api/v1/users/7", "", "Authorization", bearer)
	want := []string{"id", "email", "first_name", "last_name", "city", "role", "created_at", "updated_at"}
	var got []string
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.Token()
	for dec.More() {
		k, _ := dec.Token()
		got = append(got, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("keys %v, want document order %v", got, want)
	}
	if strings.Contains(string(r.body), "password") {
		t.Errorf("write-only field in a response: %s", r.body)
	}
}

func TestListItemsAgreeWithItems(t *testing.T) {
	s := serve(t, "testdata/users.yaml", Options{})
	list := s.do("GET", "/api/v1/users?per_page=5", "", "Authorization", bearer)
	var page struct {
		Data  []map[string]any `json:"data"`
		Total int              `json:"total"`
		Page  int              `json:"page"`
	}
	if err := json.Unmarshal(list.body, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 5 || page.Page != 1 || page.Total < 5 {
		t.Fatalf("page: %d items, page %d, total %d: %s", len(page.Data), page.Page, page.Total, list.body)
	}
	for _, item := range page.Data {
		id := strconv.Itoa(int(item["id"].(float64)))
		one := s.do("GET", "/api/v1/users/"+id, "", "Authorization", bearer).json(t)
		for k, v := range item {
			if one[k] != v {
				t.Errorf("user %s: list says %s=%v, item says %v", id, k, v, one[k])
			}
		}
	}
}

func TestPagePagination(t *testing.T) {
	s := serve(t, "testdata/users.yaml", Options{})
	get := func(q string) (result, []any, float64) {
		r := s.do("GET", "/api/v1/users?"+q, "", "Authorization", bearer)
		m := r.json(t)
		return r, m["data"].([]any), m["total"].(float64)
	}
	r1, p1, total := get("page=1&per_page=10")
	_, p2, total2 := get("page=2&per_page=10")
	if total != total2 {
		t.Errorf("total changed between pages: %v, %v", total, total2)
	}
	if len(p1) != 10 || len(p2) != 10 {
		t.Fatalf("page sizes %d, %d, want 10", len(p1), len(p2))
	}
	if p1[0].(map[string]any)["id"] == p2[0].(map[string]any)["id"] {
		t.Errorf("page 2 starts with page 1's first item")
	}
	_, big, _ := get("page=1&per_page=20")
	if big[10].(map[string]any)["id"] != p2[0].(map[string]any)["id"] {
		t.Errorf("item 11 of a 20-page is not item 1 of page 2")
	}
	link := r1.header.Get("Link")
	last := int(total+9) / 10
	for _, want := range []string{`page=2&per_page=10>; rel="next"`, "page=" + strconv.Itoa(last) + `&per_page=10>; rel="last"`} {
		if !strings.Contains(link, want) {
			t.Errorf("Link %q lacks %q", link, want)
		}
	}
	_, lastPage, _ := get("page=" + strconv.Itoa(last) + "&per_page=10")
	if want := int(total) - (last-1)*10; len(lastPage) != want {
		t.Errorf("last page has %d items, want %d", len(lastPage), want)
	}
	_, beyond, _ := get("page=" + strconv.Itoa(last+5) + "&per_page=10")
	if len(beyond) != 0 {
		t.Errorf("a page beyond the end has %d items", len(beyond))
	}
}

func TestLimitOffsetPagination(t *testing.T) {
	s := serve(t, "testdata/catalog31.json", Options{})
	a := s.do("GET", "/v2/categories?limit=4&offset=0", "").json(t)
	b := s.do("GET", "/v2/categories?limit=2&offset=2", "").json(t)
	ai, bi := a["items"].([]any), b["items"].([]any)
	if len(ai) != 4 || len(bi) != 2 {
		t.Fatalf("sizes %d and %d, want 4 and 2", len(ai), len(bi))
	}
	if ai[2].(map[string]any)["id"] != bi[0].(map[string]any)["id"] {
		t.Errorf("offset 2 does not start at the third item")
	}
	if b["offset"] != float64(2) || b["limit"] != float64(2) {
		t.Errorf("envelope offset/limit = %v/%v, want 2/2", b["offset"], b["limit"])
	}
}

func TestSecurity(t *testing.T) {
	s := serve(t, "testdata/users.yaml", Options{})
	r := s.do("GET", "/api/v1/users/1", "")
	if r.status != 401 {
		t.Fatalf("no credential: status %d, want 401", r.status)
	}
	if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Bearer realm="`) {
		t.Errorf("WWW-Authenticate %q, want a Bearer challenge", got)
	}
	if m := r.json(t); m["status"] != float64(401) || m["error"] != "Unauthorized" {
		t.Errorf("401 body not in the document's shape: %s", r.body)
	}
	if r := s.do("GET", "/api/v1/users/1", "", "Authorization", "Basic Zm9vOmJhcg=="); r.status != 401 {
		t.Errorf("wrong scheme accepted: %d", r.status)
	}
	if r := s.do("GET", "/api/v1/health", ""); r.status != 200 {
		t.Errorf("public operation: %d, want 200", r.status)
	}
	rej := serve(t, "testdata/users.yaml", Options{Credentials: "reject"})
	r = rej.do("GET", "/api/v1/users/1", "", "Authorization", bearer)
	if r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("credentials=reject: %d %q", r.status, r.header.Get("WWW-Authenticate"))
	}
	pet := serve(t, "testdata/petstore2.yaml", Options{})
	if r := pet.do("GET", "/v2/pet/5", ""); r.status != 401 {
		t.Errorf("api key missing: %d, want 401", r.status)
	}
	if r := pet.do("GET", "/v2/pet/5", "", "api_key", "special-key"); r.status != 200 {
		t.Errorf("api key present: %d, want 200: %s", r.status, r.body)
	}
}

func TestParameterTypes(t *testing.T) {
	s := serve(t, "testdata/users.yaml", Options{})
	r := s.do("GET", "/api/v1/users/abc", "", "Authorization", bearer)
	if r.status != 404 || r.json(t)["status"] != float64(404) {
		t.Errorf("integer id given abc: %d %s, want the document's 404", r.status, r.body)
	}
	if r := s.do("GET", "/api/v1/users/0", "", "Authorization", bearer); r.status != 404 {
		t.Errorf("id below minimum: %d, want 404", r.status)
	}
	if r := s.do("GET", "/api/v1/users?per_page=1000", "", "Authorization", bearer); r.status != 400 {
		t.Errorf("per_page above maximum: %d, want 400", r.status)
	}
	c := serve(t, "testdata/catalog31.json", Options{})
	if r := c.do("GET", "/v2/products/abc", ""); r.status != 404 || r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("pattern mismatch: %d %q, want 404 problem+json", r.status, r.header.Get("Content-Type"))
	}
}

func TestMethodNotAllowedAndOptions(t *testing.T) {
	s := serve(t, "testdata/users.yaml", Options{})
	r := s.do("PUT", "/api/v1/users/42", `{}`, "Authorization", bearer)
	if r.status != 405 || r.header.Get("Allow") != "GET, HEAD, PATCH, DELETE" {
		t.Errorf("PUT: %d Allow=%q", r.status, r.header.Get("Allow"))
	}
	if r.json(t)["status"] != float64(405) {
		t.Errorf("405 body not in the document's shape: %s", r.body)
	}
	r = s.do("OPTIONS", "/api/v1/users", "")
	if r.status != 204 || r.header.Get("Allow") != "GET, HEAD, POST" {
		t.Errorf("OPTIONS: %d Allow=%q", r.status, r.header.Get("Allow"))
	}
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("blanket CORS header present")
	}
	r = s.do("HEAD", "/api/v1/users/3", "", "Authorization", bearer)
	if r.status != 200 || len(r.body) != 0 || r.header.Get("ETag") == "" {
		t.Errorf("HEAD: %d, %d body bytes, ETag %q", r.status, len(r.body), r.header.Get("ETag"))
	}
}

func TestUnknownPathInAPIStyle(t *testing.T) {
	s := serve(t, "testdata/users.yaml", Options{})
	for _, p := range []string{"/api/v1/nope", "/wp-login.php", "/api/v1/users/1/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd"} {
		r := s.do("GET", p, "")
		if r.status != 404 {
			t.Errorf("%s: %d, want 404", p, r.status)
			continue
		}
		m := r.json(t)
		if m["status"] != float64(404) || m["error"] != "Not Found" {
			t.Errorf("%s: body not in the document's shape: %s", p, r.body)
		}
		if r.header.Get("Server") != "nginx" {
			t.Errorf("%s: Server %q, want the nginx profile", p, r.header.Get("Server"))
		}
	}
}

func TestWriteLifecycle(t *testing.T) {
	s := serve(t, "testdata/users.yaml", Options{})
	r := s.do("POST", "/api/v1/users", `{"email":"mallory@corp.test","first_name":"Mallory","role":"admin"}`, "Authorization", bearer)
	if r.status != 201 {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	created := r.json(t)
	if created["email"] != "mallory@corp.test" || created["first_name"] != "Mallory" {
		t.Errorf("submitted fields not echoed: %s", r.body)
	}
	loc := r.header.Get("Location")
	id := strconv.Itoa(int(created["id"].(float64)))
	if !strings.HasSuffix(loc, "/api/v1/users/"+id) || !strings.HasPrefix(loc, s.url) {
		t.Errorf("Location %q does not point at the new user %s on the decoy", loc, id)
	}
	got := s.do("GET", "/api/v1/users/"+id, "", "Authorization", bearer)
	if !bytes.Equal(got.body, r.body) {
		t.Errorf("GET after POST differs:\n%s\n%s", r.body, got.body)
	}
	list := s.do("GET", "/api/v1/users?per_page=3", "", "Authorization", bearer).json(t)
	if first := list["data"].([]any)[0].(map[string]any); first["id"] != created["id"] {
		t.Errorf("the new user is not first in the list: %v", first["id"])
	}
	p := s.do("PATCH", "/api/v1/users/"+id, `{"city":"Reykjavik"}`, "Authorization", bearer)
	if m := p.json(t); p.status != 200 || m["city"] != "Reykjavik" || m["email"] != "mallory@corp.test" {
		t.Errorf("PATCH: %d %s", p.status, p.body)
	}
	if m := s.do("GET", "/api/v1/users/"+id, "", "Authorization", bearer).json(t); m["city"] != "Reykjavik" {
		t.Errorf("GET after PATCH: city %v", m["city"])
	}
	// Another client does not see this client's writes.
	other := httptestClientKey(t, s, "203.0.113.9")
	if m := other.do("GET", "/api/v1/users/"+id, "", "Authorization", bearer).json(t); m["city"] == "Reykjavik" {
		t.Errorf("another client sees this client's PATCH")
	}
	if d := s.do("DELETE", "/api/v1/users/"+id, "", "Authorization", bearer); d.status != 204 || len(d.body) != 0 {
		t.Errorf("DELETE: %d %q", d.status, d.body)
	}
	if g := s.do("GET", "/api/v1/users/"+id, "", "Authorization", bearer); g.status != 404 {
		t.Errorf("GET after DELETE: %d, want 404", g.status)
	}
	if d := s.do("DELETE", "/api/v1/users/"+id, "", "Authorization", bearer); d.status != 404 {
		t.Errorf("second DELETE: %d, want 404", d.status)
	}
	list = s.do("GET", "/api/v1/users?per_page=100", "", "Authorization", bearer).json(t)
	for _, it := range list["data"].([]any) {
		if it.(map[string]any)["id"] == created["id"] {
			t.Errorf("deleted user still listed")
		}
	}
}

// httptestClientKey serves the same decoy to a client with another key.
func httptestClientKey(t *testing.T, s *testServer, key string) *testServer {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.RemoteAddr = key + ":4242"
		s.d.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testServer{t: t, d: s.d, url: srv.URL}
}

func TestRequestBodyValidation(t *testing.T) {
	s := serve(t, "testdata/users.yaml", Options{MaxBodyBytes: 1024})
	tests := []struct {
		name, body, ctype string
		want              int
	}{
		{"wrong type", `{"email": 12}`, "application/json", 422},
		{"missing required", `{"first_name": "x"}`, "application/json", 422},
		{"malformed", `{"email": `, "application/json", 422},
		{"not an email", `{"email": "nope"}`, "application/json", 201},
		{"too large", `{"email":"a@b.co","city":"` + strings.Repeat("x", 2000) + `"}`, "application/json", 413},
		{"wrong media type", `email=a@b.co`, "application/x-www-form-urlencoded", 400},
		{"empty", ``, "", 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", s.url+"/api/v1/users", strings.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			req.Header.Set("Authorization", bearer)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.want, b)
			}
			if resp.StatusCode >= 400 && !strings.Contains(string(b), `"status":`+strconv.Itoa(resp.StatusCode)) {
				t.Errorf("error body not in the document's shape: %s", b)
			}
		})
	}
}

func TestConditionalGet(t *testing.T) {
	s := serve(t, "testdata/users.yaml", Options{})
	r := s.do("GET", "/api/v1/users/9", "", "Authorization", bearer)
	etag := r.header.Get("ETag")
	if !regexp.MustCompile(`^W/"[0-9a-f]{32}"$`).MatchString(etag) {
		t.Fatalf("ETag %q", etag)
	}
	nm := s.do("GET", "/api/v1/users/9", "", "Authorization", bearer, "If-None-Match", etag)
	if nm.status != 304 || len(nm.body) != 0 {
		t.Errorf("If-None-Match: %d with %d bytes, want 304 and none", nm.status, len(nm.body))
	}
	if r := s.do("GET", "/api/v1/users/9", "", "Authorization", bearer, "If-None-Match", `W/"other"`); r.status != 200 {
		t.Errorf("stale ETag: %d, want 200", r.status)
	}
}

func TestServesOwnDocument(t *testing.T) {
	s := serve(t, "testdata/users.yaml", Options{})
	r := s.do("GET", "/openapi.json", "")
	var doc map[string]any
	if err := json.Unmarshal(r.body, &doc); err != nil || r.status != 200 {
		t.Fatalf("/openapi.json: %d %v", r.status, err)
	}
	if doc["openapi"] != "3.0.3" || doc["paths"].(map[string]any)["/users/{id}"] == nil {
		t.Errorf("served document differs from the source")
	}
	if !bytes.HasPrefix(r.body, []byte(`{"openapi":"3.0.3","info":`)) {
		t.Errorf("key order of the YAML source lost: %.60s", r.body)
	}
	y := s.do("GET", "/openapi.yaml", "")
	if y.status != 200 || !bytes.HasPrefix(y.body, []byte("openapi: 3.0.3")) {
		t.Errorf("/openapi.yaml: %d %.40q", y.status, y.body)
	}
	if r := s.do("POST", "/openapi.json", "{}"); r.status != 405 {
		t.Errorf("POST to the document: %d, want 405", r.status)
	}
}

func TestSynthesisHonoursSchemas(t *testing.T) {
	s := serve(t, "testdata/catalog31.json", Options{})
	for i := 0; i < 20; i++ {
		sku := "ABC-" + strconv.Itoa(1000+i)
		r := s.do("GET", "/v2/products/"+sku, "")
		m := r.json(t)
		if m["sku"] != sku {
			t.Errorf("sku %v, want the path's %s", m["sku"], sku)
		}
		if m["currency"] != "EUR" {
			t.Errorf("const ignored: %v", m["currency"])
		}
		if p, _ := m["price"].(float64); p <= 0 || p > 10000 {
			t.Errorf("price %v outside (0, 10000]", m["price"])
		}
		if tags, ok := m["tags"].([]any); ok {
			seen := map[any]bool{}
			for _, x := range tags {
				if seen[x] {
					t.Errorf("uniqueItems violated: %v", tags)
				}
				seen[x] = true
			}
		}
	}
	sp := serve(t, "testdata/split/main.yaml", Options{})
	kinds := map[any]int{}
	for i := 1; i <= 30; i++ {
		m := sp.do("GET", "/shapes/"+strconv.Itoa(i), "").json(t)
		kinds[m["kind"]]++
		if _, ok := m[map[any]string{"Circle": "radius", "Square": "side"}[m["kind"]]]; !ok {
			t.Errorf("shape %v lacks its branch's field: %v", m["kind"], m)
		}
	}
	if kinds["Circle"] == 0 || kinds["Square"] == 0 {
		t.Errorf("oneOf always picks one branch: %v", kinds)
	}
	o := sp.do("GET", "/orders/0b7e4c5e-3c1f-4f7e-9d1a-2b1c3d4e5f60", "").json(t)
	if o["id"] != "0b7e4c5e-3c1f-4f7e-9d1a-2b1c3d4e5f60" {
		t.Errorf("uuid id not reflected: %v", o["id"])
	}
	audit, _ := o["audit"].(map[string]any)
	if audit == nil || audit["created_by"] == nil || audit["updated_at"] == nil {
		t.Errorf("allOf not merged: %v", o["audit"])
	}
}

func TestNoFrameworkTells(t *testing.T) {
	s := serve(t, "testdata/users.yaml", Options{})
	for _, p := range []string{"/api/v1/users/1", "/nope", "/api/v1/users"} {
		r := s.do("GET", p, "", "Authorization", bearer)
		body := strings.ToLower(string(r.body))
		for _, tell := range []string{"lorem", "ipsum", `{"message":"not found"}`, "echo", "golang", "404 page not found", "stoplight", "prism"} {
			if strings.Contains(body, tell) {
				t.Errorf("%s: body contains %q: %s", p, tell, r.body)
			}
		}
		for _, h := range []string{"X-Powered-By", "Access-Control-Allow-Origin", "X-Content-Type-Options-Go"} {
			if r.header.Get(h) != "" {
				t.Errorf("%s: header %s present", p, h)
			}
		}
	}
	envoy := serve(t, "testdata/users.yaml", Options{ServerProfile: "envoy"})
	r := envoy.do("GET", "/nope", "")
	if r.header.Get("Server") != "envoy" || r.header.Get("X-Envoy-Upstream-Service-Time") == "" {
		t.Errorf("envoy profile headers: %v", r.header)
	}
}

func TestHostileRequestsNever5xx(t *testing.T) {
	s := serve(t, "testdata/users.yaml", Options{MaxBodyBytes: 64 << 10})
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	tests := []struct{ method, path, body string }{
		{"FOO", "/api/v1/users", ""},
		{"PROPFIND", "/api/v1/users/1", ""},
		{"TRACE", "/api/v1/users/1", ""},
		{"GET", "/" + strings.Repeat("a/", 2000), ""},
		{"GET", "/api/v1/users/" + strings.Repeat("9", 400), ""},
		{"GET", "/api/v1/users/%ff%fe", ""},
		{"GET", "/api/v1/users?page=-1&per_page=abc", ""},
		{"GET", "/api/v1/users?page=99999999999999999999", ""},
		{"POST", "/api/v1/users", deep},
		{"POST", "/api/v1/users", "\xff\xfe\x00binary"},
		{"POST", "/api/v1/users", `{"email":"a@b.co","manager":` + strings.Repeat(`{"manager":`, 500) + `{}` + strings.Repeat("}", 501)},
		{"PATCH", "/api/v1/users/1", `[1,2,3]`},
		{"GET", "/.env", ""},
	}
	for _, tt := range tests {
		r := s.do(tt.method, tt.path, tt.body, "Authorization", bearer)
		if r.status >= 500 {
			t.Errorf("%s %.60s: %d %s", tt.method, tt.path, r.status, r.body)
		}
	}
}

func TestStateIsBounded(t *testing.T) {
	st := newStateStore(60_000_000_000, 100)
	for c := 0; c < 300; c++ {
		for i := 0; i < 20; i++ {
			st.put("client-"+strconv.Itoa(c), "/users", strconv.Itoa(i), map[string]any{"email": "x@y.z"})
		}
	}
	objs, clients := st.size()
	if objs > 100 {
		t.Errorf("%d objects held, bound is 100", objs)
	}
	if clients > 100 {
		t.Errorf("%d clients held", clients)
	}
	// The most recent client keeps its writes.
	if f, _ := st.get("client-299", "/users", "19"); f == nil {
		t.Errorf("the most recent write was evicted")
	}
	// A client that writes without end forgets its oldest writes first.
	for i := 0; i < 60; i++ {
		st.put("writer", "/users", strconv.Itoa(i), map[string]any{"n": i})
	}
	if f, _ := st.get("writer", "/users", "0"); f != nil {
		t.Errorf("the oldest of 60 writes survived a per-client bound of %d", st.perClient)
	}
	if f, _ := st.get("writer", "/users", "59"); f == nil {
		t.Errorf("the newest write was forgotten")
	}
	big := map[string]any{"blob": strings.Repeat("x", 100<<10)}
	st.put("big", "/users", "1", big)
	if f, _ := st.get("big", "/users", "1"); f != nil {
		t.Errorf("a 100 KiB record was kept whole")
	}
}
