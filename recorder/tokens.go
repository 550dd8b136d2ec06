package recorder

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/honeyapi/honeyapi/beacon"
	"github.com/honeyapi/honeyapi/decoys"
	"github.com/honeyapi/honeyapi/fingerprint"
	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/tokens"
)

// Breadcrumb is a decoys.Options.Breadcrumb function: it mints the
// honeytoken a decoy response embeds, seeded by the client address and the
// object, so one client sees the same credentials on every request (a
// config file does not change between reads) and every client its own; a
// key used later, anywhere, leads back to the reconnaissance that found it.
// Record stores each embedded token as a placement with the event and the
// actor that received it.
//
// The kind asked for is kept, except that a name that reads like a URL
// (…_URL, webhook) gets a canary URL, and the secret half of an AWS pair
// (a name containing "secret") is the key id's derived secret: an AWS key
// id and its secret in one object are one pair.
func (rec *Recorder) Breadcrumb(r *http.Request, kind, name string, seed []byte) (string, decoys.Breadcrumb, bool) {
	m := rec.opts.Minter
	if m == nil {
		return "", decoys.Breadcrumb{}, false
	}
	k := tokens.Kind(kind)
	lname := strings.ToLower(name)
	if k != tokens.URL && k != tokens.DBURL && (strings.HasSuffix(lname, "url") || strings.Contains(lname, "webhook")) {
		k = tokens.URL
	}
	if !k.Valid() || k == tokens.DNS {
		return "", decoys.Breadcrumb{}, false
	}
	s := make([]byte, 0, 64+len(seed)+len(name))
	s = append(s, fingerprint.ClientIP(r, rec.opts.Trusted)...)
	s = append(s, 0)
	s = append(s, seed...)
	if k != tokens.AWS {
		s = append(s, 0)
		s = append(s, lname...)
	}
	tok, err := m.NewSeeded(k, s)
	if err != nil {
		return "", decoys.Breadcrumb{}, false
	}
	b := decoys.Breadcrumb{TokenID: tok.ID.String(), Kind: string(k), Value: tok.Value, Fields: tok.Fields}
	text := tok.Value
	if k == tokens.AWS {
		secret, _ := m.AWSSecretFor(tok.Value)
		b.Fields = map[string]string{"secret_access_key": secret}
		if strings.Contains(lname, "secret") {
			text = secret
		}
	}
	return text, b, true
}

// breadcrumbTokens turns the breadcrumbs of a response into token records
// for the store, attributed to the actor that received them.
func (rec *Recorder) breadcrumbTokens(in *decoys.Interaction, ev *store.Event) []*store.Token {
	if len(in.Breadcrumbs) == 0 {
		return nil
	}
	out := make([]*store.Token, 0, len(in.Breadcrumbs))
	decoy := ""
	if rec.opts.Minter != nil {
		decoy = rec.opts.Minter.DecoyHost()
	}
	for _, b := range in.Breadcrumbs {
		out = append(out, &store.Token{
			ID: b.TokenID, Kind: b.Kind, Value: b.Value, Fields: b.Fields,
			Source: store.SourceBreadcrumb, Created: in.Start, Decoy: decoy,
			Actor: ev.Actor,
			Note:  "served to " + ev.ClientIP + " by the " + in.Document + " decoy",
			Placements: []store.Placement{{
				Time: in.Start, Host: ev.Host, Where: b.Where,
			}},
		})
	}
	return out
}

// Event kinds of token uses seen outside a decoy.
const (
	KindGuard    = "token_used" // a request to a real API, seen by tokens.Guard
	KindSighting = "sighting"   // reported to POST /api/v1/sightings
	KindDNS      = "dns"        // a lookup of a DNS beacon
)

// tagHits adds the token_used tag, a "token:<kind>:<id>" tag per hit and a
// note saying where each was presented.
func tagHits(ev *store.Event, hits []tokens.Hit) {
	for _, h := range hits {
		if len(ev.Tags) == 0 || ev.Tags[0] != TagTokenUsed {
			ev.Tags = append([]string{TagTokenUsed}, ev.Tags...)
		}
		ev.Tags = append(ev.Tags, store.TokenTagPrefix+string(h.Kind)+":"+h.ID.String())
		if h.Signature != "" {
			ev.Tags = append(ev.Tags, "sigv4:"+h.Signature)
		}
		if ev.Note != "" {
			ev.Note += "; "
		}
		ev.Note += "honeytoken " + h.ID.String() + " (" + string(h.Kind) + ") presented in " + h.Where
		switch h.Signature {
		case tokens.SignatureValid:
			ev.Note += ", with a valid SigV4 signature (the caller holds the secret key)"
		case tokens.SignatureInvalid:
			ev.Note += ", with a signature that does not verify"
		}
	}
}

// GuardHit records a honeytoken presented to a real API behind
// tokens.Guard in this process: use it as GuardConfig.OnHit. The event
// (kind "token_used", listener "guard") is committed before it returns, so
// a deny or divert decision that follows never outruns the record.
func (rec *Recorder) GuardHit(r *http.Request, body []byte, hits []tokens.Hit) {
	if len(hits) == 0 {
		return
	}
	c := fingerprint.FromRequest(r)
	ev := &store.Event{
		Time: time.Now(), Kind: KindGuard, Listener: "guard",
		Remote: r.RemoteAddr, ClientIP: fingerprint.ClientIP(r, rec.opts.Trusted),
		Proto: r.Proto, Method: r.Method, Host: r.Host, Path: r.URL.Path, Query: r.URL.RawQuery,
	}
	ev.Headers = wireHeaders(c, r)
	setBody(ev, body, r.ContentLength)
	setClient(ev, c, r.UserAgent())
	tagHits(ev, hits)
	if _, err := rec.store(ev, credentialOf(r)); err != nil && rec.opts.Logger != nil {
		rec.opts.Logger.Error().Err(err).Msg("recording a guard hit failed")
	}
}

// credentialOf is the credential a request presented, for actor
// clustering.
func credentialOf(r *http.Request) string { return r.Header.Get("Authorization") }

// store attributes ev to an actor and commits both, with the alerts it
// raises.
func (rec *Recorder) store(ev *store.Event, credential string, toks ...*store.Token) (store.ID, error) {
	actor := rec.opts.Tracker.Observe(ev, credential)
	return rec.commit(ev, actor, toks)
}

// ErrNoToken is returned by Sighting when the text holds none of this
// deployment's honeytokens.
var ErrNoToken = errors.New("the text holds no honeytoken of this deployment")

// Sighting records a honeytoken reported as seen elsewhere (a log pipeline,
// a guard in another process): the server finds the tokens in s.Text
// itself, so a reporter can neither forge a hit nor needs the key. remote
// is the reporter's address; the event's client is s.ClientIP when it is
// an IP address.
func (rec *Recorder) Sighting(s tokens.Sighting, remote string) (store.ID, []tokens.Hit, error) {
	if rec.opts.Minter == nil {
		return store.ID{}, nil, errors.New("no minter configured")
	}
	text := s.Text
	if len(text) > tokens.MaxSightingText {
		text = text[:tokens.MaxSightingText]
	}
	hits := rec.opts.Minter.Find(text)
	if len(hits) == 0 {
		return store.ID{}, nil, ErrNoToken
	}
	where := bounded(s.Where, 256)
	for i := range hits {
		hits[i].Where = where
		if where == "" {
			hits[i].Where = "a sighting"
		}
		if s.Signature == tokens.SignatureValid || s.Signature == tokens.SignatureInvalid {
			hits[i].Signature = s.Signature
		}
	}
	ev := &store.Event{
		Time: s.Time, Kind: KindSighting, Listener: "sighting:" + bounded(s.Source, 128),
		Remote: remote, Method: s.Method, Host: s.Host, Path: s.Path, Query: s.Query,
	}
	if s.Time.IsZero() || s.Time.After(time.Now().Add(time.Minute)) {
		ev.Time = time.Now()
	}
	if ip, err := netip.ParseAddr(s.ClientIP); err == nil {
		ev.ClientIP = ip.Unmap().String()
	} else if ap, err := netip.ParseAddrPort(remote); err == nil {
		ev.ClientIP = ap.Addr().Unmap().String()
	}
	for _, h := range s.Headers {
		if len(ev.Headers) == 256 {
			break
		}
		ev.Headers = append(ev.Headers, store.Header{Name: h.Name, Value: h.Value})
	}
	ua := s.UserAgent
	if ua == "" {
		for _, h := range s.Headers {
			if strings.EqualFold(h.Name, "User-Agent") {
				ua = h.Value
			}
		}
	}
	ev.Body = []byte(text)
	ev.Client = store.Client{UserAgent: ua, UAFamily: fingerprint.ParseUserAgent(ua).Family}
	tagHits(ev, hits)
	if s.Note != "" {
		ev.Note += "; reporter's note: " + bounded(s.Note, 512)
	}
	id, err := rec.store(ev, "")
	if err != nil {
		return id, hits, fmt.Errorf("recording the sighting: %w", err)
	}
	return id, hits, nil
}

func bounded(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// DNS records a lookup of a DNS-beacon token: a beacon.Options.OnQuery
// function. The client is the resolver (or, with EDNS Client Subnet, the
// network behind it, kept in the note).
func (rec *Recorder) DNS(q beacon.Query) {
	ev := &store.Event{
		Time: q.Time, Kind: KindDNS, Listener: "dns",
		Remote: q.Resolver.String(), ClientIP: q.Resolver.Addr().Unmap().String(),
		Proto: strings.ToUpper(q.Proto), Method: q.Type, Host: bounded(q.Name, 512),
	}
	tags := []string{"dns:" + strings.ToLower(q.Proto)}
	if q.RecursionDesired {
		tags = append(tags, "dns:rd") // asked directly, not through a resolver
	}
	ev.Tags = tags
	tagHits(ev, []tokens.Hit{{ID: q.Token, Kind: q.Kind, Where: "a DNS " + q.Type + " lookup of " + bounded(q.Name, 256)}})
	if q.ClientSubnet != "" {
		ev.Note += "; EDNS client subnet " + q.ClientSubnet
	}
	if q.DNSSECOK {
		ev.Note += "; resolver sets DNSSEC OK"
	}
	if _, err := rec.store(ev, ""); err != nil && rec.opts.Logger != nil {
		rec.opts.Logger.Error().Err(err).Msg("recording a DNS beacon lookup failed")
	}
}
