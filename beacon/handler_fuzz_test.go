package beacon

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// FuzzHandler feeds arbitrary bytes to the query handler: as a wire message through
// handle (unpack, respond, limit, pack) and, when they unpack, as a dns.Msg through
// respond. Nothing may panic; every response must pack, stay within the UDP size limit,
// answer the query's ID, and a report must carry a printable name.
func FuzzHandler(f *testing.F) {
	m := newMinter(f, testSecret, testZone)
	s, err := New(Options{
		Minter:    m,
		Addrs:     []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")},
		NSAddrs:   []netip.Addr{netip.MustParseAddr("192.0.2.53")},
		NS:        []string{"ns1.t.example.net", "ns.other.example"},
		RateLimit: RateLimit{Responses: -1, Reports: -1},
		OnQuery:   func(Query) {},
	})
	if err != nil {
		f.Fatal(err)
	}
	tok := mintDNS(f, m)
	seed := func(name string, qtype uint16, edit func(*dns.Msg)) {
		q := query(name, qtype)
		if edit != nil {
			edit(q)
		}
		b, err := q.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeANY, dns.TypeNS, dns.TypeSOA, dns.TypeAXFR} {
		seed(tok.Value+".", qt, nil)
		seed(testZone+".", qt, nil)
		seed("ns1."+testZone+".", qt, nil)
	}
	seed("a.b."+mixCase(tok.Value)+".", dns.TypeHTTPS, func(q *dns.Msg) {
		q.SetEdns0(4096, true)
		o := q.IsEdns0()
		o.Option = append(o.Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 2, SourceNetmask: 56, Address: net.ParseIP("2001:db8:1:2::")})
		o.Option = append(o.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
	})
	seed("example.com.", dns.TypeA, nil)
	seed("unknown."+testZone+".", dns.TypeMX, func(q *dns.Msg) { q.Opcode = dns.OpcodeNotify })
	seed(testZone+".", dns.TypeSOA, func(q *dns.Msg) { q.SetEdns0(512, false); q.IsEdns0().SetVersion(2) })
	f.Add([]byte{})
	f.Add(make([]byte, 12))

	src := netip.MustParseAddrPort("192.0.2.200:5353")
	out := make([]byte, 0, 2048)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, proto := range []string{"udp", "tcp"} {
			b := s.handle(data, src, proto, out)
			if b == nil {
				continue
			}
			var r dns.Msg
			if err := r.Unpack(b); err != nil {
				t.Fatalf("%s response does not unpack: %v", proto, err)
			}
			if !r.Response || len(data) < 2 || r.Id != uint16(data[0])<<8|uint16(data[1]) {
				t.Fatalf("%s response QR=%v id %d for a query with id bytes %x", proto, r.Response, r.Id, data[:min(len(data), 2)])
			}
			if proto == "udp" && len(b) > ednsSize {
				t.Fatalf("udp response of %d bytes", len(b))
			}
			if len(b) > 2048 {
				t.Fatalf("%s response of %d bytes", proto, len(b))
			}
		}

		var req dns.Msg
		if req.Unpack(data) != nil {
			return
		}
		resp, q, hit := s.respond(&req, src, "udp", time.Unix(0, 0))
		if resp == nil {
			if !req.Response {
				t.Fatalf("no response to a query")
			}
			return
		}
		if _, err := resp.Pack(); err != nil {
			t.Fatalf("response does not pack: %v\n%v", err, resp)
		}
		if hit {
			if printable(q.Name) != q.Name || len(q.Name) > 1100 {
				t.Fatalf("reported name %q is not printable and bounded", q.Name)
			}
			if q.Token.IsZero() && q.Kind == "" {
				t.Fatalf("hit without a token")
			}
		}
	})
}
