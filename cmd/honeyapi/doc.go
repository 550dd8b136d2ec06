// Command honeyapi runs the honeyapi deception platform: decoy APIs
// generated from OpenAPI documents, served beside an admin listener that
// stays on loopback by default.
//
// This package is the CLI only: flags, configuration and wiring. One file
// per command (serve.go, templates.go, version.go); the admin listener's
// routes live in admin.go. Exit codes: 0 success, 1 runtime error, 2 usage
// error (bad flags, arguments or configuration).
package main
