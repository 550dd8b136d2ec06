package decoys

import (
	"net/http"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"
)

// Document is one loaded OpenAPI document, ready to serve.
type Document struct {
	// Name identifies the document: a template name or the file's base name.
	Name string
	// Source is the file path or "template:NAME" the document came from.
	Source string
	// Version is the document's declared version ("2.0", "3.0.3", "3.1.0").
	Version string
	// BasePath is the path prefix every operation is served under, taken
	// from servers (3.x) or basePath (2.0); "" for the root.
	BasePath string
	// SpecPaths are the request paths at which the document itself is served.
	SpecPaths []string
	// Spec is the parsed document (2.0 documents are converted to 3.0).
	Spec *openapi3.T
	// Raw is the original document bytes as loaded.
	Raw []byte
}

// Options configure a Decoy. The zero value is usable.
type Options struct {
	// Secret seeds synthetic data; the same secret gives the same objects
	// across restarts. Empty means a fixed built-in secret (tests only).
	Secret []byte
	// Epoch anchors synthesised dates (they fall in the years before it).
	// Zero means a fixed built-in anchor.
	Epoch time.Time
	// ServerProfile names the response-header profile: "nginx" (default),
	// "envoy", "apache" or "none".
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
	// Logger receives one line per interaction. Nil means no logging.
	Logger *zerolog.Logger
}

// Decoy serves one or more documents as decoy APIs. It is an http.Handler.
type Decoy struct{}

// New builds a decoy from loaded documents.
func New(docs []*Document, opts Options) (*Decoy, error) { return &Decoy{}, nil }

// ServeHTTP answers a request as the decoy API would.
func (d *Decoy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusNotImplemented)
}

// LoadFile loads an OpenAPI document (2.0, 3.0 or 3.1; JSON or YAML) from a file.
func LoadFile(path string) (*Document, error) { return nil, nil }

// LoadTemplate loads a built-in template by name (see package templates).
func LoadTemplate(name string) (*Document, error) { return nil, nil }

// Resolve loads spec as a file if one exists at that path, otherwise as a
// built-in template name.
func Resolve(spec string) (*Document, error) { return nil, nil }

// Router is satisfied by *echo.Echo and *echo.Group.
type Router interface {
	Any(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) []*echo.Route
}

// Mount registers the decoy's routes on an Echo instance or group. Routes
// the application registers itself take precedence over the decoy's.
func Mount(r Router, d *Decoy, m ...echo.MiddlewareFunc) {}
