package beacon

import (
	"bytes"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/rs/zerolog"
)

func TestLimiterBucket(t *testing.T) {
	l := newLimiter(RateLimit{Responses: 10, ResponseBurst: 3, Reports: 1, ReportBurst: 2, MaxSources: 100})
	key := sourceKey(netip.MustParseAddr("192.0.2.1"))
	var resp, slips, reps int
	for range 11 {
		d := l.admit(key, time.Second, true, true)
		if d.respond {
			resp++
		}
		if d.slip {
			slips++
		}
		if d.report {
			reps++
		}
	}
	if resp != 3 || slips != 4 || reps != 2 {
		t.Errorf("at one instant: %d responses, %d slips, %d reports; want 3, 4, 2", resp, slips, reps)
	}
	// 100 ms later one response has refilled, no report yet.
	if d := l.admit(key, 1100*time.Millisecond, true, true); !d.respond || d.report {
		t.Errorf("after 100ms: %+v, want a response and no report", d)
	}
	// Another source has its own buckets.
	if d := l.admit(sourceKey(netip.MustParseAddr("192.0.2.2")), time.Second, true, true); !d.respond || !d.report {
		t.Errorf("another source: %+v", d)
	}
}

func TestLimiterOff(t *testing.T) {
	l := newLimiter(RateLimit{Responses: -1, ResponseBurst: 1, Reports: -1, ReportBurst: 1, MaxSources: 1})
	for i := range 1000 {
		d := l.admit(sourceKey(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})), 0, true, true)
		if !d.respond || !d.report {
			t.Fatalf("limits off: %+v", d)
		}
	}
	if n := l.sources(); n != 0 {
		t.Errorf("limits off: %d sources tracked, want 0", n)
	}
}

func TestLimiterMemoryBounded(t *testing.T) {
	const maxSources = 256
	l := newLimiter(RateLimit{Responses: 10, ResponseBurst: 2, Reports: 1, ReportBurst: 1, MaxSources: maxSources})
	// A spoofed flood: every packet from a new address.
	responded := 0
	for i := range 100000 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		if l.admit(sourceKey(a), time.Duration(i)*time.Microsecond, true, false).respond {
			responded++
		}
	}
	if n := l.sources(); n > maxSources {
		t.Errorf("%d sources tracked, want at most %d", n, maxSources)
	}
	// Sources beyond the table share a bucket per shard: far fewer than one response
	// each got through.
	if responded > 2*maxSources+limiterShards*(2+1) {
		t.Errorf("%d of 100000 spoofed queries answered", responded)
	}
	// Idle sources are forgotten: much later, a new source gets its own bucket.
	later := time.Hour
	fresh := sourceKey(netip.MustParseAddr("203.0.113.9"))
	if d := l.admit(fresh, later, true, false); !d.respond {
		t.Errorf("new source after the flood: %+v", d)
	}
}

func TestSourceKey(t *testing.T) {
	if sourceKey(netip.MustParseAddr("2001:db8::1")) != sourceKey(netip.MustParseAddr("2001:db8::ffff:1")) {
		t.Errorf("two addresses of one IPv6 /64 are different sources")
	}
	if sourceKey(netip.MustParseAddr("2001:db8:0:1::1")) == sourceKey(netip.MustParseAddr("2001:db8::1")) {
		t.Errorf("two IPv6 /64s are one source")
	}
	if sourceKey(netip.MustParseAddr("::ffff:192.0.2.1")) != sourceKey(netip.MustParseAddr("192.0.2.1")) {
		t.Errorf("a v4-mapped address is not its IPv4 source")
	}
	if sourceKey(netip.MustParseAddr("192.0.2.1")) == sourceKey(netip.MustParseAddr("192.0.2.2")) {
		t.Errorf("two IPv4 addresses are one source")
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"a.example.":                   "a.example.",
		"a\x1b[31m\n.b.":               `a\x1b[31m\x0a.b.`,
		"\xff":                         `\xff`,
		strings.Repeat("a", 400):       strings.Repeat("a", maxLogged) + "...",
		strings.Repeat("a", maxLogged): strings.Repeat("a", maxLogged),
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLogging(t *testing.T) {
	var buf lockedBuffer
	log := zerolog.New(&buf).Level(zerolog.DebugLevel)
	ts := startServer(t, Options{Logger: &log})
	tok := mintDNS(t, ts.c.minter)
	exchange(t, "udp", ts.addr, query(fqdn(tok.Value), dns.TypeA))
	// A name with a control byte and a quote: miekg/dns escapes it on unpack.
	exchange(t, "udp", ts.addr, query("x\\027y\\\"."+testZone+".", dns.TypeA))
	if q := ts.waitReport(2 * time.Second); q == nil {
		t.Fatal("no report")
	}
	out := buf.String()
	if !strings.Contains(out, `"level":"info"`) || !strings.Contains(out, tok.ID.String()) || !strings.Contains(out, "beacon: token lookup") {
		t.Errorf("token lookup not logged at info:\n%s", out)
	}
	if !strings.Contains(out, `"level":"debug"`) || !strings.Contains(out, `x\\027y`) {
		t.Errorf("other query not logged at debug with its name escaped:\n%s", out)
	}
	if strings.ContainsRune(out, 0x1b) {
		t.Errorf("log holds a raw control byte")
	}
}

func TestClientSubnet(t *testing.T) {
	opt := func(e *dns.EDNS0_SUBNET) *dns.OPT {
		o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		o.Option = append(o.Option, &dns.EDNS0_LOCAL{Code: 65001, Data: []byte{1}}, e)
		return o
	}
	for _, c := range []struct {
		e    *dns.EDNS0_SUBNET
		want string
	}{
		{&dns.EDNS0_SUBNET{Family: 1, SourceNetmask: 24, Address: net.ParseIP("198.51.100.77")}, "198.51.100.0/24"},
		{&dns.EDNS0_SUBNET{Family: 2, SourceNetmask: 56, Address: net.ParseIP("2001:db8:aa:bbcc::1")}, "2001:db8:aa:bb00::/56"},
		{&dns.EDNS0_SUBNET{Family: 1, SourceNetmask: 0, Address: net.IPv4zero}, "0.0.0.0/0"},
		{&dns.EDNS0_SUBNET{Family: 0, SourceNetmask: 0, Address: net.IPv4zero}, ""},
		{&dns.EDNS0_SUBNET{Family: 1, SourceNetmask: 40, Address: net.ParseIP("198.51.100.77")}, ""},
	} {
		if got := clientSubnet(opt(c.e)); got != c.want {
			t.Errorf("%v: %q, want %q", c.e, got, c.want)
		}
	}
	if got := clientSubnet(nil); got != "" {
		t.Errorf("no OPT: %q", got)
	}
}

// lockedBuffer is a bytes.Buffer safe for the server's concurrent log writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
