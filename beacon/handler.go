package beacon

import (
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/honeyapi/honeyapi/tokens"
)

// place is where a query name sits relative to the zone.
type place uint8

const (
	outside place = iota // not in the zone: REFUSED
	apex                 // the zone itself: SOA, NS
	tokenAt              // a token name, or a name below one
	nsHost               // an in-zone NS host
	ent                  // an empty non-terminal above an in-zone NS host
	missing              // anything else in the zone: NXDOMAIN
)

// tokenLabelLen is the length of a DNS token's label (tokens.DNS).
const tokenLabelLen = 26

// classify locates name (presentation format, as unpacked) in the zone and, for a token
// name, recognises the token. The token label is the one immediately under the zone:
// labels to its left (data prepended by a tool, a QNAME-minimising resolver's later
// steps, "www.") are allowed; a token label deeper down is not looked for, since no
// token is minted there.
func (s *Server) classify(name string) (place, tokens.ID, tokens.Kind) {
	c := s.c
	i, short := dns.PrevLabel(name, c.zoneLabel)
	if short {
		return outside, tokens.ID{}, ""
	}
	suffix := name[i:]
	if !strings.EqualFold(suffix, c.zoneFQDN) && !strings.EqualFold(suffix, c.zone) {
		return outside, tokens.ID{}, ""
	}
	if i == 0 {
		return apex, tokens.ID{}, ""
	}
	j, _ := dns.PrevLabel(name, c.zoneLabel+1)
	if label := name[j : i-1]; len(label) == tokenLabelLen {
		if id, kind, ok := s.recognizeLabel(label); ok {
			return tokenAt, id, kind
		}
	}
	if len(name) < maxKnownName {
		var lc [maxKnownName]byte
		for k := 0; k < len(name); k++ {
			b := name[k]
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			lc[k] = b
		}
		n := len(name)
		if name[n-1] != '.' {
			lc[n] = '.'
			n++
		}
		if p, ok := s.names[string(lc[:n])]; ok {
			return p, tokens.ID{}, ""
		}
	}
	return missing, tokens.ID{}, ""
}

// maxKnownName bounds the names s.names can hold (a domain name has at most 253
// characters plus the trailing dot).
const maxKnownName = 255

// recognizeLabel recognises a token label. It hands Recognize a canonical string, the
// lowercased label followed by ".z", rather than the name as asked: recognition of a
// DNS token only looks at the first label, and the short fixed form keeps the name's
// total length and first letters (which Recognize uses to pick a format) from steering
// it to another kind's parser.
func (s *Server) recognizeLabel(label string) (tokens.ID, tokens.Kind, bool) {
	var buf [tokenLabelLen + 2]byte
	for k := 0; k < tokenLabelLen; k++ {
		b := label[k]
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		buf[k] = b
	}
	buf[tokenLabelLen], buf[tokenLabelLen+1] = '.', 'z'
	id, kind, ok := s.c.minter.Recognize(string(buf[:]))
	if !ok || kind != tokens.DNS {
		return tokens.ID{}, "", false
	}
	return id, kind, true
}

// respond builds the response to req, received from src over proto at now, and for a
// token lookup the Query to report. A nil response means: send nothing. It has no side
// effects (no rate limiting, no reporting), so fuzzing and benchmarks call it directly.
func (s *Server) respond(req *dns.Msg, src netip.AddrPort, proto string, now time.Time) (*dns.Msg, Query, bool) {
	if req.Response {
		return nil, Query{}, false // never answer a response: no loops, no reflection
	}
	resp := &dns.Msg{}
	resp.Id = req.Id
	resp.Response = true
	resp.Opcode = req.Opcode

	opt, optOK := requestOPT(req)
	if len(req.Question) == 1 {
		resp.Question = req.Question[:1:1]
	}
	if req.Opcode != dns.OpcodeQuery {
		resp.Rcode = dns.RcodeNotImplemented
		s.addOPT(resp, opt)
		return resp, Query{}, false
	}
	resp.RecursionDesired = req.RecursionDesired
	resp.CheckingDisabled = req.CheckingDisabled
	if len(req.Question) != 1 || !optOK {
		resp.Question = nil
		resp.Rcode = dns.RcodeFormatError
		return resp, Query{}, false
	}
	if opt != nil && opt.Version() != 0 {
		resp.Rcode = dns.RcodeBadVers
		s.addOPT(resp, opt)
		return resp, Query{}, false
	}

	q := req.Question[0]
	where, id, kind := s.classify(q.Name)
	var rep Query
	hit := where == tokenAt
	if hit {
		rep = Query{
			Time:             now,
			Resolver:         src,
			Proto:            proto,
			Name:             q.Name,
			Type:             typeString(q.Qtype),
			Class:            classString(q.Qclass),
			Token:            id,
			Kind:             kind,
			ClientSubnet:     clientSubnet(opt),
			DNSSECOK:         opt != nil && opt.Do(),
			RecursionDesired: req.RecursionDesired,
			ID:               req.Id,
		}
	}
	switch {
	case where == outside:
		resp.Rcode = dns.RcodeRefused
	case q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY:
		resp.Rcode = dns.RcodeRefused
	case q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR:
		resp.Rcode = dns.RcodeRefused // no zone transfers
	case q.Qtype == dns.TypeOPT || q.Qtype == dns.TypeTSIG || q.Qtype == dns.TypeTKEY:
		resp.Rcode = dns.RcodeFormatError // meta-types are not questions
	default:
		s.answer(resp, q, where)
	}
	s.addOPT(resp, opt)
	return resp, rep, hit
}

// answer fills an authoritative answer for q at where.
func (s *Server) answer(resp *dns.Msg, q dns.Question, where place) {
	resp.Authoritative = true
	switch where {
	case apex:
		switch q.Qtype {
		case dns.TypeSOA:
			soa := *s.soa
			soa.Hdr.Name = q.Name
			resp.Answer = []dns.RR{&soa}
		case dns.TypeNS:
			for _, n := range s.nsRRs {
				ns := *n
				ns.Hdr.Name = q.Name
				resp.Answer = append(resp.Answer, &ns)
			}
			resp.Extra = append(resp.Extra, s.glue...)
		}
	case tokenAt:
		resp.Answer = s.addrRRs(q, s.v4, s.v6, s.c.ttl)
	case nsHost:
		resp.Answer = s.addrRRs(q, s.nsV4, s.nsV6, apexTTL)
	case missing:
		resp.Rcode = dns.RcodeNameError
	}
	if q.Qtype == dns.TypeANY && where != missing {
		// RFC 8482: one small synthesised record instead of every RRset.
		ttl := uint32(apexTTL)
		if where == tokenAt {
			ttl = s.c.ttl
		}
		resp.Answer = []dns.RR{&dns.HINFO{
			Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeHINFO, Class: dns.ClassINET, Ttl: ttl},
			Cpu: "RFC8482",
		}}
	}
	if len(resp.Answer) == 0 {
		resp.Ns = []dns.RR{s.negSOA}
	}
}

// addrRRs answers A or AAAA for q from v4 or v6.
func (s *Server) addrRRs(q dns.Question, v4, v6 []netip.Addr, ttl uint32) []dns.RR {
	hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: ttl}
	switch q.Qtype {
	case dns.TypeA:
		if len(v4) == 0 {
			return nil
		}
		hdr.Rrtype = dns.TypeA
		out := make([]dns.RR, len(v4))
		rrs := make([]dns.A, len(v4))
		for i, a := range v4 {
			b := a.As4()
			rrs[i] = dns.A{Hdr: hdr, A: b[:]}
			out[i] = &rrs[i]
		}
		return out
	case dns.TypeAAAA:
		if len(v6) == 0 {
			return nil
		}
		hdr.Rrtype = dns.TypeAAAA
		out := make([]dns.RR, len(v6))
		rrs := make([]dns.AAAA, len(v6))
		for i, a := range v6 {
			b := a.As16()
			rrs[i] = dns.AAAA{Hdr: hdr, AAAA: b[:]}
			out[i] = &rrs[i]
		}
		return out
	}
	return nil
}

// requestOPT returns the request's OPT record, if any; ok is false when it has more
// than one (a format error, RFC 6891 6.1.1).
func requestOPT(req *dns.Msg) (opt *dns.OPT, ok bool) {
	for _, rr := range req.Extra {
		if o, isOPT := rr.(*dns.OPT); isOPT {
			if opt != nil {
				return nil, false
			}
			opt = o
		}
	}
	return opt, true
}

// addOPT adds the beacon's OPT record to resp when the request had one.
func (s *Server) addOPT(resp *dns.Msg, reqOPT *dns.OPT) {
	if reqOPT == nil {
		return
	}
	o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: ednsSize}}
	if reqOPT.Do() {
		o.SetDo()
	}
	resp.Extra = append(resp.Extra, o)
}

// udpLimit is the most the beacon sends over UDP in answer to req: 512 bytes without
// EDNS, the requester's size between 512 and ednsSize with it.
func udpLimit(req *dns.Msg) int {
	opt, _ := requestOPT(req)
	if opt == nil {
		return dns.MinMsgSize
	}
	return min(max(int(opt.UDPSize()), dns.MinMsgSize), ednsSize)
}

// slipMsg is the empty truncated response sent instead of a rate-limited one.
func slipMsg(resp *dns.Msg) *dns.Msg {
	m := &dns.Msg{MsgHdr: dns.MsgHdr{
		Id:               resp.Id,
		Response:         true,
		Opcode:           resp.Opcode,
		Truncated:        true,
		RecursionDesired: resp.RecursionDesired,
	}}
	m.Question = resp.Question
	return m
}

// handle serves one query in wire format from src over proto: it unpacks it, builds the
// response, applies the rate limits, reports a token lookup and returns the packed
// response (in out's storage when it fits), or nil to send nothing. Malformed packets
// and responses are dropped.
func (s *Server) handle(pkt []byte, src netip.AddrPort, proto string, out []byte) []byte {
	s.stats.queries.Add(1)
	if len(pkt) < 12 || pkt[2]&0x80 != 0 { // too short for a header, or QR set
		s.stats.malformed.Add(1)
		return nil
	}
	req := new(dns.Msg)
	if err := req.Unpack(pkt); err != nil {
		s.stats.malformed.Add(1)
		return nil
	}
	now := time.Now()
	resp, rep, hit := s.respond(req, src, proto, now)
	udp := proto == "udp"
	d := s.lim.admit(sourceKey(src.Addr()), now.Sub(s.epoch), resp != nil && udp, hit)
	if hit {
		s.stats.tokenQueries.Add(1)
		if d.report {
			s.report(rep)
		} else {
			s.stats.reportsLimited.Add(1)
		}
	} else if e := s.c.log.Debug(); e.Enabled() {
		e.Str("resolver", src.String()).Str("proto", proto)
		if len(req.Question) > 0 {
			q := req.Question[0]
			e.Str("name", printable(q.Name)).Str("type", typeString(q.Qtype))
		}
		if resp != nil {
			e.Str("rcode", dns.RcodeToString[resp.Rcode])
		}
		e.Msg("beacon: query")
	}
	if resp == nil {
		return nil
	}
	if udp {
		if !d.respond {
			if !d.slip {
				s.stats.responsesLimited.Add(1)
				return nil
			}
			s.stats.slipped.Add(1)
			resp = slipMsg(resp)
		} else {
			resp.Truncate(udpLimit(req))
		}
	}
	resp.Compress = true
	b, err := resp.PackBuffer(out[:cap(out)])
	if err != nil {
		s.c.log.Debug().Err(err).Msg("beacon: pack response")
		return nil
	}
	return b
}

// report logs a token lookup and queues it for OnQuery.
func (s *Server) report(q Query) {
	s.c.log.Info().
		Str("token", q.Token.String()).
		Str("kind", string(q.Kind)).
		Str("resolver", q.Resolver.String()).
		Str("proto", q.Proto).
		Str("name", printable(q.Name)).
		Str("type", q.Type).
		Str("client_subnet", q.ClientSubnet).
		Msg("beacon: token lookup")
	if s.c.onQuery == nil {
		return
	}
	select {
	case s.reports <- q:
		s.stats.reported.Add(1)
	default:
		s.stats.reportsDropped.Add(1)
	}
}
