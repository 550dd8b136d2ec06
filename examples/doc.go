// Package examples holds runnable programs that show honeyapi in use:
// echo-beside-real-api mounts decoy routes beside a real Echo API, nethttp
// does the same with net/http, and specs holds sample documents in
// OpenAPI 2.0, 3.0 and 3.1.
package examples
