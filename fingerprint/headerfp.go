package fingerprint

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
)

// volatileHeaders are left out of HeaderFingerprint: they depend on the request or on state,
// not on the client software (see the package documentation).
var volatileHeaders = map[string]bool{
	"content-length": true, "content-type": true, "transfer-encoding": true,
	"cookie": true, "authorization": true, "proxy-authorization": true,
	"referer": true, "origin": true,
	"if-none-match": true, "if-modified-since": true, "if-match": true,
	"if-unmodified-since": true, "if-range": true, "range": true,
	"cache-control": true, "pragma": true,
	"x-forwarded-for": true, "x-forwarded-proto": true, "x-forwarded-host": true,
	"x-forwarded-port": true, "x-real-ip": true, "forwarded": true, "via": true,
	"x-request-id": true, "cf-connecting-ip": true, "true-client-ip": true,
}

// HeaderFingerprint returns our ordered-header fingerprint of a request's headers: "h1:" and the
// first 12 hex digits of SHA-256 over HeaderFingerprintInput(headers). The input lists every
// non-volatile header in wire order as "lower-cased-name:case" (case is "c" canonical like
// User-Agent, "l" all lower, "u" all upper, "m" mixed otherwise), joined by ",", followed by
// ";ae=" the sorted Accept-Encoding codings, ";ac=" the class of Accept (-, any, html, json,
// other), ";al=" 1 or 0 for Accept-Language, ";cn=" the lower-cased Connection value. Volatile
// headers (Content-Length, Content-Type, Cookie, Authorization, Referer, Origin, conditional and
// cache headers, proxy-added headers) are skipped so that one client keeps one fingerprint across
// requests. The full algorithm is in the package documentation.
func HeaderFingerprint(headers []Header) string {
	sum := sha256.Sum256([]byte(HeaderFingerprintInput(headers)))
	return "h1:" + hex.EncodeToString(sum[:6])
}

// HeaderFingerprintInput returns the canonical string that HeaderFingerprint hashes.
func HeaderFingerprintInput(headers []Header) string {
	var b strings.Builder
	b.Grow(len(headers) * 20)
	var ae, ac, cn string
	ae, ac, cn = "-", "-", "-"
	al := "0"
	sawAE, sawAC, sawCN := false, false, false
	first := true
	for _, h := range headers {
		lower := lowerName(h.Name)
		switch lower {
		case "accept-encoding":
			if !sawAE {
				ae, sawAE = codings(h.Value), true
			}
		case "accept":
			if !sawAC {
				ac, sawAC = acceptClass(h.Value), true
			}
		case "accept-language":
			al = "1"
		case "connection":
			if !sawCN {
				cn, sawCN = strings.ToLower(strings.TrimSpace(h.Value)), true
				if cn == "" {
					cn = "-"
				}
			}
		}
		if volatileHeaders[lower] {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(lower)
		b.WriteByte(':')
		b.WriteByte(caseClass(h.Name))
	}
	b.WriteString(";ae=")
	b.WriteString(ae)
	b.WriteString(";ac=")
	b.WriteString(ac)
	b.WriteString(";al=")
	b.WriteString(al)
	b.WriteString(";cn=")
	b.WriteString(cn)
	return b.String()
}

// caseClass describes how a header name was written: 'c' canonical (Accept-Encoding),
// 'l' all lower, 'u' all upper, 'm' anything else.
func caseClass(name string) byte {
	lower, upper, canonical := true, true, true
	up := true // the next letter should be upper case in the canonical form
	for i := 0; i < len(name); i++ {
		c := name[i]
		isUp, isLow := 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z'
		if isUp {
			lower = false
		}
		if isLow {
			upper = false
		}
		if isUp || isLow {
			if isUp != up {
				canonical = false
			}
		}
		up = c == '-'
	}
	switch {
	case canonical && !lower:
		return 'c'
	case lower:
		return 'l'
	case upper:
		return 'u'
	}
	return 'm'
}

// codings returns the content-codings of an Accept-Encoding value, lower-cased, without
// parameters, sorted and joined by ",".
func codings(v string) string {
	parts := strings.Split(v, ",")
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		p, _, _ = strings.Cut(p, ";")
		p = strings.ToLower(strings.TrimSpace(p))
		if p != "" && len(out) < 16 {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return "-"
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

func acceptClass(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	switch {
	case v == "":
		return "-"
	case v == "*/*":
		return "any"
	case strings.HasPrefix(v, "text/html"):
		return "html"
	case strings.HasPrefix(v, "application/json"):
		return "json"
	}
	return "other"
}
