// Package deployment owns the identity of one honeyapi deployment: its
// secret (which seeds synthetic data, so the same id returns the same
// object across restarts) and its epoch (the anchor of synthesised dates).
//
// The secret comes from configuration when one is set; otherwise it is
// generated on first start into a key file beside the database, <db>.key,
// readable by its owner only, and read back on every later start.
//
// It does not own the database itself nor any use of the secret.
package deployment
