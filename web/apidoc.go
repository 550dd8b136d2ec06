package web

import (
	_ "embed"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// openAPIYAML is the OpenAPI 3.0 document of the admin JSON API. Every
// route the admin handler registers outside the dashboard is in it (a
// test keeps the two in step), and the handler's real responses validate
// against it.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPIDocument returns the admin API's OpenAPI document as YAML.
func OpenAPIDocument() []byte { return openAPIYAML }

// openAPIJSON is the document as JSON, converted once, on first use.
var openAPIJSON = sync.OnceValues(func() ([]byte, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openAPIYAML)
	if err != nil {
		return nil, err
	}
	return doc.MarshalJSON()
})

func (a *Admin) getOpenAPIYAML(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPIYAML)
}

func (a *Admin) getOpenAPIJSON(w http.ResponseWriter, _ *http.Request) {
	b, err := openAPIJSON()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "openapi", "the OpenAPI document does not load")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
