// Package config owns honeyapi's settings: the Config struct, its defaults,
// and loading it from (lowest to highest precedence) the built-in defaults,
// a YAML file, HONEYAPI_* environment variables and command-line flags.
//
// Every setting is described once, in the table returned by Fields: its
// YAML key, its environment variable and its flag. Loading, flag
// registration and the README's configuration reference all follow that
// table. Validate is the one place values are checked.
//
// It does not own the deployment secret's key file (see
// internal/deployment) nor any behaviour the settings select.
package config
