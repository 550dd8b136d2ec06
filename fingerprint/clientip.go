package fingerprint

import (
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP returns the client's address. It is the socket peer (r.RemoteAddr), unless the peer is
// inside one of trusted; then it walks X-Forwarded-For from the right (all its header lines, in
// order), skipping trusted addresses, and returns the first untrusted one. Without
// X-Forwarded-For it does the same with the for= parameters of RFC 7239 Forwarded. Entries a
// client could have forged (everything left of the first untrusted hop) are never used; when an
// entry cannot be parsed, the nearest trusted hop's address is returned instead. The result is an
// IP address without port ("" only when RemoteAddr is unusable).
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
	peer, ok := parseHostIP(r.RemoteAddr)
	if !ok {
		return ""
	}
	if !inPrefixes(peer, trusted) {
		return peer.String()
	}
	hops := forwardedHops(r.Header)
	last := peer // the nearest trusted hop so far
	for i := len(hops) - 1; i >= 0; i-- {
		ip, ok := parseHostIP(hops[i])
		if !ok {
			return last.String()
		}
		if !inPrefixes(ip, trusted) {
			return ip.String()
		}
		last = ip
	}
	return last.String()
}

// forwardedHops returns the addresses a chain of proxies reported, client first.
func forwardedHops(h http.Header) []string {
	if xff := h.Values("X-Forwarded-For"); len(xff) > 0 {
		var hops []string
		for _, line := range xff {
			for _, p := range strings.Split(line, ",") {
				if p = strings.TrimSpace(p); p != "" && len(hops) < 64 {
					hops = append(hops, p)
				}
			}
		}
		return hops
	}
	var hops []string
	for _, line := range h.Values("Forwarded") {
		for _, elem := range strings.Split(line, ",") {
			for _, pair := range strings.Split(elem, ";") {
				k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(k), "for") {
					continue
				}
				v = strings.Trim(strings.TrimSpace(v), `"`)
				if len(hops) < 64 {
					hops = append(hops, v)
				}
			}
		}
	}
	return hops
}

// parseHostIP parses "ip", "ip:port", "[ipv6]" or "[ipv6]:port".
func parseHostIP(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if i := strings.IndexByte(s, '%'); i >= 0 { // zone
		s = s[:i]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
