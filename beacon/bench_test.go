package beacon

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

func benchServer(b *testing.B, opts Options) (*Server, string) {
	b.Helper()
	m := newMinter(b, testSecret, testZone)
	opts.Minter = m
	opts.RateLimit = RateLimit{Responses: -1, Reports: -1}
	s, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	return s, mintDNS(b, m).Value + "."
}

// BenchmarkHandleTokenQuery is one UDP token lookup end to end in memory: unpack,
// recognise, respond, rate-limit, report (queue full: counted), pack.
func BenchmarkHandleTokenQuery(b *testing.B) {
	s, name := benchServer(b, Options{})
	benchHandle(b, s, mixCase(name), dns.TypeA, true)
}

// BenchmarkHandleTokenQueryAddrs is the same with an A answer.
func BenchmarkHandleTokenQueryAddrs(b *testing.B) {
	s, name := benchServer(b, Options{Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}})
	benchHandle(b, s, name, dns.TypeA, true)
}

// BenchmarkHandleUnknown is a lookup of an unknown name in the zone (NXDOMAIN).
func BenchmarkHandleUnknown(b *testing.B) {
	s, _ := benchServer(b, Options{})
	benchHandle(b, s, "www."+testZone+".", dns.TypeA, true)
}

// BenchmarkHandleTokenQueryLimited is a token lookup with the default rate limits on
// (a fresh source each time the burst runs out would be unrealistic; this charges one
// source, so most responses are limited: the cost of the flood path).
func BenchmarkHandleTokenQueryLimited(b *testing.B) {
	m := newMinter(b, testSecret, testZone)
	s, err := New(Options{Minter: m})
	if err != nil {
		b.Fatal(err)
	}
	benchHandle(b, s, mintDNS(b, m).Value+".", dns.TypeA, false)
}

// BenchmarkClassify is zone placement and token recognition alone.
func BenchmarkClassify(b *testing.B) {
	s, name := benchServer(b, Options{})
	name = mixCase(name)
	b.ReportAllocs()
	for b.Loop() {
		if p, _, _ := s.classify(name); p != tokenAt {
			b.Fatal("not a token")
		}
	}
}

func benchHandle(b *testing.B, s *Server, name string, qtype uint16, mustAnswer bool) {
	pkt := rawQuery(b, name, qtype)
	src := netip.MustParseAddrPort("192.0.2.200:5353")
	out := make([]byte, 0, 2048)
	// Fill the report queue so reports are counted and dropped, not accumulated.
	for len(s.reports) < cap(s.reports) {
		s.reports <- Query{}
	}
	b.ReportAllocs()
	for b.Loop() {
		if s.handle(pkt, src, "udp", out) == nil && mustAnswer {
			b.Fatal("no response")
		}
	}
}
