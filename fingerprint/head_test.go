package fingerprint

import (
	"errors"
	"slices"
	"testing"
)

func TestParseHead(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		raw                   string
		method, target, proto string
		headers               []Header
		err                   error
	}{
		{
			name:   "order, case and duplicates kept",
			raw:    "GET /a?b=1 HTTP/1.1\r\nhost: x\r\nX-Dup: 1\r\nUSER-AGENT: curl/8\r\nX-Dup: 2\r\n\r\n",
			method: "GET", target: "/a?b=1", proto: "HTTP/1.1",
			headers: []Header{{"host", "x"}, {"X-Dup", "1"}, {"USER-AGENT", "curl/8"}, {"X-Dup", "2"}},
		},
		{
			name:   "bare LF, leading empty lines, OWS trimmed",
			raw:    "\r\n\nPOST * HTTP/1.0\nA:  v \t\nB:\n\n",
			method: "POST", target: "*", proto: "HTTP/1.0",
			headers: []Header{{"A", "v"}, {"B", ""}},
		},
		{
			name:   "obsolete folding joins the value",
			raw:    "GET / HTTP/1.1\r\nX: a\r\n  b\r\n\r\n",
			method: "GET", target: "/", proto: "HTTP/1.1",
			headers: []Header{{"X", "a b"}},
		},
		{
			name:   "incomplete",
			raw:    "GET / HTTP/1.1\r\nHost: x\r\n",
			method: "GET", target: "/", proto: "HTTP/1.1",
			headers: []Header{{"Host", "x"}},
			err:     ErrIncompleteHead,
		},
		{name: "binary", raw: "\x16\x03\x01\x02\x00\x01\r\n\r\n", err: ErrMalformedHead},
		{name: "no version", raw: "GET /\r\n\r\n", method: "GET", err: ErrMalformedHead},
		{name: "bad version", raw: "GET / HTTP/1.1x\r\n\r\n", method: "GET", target: "/", err: ErrMalformedHead},
		{name: "space before colon", raw: "GET / HTTP/1.1\r\nHost : x\r\n\r\n", method: "GET", target: "/", proto: "HTTP/1.1", err: ErrMalformedHead},
		{name: "control byte in value", raw: "GET / HTTP/1.1\r\nA: \x00\r\n\r\n", method: "GET", target: "/", proto: "HTTP/1.1", err: ErrMalformedHead},
		{name: "fold first", raw: "GET / HTTP/1.1\r\n x\r\n\r\n", method: "GET", target: "/", proto: "HTTP/1.1", err: ErrMalformedHead},
	} {
		m, tg, p, hs, err := ParseHead([]byte(tc.raw))
		if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.err)
		}
		if m != tc.method || tg != tc.target || p != tc.proto {
			t.Errorf("%s: line = %q %q %q, want %q %q %q", tc.name, m, tg, p, tc.method, tc.target, tc.proto)
		}
		if !slices.Equal(hs, tc.headers) && !(len(hs) == 0 && len(tc.headers) == 0) {
			t.Errorf("%s: headers = %q, want %q", tc.name, hs, tc.headers)
		}
	}
}

func TestHeaderFingerprint(t *testing.T) {
	curl := []Header{{"Host", "a"}, {"User-Agent", "curl/7.88.1"}, {"Accept", "*/*"}}
	if got, want := HeaderFingerprintInput(curl), "host:c,user-agent:c,accept:c;ae=-;ac=any;al=0;cn=-"; got != want {
		t.Errorf("input = %q, want %q", got, want)
	}
	// sha256("host:c,user-agent:c,accept:c;ae=-;ac=any;al=0;cn=-") computed with Python's hashlib.
	if got := HeaderFingerprint(curl); got != "h1:04166a40d8f2" {
		t.Errorf("fingerprint = %s", got)
	}
	// Values, volatile headers and other hosts do not change it; order and case do.
	same := []Header{{"Host", "b.example"}, {"User-Agent", "curl/8.0"}, {"Cookie", "x=1"}, {"Accept", "*/*"}, {"Content-Length", "5"}}
	if HeaderFingerprint(same) != HeaderFingerprint(curl) {
		t.Errorf("volatile headers or values changed the fingerprint")
	}
	reordered := []Header{{"Host", "a"}, {"Accept", "*/*"}, {"User-Agent", "curl/7.88.1"}}
	lower := []Header{{"host", "a"}, {"user-agent", "curl/7.88.1"}, {"accept", "*/*"}}
	for _, hs := range [][]Header{reordered, lower} {
		if HeaderFingerprint(hs) == HeaderFingerprint(curl) {
			t.Errorf("%q has curl's fingerprint", hs)
		}
	}
	chrome := []Header{{"Accept-Encoding", "gzip, deflate, br, zstd"}, {"Accept", "text/html,*/*"}, {"Accept-Language", "en"}, {"Connection", "Keep-Alive"}, {"sec-ch-ua", "x"}, {"DNT", "1"}, {"x-Mixed", "1"}}
	if got, want := HeaderFingerprintInput(chrome), "accept-encoding:c,accept:c,accept-language:c,connection:c,sec-ch-ua:l,dnt:u,x-mixed:m;ae=br,deflate,gzip,zstd;ac=html;al=1;cn=keep-alive"; got != want {
		t.Errorf("input = %q\nwant    %q", got, want)
	}
}
