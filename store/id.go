package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// ID identifies an event. It is 16 bytes: 8 bytes of big-endian Unix
// nanoseconds (the time the store accepted the event) followed by 8 bytes of
// a per-process monotonic counter mixed with randomness, so IDs minted by one
// process are strictly increasing and IDs from different processes do not
// collide. Byte order, numeric order and the order of String() agree, which
// is what lets the events bucket double as the time index.
type ID [16]byte

// crockford is Crockford's base32 alphabet, as used by ULIDs.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// idLen is the length of ID.String().
const idLen = 26

// ErrBadID reports a string that is not a valid ID.
var ErrBadID = errors.New("store: invalid event id")

var crockfordDec = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	for i := 0; i < len(crockford); i++ {
		c := crockford[i]
		t[c] = byte(i)
		if c >= 'A' && c <= 'Z' {
			t[c+'a'-'A'] = byte(i)
		}
	}
	// Crockford's decoding aliases.
	for _, a := range []struct {
		c byte
		v byte
	}{{'O', 0}, {'o', 0}, {'I', 1}, {'i', 1}, {'L', 1}, {'l', 1}} {
		t[a.c] = a.v
	}
	return t
}()

// String returns the ID as 26 characters of Crockford base32 (ULID-like).
// Strings of IDs sort in the same order as the IDs.
func (id ID) String() string {
	var dst [idLen]byte
	id.appendString(dst[:0])
	return string(dst[:])
}

func (id ID) appendString(dst []byte) []byte {
	hi := binary.BigEndian.Uint64(id[:8])
	lo := binary.BigEndian.Uint64(id[8:])
	// The 128-bit value is written as 26 five-bit digits (130 bits, the two
	// leading bits are zero), most significant first.
	for i := 0; i < idLen; i++ {
		s := uint(125 - 5*i)
		var d uint64
		switch {
		case s >= 64:
			d = hi >> (s - 64)
		case s == 0:
			d = lo
		default:
			d = lo>>s | hi<<(64-s)
		}
		dst = append(dst, crockford[d&31])
	}
	return dst
}

// ParseID parses the output of ID.String. It is case-insensitive and accepts
// Crockford's aliases (O for 0, I and L for 1).
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != idLen {
		return id, fmt.Errorf("%w: %q has %d characters, want %d", ErrBadID, truncForErr(s), len(s), idLen)
	}
	var hi, lo uint64
	for i := 0; i < idLen; i++ {
		d := crockfordDec[s[i]]
		if d == 0xFF {
			return id, fmt.Errorf("%w: %q has an invalid character at %d", ErrBadID, s, i)
		}
		if i == 0 && d > 7 {
			return id, fmt.Errorf("%w: %q overflows 128 bits", ErrBadID, s)
		}
		hi = hi<<5 | lo>>59
		lo = lo<<5 | uint64(d)
	}
	binary.BigEndian.PutUint64(id[:8], hi)
	binary.BigEndian.PutUint64(id[8:], lo)
	return id, nil
}

func truncForErr(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Time returns the time encoded in the ID (when the store accepted the event).
func (id ID) Time() time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(id[:8]))).UTC()
}

// IsZero reports whether the ID is the zero value (not yet assigned).
func (id ID) IsZero() bool { return id == ID{} }

// Compare returns -1, 0 or +1 as id sorts before, equal to or after other.
func (id ID) Compare(other ID) int {
	for i := range id {
		if id[i] != other[i] {
			if id[i] < other[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// MarshalText encodes the ID as its 26-character string (so JSON carries a
// string, not an array of bytes).
func (id ID) MarshalText() ([]byte, error) {
	return id.appendString(make([]byte, 0, idLen)), nil
}

// UnmarshalText parses the output of MarshalText. An empty text is the zero ID.
func (id *ID) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*id = ID{}
		return nil
	}
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// idAt returns the smallest ID at time t: every ID minted at or after t sorts
// at or after it.
func idAt(t time.Time) ID {
	var id ID
	n := t.UnixNano()
	if n < 0 {
		n = 0
	}
	binary.BigEndian.PutUint64(id[:8], uint64(n))
	return id
}

// next returns the ID immediately after id, and false if id is the largest.
func (id ID) next() (ID, bool) {
	for i := len(id) - 1; i >= 0; i-- {
		id[i]++
		if id[i] != 0 {
			return id, true
		}
	}
	return id, false
}

// maxID is the largest ID; it is used as an open upper bound and is never
// minted.
var maxID = ID{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}

// idGen mints strictly increasing IDs for the whole process.
var idGen struct {
	mu    sync.Mutex
	nanos int64
	low   uint64
}

// NewID returns a new ID for the current time. IDs returned by one process
// are strictly increasing, even when the wall clock steps backwards.
func NewID() ID { return newIDAt(time.Now()) }

func newIDAt(now time.Time) ID {
	n := now.UnixNano()
	idGen.mu.Lock()
	switch {
	case n > idGen.nanos:
		idGen.nanos = n
		// Leave headroom for increments within the same nanosecond.
		idGen.low = rand.Uint64() >> 1
	default:
		// Same nanosecond, or the clock went backwards: keep the last time
		// and count up by a small random step.
		step := 1 + rand.Uint64()&0xFFFF
		if idGen.low > ^uint64(0)-step {
			idGen.nanos++
			idGen.low = rand.Uint64() >> 1
		} else {
			idGen.low += step
		}
	}
	var id ID
	binary.BigEndian.PutUint64(id[:8], uint64(idGen.nanos))
	binary.BigEndian.PutUint64(id[8:], idGen.low)
	idGen.mu.Unlock()
	return id
}

// observeID makes sure later IDs sort after id (used at Open with the newest
// stored event, so a restart with a clock that went backwards still appends).
func observeID(id ID) {
	n := int64(binary.BigEndian.Uint64(id[:8]))
	low := binary.BigEndian.Uint64(id[8:])
	idGen.mu.Lock()
	if n > idGen.nanos || (n == idGen.nanos && low > idGen.low) {
		idGen.nanos, idGen.low = n, low
	}
	idGen.mu.Unlock()
}
