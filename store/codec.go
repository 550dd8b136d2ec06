package store

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"time"
	"unicode/utf8"
)

// The record encoding.
//
// Events and actors are stored in a small tagged binary format in the style
// of protocol buffers, because it is about a third smaller than JSON for a
// realistic event (no field names, no base64 for the raw head and body) and
// several times faster to decode (see BenchmarkCodec). A record is one
// version byte (codecVersion) followed by fields; a field is a uvarint key
// (field number << 3 | wire type) and a value:
//
//	wire type 0  uvarint (signed integers zigzag-encoded, times as Unix nanoseconds)
//	wire type 1  8 bytes little-endian (float64 bits)
//	wire type 2  uvarint length + bytes (strings, byte slices, nested records)
//
// Zero values are not written; repeated fields (headers, lists) repeat the
// field in order. A decoder skips fields it does not know, so adding a field
// is adding a number; a field's number and meaning never change. The event
// ID is the key and is not repeated in the value; an actor's ID likewise.

const codecVersion = 1

const (
	wtVarint  = 0
	wtFixed64 = 1
	wtBytes   = 2
)

// Size bounds applied when a record is stored. Attacker-controlled text is
// data and always size-bounded.
const (
	maxField       = 8 << 10  // any single string
	maxHeaders     = 256      // headers kept per event
	maxHeaderBytes = 64 << 10 // names+values kept per event
	maxList        = 64       // signals, tags, reasons; actor IPs, fingerprints, families, signals
	maxListItem    = 1 << 10  // one list item
	maxActorKeys   = 256      // clustering keys per actor
)

var errCorrupt = errors.New("store: corrupt record")

// Event field numbers. Never renumber; add new numbers at the end.
const (
	fTime       = 1
	fKind       = 2
	fListener   = 3
	fRemote     = 4
	fClientIP   = 5
	fProto      = 6
	fMethod     = 7
	fHost       = 8
	fPath       = 9
	fQuery      = 10
	fHeader     = 11 // message: 1 name, 2 value
	fRawHead    = 12
	fBody       = 13
	fBodyLen    = 14
	fBodySHARaw = 15 // 32 raw bytes when BodySHA256 is 64 lower-case hex digits
	fBodySHAStr = 16 // BodySHA256 as given otherwise
	fDocument   = 17
	fOperation  = 18
	fStatus     = 19
	fRespBytes  = 20
	fServeMS    = 21
	fDelayMS    = 22
	fTLS        = 23 // message: 1 version, 2 cipher, 3 sni, 4 alpn, 5 ja3, 6 ja3 hash, 7 ja4
	fClient     = 24 // message: 1 header fp, 2 user agent, 3 ua family, 4 family, 5 tool, 6 claimed, 7 mismatch, 8 reason (repeated)
	fActor      = 25
	fSession    = 26
	fRisk       = 27
	fStage      = 28
	fSignal     = 29
	fTag        = 30
	fNote       = 31
	fTarpit     = 32
	fWaitedMS   = 33
	fTarpitEnd  = 34
)

// Actor field numbers.
const (
	aFirstSeen   = 1
	aLastSeen    = 2
	aEvents      = 3
	aIP          = 4
	aFingerprint = 5
	aFamily      = 6
	aRisk        = 7
	aStage       = 8
	aSignal      = 9
	aSessions    = 10
	aKey         = 11
	aMergedInto  = 12
	aWaitedMS    = 13
	aHolds       = 14
)

// cut shortens s to at most n bytes without splitting a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

func appendKey(b []byte, num, wt int) []byte {
	return binary.AppendUvarint(b, uint64(num)<<3|uint64(wt))
}

func appendStr(b []byte, num int, s string, limit int) []byte {
	if s == "" {
		return b
	}
	s = cut(s, limit)
	b = appendKey(b, num, wtBytes)
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b []byte, num int, p []byte) []byte {
	if len(p) == 0 {
		return b
	}
	b = appendKey(b, num, wtBytes)
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

func appendInt(b []byte, num int, v int64) []byte {
	if v == 0 {
		return b
	}
	b = appendKey(b, num, wtVarint)
	return binary.AppendUvarint(b, zigzag(v))
}

// appendFloat writes f; NaN and infinities are not written (they read back
// as zero), so a stored event always marshals to JSON.
func appendFloat(b []byte, num int, f float64) []byte {
	if f == 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return b
	}
	b = appendKey(b, num, wtFixed64)
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

// appendTime writes t as Unix nanoseconds (so times between 1678 and 2262);
// the zero time is not written, the Unix epoch is.
func appendTime(b []byte, num int, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	b = appendKey(b, num, wtVarint)
	return binary.AppendUvarint(b, zigzag(t.UnixNano()))
}

// appendMsg appends a nested record written by fn, preceded by its length.
func appendMsg(b []byte, num int, fn func([]byte) []byte) []byte {
	b = appendKey(b, num, wtBytes)
	start := len(b)
	b = fn(b)
	n := len(b) - start
	var lenBuf [binary.MaxVarintLen64]byte
	w := binary.PutUvarint(lenBuf[:], uint64(n))
	b = append(b, lenBuf[:w]...)
	copy(b[start+w:], b[start:start+n])
	copy(b[start:], lenBuf[:w])
	return b
}

// appendHeader appends a header record (1 name, 2 value) with its length
// computed up front: headers are the bulk of an event.
func appendHeader(b []byte, name, value string) []byte {
	n := 0
	if name != "" {
		n += 1 + uvarintLen(len(name)) + len(name)
	}
	if value != "" {
		n += 1 + uvarintLen(len(value)) + len(value)
	}
	b = appendKey(b, fHeader, wtBytes)
	b = binary.AppendUvarint(b, uint64(n))
	if name != "" {
		b = append(b, 1<<3|wtBytes)
		b = binary.AppendUvarint(b, uint64(len(name)))
		b = append(b, name...)
	}
	if value != "" {
		b = append(b, 2<<3|wtBytes)
		b = binary.AppendUvarint(b, uint64(len(value)))
		b = append(b, value...)
	}
	return b
}

func uvarintLen(n int) int {
	l := 1
	for n >= 0x80 {
		n >>= 7
		l++
	}
	return l
}

func appendList(b []byte, num int, list []string, maxItems, itemLimit int) []byte {
	if len(list) > maxItems {
		list = list[len(list)-maxItems:]
	}
	for _, s := range list {
		b = appendKey(b, num, wtBytes)
		s = cut(s, itemLimit)
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

func isLowerHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// appendEvent encodes ev (without its ID) with the store's size bounds.
func appendEvent(b []byte, ev *Event, bodyLimit, headLimit int) []byte {
	b = append(b, codecVersion)
	b = appendTime(b, fTime, ev.Time)
	b = appendStr(b, fKind, ev.Kind, maxField)
	b = appendStr(b, fListener, ev.Listener, maxField)
	b = appendStr(b, fRemote, ev.Remote, maxField)
	b = appendStr(b, fClientIP, ev.ClientIP, maxField)
	b = appendStr(b, fProto, ev.Proto, maxField)
	b = appendStr(b, fMethod, ev.Method, maxField)
	b = appendStr(b, fHost, ev.Host, maxField)
	b = appendStr(b, fPath, ev.Path, maxField)
	b = appendStr(b, fQuery, ev.Query, maxField)
	budget := maxHeaderBytes
	for i := range ev.Headers {
		if i >= maxHeaders {
			break
		}
		name, value := cut(ev.Headers[i].Name, maxField), cut(ev.Headers[i].Value, maxField)
		if budget -= len(name) + len(value); budget < 0 {
			break
		}
		b = appendHeader(b, name, value)
	}
	raw := ev.RawHead
	if len(raw) > headLimit {
		raw = raw[:headLimit]
	}
	b = appendBytes(b, fRawHead, raw)
	body := ev.Body
	if len(body) > bodyLimit {
		body = body[:bodyLimit]
	}
	b = appendBytes(b, fBody, body)
	b = appendInt(b, fBodyLen, ev.BodyLen)
	if isLowerHex64(ev.BodySHA256) {
		var sum [32]byte
		hex.Decode(sum[:], []byte(ev.BodySHA256))
		b = appendBytes(b, fBodySHARaw, sum[:])
	} else {
		b = appendStr(b, fBodySHAStr, ev.BodySHA256, maxListItem)
	}
	b = appendStr(b, fDocument, ev.Document, maxField)
	b = appendStr(b, fOperation, ev.Operation, maxField)
	b = appendInt(b, fStatus, int64(ev.Status))
	b = appendInt(b, fRespBytes, int64(ev.RespBytes))
	b = appendFloat(b, fServeMS, ev.ServeMS)
	b = appendFloat(b, fDelayMS, ev.DelayMS)
	if t := ev.TLS; t != nil {
		b = appendMsg(b, fTLS, func(b []byte) []byte {
			b = appendStr(b, 1, t.Version, maxListItem)
			b = appendStr(b, 2, t.Cipher, maxListItem)
			b = appendStr(b, 3, t.SNI, maxListItem)
			b = appendStr(b, 4, t.ALPN, maxListItem)
			b = appendStr(b, 5, t.JA3, maxField)
			b = appendStr(b, 6, t.JA3Hash, maxListItem)
			return appendStr(b, 7, t.JA4, maxListItem)
		})
	}
	if c := &ev.Client; !c.isZero() {
		b = appendMsg(b, fClient, func(b []byte) []byte {
			b = appendStr(b, 1, c.HeaderFP, maxListItem)
			b = appendStr(b, 2, c.UserAgent, maxField)
			b = appendStr(b, 3, c.UAFamily, maxListItem)
			b = appendStr(b, 4, c.Family, maxListItem)
			b = appendStr(b, 5, c.Tool, maxListItem)
			b = appendStr(b, 6, c.Claimed, maxListItem)
			if c.Mismatch {
				b = appendInt(b, 7, 1)
			}
			return appendList(b, 8, c.Reasons, maxList, maxListItem)
		})
	}
	b = appendStr(b, fActor, ev.Actor, maxListItem)
	b = appendStr(b, fSession, ev.Session, maxListItem)
	b = appendInt(b, fRisk, int64(ev.Risk))
	b = appendStr(b, fStage, ev.Stage, maxListItem)
	b = appendList(b, fSignal, ev.Signals, maxList, maxListItem)
	b = appendList(b, fTag, ev.Tags, maxList, maxListItem)
	b = appendStr(b, fNote, ev.Note, maxField)
	return appendTarpit(b, ev.Tarpit, ev.WaitedMS, ev.TarpitEnd)
}

// appendTarpit encodes the tarpit fields. Decoding keeps the last value of
// a field, so AmendWait appends to a stored event rather than re-encoding it.
func appendTarpit(b []byte, mode string, waitedMS float64, end string) []byte {
	b = appendStr(b, fTarpit, mode, maxListItem)
	b = appendFloat(b, fWaitedMS, waitedMS)
	return appendStr(b, fTarpitEnd, end, maxListItem)
}

func (c *Client) isZero() bool {
	return c.HeaderFP == "" && c.UserAgent == "" && c.UAFamily == "" && c.Family == "" &&
		c.Tool == "" && c.Claimed == "" && !c.Mismatch && len(c.Reasons) == 0
}

// appendActor encodes a (without its ID) with the store's size bounds.
func appendActor(b []byte, a *Actor) []byte {
	b = append(b, codecVersion)
	b = appendTime(b, aFirstSeen, a.FirstSeen)
	b = appendTime(b, aLastSeen, a.LastSeen)
	b = appendInt(b, aEvents, int64(a.Events))
	b = appendList(b, aIP, a.IPs, maxList, maxListItem)
	b = appendList(b, aFingerprint, a.Fingerprints, maxList, maxListItem)
	b = appendList(b, aFamily, a.Families, maxList, maxListItem)
	b = appendInt(b, aRisk, int64(a.Risk))
	b = appendStr(b, aStage, a.Stage, maxListItem)
	b = appendList(b, aSignal, a.Signals, maxList, maxListItem)
	b = appendInt(b, aSessions, int64(a.Sessions))
	b = appendList(b, aKey, a.Keys, maxActorKeys, maxListItem)
	b = appendStr(b, aMergedInto, a.MergedInto, maxListItem)
	b = appendInt(b, aWaitedMS, a.WaitedMS)
	b = appendInt(b, aHolds, a.Holds)
	return b
}

// reader walks the fields of a record held as a string or a byte slice.
type reader[T string | []byte] struct {
	s   T
	i   int
	bad bool
}

func (r *reader[T]) uvarint() uint64 {
	var x uint64
	var s uint
	for n := 0; n < binary.MaxVarintLen64; n++ {
		if r.i >= len(r.s) {
			r.bad = true
			return 0
		}
		c := r.s[r.i]
		r.i++
		if c < 0x80 {
			if n == binary.MaxVarintLen64-1 && c > 1 {
				r.bad = true
				return 0
			}
			return x | uint64(c)<<s
		}
		x |= uint64(c&0x7f) << s
		s += 7
	}
	r.bad = true
	return 0
}

// next reads a field key. It returns false at the end or on corruption.
func (r *reader[T]) next() (num, wt int, ok bool) {
	if r.bad || r.i >= len(r.s) {
		return 0, 0, false
	}
	k := r.uvarint()
	if r.bad || k>>3 == 0 || k>>3 > math.MaxInt32 {
		r.bad = true
		return 0, 0, false
	}
	return int(k >> 3), int(k & 7), true
}

func (r *reader[T]) bytes() T {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.s)-r.i) {
		r.bad = true
		var zero T
		return zero
	}
	v := r.s[r.i : r.i+int(n)]
	r.i += int(n)
	return v
}

func (r *reader[T]) fixed64() uint64 {
	if len(r.s)-r.i < 8 {
		r.bad = true
		return 0
	}
	var v uint64
	for k := 7; k >= 0; k-- {
		v = v<<8 | uint64(r.s[r.i+k])
	}
	r.i += 8
	return v
}

func (r *reader[T]) int() int64 { return unzigzag(r.uvarint()) }

func (r *reader[T]) skip(wt int) {
	switch wt {
	case wtVarint:
		r.uvarint()
	case wtFixed64:
		r.fixed64()
	case wtBytes:
		r.bytes()
	default:
		r.bad = true
	}
}

// want checks a field's wire type; on a mismatch the field is skipped.
func (r *reader[T]) want(wt, got int) bool {
	if wt == got {
		return true
	}
	r.skip(got)
	return false
}

func newReader[T string | []byte](s T) (*reader[T], error) {
	if len(s) == 0 || s[0] != codecVersion {
		return nil, errCorrupt
	}
	return &reader[T]{s: s, i: 1}, nil
}

func unixTime(n int64) time.Time { return time.Unix(0, n).UTC() }

// decodeEvent decodes a stored event. All strings share one copy of val.
func decodeEvent(id []byte, val []byte, ev *Event) error {
	*ev = Event{}
	copy(ev.ID[:], id)
	r, err := newReader(string(val))
	if err != nil {
		return err
	}
	for {
		num, wt, ok := r.next()
		if !ok {
			break
		}
		if num == fServeMS || num == fDelayMS || num == fWaitedMS {
			if r.want(wtFixed64, wt) {
				f := math.Float64frombits(r.fixed64())
				switch num {
				case fServeMS:
					ev.ServeMS = f
				case fDelayMS:
					ev.DelayMS = f
				default:
					ev.WaitedMS = f
				}
			}
			continue
		}
		switch num {
		case fTime, fBodyLen, fStatus, fRespBytes, fRisk:
			if !r.want(wtVarint, wt) {
				continue
			}
			v := r.int()
			switch num {
			case fTime:
				ev.Time = unixTime(v)
			case fBodyLen:
				ev.BodyLen = v
			case fStatus:
				ev.Status = int(v)
			case fRespBytes:
				ev.RespBytes = int(v)
			case fRisk:
				ev.Risk = int(v)
			}
			continue
		}
		if wt != wtBytes {
			r.skip(wt)
			continue
		}
		v := r.bytes()
		switch num {
		case fKind:
			ev.Kind = v
		case fListener:
			ev.Listener = v
		case fRemote:
			ev.Remote = v
		case fClientIP:
			ev.ClientIP = v
		case fProto:
			ev.Proto = v
		case fMethod:
			ev.Method = v
		case fHost:
			ev.Host = v
		case fPath:
			ev.Path = v
		case fQuery:
			ev.Query = v
		case fHeader:
			if ev.Headers == nil {
				ev.Headers = make([]Header, 0, 16)
			}
			h, err := decodeHeader(v)
			if err != nil {
				return err
			}
			ev.Headers = append(ev.Headers, h)
		case fRawHead:
			ev.RawHead = []byte(v)
		case fBody:
			ev.Body = []byte(v)
		case fBodySHARaw:
			ev.BodySHA256 = hex.EncodeToString([]byte(v))
		case fBodySHAStr:
			ev.BodySHA256 = v
		case fDocument:
			ev.Document = v
		case fOperation:
			ev.Operation = v
		case fTLS:
			t, err := decodeTLS(v)
			if err != nil {
				return err
			}
			ev.TLS = t
		case fClient:
			if err := decodeClient(v, &ev.Client); err != nil {
				return err
			}
		case fActor:
			ev.Actor = v
		case fSession:
			ev.Session = v
		case fStage:
			ev.Stage = v
		case fSignal:
			ev.Signals = append(ev.Signals, v)
		case fTag:
			ev.Tags = append(ev.Tags, v)
		case fNote:
			ev.Note = v
		case fTarpit:
			ev.Tarpit = v
		case fTarpitEnd:
			ev.TarpitEnd = v
		}
	}
	if r.bad {
		return errCorrupt
	}
	return nil
}

func decodeHeader(s string) (Header, error) {
	var h Header
	r := reader[string]{s: s}
	for {
		num, wt, ok := r.next()
		if !ok {
			break
		}
		if wt != wtBytes {
			r.skip(wt)
			continue
		}
		v := r.bytes()
		switch num {
		case 1:
			h.Name = v
		case 2:
			h.Value = v
		}
	}
	if r.bad {
		return h, errCorrupt
	}
	return h, nil
}

func decodeTLS(s string) (*TLS, error) {
	t := new(TLS)
	r := reader[string]{s: s}
	for {
		num, wt, ok := r.next()
		if !ok {
			break
		}
		if wt != wtBytes {
			r.skip(wt)
			continue
		}
		v := r.bytes()
		switch num {
		case 1:
			t.Version = v
		case 2:
			t.Cipher = v
		case 3:
			t.SNI = v
		case 4:
			t.ALPN = v
		case 5:
			t.JA3 = v
		case 6:
			t.JA3Hash = v
		case 7:
			t.JA4 = v
		}
	}
	if r.bad {
		return nil, errCorrupt
	}
	return t, nil
}

func decodeClient(s string, c *Client) error {
	r := reader[string]{s: s}
	for {
		num, wt, ok := r.next()
		if !ok {
			break
		}
		if num == 7 {
			if r.want(wtVarint, wt) {
				c.Mismatch = r.uvarint() != 0
			}
			continue
		}
		if wt != wtBytes {
			r.skip(wt)
			continue
		}
		v := r.bytes()
		switch num {
		case 1:
			c.HeaderFP = v
		case 2:
			c.UserAgent = v
		case 3:
			c.UAFamily = v
		case 4:
			c.Family = v
		case 5:
			c.Tool = v
		case 6:
			c.Claimed = v
		case 8:
			c.Reasons = append(c.Reasons, v)
		}
	}
	if r.bad {
		return errCorrupt
	}
	return nil
}

// eventIndexFields returns the indexed fields of a stored event without
// decoding or copying the rest.
func eventIndexFields(val []byte) (actor, clientIP []byte, tokenIDs [][]byte, err error) {
	r, err := newReader(val)
	if err != nil {
		return nil, nil, nil, err
	}
	for {
		num, wt, ok := r.next()
		if !ok {
			break
		}
		if wt == wtBytes && (num == fActor || num == fClientIP) {
			v := r.bytes()
			if num == fActor {
				actor = v
			} else {
				clientIP = v
			}
			continue
		}
		if wt == wtBytes && num == fTag {
			if id, _, ok := tokenTagID(string(r.bytes())); ok {
				tokenIDs = append(tokenIDs, []byte(id))
			}
			continue
		}
		r.skip(wt)
	}
	if r.bad {
		return nil, nil, nil, errCorrupt
	}
	return actor, clientIP, tokenIDs, nil
}

// decodeActor decodes a stored actor.
func decodeActor(id []byte, val []byte, a *Actor) error {
	*a = Actor{ID: string(id)}
	r, err := newReader(string(val))
	if err != nil {
		return err
	}
	for {
		num, wt, ok := r.next()
		if !ok {
			break
		}
		switch num {
		case aFirstSeen, aLastSeen, aEvents, aRisk, aSessions, aWaitedMS, aHolds:
			if !r.want(wtVarint, wt) {
				continue
			}
			v := r.int()
			switch num {
			case aFirstSeen:
				a.FirstSeen = unixTime(v)
			case aLastSeen:
				a.LastSeen = unixTime(v)
			case aEvents:
				a.Events = int(v)
			case aRisk:
				a.Risk = int(v)
			case aSessions:
				a.Sessions = int(v)
			case aWaitedMS:
				a.WaitedMS = v
			case aHolds:
				a.Holds = v
			}
			continue
		}
		if wt != wtBytes {
			r.skip(wt)
			continue
		}
		v := r.bytes()
		switch num {
		case aIP:
			a.IPs = append(a.IPs, v)
		case aFingerprint:
			a.Fingerprints = append(a.Fingerprints, v)
		case aFamily:
			a.Families = append(a.Families, v)
		case aStage:
			a.Stage = v
		case aSignal:
			a.Signals = append(a.Signals, v)
		case aKey:
			a.Keys = append(a.Keys, v)
		case aMergedInto:
			a.MergedInto = v
		}
	}
	if r.bad {
		return errCorrupt
	}
	return nil
}

// actorLastSeen reads only the LastSeen of a stored actor (zero if absent).
func actorLastSeen(val []byte) (int64, error) {
	r, err := newReader(val)
	if err != nil {
		return 0, err
	}
	for {
		num, wt, ok := r.next()
		if !ok {
			break
		}
		if num == aLastSeen && wt == wtVarint {
			return r.int(), nil
		}
		r.skip(wt)
	}
	if r.bad {
		return 0, errCorrupt
	}
	return 0, nil
}
