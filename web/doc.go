// Package web owns the admin listener's HTTP surface: the admin JSON API
// (events, actors, tokens, sightings, alerts, decoys, tarpit), its own
// OpenAPI document, Prometheus /metrics, the health check, and the
// dashboard under /ui/ (html/template pages and one stylesheet embedded
// with go:embed, a strict Content-Security-Policy, a login form with a
// Secure HttpOnly SameSite=Strict session cookie, CSRF tokens on every
// form, a slowed login). It never serves on the decoy listener, and every
// route except /healthz requires the admin token (bearer) or a session.
//
// It does not own storage or analysis: it reads package store.
package web
