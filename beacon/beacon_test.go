package beacon

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/honeyapi/honeyapi/tokens"
)

func TestTokenLookupFires(t *testing.T) {
	ts := startServer(t, Options{})
	tok := mintDNS(t, ts.c.minter)
	name := mixCase(fqdn(tok.Value))

	m := query(name, dns.TypeA)
	m.SetEdns0(1232, true)
	opt := m.IsEdns0()
	opt.Option = append(opt.Option, &dns.EDNS0_SUBNET{
		Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24,
		Address: net.ParseIP("198.51.100.77").To4(),
	})
	r, local := exchange(t, "udp", ts.addr, m)

	if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 0 {
		t.Fatalf("got %s aa=%v answers=%d, want NOERROR aa=true NODATA", rcode(r), r.Authoritative, len(r.Answer))
	}
	if len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA {
		t.Fatalf("authority %v, want the SOA", r.Ns)
	}
	if got := r.Question[0].Name; got != name {
		t.Errorf("question echoed as %q, want %q (case preserved)", got, name)
	}
	if r.IsEdns0() == nil || !r.IsEdns0().Do() {
		t.Errorf("response OPT %v, want one with DO", r.IsEdns0())
	}

	q := ts.waitReport(2 * time.Second)
	if q == nil {
		t.Fatal("OnQuery not called")
	}
	if q.Resolver != local {
		t.Errorf("Resolver %v, want %v", q.Resolver, local)
	}
	if q.Name != name {
		t.Errorf("Name %q, want %q", q.Name, name)
	}
	want := Query{Proto: "udp", Type: "A", Class: "IN", Token: tok.ID, Kind: tokens.DNS,
		ClientSubnet: "198.51.100.0/24", DNSSECOK: true, ID: m.Id}
	got := Query{Proto: q.Proto, Type: q.Type, Class: q.Class, Token: q.Token, Kind: q.Kind,
		ClientSubnet: q.ClientSubnet, DNSSECOK: q.DNSSECOK, ID: q.ID}
	if got != want {
		t.Errorf("report\n got %+v\nwant %+v", got, want)
	}
	if q.RecursionDesired {
		t.Errorf("RecursionDesired set for a query without RD")
	}
	if time.Since(q.Time) > time.Minute || q.Time.After(time.Now()) {
		t.Errorf("Time %v", q.Time)
	}
}

func TestTokenFiresOnEveryType(t *testing.T) {
	ts := startServer(t, Options{})
	tok := mintDNS(t, ts.c.minter)
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeMX, dns.TypeHTTPS,
		dns.TypeSVCB, dns.TypeCNAME, dns.TypeNS, dns.TypeCAA, dns.TypeANY, 65280} {
		r, _ := exchange(t, "udp", ts.addr, query(fqdn(tok.Value), qt))
		if r.Rcode != dns.RcodeSuccess || !r.Authoritative {
			t.Errorf("%s: %s aa=%v, want NOERROR aa", typeString(qt), rcode(r), r.Authoritative)
		}
		q := ts.waitReport(2 * time.Second)
		if q == nil {
			t.Fatalf("%s: no report", typeString(qt))
		}
		if q.Type != typeString(qt) || q.Token != tok.ID {
			t.Errorf("%s: report type %q token %v", typeString(qt), q.Type, q.Token)
		}
	}
}

func TestANYIsMinimal(t *testing.T) {
	ts := startServer(t, Options{Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")}})
	tok := mintDNS(t, ts.c.minter)
	for _, name := range []string{fqdn(tok.Value), testZone + "."} {
		r, _ := exchange(t, "udp", ts.addr, query(name, dns.TypeANY))
		if len(r.Answer) != 1 {
			t.Fatalf("%s ANY: %d answers, want 1", name, len(r.Answer))
		}
		h, ok := r.Answer[0].(*dns.HINFO)
		if !ok || h.Cpu != "RFC8482" {
			t.Errorf("%s ANY: %v, want HINFO RFC8482", name, r.Answer[0])
		}
		if wantTTL := map[bool]uint32{true: 0, false: apexTTL}[name != testZone+"."]; ok && h.Hdr.Ttl != wantTTL {
			t.Errorf("%s ANY: TTL %d, want %d", name, h.Hdr.Ttl, wantTTL)
		}
	}
}

func TestPrefixLabels(t *testing.T) {
	ts := startServer(t, Options{})
	tok := mintDNS(t, ts.c.minter)
	label := tok.Fields["label"]

	r, _ := exchange(t, "udp", ts.addr, query("exfil-data.www."+fqdn(tok.Value), dns.TypeA))
	if r.Rcode != dns.RcodeSuccess {
		t.Errorf("name below a token: %s, want NOERROR", rcode(r))
	}
	if q := ts.waitReport(2 * time.Second); q == nil || q.Token != tok.ID {
		t.Fatalf("name below a token: report %v, want token %v", q, tok.ID)
	} else if !strings.HasPrefix(q.Name, "exfil-data.www.") {
		t.Errorf("Name %q lost the prefix labels", q.Name)
	}

	// A token label that is not directly under the zone is not a token name.
	r, _ = exchange(t, "udp", ts.addr, query(label+".x."+testZone+".", dns.TypeA))
	if r.Rcode != dns.RcodeNameError {
		t.Errorf("token label deeper in the zone: %s, want NXDOMAIN", rcode(r))
	}
	ts.noReport(t)
}

func TestAddrsAnswered(t *testing.T) {
	ts := startServer(t, Options{
		Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("2001:db8::10"), netip.MustParseAddr("::ffff:192.0.2.11")},
		TTL:   30 * time.Second,
	})
	tok := mintDNS(t, ts.c.minter)
	r, _ := exchange(t, "udp", ts.addr, query(fqdn(tok.Value), dns.TypeA))
	if len(r.Answer) != 2 {
		t.Fatalf("A: %v, want 2 answers", r.Answer)
	}
	for i, want := range []string{"192.0.2.10", "192.0.2.11"} {
		a := r.Answer[i].(*dns.A)
		if a.A.String() != want || a.Hdr.Ttl != 30 {
			t.Errorf("A[%d] = %v ttl %d, want %s ttl 30", i, a.A, a.Hdr.Ttl, want)
		}
	}
	r, _ = exchange(t, "udp", ts.addr, query(fqdn(tok.Value), dns.TypeAAAA))
	if len(r.Answer) != 1 || r.Answer[0].(*dns.AAAA).AAAA.String() != "2001:db8::10" {
		t.Errorf("AAAA: %v", r.Answer)
	}
	r, _ = exchange(t, "udp", ts.addr, query(fqdn(tok.Value), dns.TypeTXT))
	if len(r.Answer) != 0 || len(r.Ns) != 1 || r.Ns[0].(*dns.SOA).Hdr.Ttl != 30 || r.Ns[0].(*dns.SOA).Minttl != 30 {
		t.Errorf("TXT: %v / %v, want NODATA with the SOA at TTL 30", r.Answer, r.Ns)
	}
}

func TestDefaultTTLZero(t *testing.T) {
	ts := startServer(t, Options{Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.10")}})
	tok := mintDNS(t, ts.c.minter)
	r, _ := exchange(t, "udp", ts.addr, query(fqdn(tok.Value), dns.TypeA))
	if len(r.Answer) != 1 || r.Answer[0].Header().Ttl != 0 {
		t.Errorf("A: %v, want one answer with TTL 0", r.Answer)
	}
	r, _ = exchange(t, "udp", ts.addr, query("nope."+testZone+".", dns.TypeA))
	if soa := r.Ns[0].(*dns.SOA); soa.Hdr.Ttl != 0 || soa.Minttl != 0 {
		t.Errorf("negative SOA ttl %d minimum %d, want 0 and 0", soa.Hdr.Ttl, soa.Minttl)
	}
}

func TestTCP(t *testing.T) {
	ts := startServer(t, Options{})
	tok := mintDNS(t, ts.c.minter)
	c := &dns.Client{Net: "tcp", Timeout: 2 * time.Second}
	conn, err := c.Dial(ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Several queries on one connection (RFC 7766).
	for i, name := range []string{fqdn(tok.Value), "unknown." + testZone + ".", testZone + "."} {
		r, _, err := c.ExchangeWithConn(query(name, dns.TypeA), conn)
		if err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
		if want := []int{dns.RcodeSuccess, dns.RcodeNameError, dns.RcodeSuccess}[i]; r.Rcode != want {
			t.Errorf("query %d %s: %s, want %s", i, name, rcode(r), dns.RcodeToString[want])
		}
	}
	q := ts.waitReport(2 * time.Second)
	if q == nil || q.Proto != "tcp" || q.Token != tok.ID {
		t.Fatalf("report %+v, want a tcp report of the token", q)
	}
	if q.Resolver != addrPortOf(conn.LocalAddr()) {
		t.Errorf("Resolver %v, want %v", q.Resolver, conn.LocalAddr())
	}
	ts.noReport(t)
}

func TestUnknownNameNXDOMAIN(t *testing.T) {
	ts := startServer(t, Options{})
	other := newMinter(t, []byte("another-deployment-secret-entirely"), testZone)
	foreign := mintDNS(t, other)
	for _, name := range []string{"www." + testZone + ".", fqdn(foreign.Value), "a.b.c." + testZone + "."} {
		r, _ := exchange(t, "udp", ts.addr, query(name, dns.TypeA))
		if r.Rcode != dns.RcodeNameError || !r.Authoritative {
			t.Errorf("%s: %s aa=%v, want NXDOMAIN aa", name, rcode(r), r.Authoritative)
		}
		if len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA {
			t.Errorf("%s: authority %v, want the SOA", name, r.Ns)
		}
	}
	ts.noReport(t)
}

func TestOutsideZoneRefused(t *testing.T) {
	ts := startServer(t, Options{})
	tok := mintDNS(t, ts.c.minter)
	label := tok.Fields["label"]
	for _, name := range []string{
		"example.com.",
		"example.net.",                   // the parent
		"xt.example.net.",                // shares a suffix but not a label boundary
		label + ".xt.example.net.",       // a token label in a look-alike zone
		label + ".example.net.",          // and in the parent
		label + `.t\.example.net.`,       // an escaped dot is not a label boundary
		testZone + ".evil.",              // the zone as a prefix
		".",                              // the root
		"version.bind.",                  // a CHAOS-style probe, asked in IN
		label + "." + testZone + ".com.", // a search-domain suffix
	} {
		r, _ := exchange(t, "udp", ts.addr, query(name, dns.TypeA))
		if r.Rcode != dns.RcodeRefused || r.Authoritative {
			t.Errorf("%s: %s aa=%v, want REFUSED without aa", name, rcode(r), r.Authoritative)
		}
	}
	m := query("version.bind.", dns.TypeTXT)
	m.Question[0].Qclass = dns.ClassCHAOS
	if r, _ := exchange(t, "udp", ts.addr, m); r.Rcode != dns.RcodeRefused {
		t.Errorf("version.bind CH TXT: %s, want REFUSED", rcode(r))
	}
	ts.noReport(t)
}

func TestApex(t *testing.T) {
	opts := Options{NSAddrs: []netip.Addr{netip.MustParseAddr("192.0.2.53")}}
	ts := startServer(t, opts)
	r, _ := exchange(t, "udp", ts.addr, query("T.Example.NET.", dns.TypeSOA))
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 1 {
		t.Fatalf("SOA: %s aa=%v %v", rcode(r), r.Authoritative, r.Answer)
	}
	soa := r.Answer[0].(*dns.SOA)
	if soa.Ns != "ns1."+testZone+"." || soa.Mbox != "hostmaster."+testZone+"." || soa.Hdr.Ttl != apexTTL {
		t.Errorf("SOA %v", soa)
	}
	if s := soa.Serial; s < 2023010101 || s > 2025123199 || s%100 != 1 {
		t.Errorf("serial %d, want a YYYYMMDD01 date serial", s)
	}
	// The serial is the same on every query and on another server for the zone.
	ts2 := startServer(t, opts)
	r2, _ := exchange(t, "tcp", ts2.addr, query(testZone+".", dns.TypeSOA))
	if s2 := r2.Answer[0].(*dns.SOA); s2.Serial != soa.Serial || s2.String() != strings.Replace(soa.String(), "T.Example.NET.", testZone+".", 1) {
		t.Errorf("second server SOA %v, first %v", s2, soa)
	}

	r, _ = exchange(t, "udp", ts.addr, query(testZone+".", dns.TypeNS))
	if len(r.Answer) != 1 || r.Answer[0].(*dns.NS).Ns != "ns1."+testZone+"." {
		t.Errorf("NS: %v", r.Answer)
	}
	if len(r.Extra) != 1 || r.Extra[0].(*dns.A).A.String() != "192.0.2.53" {
		t.Errorf("NS glue: %v", r.Extra)
	}
	r, _ = exchange(t, "udp", ts.addr, query("ns1."+testZone+".", dns.TypeA))
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.53" {
		t.Errorf("ns1 A: %s %v", rcode(r), r.Answer)
	}
	r, _ = exchange(t, "udp", ts.addr, query("ns1."+testZone+".", dns.TypeAAAA))
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
		t.Errorf("ns1 AAAA: %s %v, want NODATA", rcode(r), r.Answer)
	}
	r, _ = exchange(t, "udp", ts.addr, query(testZone+".", dns.TypeA))
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || len(r.Ns) != 1 {
		t.Errorf("apex A: %s %v %v, want NODATA with SOA", rcode(r), r.Answer, r.Ns)
	}
	r, _ = exchange(t, "udp", ts.addr, query(testZone+".", dns.TypeAXFR))
	if r.Rcode != dns.RcodeRefused {
		t.Errorf("AXFR over UDP: %s, want REFUSED", rcode(r))
	}
	ts.noReport(t)
}

func TestCustomNS(t *testing.T) {
	ts := startServer(t, Options{NS: []string{"dns1.example.org", "a.ns.t.example.net."}})
	r, _ := exchange(t, "udp", ts.addr, query(testZone+".", dns.TypeNS))
	if len(r.Answer) != 2 || r.Answer[0].(*dns.NS).Ns != "dns1.example.org." || r.Answer[1].(*dns.NS).Ns != "a.ns.t.example.net." {
		t.Errorf("NS: %v", r.Answer)
	}
	// "ns.<zone>" is an empty non-terminal: NODATA, not NXDOMAIN.
	r, _ = exchange(t, "udp", ts.addr, query("ns."+testZone+".", dns.TypeA))
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
		t.Errorf("empty non-terminal: %s %v, want NODATA", rcode(r), r.Answer)
	}
	r, _ = exchange(t, "udp", ts.addr, query(testZone+".", dns.TypeSOA))
	if r.Answer[0].(*dns.SOA).Ns != "dns1.example.org." {
		t.Errorf("SOA MNAME %q, want the first NS", r.Answer[0].(*dns.SOA).Ns)
	}
}

func TestOpcodesAndFormat(t *testing.T) {
	ts := startServer(t, Options{})
	tok := mintDNS(t, ts.c.minter)

	for _, op := range []int{dns.OpcodeNotify, dns.OpcodeUpdate, dns.OpcodeStatus, dns.OpcodeIQuery} {
		m := query(fqdn(tok.Value), dns.TypeSOA)
		m.Opcode = op
		r, _ := exchange(t, "udp", ts.addr, m)
		if r.Rcode != dns.RcodeNotImplemented || r.Opcode != op {
			t.Errorf("opcode %s: %s opcode %d, want NOTIMP", dns.OpcodeToString[op], rcode(r), r.Opcode)
		}
	}

	m := query(testZone+".", dns.TypeA)
	m.Question = append(m.Question, dns.Question{Name: testZone + ".", Qtype: dns.TypeAAAA, Qclass: dns.ClassINET})
	if r, _ := exchange(t, "udp", ts.addr, m); r.Rcode != dns.RcodeFormatError {
		t.Errorf("two questions: %s, want FORMERR", rcode(r))
	}

	m = query(testZone+".", dns.TypeSOA)
	m.SetEdns0(1232, false)
	m.IsEdns0().SetVersion(1)
	if r, _ := exchange(t, "udp", ts.addr, m); r.Rcode != dns.RcodeBadVers {
		t.Errorf("EDNS version 1: %s, want BADVERS", rcode(r))
	}
	ts.noReport(t)
}

// rawQuery packs a query by hand.
func rawQuery(t testing.TB, name string, qtype uint16) []byte {
	t.Helper()
	b, err := query(name, qtype).Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMalformedPackets(t *testing.T) {
	ts := startServer(t, Options{RateLimit: RateLimit{Responses: -1}})
	conn, err := net.Dial("udp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	valid := rawQuery(t, "x."+testZone+".", dns.TypeA)
	for i := range 2000 {
		var p []byte
		switch i % 4 {
		case 0: // random bytes
			p = make([]byte, rng.IntN(600))
			for j := range p {
				p[j] = byte(rng.Uint32())
			}
		case 1: // a valid query cut short
			p = valid[:rng.IntN(len(valid))]
		case 2: // a valid query with random bytes flipped
			p = append([]byte(nil), valid...)
			for range 1 + rng.IntN(4) {
				p[rng.IntN(len(p))] = byte(rng.Uint32())
			}
		case 3: // a response (QR set), and inflated counts
			p = append([]byte(nil), valid...)
			p[2] |= 0x80
			if i%8 == 3 {
				p[2] &^= 0x80
				binary.BigEndian.PutUint16(p[4:], 0xffff)
			}
		}
		if _, err := conn.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	// TCP: garbage after a length prefix, and a frame shorter than a header.
	for _, p := range [][]byte{{0, 40, 1, 2, 3}, {0, 3, 1, 2, 3}, {0xff, 0xff, 1}} {
		tc, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		tc.Write(p)
		tc.Close()
	}

	r, _ := exchange(t, "udp", ts.addr, query("after."+testZone+".", dns.TypeA))
	if r.Rcode != dns.RcodeNameError {
		t.Errorf("after the garbage: %s, want NXDOMAIN", rcode(r))
	}
	r, _ = exchange(t, "tcp", ts.addr, query("after."+testZone+".", dns.TypeA))
	if r.Rcode != dns.RcodeNameError {
		t.Errorf("after the garbage, tcp: %s, want NXDOMAIN", rcode(r))
	}
	if st := ts.Stats(); st.Malformed == 0 {
		t.Errorf("Stats.Malformed = 0 after malformed packets")
	}
}

func TestUDPTruncation(t *testing.T) {
	var addrs []netip.Addr
	for i := range MaxAddrs / 2 {
		addrs = append(addrs, netip.AddrFrom4([4]byte{192, 0, 2, byte(i + 1)}),
			netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i + 1)}))
	}
	ts := startServer(t, Options{
		NS:      []string{"ns1.t.example.net", "ns2.t.example.net", "ns3.t.example.net", "ns4.t.example.net"},
		NSAddrs: addrs,
	})
	// 4 NS and 4×8 addresses of glue do not fit in 512 bytes.
	m := query(testZone+".", dns.TypeNS)
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Truncated {
		t.Errorf("NS over UDP without EDNS: TC clear, want set")
	}
	r.Compress = true // as it was sent
	if n := r.Len(); n > dns.MinMsgSize {
		t.Errorf("UDP response %d bytes, want at most 512", n)
	}
	r, _ = exchange(t, "tcp", ts.addr, m)
	if r.Truncated || len(r.Answer) != 4 || len(r.Extra) != 4*MaxAddrs {
		t.Errorf("NS over TCP: tc=%v %d answers %d extra, want 4 and 32", r.Truncated, len(r.Answer), len(r.Extra))
	}
}

func TestRateLimitHolds(t *testing.T) {
	const burst, reportBurst = 5, 3
	ts := startServer(t, Options{RateLimit: RateLimit{
		Responses: 10, ResponseBurst: burst, Reports: 2, ReportBurst: reportBurst,
	}})
	tok := mintDNS(t, ts.c.minter)
	conn, err := net.Dial("udp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	const n = 200
	start := time.Now()
	m := query(fqdn(tok.Value), dns.TypeA)
	qsize := len(rawQuery(t, fqdn(tok.Value), dns.TypeA))
	for i := range n {
		m.Id = uint16(i)
		b, _ := m.Pack()
		if _, err := conn.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	full, truncated := 0, 0
	buf := make([]byte, 2048)
	conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	for {
		k, err := conn.Read(buf)
		if err != nil {
			break
		}
		var r dns.Msg
		if err := r.Unpack(buf[:k]); err != nil {
			t.Fatal(err)
		}
		if r.Truncated {
			truncated++
			if len(r.Answer)+len(r.Ns)+len(r.Extra) != 0 || k > qsize {
				t.Errorf("slipped response has records or is larger than the query (%d bytes)", k)
			}
		} else {
			full++
		}
	}
	elapsed := time.Since(start).Seconds()
	maxFull := burst + int(elapsed*10) + 1
	if full > maxFull || full < burst {
		t.Errorf("%d full responses to a burst of %d, want between %d and %d", full, n, burst, maxFull)
	}
	if limited := n - full; truncated < limited/2 || truncated > limited/2+1 {
		t.Errorf("%d truncated responses, want about half of the %d limited ones", truncated, n-full)
	}
	// Give the dispatcher a moment, then count the reports.
	time.Sleep(100 * time.Millisecond)
	reported := len(ts.reports)
	maxReports := reportBurst + int(time.Since(start).Seconds()*2) + 1
	if reported < reportBurst || reported > maxReports {
		t.Errorf("%d reports, want between %d and %d", reported, reportBurst, maxReports)
	}
	st := ts.Stats()
	if st.TokenQueries != n || st.ReportsLimited != uint64(n-reported) || st.Slipped != uint64(truncated) {
		t.Errorf("stats %+v (reported %d, truncated %d)", st, reported, truncated)
	}

	// TCP is not response-limited.
	r, _ := exchange(t, "tcp", ts.addr, query(fqdn(tok.Value), dns.TypeA))
	if r.Rcode != dns.RcodeSuccess {
		t.Errorf("tcp during the limit: %s", rcode(r))
	}
}

func TestReportQueueBounded(t *testing.T) {
	release := make(chan struct{})
	calls := make(chan Query, 100)
	ts := startServer(t, Options{
		RateLimit:   RateLimit{Responses: -1, Reports: -1},
		ReportQueue: 4,
		OnQuery: func(q Query) {
			calls <- q
			<-release
		},
	})
	tok := mintDNS(t, ts.c.minter)
	for range 20 {
		exchange(t, "udp", ts.addr, query(fqdn(tok.Value), dns.TypeA))
	}
	st := ts.Stats()
	// One report is in OnQuery, four wait, the rest are dropped.
	if st.Reported > 5 || st.ReportsDropped < 15 || st.Reported+st.ReportsDropped != 20 {
		t.Errorf("stats %+v, want at most 5 reported and the rest dropped", st)
	}
	close(release)
}

func TestOnQueryPanicDoesNotStopServer(t *testing.T) {
	ts := startServer(t, Options{OnQuery: func(Query) { panic("boom") }})
	tok := mintDNS(t, ts.c.minter)
	for range 3 {
		r, _ := exchange(t, "udp", ts.addr, query(fqdn(tok.Value), dns.TypeA))
		if r.Rcode != dns.RcodeSuccess {
			t.Fatalf("%s", rcode(r))
		}
	}
}

func TestTCPConnCap(t *testing.T) {
	ts := startServer(t, Options{MaxTCPConns: 2})
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	// Wait until the server has both.
	deadline := time.Now().Add(2 * time.Second)
	for {
		ts.mu.Lock()
		n := len(ts.conns)
		ts.mu.Unlock()
		if n == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Errorf("third connection: read %v, want it closed by the server", err)
	}
	if ts.Stats().TCPRejected == 0 {
		t.Errorf("TCPRejected = 0")
	}
	// Freeing a slot admits a new connection.
	held[0].Close()
	deadline = time.Now().Add(2 * time.Second)
	for {
		ts.mu.Lock()
		n := len(ts.conns)
		ts.mu.Unlock()
		if n < 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	r, _ := exchange(t, "tcp", ts.addr, query(testZone+".", dns.TypeSOA))
	if r.Rcode != dns.RcodeSuccess {
		t.Errorf("after a slot freed: %s", rcode(r))
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestTCPTimeout(t *testing.T) {
	ts := startServer(t, Options{TCPTimeout: 150 * time.Millisecond})
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte{0, 30, 0, 1}) // a frame that never completes
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, err = c.Read(make([]byte, 1))
	if err == nil || isTimeout(err) {
		t.Fatalf("read %v, want the server to close the stalled connection", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("closed after %v, want about 150ms", d)
	}
}

func TestShutdownLeavesNoGoroutines(t *testing.T) {
	// settle waits for the goroutine count to fall to want (or to stop changing, for
	// want < 0) and returns it.
	settle := func(want int) int {
		n := runtime.NumGoroutine()
		for i := 0; i < 200; i++ {
			time.Sleep(10 * time.Millisecond)
			m := runtime.NumGoroutine()
			if (want >= 0 && m <= want) || (want < 0 && m == n) {
				return m
			}
			n = m
		}
		return n
	}
	before := settle(-1)

	s, err := New(Options{Minter: newMinter(t, testSecret, testZone), OnQuery: func(Query) {}, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	pc, l := listenPair(t)
	addr := pc.LocalAddr().String()
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(pc, l) }()

	tok := mintDNS(t, s.c.minter)
	exchange(t, "udp", addr, query(fqdn(tok.Value), dns.TypeA))
	exchange(t, "tcp", addr, query(fqdn(tok.Value), dns.TypeA))
	idle, err := net.Dial("tcp", addr) // an open connection Shutdown must close
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if n := runtime.NumGoroutine(); n <= before+4 {
		t.Fatalf("%d goroutines while serving, %d before: the server is not running?", n, before)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
	if after := settle(before); after > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Shutdown, %d before\n%s", after, before, buf[:runtime.Stack(buf, true)])
	}
	// Shutdown is idempotent and Serve after it refuses.
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	pc2, l2 := listenPair(t)
	if err := s.Serve(pc2, l2); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Shutdown: %v", err)
	}
}

func TestServeStopsWhenSocketClosed(t *testing.T) {
	s, err := New(Options{Minter: newMinter(t, testSecret, testZone)})
	if err != nil {
		t.Fatal(err)
	}
	pc, l := listenPair(t)
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(pc, l) }()
	time.Sleep(20 * time.Millisecond)
	l.Close() // closed behind the server's back
	select {
	case err := <-errc:
		if err == nil || errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want the listener's error", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Serve did not return after its listener was closed")
	}
	s.Shutdown(context.Background())
}

func TestListenAndServeSamePort(t *testing.T) {
	s, err := New(Options{Minter: newMinter(t, testSecret, testZone)})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.ListenAndServe("127.0.0.1:0") }()
	var addr string
	deadline := time.Now().Add(2 * time.Second)
	for addr == "" && time.Now().Before(deadline) {
		s.mu.Lock()
		if s.pc != nil {
			addr = s.pc.LocalAddr().String()
		}
		s.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	if addr == "" {
		t.Fatal("not listening")
	}
	for _, proto := range []string{"udp", "tcp"} {
		r, _ := exchange(t, proto, addr, query(testZone+".", dns.TypeSOA))
		if r.Rcode != dns.RcodeSuccess {
			t.Errorf("%s: %s", proto, rcode(r))
		}
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrServerClosed) {
		t.Errorf("ListenAndServe: %v", err)
	}
}

// TestRecognizeAnyLabel covers token labels whose first letters or whose full name's
// length look like another format to tokens.Recognize ("xox…" is Slack's prefix,
// "eyJ…" a JWT's); the beacon recognises the label in a canonical form.
func TestRecognizeAnyLabel(t *testing.T) {
	const zone = "zone-of-thirty-chars.example.net"
	m := newMinter(t, []byte("0123456789abcdef0123"), zone)
	s, err := New(Options{Minter: m})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		seed uint64
		edit func(string) string
	}{
		{6804, func(s string) string { return s }},                    // xox…
		{36977, func(s string) string { return strings.ToUpper(s) }},  // XOX…
		{32791, func(s string) string { return s[:2] + "J" + s[3:] }}, // eyJ…
	} {
		var seed [8]byte
		binary.LittleEndian.PutUint64(seed[:], c.seed)
		tok, err := m.NewSeeded(tokens.DNS, seed[:])
		if err != nil {
			t.Fatal(err)
		}
		name := c.edit(tok.Value) + "."
		where, id, _ := s.classify(name)
		if where != tokenAt || id != tok.ID {
			t.Errorf("%s: classified %d %v, want the token %v", name, where, id, tok.ID)
		}
	}
}

func TestNewValidates(t *testing.T) {
	m := newMinter(t, testSecret, testZone)
	noZone := newMinter(t, testSecret, "")
	many := make([]netip.Addr, MaxAddrs+1)
	for i := range many {
		many[i] = netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})
	}
	for name, o := range map[string]Options{
		"no minter":     {Zone: testZone},
		"no zone":       {Minter: noZone},
		"zone mismatch": {Minter: m, Zone: "other.example.net"},
		"bad zone":      {Minter: noZone, Zone: "bad zone"},
		"ttl":           {Minter: m, TTL: 2 * time.Hour},
		"negative ttl":  {Minter: m, TTL: -time.Second},
		"addrs":         {Minter: m, Addrs: many},
		"invalid addr":  {Minter: m, Addrs: []netip.Addr{{}}},
		"ns":            {Minter: m, NS: []string{"a.", "b.", "c.", "d.", "e."}},
		"bad ns":        {Minter: m, NS: []string{"bad ns"}},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: New succeeded", name)
		} else if !strings.HasPrefix(err.Error(), "beacon: ") {
			t.Errorf("%s: error %q lacks the package prefix", name, err)
		}
	}
	// The zone defaults to the Minter's; a minter without one takes Options.Zone.
	s, err := New(Options{Minter: m})
	if err != nil || s.c.zone != testZone {
		t.Errorf("default zone: %v %v", s, err)
	}
	s, err = New(Options{Minter: noZone, Zone: "T.Example.Net."})
	if err != nil || s.c.zone != testZone {
		t.Errorf("explicit zone: %v", err)
	}
}
