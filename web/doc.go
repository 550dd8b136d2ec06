// Package web owns the admin listener's HTTP surface: the admin JSON API
// (events, actors; later tokens, alerts and decoys), the health check and,
// in a later issue, the dashboard and /metrics. It never serves on the
// decoy listener, and every route except /healthz requires the admin token.
//
// It does not own storage or analysis: it reads package store.
package web
