package decoys

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/labstack/echo/v4"
)

func benchDecoy(b *testing.B, file string) *Decoy {
	b.Helper()
	doc, err := LoadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	d, err := New([]*Document{doc}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkSynthesizeLargeObject generates GitHub's full repository object
// (about 300 fields with nested owner, organization, parent and source
// repositories) when the 13 MB description is available, else the largest
// local fixture.
func BenchmarkSynthesizeLargeObject(b *testing.B) {
	var doc *Document
	var err error
	schema := "full-repository"
	if file := os.Getenv("HONEYAPI_GITHUB_SPEC"); file != "" {
		doc, err = LoadFile(file)
	} else {
		doc, err = LoadTemplate("admin")
		schema = ""
	}
	if err != nil {
		b.Fatal(err)
	}
	d, err := New([]*Document{doc}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	ds := d.docs[0]
	sr := ds.Spec.Components.Schemas[schema]
	if sr == nil {
		// The template's schema with the most properties.
		for _, s := range ds.Spec.Components.Schemas {
			if s.Value != nil && (sr == nil || len(s.Value.Properties) > len(sr.Value.Properties)) {
				sr = s
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	var size int
	for i := 0; i < b.N; i++ {
		g := newSynth(ds, "https://api.internal.test", defaultEpoch)
		v := g.gen(sr, uint64(i), "", 0)
		size = len(appendJSON(nil, v))
	}
	b.ReportMetric(float64(size), "bytes/object")
}

func benchServe(b *testing.B, h http.Handler, path string) {
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer x")
	req.RemoteAddr = "192.0.2.1:1234"
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkServe compares a decoy item and list with a bare Echo handler
// returning static JSON, in-process (no network).
func BenchmarkServe(b *testing.B) {
	d := benchDecoy(b, "testdata/users.yaml")
	b.Run("bare-echo-static-json", func(b *testing.B) {
		e := echo.New()
		body := []byte(`{"id":42,"email":"a@b.co","first_name":"Ann"}`)
		e.GET("/api/v1/users/:id", func(c echo.Context) error { return c.JSONBlob(200, body) })
		benchServe(b, e, "/api/v1/users/42")
	})
	b.Run("decoy-item", func(b *testing.B) { benchServe(b, d, "/api/v1/users/42") })
	b.Run("decoy-list-30", func(b *testing.B) { benchServe(b, d, "/api/v1/users?per_page=30") })
}
