package fingerprint

import (
	"errors"
	"fmt"
)

// ClientHello holds the fields of a TLS ClientHello that fingerprints use. Values are as sent:
// GREASE values (RFC 8701) are kept here; JA3 and JA4 remove them.
type ClientHello struct {
	Version             uint16   // legacy_version of the handshake (0x0303 for TLS 1.2 and 1.3)
	Ciphers             []uint16 // cipher suites in wire order
	Extensions          []uint16 // extension types in wire order
	Curves              []uint16 // supported_groups (10)
	PointFormats        []uint8  // ec_point_formats (11)
	SignatureAlgorithms []uint16 // signature_algorithms (13), in wire order
	SupportedVersions   []uint16 // supported_versions (43)
	ALPN                []string // application_layer_protocol_negotiation (16), in order
	SNI                 string   // the first host_name of server_name (0)
}

// Errors returned by ParseClientHello.
var (
	// ErrNotClientHello means the bytes are not TLS handshake records carrying a ClientHello.
	ErrNotClientHello = errors.New("fingerprint: not a TLS ClientHello")
	// ErrTruncatedHello means the records end before the ClientHello does.
	ErrTruncatedHello = errors.New("fingerprint: truncated TLS ClientHello")
)

// Bounds on what ParseClientHello accepts.
const (
	maxHelloLen   = 1 << 16 // a ClientHello handshake message longer than this is refused
	maxRecordLen  = 1<<14 + 2048
	maxListItems  = 1 << 12 // per list, far above any real client
	maxALPNValues = 64
)

// ParseClientHello parses the raw bytes of the TLS record(s) that carry a ClientHello, as read
// from the wire (5-byte record headers included; the message may span several records). Bytes
// after the ClientHello are ignored. It never panics and reads at most 64 KiB of handshake data.
// On error the returned ClientHello, when non-nil, holds the fields parsed before the error.
func ParseClientHello(record []byte) (*ClientHello, error) {
	msg, err := reassembleHandshake(record)
	if err != nil {
		return nil, err
	}
	return parseClientHelloMsg(msg)
}

// reassembleHandshake concatenates the payloads of the leading handshake records until they
// hold one complete handshake message, and returns that message (header included).
func reassembleHandshake(data []byte) ([]byte, error) {
	var msg []byte
	need := -1
	for len(data) > 0 {
		if len(data) < 5 {
			return nil, fmt.Errorf("%w: short record header", ErrTruncatedHello)
		}
		if data[0] != 22 {
			return nil, fmt.Errorf("%w: record type %d", ErrNotClientHello, data[0])
		}
		if data[1] != 3 {
			return nil, fmt.Errorf("%w: record version %#04x", ErrNotClientHello, uint16(data[1])<<8|uint16(data[2]))
		}
		n := int(data[3])<<8 | int(data[4])
		if n == 0 || n > maxRecordLen {
			return nil, fmt.Errorf("%w: record length %d", ErrNotClientHello, n)
		}
		frag := data[5:]
		truncated := len(frag) < n
		if !truncated {
			frag = frag[:n]
		}
		data = data[5+len(frag):]
		if need < 0 && len(msg) == 0 && len(frag) >= 4 {
			// Fast path: the whole message in the first record needs no copy.
			if frag[0] != 1 {
				return nil, fmt.Errorf("%w: handshake type %d", ErrNotClientHello, frag[0])
			}
			need = 4 + (int(frag[1])<<16 | int(frag[2])<<8 | int(frag[3]))
			if need > maxHelloLen {
				return nil, fmt.Errorf("%w: handshake length %d", ErrNotClientHello, need)
			}
			if len(frag) >= need {
				return frag[:need], nil
			}
		}
		msg = append(msg, frag...)
		if need < 0 && len(msg) >= 4 {
			if msg[0] != 1 {
				return nil, fmt.Errorf("%w: handshake type %d", ErrNotClientHello, msg[0])
			}
			need = 4 + (int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3]))
			if need > maxHelloLen {
				return nil, fmt.Errorf("%w: handshake length %d", ErrNotClientHello, need)
			}
		}
		if need >= 0 && len(msg) >= need {
			return msg[:need], nil
		}
		if truncated {
			break
		}
	}
	if len(msg) == 0 && need < 0 {
		return nil, fmt.Errorf("%w: no handshake data", ErrTruncatedHello)
	}
	return nil, ErrTruncatedHello
}

// reader is a bounds-checked cursor over a byte slice.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) u8() uint8 {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u16() uint16 {
	if len(r.b) < 2 {
		r.bad = true
		r.b = nil
		return 0
	}
	v := uint16(r.b[0])<<8 | uint16(r.b[1])
	r.b = r.b[2:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.bad = true
		r.b = nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// vec8 and vec16 read a length-prefixed vector.
func (r *reader) vec8() reader  { return reader{b: r.bytes(int(r.u8()))} }
func (r *reader) vec16() reader { return reader{b: r.bytes(int(r.u16()))} }

func (r *reader) u16list() []uint16 {
	if len(r.b)%2 != 0 {
		r.bad = true
	}
	n := min(len(r.b)/2, maxListItems)
	out := make([]uint16, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, r.u16())
	}
	return out
}

func parseClientHelloMsg(msg []byte) (*ClientHello, error) {
	if len(msg) < 4 || msg[0] != 1 {
		return nil, ErrNotClientHello
	}
	r := reader{b: msg[4:]}
	h := &ClientHello{Version: r.u16()}
	r.bytes(32) // random
	sid := r.vec8()
	if len(sid.b) > 32 {
		return h, fmt.Errorf("%w: session id longer than 32 bytes", ErrNotClientHello)
	}
	cs := r.vec16()
	if r.bad || len(cs.b) == 0 || len(cs.b)%2 != 0 {
		return h, fmt.Errorf("%w: bad cipher suite list", ErrNotClientHello)
	}
	h.Ciphers = cs.u16list()
	comp := r.vec8()
	if r.bad || len(comp.b) == 0 {
		return h, fmt.Errorf("%w: bad compression methods", ErrNotClientHello)
	}
	if len(r.b) == 0 {
		return h, nil // no extensions (SSL 3.0 / early TLS)
	}
	exts := r.vec16()
	if r.bad {
		return h, fmt.Errorf("%w: bad extensions length", ErrNotClientHello)
	}
	for len(exts.b) > 0 {
		typ := exts.u16()
		data := exts.vec16()
		if exts.bad {
			return h, fmt.Errorf("%w: bad extension", ErrNotClientHello)
		}
		if len(h.Extensions) >= maxListItems {
			return h, fmt.Errorf("%w: too many extensions", ErrNotClientHello)
		}
		h.Extensions = append(h.Extensions, typ)
		if err := parseExtension(h, typ, data); err != nil {
			return h, fmt.Errorf("%w: extension %d: %v", ErrNotClientHello, typ, err)
		}
	}
	return h, nil
}

var errBadExtension = errors.New("malformed")

func parseExtension(h *ClientHello, typ uint16, d reader) error {
	switch typ {
	case 0: // server_name
		if len(d.b) == 0 {
			return nil // the empty form a server sends back; tolerate it
		}
		list := d.vec16()
		for len(list.b) > 0 && !list.bad {
			nameType := list.u8()
			name := list.vec16()
			if list.bad {
				return errBadExtension
			}
			if nameType == 0 && h.SNI == "" {
				h.SNI = string(name.b)
			}
		}
		if list.bad || d.bad {
			return errBadExtension
		}
	case 10: // supported_groups
		l := d.vec16()
		h.Curves = l.u16list()
		if l.bad || d.bad {
			return errBadExtension
		}
	case 11: // ec_point_formats
		l := d.vec8()
		if d.bad {
			return errBadExtension
		}
		h.PointFormats = append([]uint8(nil), l.b...)
	case 13: // signature_algorithms
		l := d.vec16()
		h.SignatureAlgorithms = l.u16list()
		if l.bad || d.bad {
			return errBadExtension
		}
	case 16: // ALPN
		l := d.vec16()
		for len(l.b) > 0 {
			p := l.vec8()
			if l.bad {
				return errBadExtension
			}
			if len(h.ALPN) < maxALPNValues {
				h.ALPN = append(h.ALPN, string(p.b))
			}
		}
		if d.bad {
			return errBadExtension
		}
	case 43: // supported_versions
		l := d.vec8()
		h.SupportedVersions = l.u16list()
		if l.bad || d.bad {
			return errBadExtension
		}
	}
	return nil
}

// isGREASE reports whether v is one of the RFC 8701 GREASE values 0x0a0a, 0x1a1a, ... 0xfafa.
func isGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// HasGREASE reports whether the hello carries GREASE values in its cipher suites or extensions,
// as Chromium-based browsers (and BoringSSL clients) do and Firefox, OpenSSL and Go do not.
func (h *ClientHello) HasGREASE() bool {
	if h == nil {
		return false
	}
	for _, v := range h.Ciphers {
		if isGREASE(v) {
			return true
		}
	}
	for _, v := range h.Extensions {
		if isGREASE(v) {
			return true
		}
	}
	return false
}
