package decoys

import (
	"fmt"
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

// ErrorPage is the complete response the imitated server sends for a
// request it rejects before any application sees it (a broken request
// line, oversized headers): the page of the first document's profile, in
// place of Go's own plain-text answer. It returns nil for the "none"
// profile. Use it as fingerprint.ListenerOptions.ErrorPage.
func (d *Decoy) ErrorPage(status int) []byte {
	text := http.StatusText(status)
	if text == "" {
		text = "Bad Request"
	}
	date := time.Now().UTC().Format(http.TimeFormat)
	switch d.docs[0].profile.name {
	case "nginx":
		body := fmt.Sprintf("<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", status, text, status, text)
		return []byte(fmt.Sprintf("HTTP/1.1 %d %s\r\nServer: nginx\r\nDate: %s\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", status, text, date, len(body), body))
	case "apache":
		body := fmt.Sprintf("<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>%d %s</title>\n</head><body>\n<h1>%s</h1>\n<p>Your browser sent a request that this server could not understand.<br />\n</p>\n<hr>\n<address>Apache/2.4.58 (Ubuntu) Server Port 80</address>\n</body></html>\n", status, text, text)
		return []byte(fmt.Sprintf("HTTP/1.1 %d %s\r\nDate: %s\r\nServer: Apache/2.4.58 (Ubuntu)\r\nContent-Length: %d\r\nConnection: close\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n%s", status, text, date, len(body), body))
	case "envoy":
		return []byte(fmt.Sprintf("HTTP/1.1 %d %s\r\ncontent-length: %d\r\ncontent-type: text/plain\r\ndate: %s\r\nserver: envoy\r\nconnection: close\r\n\r\n%s", status, text, len(text), date, text))
	}
	return nil
}
