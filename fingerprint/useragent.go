package fingerprint

import "strings"

// UserAgent is what a User-Agent header claims.
type UserAgent struct {
	// Family is the product the User-Agent names: "Chrome", "Firefox", "Safari", "Edge", "Opera",
	// "IE", "HeadlessChrome", "curl", "Wget", "python-requests", "Go-http-client", "sqlmap", …;
	// "" when it names nothing known.
	Family string
	// Version is the product's version as written ("156.0.0.0", "7.88.1").
	Version string
	// OS is "Windows", "macOS", "iOS", "Android", "ChromeOS" or "Linux" when named.
	OS string
	// Browser is true when the User-Agent claims to be a web browser.
	Browser bool
}

// uaToken maps a product token found in a User-Agent to a family.
type uaToken struct {
	token   string // matched case-insensitively; the version follows "/" (or " " when space is set)
	family  string
	browser bool
	space   bool // the version follows a space, not a slash ("MSIE 6.0", "Fuzz Faster U Fool v1.1.0")
}

// uaTools are checked first, in order: tools often embed a browser-like prefix.
var uaTools = []uaToken{
	{token: "sqlmap", family: "sqlmap"},
	{token: "nikto", family: "Nikto"},
	{token: "nmap scripting engine", family: "Nmap"},
	{token: "masscan", family: "masscan"},
	{token: "zgrab", family: "zgrab"},
	{token: "gobuster", family: "gobuster"},
	{token: "fuzz faster u fool", family: "ffuf", space: true},
	{token: "wfuzz", family: "wfuzz"},
	{token: "nuclei", family: "nuclei"},
	{token: "dirbuster", family: "DirBuster"},
	{token: "wpscan", family: "WPScan"},
	{token: "zap", family: "ZAP"},
	{token: "curl", family: "curl"},
	{token: "wget", family: "Wget"},
	{token: "python-requests", family: "python-requests"},
	{token: "python-httpx", family: "python-httpx"},
	{token: "python-urllib", family: "python-urllib"},
	{token: "aiohttp", family: "aiohttp"},
	{token: "go-http-client", family: "Go-http-client"},
	{token: "node-fetch", family: "node-fetch"},
	{token: "axios", family: "axios"},
	{token: "undici", family: "undici"},
	{token: "java-http-client", family: "Java-http-client"},
	{token: "apache-httpclient", family: "Apache-HttpClient"},
	{token: "okhttp", family: "okhttp"},
	{token: "java", family: "Java"},
	{token: "libwww-perl", family: "libwww-perl"},
	{token: "postmanruntime", family: "PostmanRuntime"},
	{token: "headlesschrome", family: "HeadlessChrome", browser: true},
}

// uaBrowsers are checked after the tools, in order (Edge and Opera also say Chrome and Safari).
var uaBrowsers = []uaToken{
	{token: "edg", family: "Edge", browser: true},
	{token: "opr", family: "Opera", browser: true},
	{token: "firefox", family: "Firefox", browser: true},
	{token: "chromium", family: "Chromium", browser: true},
	{token: "chrome", family: "Chrome", browser: true},
	{token: "crios", family: "Chrome", browser: true},
	{token: "fxios", family: "Firefox", browser: true},
	{token: "msie", family: "IE", browser: true, space: true},
	{token: "trident", family: "IE", browser: true},
}

// ParseUserAgent parses a User-Agent header into the product it claims. It looks only at the
// first 512 bytes and never fails: unknown agents give a zero Family.
func ParseUserAgent(ua string) UserAgent {
	if len(ua) > 512 {
		ua = ua[:512]
	}
	ua = strings.TrimSpace(ua)
	var u UserAgent
	if ua == "" {
		return u
	}
	lower := asciiLower(ua) // same length as ua, so indexes carry over
	u.OS = uaOS(lower)
	if lower == "node" {
		return UserAgent{Family: "node"}
	}
	for _, t := range uaTools {
		if v, ok := findToken(ua, lower, t); ok {
			u.Family, u.Version, u.Browser = t.family, v, t.browser
			return u
		}
	}
	for _, t := range uaBrowsers {
		if v, ok := findToken(ua, lower, t); ok {
			u.Family, u.Version, u.Browser = t.family, v, true
			return u
		}
	}
	if strings.Contains(lower, "safari/") && strings.Contains(lower, "applewebkit/") {
		u.Family, u.Browser = "Safari", true
		if v, ok := findToken(ua, lower, uaToken{token: "version"}); ok {
			u.Version = v
		}
		return u
	}
	return u
}

// findToken finds t.token as a product name in the User-Agent (at the start or after a space,
// "(" or ";") and returns the version that follows it.
func findToken(ua, lower string, t uaToken) (string, bool) {
	from := 0
	for from < len(lower) {
		i := strings.Index(lower[from:], t.token)
		if i < 0 {
			return "", false
		}
		i += from
		end := i + len(t.token)
		from = end
		if i > 0 && !strings.ContainsRune(" (;,+", rune(lower[i-1])) {
			continue
		}
		sep := byte('/')
		if t.space {
			sep = ' '
		}
		if end < len(lower) && lower[end] != sep && lower[end] != ' ' && lower[end] != ';' && lower[end] != ')' && lower[end] != '#' {
			continue // part of a longer word
		}
		if end < len(lower) && lower[end] == sep {
			return uaVersion(ua[end+1:]), true
		}
		return "", true
	}
	return "", false
}

func uaVersion(s string) string {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "v"), "V")
	n := 0
	for n < len(s) && n < 32 && (isDigit(s[n]) || s[n] == '.' || isAlnum(s[n]) || s[n] == '-' || s[n] == '_') {
		n++
	}
	return s[:n]
}

func uaOS(lower string) string {
	switch {
	case strings.Contains(lower, "windows"):
		return "Windows"
	case strings.Contains(lower, "iphone"), strings.Contains(lower, "ipad"):
		return "iOS"
	case strings.Contains(lower, "mac os x"), strings.Contains(lower, "macintosh"):
		return "macOS"
	case strings.Contains(lower, "android"):
		return "Android"
	case strings.Contains(lower, "cros"):
		return "ChromeOS"
	case strings.Contains(lower, "linux"), strings.Contains(lower, "x11"):
		return "Linux"
	}
	return ""
}

// asciiLower lower-cases ASCII letters only and keeps every other byte, so the result has the
// same length as s (strings.ToLower does not, for invalid UTF-8).
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
