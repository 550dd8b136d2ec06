package beacon

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// ErrServerClosed is returned by Serve and ListenAndServe after Shutdown.
var ErrServerClosed = errors.New("beacon: server closed")

// Server is an authoritative DNS server for the zone of the deployment's DNS tokens.
// Create it with New, run it with Serve or ListenAndServe, stop it with Shutdown.
type Server struct {
	c     *config
	lim   *limiter
	epoch time.Time // origin of the limiter's monotonic clock

	soa, negSOA *dns.SOA
	nsRRs       []*dns.NS
	glue        []dns.RR
	names       map[string]place // in-zone NS hosts and the empty non-terminals above them
	v4, v6      []netip.Addr     // Addrs by family
	nsV4, nsV6  []netip.Addr     // NSAddrs by family

	reports chan Query
	stats   counters

	mu           sync.Mutex
	state        int // stateNew, stateServing, stateClosed
	pc           net.PacketConn
	l            net.Listener
	conns        map[net.Conn]struct{}
	wg           sync.WaitGroup // UDP workers, the accept loop, TCP connections
	closing      atomic.Bool
	failOnce     sync.Once
	failErr      error
	serveDone    chan struct{}
	dispatchDone chan struct{}
}

const (
	stateNew = iota
	stateServing
	stateClosed
)

// counters back Stats.
type counters struct {
	queries, malformed, tokenQueries, reported, reportsLimited, reportsDropped,
	responsesLimited, slipped, tcpRejected atomic.Uint64
}

// Stats are the Server's counters since New.
type Stats struct {
	// Queries is every packet or TCP message received.
	Queries uint64
	// Malformed is the packets dropped because they were not a DNS message (or were a
	// response).
	Malformed uint64
	// TokenQueries is the queries of token names.
	TokenQueries uint64
	// Reported is the token queries queued for OnQuery.
	Reported uint64
	// ReportsLimited is the token queries not reported because their source exceeded
	// RateLimit.Reports.
	ReportsLimited uint64
	// ReportsDropped is the token queries not reported because OnQuery had fallen
	// ReportQueue reports behind.
	ReportsDropped uint64
	// ResponsesLimited is the UDP responses dropped by RateLimit.Responses.
	ResponsesLimited uint64
	// Slipped is the rate-limited UDP responses sent as empty truncated responses.
	Slipped uint64
	// TCPRejected is the TCP connections closed on accept because MaxTCPConns were open.
	TCPRejected uint64
}

// Stats returns the Server's counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		Queries:          c.queries.Load(),
		Malformed:        c.malformed.Load(),
		TokenQueries:     c.tokenQueries.Load(),
		Reported:         c.reported.Load(),
		ReportsLimited:   c.reportsLimited.Load(),
		ReportsDropped:   c.reportsDropped.Load(),
		ResponsesLimited: c.responsesLimited.Load(),
		Slipped:          c.slipped.Load(),
		TCPRejected:      c.tcpRejected.Load(),
	}
}

// New validates opts and builds a Server. It does not listen.
func New(opts Options) (*Server, error) {
	c, err := opts.config()
	if err != nil {
		return nil, err
	}
	s := &Server{
		c:       c,
		lim:     newLimiter(c.rl),
		epoch:   time.Now(),
		names:   make(map[string]place),
		reports: make(chan Query, c.queueSize),
		conns:   make(map[net.Conn]struct{}),
	}
	s.soa = &dns.SOA{
		Hdr:     dns.RR_Header{Name: c.zoneFQDN, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: apexTTL},
		Ns:      c.ns[0],
		Mbox:    "hostmaster." + c.zoneFQDN,
		Serial:  c.serial,
		Refresh: 10800,
		Retry:   3600,
		Expire:  1209600,
		Minttl:  c.ttl,
	}
	neg := *s.soa
	neg.Hdr.Ttl = min(apexTTL, c.ttl) // RFC 2308: the negative TTL is min(SOA TTL, MINIMUM)
	s.negSOA = &neg
	for _, a := range c.addrs {
		if a.Is4() {
			s.v4 = append(s.v4, a)
		} else {
			s.v6 = append(s.v6, a)
		}
	}
	for _, a := range c.nsAddrs {
		if a.Is4() {
			s.nsV4 = append(s.nsV4, a)
		} else {
			s.nsV6 = append(s.nsV6, a)
		}
	}
	for _, n := range c.ns {
		s.nsRRs = append(s.nsRRs, &dns.NS{
			Hdr: dns.RR_Header{Name: c.zoneFQDN, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: apexTTL},
			Ns:  n,
		})
		if !strings.HasSuffix(n, "."+c.zoneFQDN) {
			continue
		}
		if s.names[n] == nsHost {
			continue // listed twice
		}
		s.names[n] = nsHost
		for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
			s.glue = append(s.glue, s.addrRRs(dns.Question{Name: n, Qtype: t, Qclass: dns.ClassINET}, s.nsV4, s.nsV6, apexTTL)...)
		}
		for p := n[strings.IndexByte(n, '.')+1:]; p != c.zoneFQDN; p = p[strings.IndexByte(p, '.')+1:] {
			if _, ok := s.names[p]; !ok {
				s.names[p] = ent
			}
		}
	}
	return s, nil
}

// ListenAndServe listens on addr ("host:port") over UDP and TCP, on the same port even
// when addr's port is 0, and serves until Shutdown. The DNS port is 53.
func (s *Server) ListenAndServe(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("beacon: listen %q: %w", addr, err)
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return fmt.Errorf("beacon: listen udp: %w", err)
	}
	if port == "0" || port == "" {
		if ua, ok := pc.LocalAddr().(*net.UDPAddr); ok {
			port = strconv.Itoa(ua.Port)
		}
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		pc.Close()
		return fmt.Errorf("beacon: listen tcp: %w", err)
	}
	return s.Serve(pc, l)
}

// Serve answers queries arriving on pc (UDP) and l (TCP); either may be nil, not both.
// Serve takes ownership of both and closes them when it returns. It returns
// ErrServerClosed after Shutdown, or the error that stopped one of them (which also
// stops the other). Serve may be called once.
func (s *Server) Serve(pc net.PacketConn, l net.Listener) error {
	if pc == nil && l == nil {
		return errors.New("beacon: Serve needs a PacketConn or a Listener")
	}
	s.mu.Lock()
	switch s.state {
	case stateClosed:
		s.mu.Unlock()
		closeBoth(pc, l)
		return ErrServerClosed
	case stateServing:
		s.mu.Unlock()
		return errors.New("beacon: Serve called twice")
	}
	s.state = stateServing
	s.pc, s.l = pc, l
	s.serveDone = make(chan struct{})
	s.dispatchDone = make(chan struct{})
	go s.dispatch()
	if pc != nil {
		s.wg.Add(s.c.workers)
		for range s.c.workers {
			go s.serveUDP(pc)
		}
	}
	if l != nil {
		s.wg.Add(1)
		go s.acceptTCP(l)
	}
	s.mu.Unlock()

	s.wg.Wait()
	close(s.reports) // every sender has returned
	close(s.serveDone)
	if s.closing.Load() {
		return ErrServerClosed
	}
	return s.failErr
}

// Shutdown stops the server: it closes the sockets and open TCP connections, waits for
// the goroutines handling queries to return and for OnQuery to be called with the
// reports already queued, or for ctx to end (then it returns ctx's error).
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.mu.Lock()
	s.state = stateClosed
	s.closeAll()
	serveDone, dispatchDone := s.serveDone, s.dispatchDone
	s.mu.Unlock()
	if serveDone == nil {
		return nil // never served
	}
	for _, done := range []chan struct{}{serveDone, dispatchDone} {
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// closeAll closes the sockets and TCP connections; s.mu must be held.
func (s *Server) closeAll() {
	closeBoth(s.pc, s.l)
	for c := range s.conns {
		c.Close()
	}
}

func closeBoth(pc net.PacketConn, l net.Listener) {
	if pc != nil {
		pc.Close()
	}
	if l != nil {
		l.Close()
	}
}

// fail records the first error that stops a socket and stops the other.
func (s *Server) fail(err error) {
	if s.closing.Load() {
		return
	}
	s.failOnce.Do(func() {
		s.failErr = err
		s.c.log.Error().Err(err).Msg("beacon: stopped")
		s.mu.Lock()
		s.closeAll()
		s.mu.Unlock()
	})
}

// dispatch calls OnQuery for each queued report, one at a time, until the queue is
// closed and drained.
func (s *Server) dispatch() {
	defer close(s.dispatchDone)
	for q := range s.reports {
		s.callOnQuery(q)
	}
}

func (s *Server) callOnQuery(q Query) {
	defer func() {
		if r := recover(); r != nil {
			s.c.log.Error().Interface("panic", r).Msg("beacon: OnQuery panicked")
		}
	}()
	s.c.onQuery(q)
}

// serveUDP is one UDP worker: it reads a datagram, answers it, and reads the next.
func (s *Server) serveUDP(pc net.PacketConn) {
	defer s.wg.Done()
	buf := make([]byte, udpReadBuf)
	out := make([]byte, 0, ednsSize+64)
	uc, _ := pc.(*net.UDPConn)
	backoff := time.Duration(0)
	for {
		var (
			n    int
			src  netip.AddrPort
			addr net.Addr
			err  error
		)
		if uc != nil {
			n, src, err = uc.ReadFromUDPAddrPort(buf)
		} else {
			n, addr, err = pc.ReadFrom(buf)
			if err == nil {
				src = addrPortOf(addr)
			}
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.closing.Load() {
				s.fail(err)
				return
			}
			// Transient (an ICMP error reported on the socket, a full buffer): log
			// and go on, pausing if it repeats.
			s.c.log.Debug().Err(err).Msg("beacon: udp read")
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		resp := s.handle(buf[:n], src, "udp", out)
		if resp == nil {
			continue
		}
		if uc != nil {
			_, err = uc.WriteToUDPAddrPort(resp, src)
		} else {
			_, err = pc.WriteTo(resp, addr)
		}
		if err != nil {
			s.c.log.Debug().Err(err).Msg("beacon: udp write")
		}
	}
}

// acceptTCP accepts TCP connections, closing those beyond MaxTCPConns.
func (s *Server) acceptTCP(l net.Listener) {
	defer s.wg.Done()
	backoff := time.Duration(0)
	for {
		conn, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.closing.Load() {
				s.fail(err)
				return
			}
			// Transient (out of file descriptors, a connection reset before accept).
			s.c.log.Debug().Err(err).Msg("beacon: tcp accept")
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		s.mu.Lock()
		if s.state == stateClosed || len(s.conns) >= s.c.maxTCP {
			s.mu.Unlock()
			s.stats.tcpRejected.Add(1)
			conn.Close()
			continue
		}
		s.conns[conn] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveTCP(conn)
	}
}

// serveTCP answers the queries of one TCP connection (RFC 7766), in order, each framed
// by a two-byte length, until the client closes it, a read or write times out, a
// message is malformed, or it has carried maxTCPQueries queries.
func (s *Server) serveTCP(conn net.Conn) {
	defer func() {
		conn.Close()
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
		s.wg.Done()
	}()
	src := addrPortOf(conn.RemoteAddr())
	var (
		hdr   [2]byte
		buf   []byte
		out   = make([]byte, 0, 1024)
		frame = make([]byte, 0, 1024)
	)
	for range maxTCPQueries {
		if s.closing.Load() {
			return
		}
		conn.SetReadDeadline(time.Now().Add(s.c.tcpTO))
		if _, err := io.ReadFull(conn, hdr[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(hdr[:]))
		if n < 12 {
			return
		}
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		if _, err := io.ReadFull(conn, buf[:n]); err != nil {
			return
		}
		resp := s.handle(buf[:n], src, "tcp", out)
		if resp == nil {
			return
		}
		frame = binary.BigEndian.AppendUint16(frame[:0], uint16(len(resp)))
		frame = append(frame, resp...)
		conn.SetWriteDeadline(time.Now().Add(s.c.tcpTO))
		if _, err := conn.Write(frame); err != nil {
			return
		}
	}
}

// addrPortOf returns the address and port of a UDP or TCP address.
func addrPortOf(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort()
	case *net.TCPAddr:
		return a.AddrPort()
	}
	if a == nil {
		return netip.AddrPort{}
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}
