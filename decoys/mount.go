package decoys

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Router is satisfied by *echo.Echo and *echo.Group.
type Router interface {
	Any(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) []*echo.Route
}

var (
	_ Router = (*echo.Echo)(nil)
	_ Router = (*echo.Group)(nil)
)

// Mount registers the decoy on an Echo instance or group: a catch-all under
// each document's base path, plus the paths where documents and bait files
// are served. Routes the application registers itself are more specific and
// keep precedence, so decoys can sit beside a real API. When mounting on a
// group, set Options.Prefix to the group's prefix.
func Mount(r Router, d *Decoy, m ...echo.MiddlewareFunc) {
	h := echo.WrapHandler(d)
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			r.Any(p, h, m...)
		}
	}
	for _, p := range d.Paths() {
		add(p)
	}
}

// Paths lists the route patterns (relative to Options.Prefix) the decoy
// answers: "/base/*" catch-alls and exact document and bait paths.
func (d *Decoy) Paths() []string {
	var out []string
	for _, ds := range d.docs {
		if ds.BasePath == "" {
			out = append(out, "/", "/*")
		} else {
			out = append(out, ds.BasePath, ds.BasePath+"/*")
		}
	}
	for p := range d.fixed {
		out = append(out, p)
	}
	return out
}

// Handler returns the decoy as an http.Handler for net/http servers, for
// symmetry with Mount; the Decoy itself is already one.
func Handler(d *Decoy) http.Handler { return d }
