package beacon

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/honeyapi/honeyapi/tokens"
)

const testZone = "t.example.net"

var testSecret = []byte("beacon-test-deployment-secret-0123456789")

func newMinter(t testing.TB, secret []byte, zone string) *tokens.Minter {
	t.Helper()
	m, err := tokens.NewMinter(secret, tokens.MinterOptions{DNSZone: zone})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mintDNS(t testing.TB, m *tokens.Minter) tokens.Token {
	t.Helper()
	tok, err := m.New(tokens.DNS)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// testServer is a running Server on loopback with its reports.
type testServer struct {
	*Server
	addr    string // host:port of both the UDP and the TCP listener
	reports chan Query
}

// startServer serves opts on 127.0.0.1, UDP and TCP on one port picked by the kernel.
// OnQuery, when opts has none, sends to ts.reports. Cleanup shuts the server down.
func startServer(t *testing.T, opts Options) *testServer {
	t.Helper()
	ts := &testServer{reports: make(chan Query, 4096)}
	if opts.Minter == nil {
		opts.Minter = newMinter(t, testSecret, testZone)
	}
	if opts.OnQuery == nil {
		opts.OnQuery = func(q Query) { ts.reports <- q }
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts.Server = s
	pc, l := listenPair(t)
	ts.addr = pc.LocalAddr().String()
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(pc, l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-errc; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return ts
}

// listenPair listens on UDP and TCP on the same loopback port.
func listenPair(t *testing.T) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			return pc, l
		}
		pc.Close()
	}
	t.Fatal("no loopback port free for both UDP and TCP")
	return nil, nil
}

// exchange sends m over proto ("udp" or "tcp") from a socket of its own and returns the
// response and the socket's local address.
func exchange(t *testing.T, proto, addr string, m *dns.Msg) (*dns.Msg, netip.AddrPort) {
	t.Helper()
	c := &dns.Client{Net: proto, Timeout: 2 * time.Second}
	conn, err := c.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r, _, err := c.ExchangeWithConn(m, conn)
	if err != nil {
		t.Fatalf("%s %s %s: %v", proto, m.Question[0].Name, dns.TypeToString[m.Question[0].Qtype], err)
	}
	return r, addrPortOf(conn.LocalAddr())
}

func query(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false // as a resolver asks an authoritative server
	return m
}

// waitReport waits for a report; nil if none comes within d.
func (ts *testServer) waitReport(d time.Duration) *Query {
	select {
	case q := <-ts.reports:
		return &q
	case <-time.After(d):
		return nil
	}
}

// noReport fails if a report arrives within a short wait.
func (ts *testServer) noReport(t *testing.T) {
	t.Helper()
	if q := ts.waitReport(200 * time.Millisecond); q != nil {
		t.Errorf("unexpected report for %q", q.Name)
	}
}

// mixCase upper-cases every other letter, as a resolver doing 0x20 encoding might.
func mixCase(s string) string {
	b := []byte(s)
	for i := range b {
		if i%2 == 0 && 'a' <= b[i] && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

func rcode(r *dns.Msg) string { return dns.RcodeToString[r.Rcode] }

func fqdn(s string) string {
	if strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}
