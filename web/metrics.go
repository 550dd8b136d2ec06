package web

import "net/http"

// metrics serves AdminOptions.Metrics (Prometheus sends the admin token
// as its bearer token); the route answers 404 when no metrics are set.
func (a *Admin) metrics(w http.ResponseWriter, r *http.Request) {
	if a.opts.Metrics == nil {
		writeError(w, http.StatusNotFound, "not_found", "metrics are not enabled on this server")
		return
	}
	a.opts.Metrics.ServeHTTP(w, r)
}
