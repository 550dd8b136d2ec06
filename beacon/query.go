package beacon

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/miekg/dns"

	"github.com/honeyapi/honeyapi/tokens"
)

// Query is one lookup of a name that holds a token: what OnQuery receives.
//
// Every string in it is printable ASCII: Name is in DNS presentation format, where
// miekg/dns escapes bytes outside the printable range as \DDD and special characters
// with a backslash, and it is at most a few hundred bytes.
type Query struct {
	// Time is when the query arrived.
	Time time.Time
	// Resolver is the address the query came from: usually a recursive resolver
	// (the attacker's ISP, a cloud provider's, a public one), sometimes the client.
	Resolver netip.AddrPort
	// Proto is "udp" or "tcp".
	Proto string
	// Name is the name as asked, with a trailing dot and its letter case preserved:
	// resolvers that randomise the case (0x20 encoding) are told apart from those that
	// do not. It may have labels to the left of the token label.
	Name string
	// Type is the query type ("A", "AAAA", "TXT", "HTTPS", "ANY", or "TYPE65280" for
	// types without a mnemonic).
	Type string
	// Class is the query class, normally "IN".
	Class string
	// Token is the ID of the token in the name and Kind its kind (tokens.DNS).
	Token tokens.ID
	Kind  tokens.Kind
	// ClientSubnet is the EDNS Client Subnet option (RFC 7871) when the resolver sent
	// one, as a masked prefix such as "198.51.100.0/24": it reveals the network of the
	// client behind the resolver. Empty otherwise.
	ClientSubnet string
	// DNSSECOK is the EDNS DO bit: the resolver validates (or forwards for) DNSSEC.
	DNSSECOK bool
	// RecursionDesired is the RD bit. Resolvers clear it when they ask an
	// authoritative server, so a set bit usually means a client (dig, a script)
	// queried the beacon directly.
	RecursionDesired bool
	// ID is the DNS message ID.
	ID uint16
}

func typeString(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

func classString(c uint16) string {
	if s, ok := dns.ClassToString[c]; ok {
		return s
	}
	return "CLASS" + strconv.Itoa(int(c))
}

// clientSubnet formats the EDNS Client Subnet option of opt, if any, as a masked prefix.
func clientSubnet(opt *dns.OPT) string {
	if opt == nil {
		return ""
	}
	for _, o := range opt.Option {
		e, ok := o.(*dns.EDNS0_SUBNET)
		if !ok {
			continue
		}
		var a netip.Addr
		switch e.Family {
		case 1:
			a, ok = netip.AddrFromSlice(e.Address.To4())
		case 2:
			a, ok = netip.AddrFromSlice(e.Address.To16())
		default:
			continue
		}
		if !ok || int(e.SourceNetmask) > a.BitLen() {
			continue
		}
		p, err := a.Prefix(int(e.SourceNetmask))
		if err != nil {
			continue
		}
		return p.String()
	}
	return ""
}

// maxLogged bounds the attacker-controlled strings the beacon logs.
const maxLogged = 300

// printable returns s for logging: bytes outside printable ASCII escaped as \xNN, cut to
// maxLogged bytes. Presentation-format names are already printable, so this is a check
// that normally returns s unchanged.
func printable(s string) string {
	ok := len(s) <= maxLogged
	for i := 0; ok && i < len(s); i++ {
		ok = s[i] >= 0x20 && s[i] < 0x7f
	}
	if ok {
		return s
	}
	const hex = "0123456789abcdef"
	b := make([]byte, 0, min(len(s), maxLogged)+8)
	i := 0
	for ; i < len(s) && len(b) < maxLogged; i++ {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			b = append(b, c)
		} else {
			b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
		}
	}
	if i < len(s) {
		b = append(b, "..."...)
	}
	return string(b)
}
