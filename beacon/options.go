package beacon

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"runtime"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/rs/zerolog"

	"github.com/honeyapi/honeyapi/tokens"
)

// Defaults and limits of Options.
const (
	// DefaultTTL is the TTL of token answers and the SOA minimum (the negative-caching
	// TTL): zero, so that resolvers do not cache a token lookup and every use of a
	// token reaches the beacon again.
	DefaultTTL = 0 * time.Second
	// MaxTTL is the largest TTL New accepts.
	MaxTTL = time.Hour
	// MaxAddrs is the largest number of Addrs (and of NSAddrs) New accepts: it keeps
	// every answer far below the 512-byte classic UDP limit.
	MaxAddrs = 8
	// MaxNS is the largest number of NS host names New accepts.
	MaxNS = 4

	// DefaultResponses is the default of RateLimit.Responses (UDP responses per second
	// per source) and DefaultResponseBurst that of RateLimit.ResponseBurst.
	DefaultResponses     = 20
	DefaultResponseBurst = 40
	// DefaultReports is the default of RateLimit.Reports (OnQuery calls per second per
	// source) and DefaultReportBurst that of RateLimit.ReportBurst.
	DefaultReports     = 5
	DefaultReportBurst = 20
	// DefaultMaxSources is the default of RateLimit.MaxSources.
	DefaultMaxSources = 65536

	// DefaultMaxTCPConns is the default of Options.MaxTCPConns.
	DefaultMaxTCPConns = 64
	// DefaultTCPTimeout is the default of Options.TCPTimeout.
	DefaultTCPTimeout = 10 * time.Second
	// DefaultReportQueue is the default of Options.ReportQueue.
	DefaultReportQueue = 1024

	// apexTTL is the TTL of the zone's own records (SOA and NS at the apex, the
	// addresses of in-zone name servers): infrastructure that real zones cache for an
	// hour.
	apexTTL = 3600
	// maxTCPQueries is how many queries one TCP connection may carry.
	maxTCPQueries = 128
	// udpReadBuf is the read buffer of a UDP worker: larger datagrams are not queries.
	udpReadBuf = 4096
	// ednsSize is the EDNS UDP payload size the beacon advertises and the most it
	// sends over UDP (the DNS flag day 2020 value, which avoids IP fragmentation).
	ednsSize = 1232
)

// Options configures a Server. Only Minter is required.
type Options struct {
	// Zone is the zone delegated to the beacon (e.g. "t.example.net"). Default: the
	// Minter's DNS zone (tokens.MinterOptions.DNSZone). When both are set they must
	// name the same zone.
	Zone string
	// Minter recognises the deployment's DNS tokens. Required.
	Minter *tokens.Minter
	// NS are the host names of the zone's name servers, answered for NS at the apex
	// and used as the SOA MNAME (the first). They must match the delegation at the
	// parent. Default "ns1.<Zone>". At most MaxNS.
	NS []string
	// NSAddrs are the addresses of the NS hosts that lie inside the zone (the glue the
	// parent zone publishes): answered for A/AAAA at those names and added to NS
	// answers. Default none: in-zone NS hosts then answer NODATA, and the parent's glue
	// alone locates them. At most MaxAddrs.
	NSAddrs []netip.Addr
	// Addrs are the A and AAAA answers of token names, for example the decoy API's
	// address so that an attacker who uses the name as a host reaches a decoy. Default
	// none: token names answer NOERROR with no data. At most MaxAddrs.
	Addrs []netip.Addr
	// TTL is the TTL of token answers and the SOA minimum, which is also the TTL of
	// negative answers. Default DefaultTTL (0 s); at most MaxTTL; whole seconds.
	TTL time.Duration
	// Serial is the SOA serial. Default: a date-shaped serial (YYYYMMDD01) derived from
	// the zone name, the same on every start and every sensor serving the zone.
	Serial uint32
	// OnQuery is called for every query of a name that holds one of the deployment's
	// tokens, subject to RateLimit.Reports. It is called from a single goroutine, in
	// order, never concurrently; responses do not wait for it. If it falls behind by
	// more than ReportQueue queries, further reports are dropped (and counted in
	// Stats). A panic in it is recovered and logged. Default none (token lookups are
	// only logged).
	OnQuery func(Query)
	// Logger receives token lookups at info level and other queries at debug level.
	// Default: no logging.
	Logger *zerolog.Logger
	// RateLimit bounds what one source can make the beacon send and report.
	RateLimit RateLimit
	// Workers is the number of goroutines reading the UDP socket. Default
	// GOMAXPROCS, between 2 and 16.
	Workers int
	// MaxTCPConns caps concurrent TCP connections; further connections are closed on
	// accept. Default DefaultMaxTCPConns.
	MaxTCPConns int
	// TCPTimeout bounds the wait for each query on a TCP connection (so also the idle
	// time between queries) and the write of each response. Default DefaultTCPTimeout.
	TCPTimeout time.Duration
	// ReportQueue is how many reports may wait for OnQuery. Default
	// DefaultReportQueue.
	ReportQueue int
}

// RateLimit bounds, per source, the responses the beacon sends over UDP (so that it
// cannot be used to amplify spoofed traffic) and the reports it makes (so that a flood
// of token lookups cannot flood OnQuery). A source is an IPv4 address or an IPv6 /64.
// Each limit is a token bucket: Rate per second, up to Burst at once. A zero field takes
// its default; a negative rate turns that limit off.
type RateLimit struct {
	// Responses is the rate of UDP responses per source. Beyond it, as in response
	// rate limiting (RRL), every second response is replaced by an empty truncated one
	// (TC=1, so a real resolver retries over TCP, which is not limited) and the
	// others are dropped. Default DefaultResponses.
	Responses float64
	// ResponseBurst is the response bucket's size. Default DefaultResponseBurst.
	ResponseBurst int
	// Reports is the rate of OnQuery reports per source (both transports). Token
	// lookups beyond it are answered but not reported. Default DefaultReports.
	Reports float64
	// ReportBurst is the report bucket's size. Default DefaultReportBurst.
	ReportBurst int
	// MaxSources bounds the sources tracked at once (about 100 bytes each). When the
	// table is full, idle sources are forgotten; if none are idle, new sources share
	// one bucket. Default DefaultMaxSources.
	MaxSources int
}

// config is Options validated, with defaults applied and derived values computed.
type config struct {
	zone      string // lowercase, no trailing dot
	zoneFQDN  string // zone + "."
	zoneLabel int    // labels in zone
	minter    *tokens.Minter
	ns        []string // FQDNs, lowercase
	nsAddrs   []netip.Addr
	addrs     []netip.Addr
	ttl       uint32
	serial    uint32
	onQuery   func(Query)
	log       zerolog.Logger
	rl        RateLimit
	workers   int
	maxTCP    int
	tcpTO     time.Duration
	queueSize int
}

func (o Options) config() (*config, error) {
	if o.Minter == nil {
		return nil, errors.New("beacon: Options.Minter is required")
	}
	c := &config{minter: o.Minter, onQuery: o.OnQuery}
	mz := minterZone(o.Minter)
	zone := strings.ToLower(strings.Trim(o.Zone, "."))
	switch {
	case zone == "" && mz == "":
		return nil, errors.New("beacon: no zone: set Options.Zone or the Minter's DNSZone")
	case zone == "":
		zone = mz
	case mz != "" && zone != mz:
		return nil, fmt.Errorf("beacon: zone %q differs from the Minter's DNS zone %q, whose tokens would never reach this server", zone, mz)
	}
	if _, ok := dns.IsDomainName(zone); !ok || strings.ContainsAny(zone, `\ `) {
		return nil, fmt.Errorf("beacon: zone %q is not a domain name", zone)
	}
	c.zone, c.zoneFQDN, c.zoneLabel = zone, zone+".", dns.CountLabel(zone)

	ns := o.NS
	if len(ns) == 0 {
		ns = []string{"ns1." + zone}
	}
	if len(ns) > MaxNS {
		return nil, fmt.Errorf("beacon: %d NS names, at most %d", len(ns), MaxNS)
	}
	for _, n := range ns {
		n = strings.ToLower(strings.Trim(n, "."))
		if _, ok := dns.IsDomainName(n); !ok || n == "" || strings.ContainsAny(n, `\ `) {
			return nil, fmt.Errorf("beacon: NS %q is not a host name", n)
		}
		c.ns = append(c.ns, n+".")
	}

	var err error
	if c.addrs, err = checkAddrs("Addrs", o.Addrs); err != nil {
		return nil, err
	}
	if c.nsAddrs, err = checkAddrs("NSAddrs", o.NSAddrs); err != nil {
		return nil, err
	}
	if o.TTL < 0 || o.TTL > MaxTTL {
		return nil, fmt.Errorf("beacon: TTL %v out of range [0, %v]", o.TTL, MaxTTL)
	}
	c.ttl = uint32(o.TTL / time.Second)
	c.serial = o.Serial
	if c.serial == 0 {
		c.serial = defaultSerial(zone)
	}

	if o.Logger != nil {
		c.log = *o.Logger
	} else {
		c.log = zerolog.Nop()
	}

	c.rl = o.RateLimit
	if c.rl.Responses == 0 {
		c.rl.Responses = DefaultResponses
	}
	if c.rl.ResponseBurst <= 0 {
		c.rl.ResponseBurst = DefaultResponseBurst
	}
	if c.rl.Reports == 0 {
		c.rl.Reports = DefaultReports
	}
	if c.rl.ReportBurst <= 0 {
		c.rl.ReportBurst = DefaultReportBurst
	}
	if c.rl.MaxSources <= 0 {
		c.rl.MaxSources = DefaultMaxSources
	}

	c.workers = o.Workers
	if c.workers <= 0 {
		c.workers = min(max(runtime.GOMAXPROCS(0), 2), 16)
	}
	c.maxTCP = o.MaxTCPConns
	if c.maxTCP <= 0 {
		c.maxTCP = DefaultMaxTCPConns
	}
	c.tcpTO = o.TCPTimeout
	if c.tcpTO <= 0 {
		c.tcpTO = DefaultTCPTimeout
	}
	c.queueSize = o.ReportQueue
	if c.queueSize <= 0 {
		c.queueSize = DefaultReportQueue
	}
	return c, nil
}

func checkAddrs(field string, in []netip.Addr) ([]netip.Addr, error) {
	if len(in) > MaxAddrs {
		return nil, fmt.Errorf("beacon: %d %s, at most %d", len(in), field, MaxAddrs)
	}
	out := make([]netip.Addr, 0, len(in))
	for _, a := range in {
		if !a.IsValid() {
			return nil, fmt.Errorf("beacon: %s holds an invalid address", field)
		}
		out = append(out, a.Unmap().WithZone(""))
	}
	return out, nil
}

// minterZone returns the zone the Minter mints DNS tokens under, or "" if it has none.
func minterZone(m *tokens.Minter) string {
	t, err := m.NewSeeded(tokens.DNS, []byte("beacon/zone-probe"))
	if err != nil {
		return ""
	}
	return t.Fields["zone"]
}

// defaultSerial is a YYYYMMDD01 serial on a day in 2023-2025 chosen by a hash of the zone:
// the shape most zones use, stable across restarts and sensors.
func defaultSerial(zone string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(zone))
	day := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(h.Sum32()%1000))
	y, m, d := day.Date()
	return uint32(y*10000+int(m)*100+d)*100 + 1
}
