package fingerprint

import (
	"errors"
	"fmt"
	"strings"
)

// Header is one request header as it was on the wire: original case, order and duplicates kept.
type Header struct {
	Name, Value string
}

// Errors returned by ParseHead. Callers branch on them with errors.Is.
var (
	// ErrIncompleteHead means the input ended before the empty line that ends a request head.
	// The results hold what was parsed up to there.
	ErrIncompleteHead = errors.New("fingerprint: incomplete request head")
	// ErrMalformedHead means the input is not an HTTP/1.x request head.
	ErrMalformedHead = errors.New("fingerprint: malformed request head")
)

// ParseHead parses an HTTP/1.x request head (request line and header lines, up to and including
// the empty line) into its parts, keeping header order, case and duplicates. Leading empty lines
// are skipped, as servers do. Lines may end in CRLF or LF. An obsolete folded line (starting with
// a space or tab) is joined to the previous header's value with one space.
//
// It never panics. On error, the results hold whatever was parsed before the error; the error
// wraps ErrIncompleteHead or ErrMalformedHead.
func ParseHead(raw []byte) (method, target, proto string, headers []Header, err error) {
	var h headInfo
	err = walkHead(string(raw), &h, true)
	return h.method, h.target, h.proto, h.headers, err
}

// headInfo is what walkHead extracts from a head.
type headInfo struct {
	method, target, proto string
	headers               []Header // only when collecting

	// Framing, always collected.
	contentLength    int64 // -1 when absent
	clConflict       bool  // several Content-Length values that differ, or an invalid one
	hasTE            bool
	chunked          bool // the last transfer-coding is chunked
	upgrade          bool // an Upgrade header is present
	hosts            int  // number of Host headers
	sawHeaderCount   int
	complete         bool // the terminating empty line was seen
	terminatorOffset int  // offset just past the terminating empty line
}

// walkHead validates s as a request head and extracts its parts. Header strings are substrings
// of s (no copies). When collect is false the header list is not built, which makes framing
// checks allocation-free.
func walkHead(s string, h *headInfo, collect bool) error {
	h.contentLength = -1
	i := 0
	// Skip leading empty lines (RFC 9112, section 2.2).
	for i < len(s) && (s[i] == '\r' || s[i] == '\n') {
		i++
	}
	line, next, ok := nextLine(s, i)
	if !ok {
		if i < len(s) {
			// Validate what we have of the request line so junk is reported as such.
			if m, _, _ := strings.Cut(s[i:], " "); m != "" && !isToken(m) {
				return fmt.Errorf("%w: invalid method", ErrMalformedHead)
			}
		}
		return ErrIncompleteHead
	}
	if err := parseRequestLine(line, h); err != nil {
		return err
	}
	if collect {
		n := strings.Count(s[next:], "\n")
		if n > 0 {
			h.headers = make([]Header, 0, n)
		}
	}
	i = next
	for {
		line, next, ok = nextLine(s, i)
		if !ok {
			return ErrIncompleteHead
		}
		i = next
		if line == "" {
			h.complete = true
			h.terminatorOffset = i
			return nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			// Obsolete line folding: continuation of the previous value.
			if h.sawHeaderCount == 0 {
				return fmt.Errorf("%w: folded line before the first header", ErrMalformedHead)
			}
			v := trimOWS(line)
			if !validValue(v) {
				return fmt.Errorf("%w: invalid header value", ErrMalformedHead)
			}
			if collect && v != "" {
				last := &h.headers[len(h.headers)-1]
				last.Value = last.Value + " " + v
			}
			continue
		}
		colon := strings.IndexByte(line, ':')
		if colon <= 0 {
			return fmt.Errorf("%w: header line without a name", ErrMalformedHead)
		}
		name := line[:colon]
		if !isToken(name) {
			return fmt.Errorf("%w: invalid header name", ErrMalformedHead)
		}
		value := trimOWS(line[colon+1:])
		if !validValue(value) {
			return fmt.Errorf("%w: invalid header value", ErrMalformedHead)
		}
		h.sawHeaderCount++
		if collect {
			h.headers = append(h.headers, Header{Name: name, Value: value})
		}
		noteFraming(h, name, value)
	}
}

// noteFraming records the headers that decide where the body ends.
func noteFraming(h *headInfo, name, value string) {
	switch {
	case strings.EqualFold(name, "Content-Length"):
		for _, part := range strings.Split(value, ",") {
			n, ok := parseDecimal(trimOWS(part))
			if !ok {
				h.clConflict = true
				continue
			}
			if h.contentLength >= 0 && h.contentLength != n {
				h.clConflict = true
			}
			h.contentLength = n
		}
	case strings.EqualFold(name, "Transfer-Encoding"):
		h.hasTE = true
		last := value
		if j := strings.LastIndexByte(value, ','); j >= 0 {
			last = value[j+1:]
		}
		h.chunked = strings.EqualFold(trimOWS(last), "chunked")
	case strings.EqualFold(name, "Upgrade"):
		h.upgrade = true
	case strings.EqualFold(name, "Host"):
		h.hosts++
	}
}

// parseRequestLine checks "METHOD SP target SP HTTP/d.d".
func parseRequestLine(line string, h *headInfo) error {
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !isToken(method) {
		return fmt.Errorf("%w: invalid method", ErrMalformedHead)
	}
	h.method = method
	if !ok2 || !validTarget(method, target) {
		return fmt.Errorf("%w: invalid request target", ErrMalformedHead)
	}
	h.target = target
	if !validProto(proto) {
		return fmt.Errorf("%w: invalid protocol version", ErrMalformedHead)
	}
	h.proto = proto
	return nil
}

// nextLine returns the line starting at i without its CRLF or LF, and the offset after it.
func nextLine(s string, i int) (line string, next int, ok bool) {
	if i > len(s) {
		return "", i, false
	}
	j := strings.IndexByte(s[i:], '\n')
	if j < 0 {
		return "", i, false
	}
	line = s[i : i+j]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, i + j + 1, true
}

func validProto(p string) bool {
	return len(p) == 8 && p[:5] == "HTTP/" && isDigit(p[5]) && p[6] == '.' && isDigit(p[7])
}

// validTarget accepts the four request-target forms: origin ("/path"), absolute
// ("http://host/path"), authority (CONNECT only) and asterisk ("*").
func validTarget(method, t string) bool {
	if t == "" || !(t[0] == '/' || t == "*" || method == "CONNECT" || strings.Contains(t, "://")) {
		return false
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

func validValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseDecimal parses a non-negative decimal without sign, bounded well below overflow.
func parseDecimal(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

// isToken reports whether s is a non-empty RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenByte(s[i]) {
			return false
		}
	}
	return true
}

func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
