package tokens

import "strings"

// maxRecognize bounds the strings Recognize looks at; longer ones are not tokens.
const maxRecognize = 2048

// Recognize reports whether s is one of this deployment's honeytokens (or, for kinds whose
// secret sits inside a larger string, contains one: a dburl or git-credentials URL, a url
// token's URL, a DNS name, a "user:password" pair), and which. It never allocates, and
// strings not shaped like a token are rejected after a few byte comparisons; strings of a
// token shape cost one HMAC-SHA256 of a short input.
func (m *Minter) Recognize(s string) (ID, Kind, bool) {
	n := len(s)
	if n < 20 || n > maxRecognize {
		return ID{}, "", false
	}
	// A failed prefixed check falls through to the shapes: a DNS name's
	// first label may start like another kind's prefix ("xox…", "eyJ…").
	switch s[0] {
	case 'A':
		if n == 20 && s[:4] == "AKIA" {
			if id, k, ok := m.recognizeAWS(s); ok {
				return id, k, ok
			}
		}
		if n == 39 && s[:6] == "AIzaSy" && allIn(s[6:], &isBase64u) {
			if id, k, ok := m.verify(s, 7, base64u, Google, ""); ok {
				return id, k, ok
			}
		}
	case 'g':
		if n == 40 && s[:2] == "gh" && s[3] == '_' && (s[2] == 'p' || s[2] == 'o' || s[2] == 's') {
			if id, k, ok := m.recognizeChecksummed(s, GitHub, 4); ok {
				return id, k, ok
			}
		}
		if n == 93 {
			if id, k, ok := m.recognizeFineGrained(s); ok {
				return id, k, ok
			}
		}
		if n == 26 && s[:6] == "glpat-" && allIn(s[6:], &isBase64u) {
			if id, k, ok := m.verify(s, 7, base64u, GitLab, ""); ok {
				return id, k, ok
			}
		}
	case 'x':
		if n >= 50 && n <= 100 && s[:3] == "xox" {
			if id, k, ok := m.recognizeSlack(s); ok {
				return id, k, ok
			}
		}
	case 's', 'r':
		if n == 107 && s[1:10] == "k_live_51" && allIn(s[10:], &isBase62) {
			if id, k, ok := m.verify(s, 7, base62, Stripe, ""); ok {
				return id, k, ok
			}
		}
		if n == 164 && s[:8] == "sk-proj-" && s[82:90] == "T3BlbkFJ" && allIn(s[8:82], &isBase64u) && allIn(s[90:], &isBase64u) {
			if id, k, ok := m.verify(s, 7, base64u, OpenAI, ""); ok {
				return id, k, ok
			}
		}
	case 'n':
		if n == 40 && s[:4] == "npm_" {
			if id, k, ok := m.recognizeChecksummed(s, NPM, 4); ok {
				return id, k, ok
			}
		}
	case 'e':
		if n > 40 && s[:3] == "eyJ" {
			if id, k, ok := m.recognizeJWT(s); ok {
				return id, k, ok
			}
		}
	case 'd':
		if n == 36 && s[:9] == "dckr_pat_" && allIn(s[9:], &isBase64u) {
			if id, k, ok := m.verify(s, 7, base64u, Docker, ""); ok {
				return id, k, ok
			}
		}
	case 'p':
		if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
			if id, k, ok := m.recognizeURL(s); ok {
				return id, k, ok
			}
		}
	case 'h':
		if strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") {
			if id, k, ok := m.recognizeURL(s); ok {
				return id, k, ok
			}
		}
	}
	return m.recognizeShape(s)
}

// recognizeShape handles the kinds that have no prefix: they are told apart by length and
// alphabet.
func (m *Minter) recognizeShape(s string) (ID, Kind, bool) {
	switch len(s) {
	case 40: // apikey, git-credentials password
		if allIn(s, &isHexlc) {
			return m.verify(s, 10, hexlc, APIKey, GitCredentials)
		}
	case 24: // basic or dburl password
		if allIn(s, &isBase62) {
			return m.verify(s, 7, base62, Basic, DBURL)
		}
	case 22: // url token segment
		if allIn(s, &isBase62) {
			return m.verify(s, 7, base62, URL, "")
		}
	case 23: // kubeconfig bootstrap token
		if s[6] == '.' && allIn(s[:6], &isBase36lc) && allIn(s[7:], &isBase36lc) {
			return m.verify(s, 8, base36lc, Kubeconfig, "")
		}
	}
	// A DNS name whose first label is a token label (26 base32 characters, any case).
	if len(s) > 27 && s[26] == '.' && allIn(s[:26], &isBase32lc) {
		return m.recognizeDNSLabel(s[:26])
	}
	// "user:password" (basic or dburl password after the last colon).
	if i := strings.LastIndexByte(s, ':'); i > 0 && len(s)-i-1 == 24 && allIn(s[i+1:], &isBase62) {
		return m.verify(s[i+1:], 7, base62, Basic, DBURL)
	}
	return ID{}, "", false
}

func (m *Minter) recognizeDNSLabel(label string) (ID, Kind, bool) {
	var lc [26]byte
	for i := 0; i < len(label); i++ {
		c := label[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		lc[i] = c
	}
	h := sum(m.mac, lc[:18])
	if !macMatches(string(lc[18:]), macWord(&h, DNS), base32lc) {
		return ID{}, "", false
	}
	return idOf(&h), DNS, true
}

// recognizeURL looks at a URL's password (dburl, git-credentials, or any token kind) and
// at its last path segment (url tokens).
func (m *Minter) recognizeURL(s string) (ID, Kind, bool) {
	rest := s[strings.Index(s, "://")+3:]
	auth := rest
	if i := strings.IndexAny(auth, "/?#"); i >= 0 {
		auth = auth[:i]
	}
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		if c := strings.IndexByte(auth[:at], ':'); c >= 0 {
			pw := auth[c+1 : at]
			if id, k, ok := m.recognizeShape(pw); ok {
				return id, k, ok
			}
			// A provider token as the password (https://x-access-token:ghs_…@github.com,
			// https://oauth2:glpat-…@gitlab.com). A URL inside it is not looked into.
			if !strings.Contains(pw, "://") {
				if id, k, ok := m.Recognize(pw); ok {
					return id, k, ok
				}
			}
		}
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	rest = strings.TrimSuffix(rest, "/")
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		seg := rest[i+1:]
		if len(seg) == 22 && allIn(seg, &isBase62) {
			return m.verify(seg, 7, base62, URL, "")
		}
	}
	return ID{}, "", false
}
