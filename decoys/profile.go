package decoys

import (
	"net/http"
	"sort"
	"strconv"
	"time"
)

// profile is a consistent set of response headers that makes the decoy
// look like it runs behind a particular server, on every response alike.
type profile struct {
	name  string
	apply func(h http.Header, start time.Time)
}

var profiles = map[string]profile{
	"nginx": {name: "nginx", apply: func(h http.Header, _ time.Time) {
		h["Server"] = []string{"nginx"}
		h["Connection"] = []string{"keep-alive"}
	}},
	"envoy": {name: "envoy", apply: func(h http.Header, start time.Time) {
		// Envoy writes lower-case names on HTTP/1.1.
		h["server"] = []string{"envoy"}
		h["x-envoy-upstream-service-time"] = []string{strconv.FormatInt(time.Since(start).Milliseconds()+1, 10)}
	}},
	"apache": {name: "apache", apply: func(h http.Header, _ time.Time) {
		h["Server"] = []string{"Apache/2.4.58 (Ubuntu)"}
	}},
	"none": {name: "none", apply: func(http.Header, time.Time) {}},
}

func profileNames() []string {
	var n []string
	for k := range profiles {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}
