package fingerprint

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
)

// JA3 returns the JA3 string and its MD5 (lower-case hex) for a ClientHello, per the Salesforce
// specification: "SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats", each
// list in wire order as decimal values joined by "-", with GREASE values removed from the
// ciphers, extensions and curves. A nil hello gives "" and "".
func JA3(h *ClientHello) (full, md5hex string) {
	if h == nil {
		return "", ""
	}
	b := make([]byte, 0, 256)
	b = strconv.AppendUint(b, uint64(h.Version), 10)
	b = append(b, ',')
	b = appendDecList(b, h.Ciphers)
	b = append(b, ',')
	b = appendDecList(b, h.Extensions)
	b = append(b, ',')
	b = appendDecList(b, h.Curves)
	b = append(b, ',')
	for i, p := range h.PointFormats {
		if i > 0 {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, uint64(p), 10)
	}
	sum := md5.Sum(b)
	return string(b), hex.EncodeToString(sum[:])
}

func appendDecList(b []byte, vs []uint16) []byte {
	first := true
	for _, v := range vs {
		if isGREASE(v) {
			continue
		}
		if !first {
			b = append(b, '-')
		}
		first = false
		b = strconv.AppendUint(b, uint64(v), 10)
	}
	return b
}

// JA4 returns the JA4 TLS client fingerprint of a ClientHello, per the FoxIO specification
// (technical_details/JA4.md): transport ('t' TCP, 'q' QUIC, 'd' DTLS), TLS version (highest
// non-GREASE supported_versions value, else the legacy version), 'd' with SNI or 'i' without,
// two-digit cipher and extension counts (GREASE excluded, capped at 99), the first and last
// characters of the first ALPN value ("00" without ALPN), then "_" and the first 12 hex digits of
// SHA-256 over the sorted cipher list, then "_" and the first 12 hex digits of SHA-256 over the
// sorted extension list without SNI (0000) and ALPN (0010), followed by "_" and the signature
// algorithms in wire order. Empty lists hash to "000000000000". A nil hello gives "".
func JA4(h *ClientHello, transport byte) string {
	if h == nil {
		return ""
	}
	a, ciphers, exts, sigs := ja4Parts(h, transport)
	return a + "_" + ja4Hash(ciphers) + "_" + ja4Hash(joinExtSigs(exts, sigs))
}

// JA4Raw returns the raw (unhashed, sorted) form of JA4, called JA4_r in the specification.
func JA4Raw(h *ClientHello, transport byte) string {
	if h == nil {
		return ""
	}
	a, ciphers, exts, sigs := ja4Parts(h, transport)
	return a + "_" + ciphers + "_" + joinExtSigs(exts, sigs)
}

func joinExtSigs(exts, sigs string) string {
	if exts == "" {
		return ""
	}
	if sigs == "" {
		return exts
	}
	return exts + "_" + sigs
}

func ja4Hash(s string) string {
	if s == "" {
		return "000000000000"
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}

func ja4Parts(h *ClientHello, transport byte) (a, ciphers, exts, sigs string) {
	cs := withoutGREASE(h.Ciphers, false)
	es := withoutGREASE(h.Extensions, false)
	nExt := len(es)
	sni := byte('i')
	if slices.Contains(es, 0x0000) {
		sni = 'd'
	}
	ab := make([]byte, 0, 10)
	ab = append(ab, transport)
	ab = append(ab, ja4Version(h)...)
	ab = append(ab, sni)
	ab = appendTwoDigits(ab, len(cs))
	ab = appendTwoDigits(ab, nExt)
	ab = append(ab, ja4ALPN(h.ALPN)...)

	slices.Sort(cs)
	es = withoutGREASE(es, true)
	slices.Sort(es)
	return string(ab), hexList(cs), hexList(es), hexList(withoutGREASE(h.SignatureAlgorithms, false))
}

// withoutGREASE copies vs without GREASE values (and, if dropSNIALPN, without 0x0000 and 0x0010).
func withoutGREASE(vs []uint16, dropSNIALPN bool) []uint16 {
	out := make([]uint16, 0, len(vs))
	for _, v := range vs {
		if isGREASE(v) || (dropSNIALPN && (v == 0x0000 || v == 0x0010)) {
			continue
		}
		out = append(out, v)
	}
	return out
}

func hexList(vs []uint16) string {
	if len(vs) == 0 {
		return ""
	}
	const digits = "0123456789abcdef"
	b := make([]byte, 0, len(vs)*5)
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf])
	}
	return string(b)
}

func appendTwoDigits(b []byte, n int) []byte {
	n = min(n, 99)
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

func ja4Version(h *ClientHello) string {
	v := h.Version
	best, found := uint16(0), false
	for _, sv := range h.SupportedVersions {
		if isGREASE(sv) {
			continue
		}
		if !found || sv > best {
			best, found = sv, true
		}
	}
	if found {
		v = best
	}
	switch v {
	case 0x0304:
		return "13"
	case 0x0303:
		return "12"
	case 0x0302:
		return "11"
	case 0x0301:
		return "10"
	case 0x0300:
		return "s3"
	case 0x0002:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

func ja4ALPN(alpn []string) string {
	if len(alpn) == 0 || alpn[0] == "" {
		return "00"
	}
	v := alpn[0]
	first, last := v[0], v[len(v)-1]
	if isAlnum(first) && isAlnum(last) {
		return string([]byte{first, last})
	}
	x := hex.EncodeToString([]byte(v))
	return string([]byte{x[0], x[len(x)-1]})
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
