// Package decoys turns OpenAPI documents into decoy APIs.
//
// It owns loading documents (OpenAPI 2.0, 3.0 and 3.1 through kin-openapi),
// matching requests to operations, synthesising responses that validate
// against the document, per-client write state, and mounting a decoy beside
// a real API (Mount for Echo, the Decoy itself as an http.Handler).
//
// It does not own storage of interactions, fingerprints, honeytokens or
// tarpitting: those live in their own packages and reach a decoy through
// Options hooks.
package decoys
