package decoys

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the document loader: it must return a
// document or an error, never panic or hang.
func FuzzLoad(f *testing.F) {
	for _, file := range []string{"testdata/users.yaml", "testdata/petstore2.yaml", "testdata/catalog31.json", "testdata/broken-ref.yaml", "testdata/bad-syntax.json"} {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"openapi":"3.1.0","paths":{"/{a}{b}":{"get":{"responses":{"200":{"description":"x"}}}}}}`))
	f.Add([]byte("swagger: '2.0'\npaths: {/x: {get: {responses: {'200': {description: x, schema: {$ref: '#/definitions/A'}}}}}}\ndefinitions: {A: {properties: {a: {$ref: '#/definitions/A'}}}}"))
	noFiles := func(string) ([]byte, error) { return nil, errors.New("no external files in fuzzing") }
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		doc, err := load("fuzz.yaml", "/fuzz/fuzz.yaml", data, noFiles)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		d, err := New([]*Document{doc}, Options{})
		if err != nil {
			return
		}
		// Whatever loads must serve its operations without a 5xx.
		for _, rt := range d.docs[0].routes {
			for m := range rt.ops {
				p := strings.NewReplacer("{", "", "}", "").Replace(doc.BasePath + rt.template)
				req, err := http.NewRequest(m, "http://decoy.test"+p, nil)
				if err != nil {
					continue
				}
				req.RemoteAddr = "192.0.2.1:1234"
				req.Header.Set("Authorization", "Bearer x")
				w := httptest.NewRecorder()
				d.ServeHTTP(w, req)
				if w.Code >= 500 {
					t.Fatalf("%s %s: %d %s", m, p, w.Code, w.Body.String())
				}
			}
		}
	})
}

// FuzzServe sends hostile methods, paths, queries and bodies to a decoy:
// no panic, no 5xx.
func FuzzServe(f *testing.F) {
	doc, err := LoadFile("testdata/users.yaml")
	if err != nil {
		f.Fatal(err)
	}
	d, err := New([]*Document{doc}, Options{MaxBodyBytes: 4096})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("GET", "/api/v1/users/1", "page=2", "")
	f.Add("POST", "/api/v1/users", "", `{"email":"a@b.co"}`)
	f.Add("PATCH", "/api/v1/users/%2e%2e", "", `{"manager":{"manager":{}}}`)
	f.Add("DELETE", "/api/v1/users/../../etc/passwd", "x=%00", "")
	f.Add("PROPFIND", "//api//v1//users", "", "\x00\xff")
	f.Fuzz(func(t *testing.T, method, path, query, body string) {
		if method == "" || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") || len(method) > 16 {
			return
		}
		u := "http://decoy.test/" + strings.TrimPrefix(path, "/")
		if query != "" {
			u += "?" + query
		}
		req, err := http.NewRequest(method, u, strings.NewReader(body))
		if err != nil {
			return
		}
		req.RemoteAddr = "192.0.2.1:1234"
		req.Header.Set("Authorization", "Bearer x")
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		d.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s?%s: %d %s", method, path, query, w.Code, w.Body.String())
		}
	})
}
