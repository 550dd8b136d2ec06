// Package beacon is the authoritative DNS server behind DNS honeytokens: it answers for
// the zone the user delegates to honeyapi and reports every lookup of a token name.
//
// A DNS token (tokens.DNS) is a host name "<26 of [a-z2-7]>.<zone>" minted by a
// tokens.Minter configured with that zone, and planted where an intruder will find and
// try it (a config file, a hosts list, a runbook). The user delegates the zone to the
// beacon with NS records at the parent (and glue if the name servers are in the zone),
// so any resolver that looks the name up, for any record type, ends up asking the
// beacon. The beacon recognises the token offline with Minter.Recognize, calls
// Options.OnQuery with the resolver's address, the name as asked, the type, the EDNS
// Client Subnet and the other details of the query (Query), and answers like an
// ordinary zone.
//
// It owns the DNS listener, the zone's answers and the per-source rate limits. It does
// not store events or send alerts: the caller's OnQuery does (cmd wires it to the
// recorder and the alert outbox). It is a top-level package because it is a network
// listener of its own, with its own dependency (github.com/miekg/dns) that nothing else
// needs, shared by cmd/honeyapi and usable by programs embedding honeyapi; putting it in
// tokens would pull a DNS server into every guard.
//
// # Which names fire
//
// A query fires when the label immediately under the zone is a token label of this
// deployment, whatever labels stand to its left: "<token>.<zone>" and also
// "data.<token>.<zone>", as a tool that prepends data or a QNAME-minimising resolver
// (RFC 9156, which asks "<token>.<zone>" first, then the full name) produces; both
// fire. A token label elsewhere ("<token>.x.<zone>") does not fire, since no token is
// minted there. Tokens of another deployment (another secret) do not fire; they are
// unknown names. Letter case does not matter for recognition and is kept in
// Query.Name, since 0x20 case randomisation identifies resolver software.
//
// # Answers
//
// The beacon answers as an authoritative server would, consistently on every query and
// every restart:
//
//   - Every answer for a name in the zone has the AA flag. The question is echoed as
//     asked (letter case included), the RD and CD bits copied, RA clear.
//   - The apex has a SOA (MNAME the first NS, RNAME hostmaster.<zone>, a fixed
//     date-shaped serial, refresh 10800, retry 3600, expire 1209600) and the NS
//     records of Options.NS, with the addresses of in-zone name servers as additional
//     records when Options.NSAddrs is set.
//   - A token name (or a name below one) answers A and AAAA from Options.Addrs when
//     set, and otherwise, like every other type, NOERROR with no data (NODATA) and the
//     SOA in the authority section.
//   - ANY is answered, at any existing name, with the single HINFO "RFC8482" record of
//     RFC 8482, never with every record set.
//   - Other names in the zone are NXDOMAIN with the SOA; empty non-terminals above
//     in-zone name servers are NODATA.
//   - Names outside the zone, classes other than IN (and ANY), and zone transfers
//     (AXFR, IXFR) are REFUSED; opcodes other than QUERY are NOTIMP; a message with
//     no question, several, or several OPT records is FORMERR; EDNS versions above 0
//     get BADVERS. Malformed packets and messages with the QR bit are dropped
//     silently.
//   - EDNS: the beacon advertises 1232 bytes, copies the DO bit, and does not echo the
//     Client Subnet option (as a server that does not tailor answers to it).
//
// # TTLs
//
// Token answers have TTL Options.TTL, by default 0, and the SOA MINIMUM (the negative
// TTL of NXDOMAIN and NODATA answers, RFC 2308) is the same value. A TTL of 0 means
// resolvers do not cache the answer, so each lookup of a token, including a retry
// seconds later by the same intruder, reaches the beacon and fires; the cost is a
// query per lookup, which the rate limits bound. Some resolvers raise very low TTLs to a
// floor of their own (commonly 30 s to 5 min), and then repeated lookups through them
// fire once per floor period; nothing in the beacon can change that. The zone's own
// records (SOA and NS at the apex, in-zone name server addresses) have TTL 3600, like
// the infrastructure of an ordinary zone, so delegation stays cached. The SOA serial
// is fixed: Options.Serial, or YYYYMMDD01 on a date derived from the zone name.
//
// # Not an amplifier
//
// Open UDP services get used to reflect spoofed traffic. The beacon keeps that useless:
//
//   - Answers stay small: at most 8 addresses (MaxAddrs), at most 4 NS (MaxNS), no
//     ANY expansion, so a response is a few hundred bytes at most. Over UDP
//     a response is truncated (TC=1) to 512 bytes without EDNS and to the requester's
//     size, at most 1232, with it.
//   - Per source (an IPv4 address or an IPv6 /64), UDP responses are limited by a token
//     bucket (RateLimit.Responses, default 20/s, burst 40). Beyond it, as in BIND's
//     response rate limiting, every second response "slips" out as an empty truncated
//     response, no larger than the query, so that a real resolver caught in a spoofed
//     flood retries over TCP, and the others are dropped. TCP cannot be spoofed and is
//     not limited per source; it is bounded by MaxTCPConns.
//   - Reports have their own bucket (RateLimit.Reports, default 5/s, burst 20), so a
//     flood of token lookups is answered (within the response limit) but reported at a
//     bounded rate; the queue to OnQuery is bounded too (ReportQueue), and overflowing
//     reports are counted and dropped rather than buffered.
//   - The source table is bounded (RateLimit.MaxSources, default 65536 entries of about
//     100 bytes): when full, sources idle long enough for their buckets to refill are
//     forgotten, and if none are, new sources share one bucket, so a flood from many
//     spoofed addresses is limited as one source.
//   - Goroutines are bounded: Options.Workers goroutines read UDP (each with its own
//     4 KiB buffer), one accepts TCP, one per TCP connection up to MaxTCPConns (further
//     connections are closed on accept), and one calls OnQuery. A TCP connection has
//     TCPTimeout to deliver each query and to take each response, and carries at most
//     128 queries.
//
// Stats reports what the limits did.
//
// # Limits
//
//   - The beacon is not DNSSEC-signed: a signed parent must not publish a DS record for
//     the zone. Resolvers then treat the zone as insecure, as most zones are.
//   - DNS cookies (RFC 7873) and TSIG are not implemented; cookies in queries are
//     ignored.
//   - The reported address is the resolver's, not the intruder's, unless the resolver
//     sends EDNS Client Subnet (some public resolvers do, to authoritative servers that
//     ask for it, which the beacon does not do) or the intruder queries the beacon
//     directly (then Query.RecursionDesired is usually set).
//   - Reports are limited per source: intruders behind one large public resolver
//     share its report budget (RateLimit.Reports).
//   - Every in-zone name server answers all of NSAddrs; zones served from several
//     sensors with different addresses should use out-of-zone NS names.
package beacon
