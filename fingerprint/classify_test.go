package fingerprint

import (
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// headCapture loads a recorded head (testdata/heads, see its README.md) as the listener would
// have captured it, optionally with a recorded ClientHello.
func headCapture(t testing.TB, file, hello string) *Capture {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "heads", file))
	if err != nil {
		t.Fatal(err)
	}
	_, _, proto, headers, err := ParseHead(raw)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	c := &Capture{Proto: proto, RawHead: raw, Headers: headers, WireOrder: true}
	if hello != "" {
		c.TLS = tlsInfoFromHello(mustHello(t, readHello(t, hello)))
	}
	return c
}

func TestClassifyRecordedHeads(t *testing.T) {
	for _, tc := range []struct {
		file, hello  string
		family, tool string
		claimed      string
		mismatch     bool
		reason       string // a substring of the joined reasons
	}{
		{"curl.head", "", "curl", "curl", "curl", false, "header order matches curl"},
		{"curl.head", "curl.hello", "curl", "curl", "curl", false, ""},
		{"wget.head", "", "wget", "wget", "wget", false, "GNU Wget"},
		{"python-requests.head", "python-requests.hello", "python", "python-requests", "python", false, "python-requests"},
		{"go-http-client.head", "go-http-client.hello", "go", "go-http-client", "go", false, "Go's net/http"},
		{"node-fetch.head", "node-fetch.hello", "node", "undici", "node", false, "undici"},
		{"java-httpclient.head", "", "java", "java-httpclient", "java", false, "HttpClient"},
		{"okhttp.head", "", "java", "okhttp", "java", false, "OkHttp"},
		{"chrome.head", "chromium-headless.hello", "browser", "chrome", "browser", false, "consistent with Chrome"},
		{"chrome.head", "", "browser", "chrome", "browser", false, "consistent"},
		{"chromium-headless.head", "chromium-headless.hello", "browser", "headless-chrome", "browser", false, "automation"},
		{"chromium-headless-favicon.head", "", "browser", "headless-chrome", "browser", false, ""},
		{"firefox.head", "firefox.hello", "browser", "firefox", "browser", false, "consistent with Firefox"},
		{"sqlmap.head", "", "scanner", "sqlmap", "scanner", false, "sqlmap"},
		{"sqlmap-random-agent.head", "", "scanner", "sqlmap", "browser", true, "User-Agent says Firefox"},
		{"nuclei.head", "", "scanner", "nuclei", "browser", true, "Accept-Language: en"},
		{"nikto.head", "", "scanner", "nikto", "browser", true, "LibWhisker"},
		{"gobuster.head", "", "scanner", "gobuster", "scanner", false, ""},
		{"ffuf.head", "", "scanner", "ffuf", "scanner", false, ""},
		{"wfuzz.head", "", "scanner", "wfuzz", "scanner", false, ""},
		{"dirb.head", "", "scanner", "dirb", "browser", true, "MSIE 6"},
		{"nmap-nse.head", "", "scanner", "nmap", "scanner", false, "Nmap"},
		{"nmap-sv-probe.head", "", "scanner", "", "", false, "service probes"},
		{"zgrab.head", "", "scanner", "zgrab", "scanner", false, ""},
		{"masscan.head", "", "scanner", "masscan", "scanner", false, ""},
		{"burp.head", "", "scanner", "burp", "browser", false, "Collaborator"},
		{"zap.head", "", "scanner", "zap", "browser", true, "Pragma"},
		{"python-requests-as-chrome.head", "", "python", "python-requests", "browser", true,
			"User-Agent says Chrome but no Accept-Language and header order matches python-requests"},
		// Chrome's headers but python's TLS stack: the ClientHello gives it away.
		{"chrome.head", "python-requests.hello", "python", "python-requests", "browser", true, "no GREASE"},
		// Firefox's User-Agent with Chrome's ClientHello.
		{"firefox.head", "chromium-headless.hello", "browser", "chrome", "browser", true, "GREASE (Firefox never"},
	} {
		c := headCapture(t, tc.file, tc.hello)
		got := Classify(c, "")
		why := strings.Join(got.Reasons, "; ")
		if got.Family != tc.family || got.Tool != tc.tool || got.Claimed != tc.claimed || got.Mismatch != tc.mismatch {
			t.Errorf("%s+%s: got family %q tool %q claimed %q mismatch %v (%s), want %q %q %q %v",
				tc.file, tc.hello, got.Family, got.Tool, got.Claimed, got.Mismatch, why, tc.family, tc.tool, tc.claimed, tc.mismatch)
			continue
		}
		if !strings.Contains(why, tc.reason) {
			t.Errorf("%s+%s: reasons %q, want %q", tc.file, tc.hello, why, tc.reason)
		}
	}
}

func TestClassifyWithoutCapture(t *testing.T) {
	for _, tc := range []struct{ ua, family, tool string }{
		{"curl/8.5.0", "curl", "curl"},
		{"python-requests/2.31.0", "python", "python-requests"},
		{"Python/3.11 aiohttp/3.9.1", "python", "aiohttp"},
		{"okhttp/4.12.0", "java", "okhttp"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", "browser", "chrome"},
		{"sqlmap/1.8#stable (https://sqlmap.org)", "scanner", "sqlmap"},
		{"", "unknown", ""},
		{"SomethingElse/1.0", "unknown", ""},
	} {
		got := Classify(nil, tc.ua)
		if got.Family != tc.family || got.Tool != tc.tool {
			t.Errorf("Classify(nil, %q) = %q %q, want %q %q", tc.ua, got.Family, got.Tool, tc.family, tc.tool)
		}
	}
}

func TestParseUserAgent(t *testing.T) {
	for _, tc := range []struct {
		ua   string
		want UserAgent
	}{
		{"curl/7.88.1", UserAgent{Family: "curl", Version: "7.88.1"}},
		{"Wget/1.21.3", UserAgent{Family: "Wget", Version: "1.21.3"}},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
			UserAgent{Family: "HeadlessChrome", Version: "156.0.0.0", OS: "Linux", Browser: true}},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0", UserAgent{Family: "Firefox", Version: "153.0", OS: "Linux", Browser: true}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
			UserAgent{Family: "Edge", Version: "124.0.0.0", OS: "Windows", Browser: true}},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
			UserAgent{Family: "Safari", Version: "17.4", OS: "macOS", Browser: true}},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
			UserAgent{Family: "Chrome", Version: "124.0.6367.88", OS: "iOS", Browser: true}},
		{"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)", UserAgent{Family: "IE", Version: "6.0", OS: "Windows", Browser: true}},
		{"sqlmap/1.7.2#stable (https://sqlmap.org)", UserAgent{Family: "sqlmap", Version: "1.7.2"}},
		{"Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)", UserAgent{Family: "Nmap"}},
		{"Fuzz Faster U Fool v1.1.0", UserAgent{Family: "ffuf", Version: "1.1.0"}},
		{"Mozilla/5.0 zgrab/0.x", UserAgent{Family: "zgrab", Version: "0.x"}},
		{"masscan/1.3 (https://github.com/robertdavidgraham/masscan)", UserAgent{Family: "masscan", Version: "1.3"}},
		{"Java-http-client/17.0.15", UserAgent{Family: "Java-http-client", Version: "17.0.15"}},
		{"node", UserAgent{Family: "node"}},
		{"libcurl-ish/1.0", UserAgent{}},
		{"", UserAgent{}},
	} {
		if got := ParseUserAgent(tc.ua); got != tc.want {
			t.Errorf("ParseUserAgent(%q) = %+v, want %+v", tc.ua, got, tc.want)
		}
	}
}

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct {
		name, remote string
		headers      map[string][]string
		want         string
	}{
		{"direct, no headers", "203.0.113.7:5000", nil, "203.0.113.7"},
		{"untrusted peer spoofs XFF", "203.0.113.7:5000", map[string][]string{"X-Forwarded-For": {"1.2.3.4"}}, "203.0.113.7"},
		{"trusted proxy", "10.0.0.2:80", map[string][]string{"X-Forwarded-For": {"198.51.100.9"}}, "198.51.100.9"},
		{"client-prepended spoof is ignored", "10.0.0.2:80", map[string][]string{"X-Forwarded-For": {"1.2.3.4, 198.51.100.9"}}, "198.51.100.9"},
		{"chain of trusted proxies", "10.0.0.2:80", map[string][]string{"X-Forwarded-For": {"198.51.100.9, 10.1.1.1", "10.2.2.2"}}, "198.51.100.9"},
		{"all trusted", "10.0.0.2:80", map[string][]string{"X-Forwarded-For": {"10.3.3.3"}}, "10.3.3.3"},
		{"garbage from a client", "10.0.0.2:80", map[string][]string{"X-Forwarded-For": {"<script>, 10.1.1.1"}}, "10.1.1.1"},
		{"IPv6 peer trusted", "[::1]:80", map[string][]string{"X-Forwarded-For": {"2001:db8::5"}}, "2001:db8::5"},
		{"Forwarded", "10.0.0.2:80", map[string][]string{"Forwarded": {`for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711"`}}, "2001:db8:cafe::17"},
		{"Forwarded with trusted last hop", "10.0.0.2:80", map[string][]string{"Forwarded": {"for=192.0.2.60, for=10.9.9.9"}}, "192.0.2.60"},
		{"Forwarded obfuscated", "10.0.0.2:80", map[string][]string{"Forwarded": {"for=_hidden"}}, "10.0.0.2"},
		{"XFF wins over Forwarded", "10.0.0.2:80", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}, "Forwarded": {"for=192.0.2.60"}}, "198.51.100.1"},
		{"mapped IPv4", "[::ffff:203.0.113.7]:1", nil, "203.0.113.7"},
		{"bad remote", "nonsense", nil, ""},
	} {
		r := &http.Request{RemoteAddr: tc.remote, Header: http.Header(tc.headers)}
		if got := ClientIP(r, trusted); got != tc.want {
			t.Errorf("%s: ClientIP = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestSelfSignedCertificate(t *testing.T) {
	cert, err := SelfSignedCertificate([]string{"api.example.com", "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	leaf := cert.Leaf
	if leaf.Subject.CommonName != "api.example.com" || len(leaf.Subject.Organization) != 0 {
		t.Errorf("subject = %v", leaf.Subject)
	}
	if strings.Contains(strings.ToLower(leaf.Subject.String()+leaf.Issuer.String()), "honey") {
		t.Errorf("subject names the honeypot: %v", leaf.Subject)
	}
	if d := leaf.NotAfter.Sub(leaf.NotBefore); d < 365*24*3600e9 || d > 366*24*3600e9 {
		t.Errorf("validity %v, want one year", d)
	}
	if err := leaf.VerifyHostname("api.example.com"); err != nil {
		t.Error(err)
	}
	if err := leaf.VerifyHostname("192.0.2.1"); err != nil {
		t.Error(err)
	}
}
