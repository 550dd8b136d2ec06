// Package templates is the catalogue of built-in decoy APIs.
//
// It owns the embedded OpenAPI documents of the decoys honeyapi serves
// without configuration (admin, payments, secrets, cicd, customers and
// cluster), their manifests, and the recon "bait" each decoy host answers
// beside its API: /.env, /.git/config, Spring actuator endpoints, expvar
// dumps, SQL backups and the like. Every template lives in a directory of its
// own, holding the document and a template.yaml manifest that names the
// paths where the document is served, the response-header profile of the
// host and the bait bodies. The manifests are parsed and checked when the
// package is initialised, so a broken embedded file fails every test and
// every start, never a request.
//
// Bait bodies are text/template sources. Render fills them in with values
// derived from a seed (the same seed always gives the same bytes) and, once a
// honeytoken minter is plugged in through BaitData.Secret, with real
// honeytokens. The client's Host header is attacker-controlled: Render
// reduces it to host-name characters before a body sees it.
//
// In the documents, string properties that carry credentials (API keys of
// users, CI variables, key/value secrets, service-account tokens) are marked
// with the vendor extension x-honeyapi-secret, whose value is the kind of
// honeytoken that belongs there: one of the names SecretKinds returns.
//
// It does not own loading or serving documents, matching operations,
// synthesising responses or minting honeytokens: the decoys package reads the
// documents from FS and serves them, and the tokens package mints the
// credentials that BaitData.Secret returns.
package templates
