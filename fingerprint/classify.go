package fingerprint

import (
	"slices"
	"strings"
)

// Classification is the verdict on which software sent a request.
type Classification struct {
	// Family is "browser", "curl", "wget", "python", "go", "node", "java", "scanner" or
	// "unknown".
	Family string
	// Tool names the specific software when known: "sqlmap", "nuclei", "gobuster", "ffuf",
	// "wfuzz", "dirb", "nmap", "nikto", "zgrab", "burp", "zap", "masscan", "python-requests",
	// "aiohttp", "okhttp", "go-http-client", "undici", "java-httpclient", "chrome", "firefox",
	// "headless-chrome", ….
	Tool string
	// Claimed is the family the User-Agent claims ("" without a User-Agent).
	Claimed string
	// Mismatch is true when the User-Agent's claim contradicts the fingerprints, typically a tool
	// or library that sends a browser's User-Agent.
	Mismatch bool
	// Reasons explain the verdict in plain words.
	Reasons []string
}

// reqView is the part of a request that classification looks at.
type reqView struct {
	names   []string // lower-cased, wire order
	raw     []string // as sent
	vals    []string
	core    []string // names without body- and credential-dependent headers
	ordered bool
	method  string
	target  string
	proto   string
	tls     *TLSInfo
}

// coreExcluded are left out of order signatures: their presence depends on the request.
var coreExcluded = map[string]bool{
	"content-length": true, "content-type": true, "transfer-encoding": true, "cookie": true,
	"authorization": true, "proxy-authorization": true, "referer": true, "origin": true,
}

func newReqView(c *Capture) *reqView {
	v := &reqView{}
	if c == nil {
		return v
	}
	v.ordered = c.WireOrder
	v.tls = c.TLS
	v.proto = c.Proto
	n := len(c.Headers)
	strs := make([]string, 4*n) // one allocation for the four views
	v.names, v.raw, v.vals, v.core = strs[:0:n], strs[n:n:2*n], strs[2*n:2*n:3*n], strs[3*n:3*n:4*n]
	for _, h := range c.Headers {
		l := lowerName(h.Name)
		v.names = append(v.names, l)
		v.raw = append(v.raw, h.Name)
		v.vals = append(v.vals, h.Value)
		if !coreExcluded[l] {
			v.core = append(v.core, l)
		}
	}
	if len(c.RawHead) > 0 {
		line := c.RawHead[:min(len(c.RawHead), 8192)]
		if i := bytesIndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		}
		var h headInfo
		if parseRequestLine(strings.TrimSuffix(string(line), "\r"), &h) == nil {
			v.method, v.target = h.method, h.target
			if v.proto == "" {
				v.proto = h.proto
			}
		}
	}
	return v
}

// knownLower maps header names as clients commonly write them to their lower-case form, so that
// lower-casing them does not allocate.
var knownLower = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{
		"Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language", "Connection",
		"Content-Length", "Content-Type", "Transfer-Encoding", "Cookie", "Authorization",
		"Referer", "Origin", "Cache-Control", "Pragma", "Upgrade", "Upgrade-Insecure-Requests",
		"Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-User", "Sec-Fetch-Dest", "Priority",
		"DNT", "TE", "Range", "If-None-Match", "If-Modified-Since", "X-Forwarded-For",
		"X-Requested-With", "HTTP2-Settings", "Keep-Alive", "Proxy-Authorization",
	} {
		m[n] = strings.ToLower(n)
	}
	return m
}()

func lowerName(s string) string {
	if l, ok := knownLower[s]; ok {
		return l
	}
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

func bytesIndexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// containsFold reports whether s contains sub (lower-case ASCII) ignoring ASCII case.
func containsFold(s, sub string) bool {
	if len(sub) == 0 {
		return true
	}
	first := sub[0]
	upper := first
	if 'a' <= first && first <= 'z' {
		upper = first - 32
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if c := s[i]; (c == first || c == upper) && strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

func (v *reqView) get(name string) (string, bool) {
	for i, n := range v.names {
		if n == name {
			return v.vals[i], true
		}
	}
	return "", false
}

func (v *reqView) has(name string) bool {
	_, ok := v.get(name)
	return ok
}

func (v *reqView) is(name, value string) bool {
	got, ok := v.get(name)
	return ok && got == value
}

func (v *reqView) hasPrefix(prefix string) bool {
	for _, n := range v.names {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	return false
}

// coreStarts reports whether the core name sequence starts with names.
func (v *reqView) coreStarts(names ...string) bool {
	return v.ordered && len(v.core) >= len(names) && slices.Equal(v.core[:len(names)], names)
}

// coreIs reports whether the core name sequence is exactly names.
func (v *reqView) coreIs(names ...string) bool {
	return v.ordered && slices.Equal(v.core, names)
}

// relativeOrder reports whether the given names appear (all of them) in this relative order.
func (v *reqView) relativeOrder(names ...string) bool {
	if !v.ordered {
		return false
	}
	k := 0
	for _, n := range v.names {
		if k < len(names) && n == names[k] {
			k++
		} else if slices.Contains(names, n) {
			return false
		}
	}
	return k == len(names)
}

func (v *reqView) allLower() bool {
	for _, n := range v.raw {
		for i := 0; i < len(n); i++ {
			if 'A' <= n[i] && n[i] <= 'Z' {
				return false
			}
		}
	}
	return len(v.raw) > 0
}

// anyContains reports whether the request target or any header value contains one of subs
// (case-insensitively).
func (v *reqView) anyContains(subs ...string) bool {
	check := func(s string) bool {
		for _, sub := range subs {
			if containsFold(s, sub) {
				return true
			}
		}
		return false
	}
	if check(v.target) {
		return true
	}
	for _, val := range v.vals {
		if check(val) {
			return true
		}
	}
	return false
}

// signature recognises one client from a request.
type signature struct {
	family, tool string
	why          string
	match        func(v *reqView, ua UserAgent) bool
}

// scannerSignatures recognise offensive tools, in order of specificity.
var scannerSignatures = []signature{
	{"scanner", "burp", "a Burp Collaborator address (oastify.com / burpcollaborator.net) is in the request",
		func(v *reqView, _ UserAgent) bool { return v.anyContains("oastify.com", "burpcollaborator.net") }},
	{"scanner", "nuclei", "an interactsh out-of-band address (oast.*) is in the request",
		func(v *reqView, _ UserAgent) bool {
			return v.anyContains(".oast.pro", ".oast.live", ".oast.site", ".oast.online", ".oast.fun", ".oast.me", ".interact.sh")
		}},
	{"scanner", "zap", "ZAP's request shape (Host, User-Agent, Pragma: no-cache, Cache-Control: no-cache) or an X-ZAP header",
		func(v *reqView, _ UserAgent) bool {
			return v.hasPrefix("x-zap-") ||
				(v.coreStarts("host", "user-agent", "pragma", "cache-control") && v.is("pragma", "no-cache") && v.is("cache-control", "no-cache"))
		}},
	{"scanner", "sqlmap", "sqlmap's header order (Cache-Control: no-cache first, Accept-Encoding: gzip,deflate)",
		func(v *reqView, ua UserAgent) bool {
			return ua.Family == "sqlmap" ||
				(v.coreStarts("cache-control", "user-agent", "host", "accept", "accept-encoding", "connection") && v.is("accept-encoding", "gzip,deflate"))
		}},
	{"scanner", "nuclei", "nuclei's Go request shape (Accept: */*, Accept-Language: en, Accept-Encoding: gzip)",
		func(v *reqView, ua UserAgent) bool {
			return ua.Family == "nuclei" ||
				(v.coreIs("host", "user-agent", "accept", "accept-language", "accept-encoding") &&
					v.is("accept", "*/*") && v.is("accept-language", "en") && v.is("accept-encoding", "gzip"))
		}},
	{"scanner", "nikto", "nikto's LibWhisker request (only Host, User-Agent and Connection: Keep-Alive, with nikto's default Chrome 74 User-Agent)",
		func(v *reqView, ua UserAgent) bool {
			if ua.Family == "Nikto" {
				return true
			}
			return len(v.core) == 3 && slices.Contains(v.core, "connection") && slices.Contains(v.core, "host") &&
				slices.Contains(v.core, "user-agent") && v.is("connection", "Keep-Alive") &&
				ua.Family == "Chrome" && ua.Version == "74.0.3729.169"
		}},
	{"scanner", "nmap", "the Nmap Scripting Engine's User-Agent or probe paths",
		func(v *reqView, ua UserAgent) bool {
			return ua.Family == "Nmap" || v.anyContains("nmaplowercheck", "nmapuppercheck", "/nmap/folder/check")
		}},
	{"scanner", "masscan", "masscan's User-Agent", func(_ *reqView, ua UserAgent) bool { return ua.Family == "masscan" }},
	{"scanner", "zgrab", "zgrab's User-Agent", func(_ *reqView, ua UserAgent) bool { return ua.Family == "zgrab" }},
	{"scanner", "gobuster", "gobuster's User-Agent", func(_ *reqView, ua UserAgent) bool { return ua.Family == "gobuster" }},
	{"scanner", "ffuf", "ffuf's User-Agent", func(_ *reqView, ua UserAgent) bool { return ua.Family == "ffuf" }},
	{"scanner", "wfuzz", "wfuzz's request shape (Host, Accept, Content-Type on a GET, User-Agent)",
		func(v *reqView, ua UserAgent) bool {
			return ua.Family == "wfuzz" ||
				(v.coreStarts("host", "accept", "user-agent") && v.method == "GET" && v.is("content-type", "application/x-www-form-urlencoded"))
		}},
	{"scanner", "dirb", "dirb's request (its MSIE 6 User-Agent with only Host, User-Agent and Accept: */*)",
		func(v *reqView, ua UserAgent) bool {
			return v.coreIs("host", "user-agent", "accept") && v.is("accept", "*/*") &&
				v.is("user-agent", "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)")
		}},
	{"scanner", "zap", "ZAP's User-Agent", func(_ *reqView, ua UserAgent) bool { return ua.Family == "ZAP" }},
	{"scanner", "dirbuster", "DirBuster's User-Agent", func(_ *reqView, ua UserAgent) bool { return ua.Family == "DirBuster" }},
	{"scanner", "wpscan", "WPScan's User-Agent", func(_ *reqView, ua UserAgent) bool { return ua.Family == "WPScan" }},
	{"scanner", "", "a bare HTTP/1.0 request without any header, as service probes (e.g. nmap -sV) send",
		func(v *reqView, _ UserAgent) bool { return v.ordered && len(v.names) == 0 && v.proto == "HTTP/1.0" }},
}

// librarySignatures recognise HTTP client libraries and browsers by header order and values.
var librarySignatures = []signature{
	{"python", "python-requests", "header order matches python-requests",
		func(v *reqView, _ UserAgent) bool {
			return v.coreStarts("host", "user-agent", "accept-encoding", "accept", "connection") &&
				v.is("accept", "*/*") && v.is("connection", "keep-alive")
		}},
	{"python", "urllib", "header order matches Python's urllib",
		func(v *reqView, _ UserAgent) bool {
			return v.coreStarts("accept-encoding", "host", "user-agent", "connection") && v.is("accept-encoding", "identity")
		}},
	{"wget", "wget", "header order matches GNU Wget",
		func(v *reqView, _ UserAgent) bool {
			return (v.coreStarts("host", "user-agent", "accept", "accept-encoding", "connection") ||
				v.coreStarts("user-agent", "accept", "accept-encoding", "host", "connection")) &&
				v.is("accept-encoding", "identity") && v.is("connection", "Keep-Alive")
		}},
	{"java", "java-httpclient", "header order matches Java's HttpClient (h2c upgrade)",
		func(v *reqView, _ UserAgent) bool {
			return v.coreStarts("connection", "host", "http2-settings", "upgrade", "user-agent")
		}},
	{"java", "okhttp", "header order matches OkHttp",
		func(v *reqView, _ UserAgent) bool {
			return v.coreStarts("host", "connection", "accept-encoding", "user-agent") &&
				v.is("connection", "Keep-Alive") && v.is("accept-encoding", "gzip")
		}},
	{"node", "undici", "header order matches Node.js fetch (undici)",
		func(v *reqView, _ UserAgent) bool {
			return v.allLower() && v.is("sec-fetch-mode", "cors") && v.is("accept-language", "*")
		}},
	{"go", "go-http-client", "header order matches Go's net/http client",
		func(v *reqView, _ UserAgent) bool { return isGoOrder(v) }},
	{"curl", "curl", "header order matches curl",
		func(v *reqView, _ UserAgent) bool {
			return v.coreStarts("host", "user-agent", "accept") && v.is("accept", "*/*") &&
				!v.has("accept-language") && !v.has("connection") && !v.hasPrefix("sec-fetch-") && !v.has("upgrade-insecure-requests")
		}},
}

// isGoOrder recognises Go's client: Host, User-Agent, the other headers sorted by canonical
// name, and Accept-Encoding: gzip added last by the transport.
func isGoOrder(v *reqView) bool {
	if !v.ordered || len(v.names) < 3 || v.names[0] != "host" || v.names[1] != "user-agent" {
		return false
	}
	last := len(v.names) - 1
	if v.names[last] != "accept-encoding" || v.vals[last] != "gzip" {
		return false
	}
	mid := v.raw[2:last]
	for _, n := range v.raw {
		if caseClass(n) != 'c' {
			return false
		}
	}
	return slices.IsSorted(mid)
}

// knownJA4 maps JA4 fingerprints to a family and tool. Only grounded values are listed: the ones
// recorded from real clients into testdata/hellos (versions as on Debian 12 with Go 1.26; they
// drift as TLS stacks change) and the JA4 specification's worked example.
var knownJA4 = map[string][2]string{
	"t13d3112h2_e8f1e7e78f70_b26ce05bbdd6": {"curl", "curl"},              // curl 7.88 / OpenSSL 3.0
	"t13d1812h1_85036bcba153_b26ce05bbdd6": {"python", "python-requests"}, // requests 2.34 / OpenSSL 3.0
	"t13d1312h2_f57a46bbacb6_ab7e3b40a677": {"go", "go-http-client"},      // Go 1.26 net/http
	"t13d5911h1_a33745022dd6_1f22a2ca17c4": {"node", "undici"},            // Node.js 20 fetch
	"t13d3713h2_db35923f8641_7c76daad20ec": {"java", "java-httpclient"},   // Java 17 HttpClient
	"t13d1517h2_8daaf6152771_cb7bf5808d99": {"browser", "chrome"},         // Chromium 156
	"t13d1617h2_86a278354501_3cbfd9057e0d": {"browser", "firefox"},        // Firefox 153 ESR
	"t13d1516h2_8daaf6152771_e5627efa2ab1": {"browser", "chrome"},         // JA4 specification example
}

// openSSLDefaultC is JA4's c part for OpenSSL 3.0's default extensions and signature algorithms
// (shared by curl and Python on Debian 12): a hello with it is not a browser's.
const openSSLDefaultC = "b26ce05bbdd6"

var uaFamilies = map[string][2]string{
	"curl": {"curl", "curl"}, "Wget": {"wget", "wget"},
	"python-requests": {"python", "python-requests"}, "python-httpx": {"python", "httpx"},
	"python-urllib": {"python", "urllib"}, "aiohttp": {"python", "aiohttp"},
	"Go-http-client": {"go", "go-http-client"},
	"node":           {"node", "undici"}, "node-fetch": {"node", "node-fetch"}, "axios": {"node", "axios"}, "undici": {"node", "undici"},
	"Java-http-client": {"java", "java-httpclient"}, "Java": {"java", "java"},
	"Apache-HttpClient": {"java", "apache-httpclient"}, "okhttp": {"java", "okhttp"},
	"sqlmap": {"scanner", "sqlmap"}, "Nikto": {"scanner", "nikto"}, "Nmap": {"scanner", "nmap"},
	"masscan": {"scanner", "masscan"}, "zgrab": {"scanner", "zgrab"}, "gobuster": {"scanner", "gobuster"},
	"ffuf": {"scanner", "ffuf"}, "wfuzz": {"scanner", "wfuzz"}, "nuclei": {"scanner", "nuclei"},
	"DirBuster": {"scanner", "dirbuster"}, "WPScan": {"scanner", "wpscan"}, "ZAP": {"scanner", "zap"},
	"Chrome": {"browser", "chrome"}, "Chromium": {"browser", "chromium"}, "HeadlessChrome": {"browser", "headless-chrome"},
	"Firefox": {"browser", "firefox"}, "Safari": {"browser", "safari"}, "Edge": {"browser", "edge"},
	"Opera": {"browser", "opera"}, "IE": {"browser", "ie"},
}

func claimedFamily(ua UserAgent, raw string) (family, tool string) {
	if f, ok := uaFamilies[ua.Family]; ok {
		return f[0], f[1]
	}
	if strings.TrimSpace(raw) == "" {
		return "", ""
	}
	return "unknown", ""
}

func isChromium(ua UserAgent) bool {
	switch ua.Family {
	case "Chrome", "Chromium", "HeadlessChrome", "Edge", "Opera":
		return true
	}
	return false
}

// Classify decides which software sent a request from its User-Agent (ua, or the captured
// User-Agent header when ua is empty), its header order and values, and its TLS ClientHello
// (GREASE, offered ALPN, known JA4 fingerprints), weighed together. c may be nil.
func Classify(c *Capture, ua string) Classification {
	v := newReqView(c)
	if ua == "" {
		ua, _ = v.get("user-agent")
	}
	u := ParseUserAgent(ua)
	var res Classification
	claimedFam, claimedTool := claimedFamily(u, ua)
	res.Claimed = claimedFam
	name := u.Family
	if name == "" {
		name = "an unknown client"
	}

	// 1. Offensive tools.
	for _, s := range scannerSignatures {
		if !s.match(v, u) {
			continue
		}
		res.Family, res.Tool = s.family, s.tool
		res.Reasons = append(res.Reasons, s.why)
		if u.Browser && s.tool != "burp" {
			res.Mismatch = true
			res.Reasons = append(res.Reasons, "User-Agent says "+name+" but the request is "+toolName(s.tool))
		}
		return res
	}

	// 2. Evidence from header order and TLS.
	var libFam, libTool, libWhy string
	for _, s := range librarySignatures {
		if s.match(v, u) {
			libFam, libTool, libWhy = s.family, s.tool, s.why
			break
		}
	}
	var tlsFam, tlsTool, tlsWhy string
	if v.tls != nil && v.tls.JA4 != "" {
		if k, ok := knownJA4[v.tls.JA4]; ok {
			tlsFam, tlsTool = k[0], k[1]
			tlsWhy = "JA4 " + v.tls.JA4 + " is " + toolName(tlsTool)
		} else if strings.HasSuffix(v.tls.JA4, "_"+openSSLDefaultC) {
			tlsWhy = "JA4 shows OpenSSL's default extensions"
		}
	}

	// 3. A browser claim is checked against everything.
	if u.Browser {
		var contra []string
		if v.ordered || c != nil && len(c.Headers) > 0 {
			if !v.has("accept-language") {
				contra = append(contra, "no Accept-Language")
			}
			if !v.has("accept") {
				contra = append(contra, "no Accept")
			}
			if ae, ok := v.get("accept-encoding"); !ok || strings.EqualFold(strings.TrimSpace(ae), "identity") {
				contra = append(contra, "no compression in Accept-Encoding")
			}
		}
		if v.ordered && v.allLower() {
			contra = append(contra, "header names are all lower-case (browsers send canonical case over HTTP/1.1)")
		}
		if libFam != "" && libFam != "browser" {
			contra = append(contra, libWhy)
		} else if v.ordered && len(v.names) > 0 {
			if isChromium(u) && !v.relativeOrder("host", "connection", "user-agent", "accept", "accept-encoding", "accept-language") {
				contra = append(contra, "header order is not Chrome's")
			}
			if u.Family == "Firefox" && !v.relativeOrder("host", "user-agent", "accept", "accept-language", "accept-encoding") {
				contra = append(contra, "header order is not Firefox's")
			}
		}
		if v.tls != nil && v.tls.Hello != nil {
			grease := v.tls.Hello.HasGREASE()
			if isChromium(u) && !grease {
				contra = append(contra, "the TLS ClientHello has no GREASE (Chromium always sends it)")
			}
			if u.Family == "Firefox" && grease {
				contra = append(contra, "the TLS ClientHello has GREASE (Firefox never sends it)")
			}
			if len(v.tls.Hello.ALPN) == 0 || v.tls.Hello.ALPN[0] != "h2" {
				contra = append(contra, "the TLS ClientHello does not offer h2 first")
			}
			if tlsFam != "" && tlsFam != "browser" {
				contra = append(contra, tlsWhy)
			} else if tlsFam == "" && tlsWhy != "" {
				contra = append(contra, tlsWhy)
			}
		}
		if len(contra) == 0 {
			res.Family, res.Tool = "browser", claimedTool
			res.Reasons = append(res.Reasons, "User-Agent, headers and TLS are consistent with "+name)
			if u.Family == "HeadlessChrome" {
				res.Reasons = append(res.Reasons, "HeadlessChrome in the User-Agent: browser automation")
			}
			return res
		}
		res.Mismatch = true
		res.Family, res.Tool = "unknown", ""
		switch {
		case libFam != "" && libFam != "browser":
			res.Family, res.Tool = libFam, libTool
		case tlsFam != "":
			res.Family, res.Tool = tlsFam, tlsTool // possibly another browser than claimed
		}
		res.Reasons = append(res.Reasons, "User-Agent says "+name+" but "+strings.Join(contra, " and "))
		return res
	}

	// 4. A library or tool claim, or none.
	switch {
	case claimedFam != "" && claimedFam != "unknown":
		res.Family, res.Tool = claimedFam, claimedTool
		res.Reasons = append(res.Reasons, "User-Agent says "+name)
		if libFam != "" && libFam != claimedFam {
			res.Mismatch = true
			res.Reasons = append(res.Reasons, "but "+libWhy)
		} else if libFam != "" {
			res.Reasons = append(res.Reasons, libWhy)
		}
		if tlsFam != "" && tlsFam != claimedFam {
			res.Mismatch = true
			res.Reasons = append(res.Reasons, "but "+tlsWhy)
		}
	case libFam != "":
		res.Family, res.Tool = libFam, libTool
		res.Reasons = append(res.Reasons, libWhy)
	case tlsFam != "":
		res.Family, res.Tool = tlsFam, tlsTool
		res.Reasons = append(res.Reasons, tlsWhy)
	default:
		res.Family = "unknown"
		if ua == "" {
			res.Reasons = append(res.Reasons, "no User-Agent and no known header order")
		} else {
			res.Reasons = append(res.Reasons, "unrecognised User-Agent and header order")
		}
	}
	return res
}

func toolName(tool string) string {
	if tool == "" {
		return "a scanner's"
	}
	return tool + "'s"
}
