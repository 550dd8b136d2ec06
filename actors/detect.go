package actors

import (
	"net/url"
	"regexp"
	"strings"
)

// Injection classes the detector reports.
const (
	SQL       = "sql"
	Command   = "command"
	Template  = "template"
	Traversal = "traversal"
	SSRF      = "ssrf"
	XSS       = "xss"
)

// maxScan bounds how much of one value the detector reads: attacker text is
// data, and scanning it must cost a bounded amount.
const maxScan = 8 << 10

// Each detector has a cheap prefilter (substrings a payload of its class
// must contain, on the lower-cased value) so the regular expression runs
// only on values that could match: most request text is benign, and the
// detectors run on every request.
var prefilters = map[string][]string{
	SQL:       {"'", "\"", "--", "union", "select", "sleep", "benchmark", "waitfor", "information_schema", "extractvalue", "updatexml", "load_file", "@@version", "order by", " or ", " and ", "drop", "delete", "insert", "update"},
	Command:   {";", "|", "&&", "$(", "`", "/bin/", "${ifs"},
	Template:  {"{{", "${", "<%", "#{", "{%"},
	Traversal: {"..", "%2e", "/etc/", "c:\\", "\\windows", "/proc/"},
	SSRF:      {"://"},
	XSS:       {"<", "javascript:", "onerror", "onload"},
}

func mayMatch(class, lower string) bool {
	for _, p := range prefilters[class] {
		if strings.Contains(lower, p) {
			return true
		}
	}
	return false
}

var detectors = []struct {
	class string
	re    *regexp.Regexp
}{
	{SQL, regexp.MustCompile(`(?i)(\bunion\b[\s/*+]+(all[\s/*+]+)?select\b|'\s*(or|and)\s+'?\d*'?\s*=\s*'?\d|\b(or|and)\s+\d+\s*=\s*\d+|'\s*--|;\s*(drop|delete|insert|update|select)\s|\b(sleep|benchmark|pg_sleep)\s*\(|waitfor\s+delay|information_schema|\b(extractvalue|updatexml|load_file)\s*\(|@@version|\border\s+by\s+\d+\s*(--|#))`)},
	{Command, regexp.MustCompile(`(?i)((;|\||&&|\$\(|` + "`" + `)\s*(cat|id|whoami|uname|curl|wget|nc|ncat|bash|sh|ping|nslookup|powershell|cmd(\.exe)?)\b|/bin/(ba)?sh\b|\$\{ifs\})`)},
	{Template, regexp.MustCompile(`(\{\{[^}]{0,80}\}\}|\$\{[^}]{0,80}\}|<%[^%]{0,80}%>|#\{[^}]{0,80}\}|\{%[^%]{0,80}%\})`)},
	{Traversal, regexp.MustCompile(`(?i)(\.\.[/\\]|%2e%2e(%2f|%5c|/)|\.\.%2f|%252e%252e|/etc/(passwd|shadow|hosts)|c:\\windows|\\windows\\win\.ini|/proc/self/)`)},
	{SSRF, regexp.MustCompile(`(?i)((https?|gopher|dict|file|ftp|ldap)://(169\.254\.169\.254|metadata\.google\.internal|localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[::1?\]|10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+|172\.(1[6-9]|2\d|3[01])\.\d+\.\d+)|\b(gopher|dict|file)://)`)},
	{XSS, regexp.MustCompile(`(?i)(<script\b|javascript:|onerror\s*=|onload\s*=|<svg[^>]*on\w+\s*=|<img[^>]+src\s*=\s*x)`)},
}

// Finding is one injection payload found in a request.
type Finding struct {
	Class string // SQL, Command, …
	Where string // "query parameter id", "path", "body", "header User-Agent"
}

// Inspect looks for injection payloads in every place a request carries
// attacker-chosen text: path segments, query parameters, the body and the
// headers that applications commonly log or reflect. Values are URL-decoded
// (twice, for double-encoded payloads) before matching.
func Inspect(path, rawQuery string, headers [][2]string, body []byte) []Finding {
	var out []Finding
	seen := map[string]bool{}
	add := func(class, where string) {
		k := class + "|" + where
		if !seen[k] && len(out) < 32 {
			seen[k] = true
			out = append(out, Finding{Class: class, Where: where})
		}
	}
	scan := func(v, where string) {
		if v == "" {
			return
		}
		if len(v) > maxScan {
			v = v[:maxScan]
		}
		for _, s := range decodings(v) {
			lower := strings.ToLower(s)
			for _, d := range detectors {
				if mayMatch(d.class, lower) && d.re.MatchString(s) {
					add(d.class, where)
				}
			}
		}
	}
	scan(path, "path")
	if rawQuery != "" {
		for _, part := range strings.SplitN(rawQuery, "&", 128) {
			k, v, _ := strings.Cut(part, "=")
			name := k
			if u, err := url.QueryUnescape(k); err == nil {
				name = u
			}
			scan(v, "query parameter "+bounded(name, 64))
			scan(k, "query parameter name")
		}
	}
	if len(body) > 0 {
		scan(string(body), "body")
	}
	for _, h := range headers {
		switch strings.ToLower(h[0]) {
		case "user-agent", "referer", "x-forwarded-for", "x-forwarded-host", "x-api-version", "cookie", "x-original-url", "x-rewrite-url", "origin", "accept-language":
			scan(h[1], "header "+bounded(h[0], 64))
		default:
			if strings.HasPrefix(strings.ToLower(h[0]), "x-") {
				scan(h[1], "header "+bounded(h[0], 64))
			}
		}
	}
	return out
}

// decodings returns v, its URL-decoding and its double decoding (distinct
// values only).
func decodings(v string) []string {
	out := []string{v}
	cur := v
	for i := 0; i < 2; i++ {
		d, err := url.QueryUnescape(cur)
		if err != nil || d == cur {
			break
		}
		out = append(out, d)
		cur = d
	}
	return out
}

func bounded(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
