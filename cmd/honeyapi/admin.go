package main

import (
	"net/http"
)

// newAdminHandler returns the routes of the admin listener. It never shares
// the decoy listener and stays on loopback by default; the dashboard, the
// admin API (behind a token) and /metrics will be added here.
func newAdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", handleHealthz)
	return mux
}

// handleHealthz answers {"status":"ok"} while the process serves.
func handleHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
}
