// Package metrics owns honeyapi's Prometheus metrics: their names (all
// under the honeyapi_ namespace), their labels and the bounds on those
// labels, the private registry they live in, and the handler that exposes
// them. The admin listener serves that handler at /metrics behind the admin
// token; nothing is ever registered with Prometheus's default registry, so
// importing this package changes no global state.
//
// It is a package of its own because every layer feeds it (the decoy
// listener, the store's writer, the alert dispatcher, the tarpit) while
// none of them should depend on Prometheus: they are handed plain
// callbacks (Metrics.Request, Metrics.Committed, Metrics.Alert,
// Metrics.TokenHit) or lend a function read at scrape time
// (Metrics.SetStore, Metrics.SetTarpit, Metrics.SetAlertsPending). The
// per-event callbacks cost an atomic add once a label value was seen; a
// nil *Metrics accepts every call and records nothing.
//
// Label values come from configuration (listener and channel names) or
// from a closed set (status codes, outcomes, token kinds), and each label
// is still bounded: beyond a fixed number of distinct values, further
// values are counted as "other", so no input can grow the number of series
// without limit. It does not own what is measured, nor the HTTP listener.
package metrics
