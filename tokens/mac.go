package tokens

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"io"
	"sync"
)

// Alphabets of the formats.
const (
	base62   = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	base64u  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	base32lc = "abcdefghijklmnopqrstuvwxyz234567"
	base32uc = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	base36lc = "0123456789abcdefghijklmnopqrstuvwxyz"
	hexlc    = "0123456789abcdef"
	digits   = "0123456789"
)

// maxMACInput is the size of the scratch buffer of a pooled HMAC state.
const maxMACInput = 192

// hmacKey is an HMAC-SHA256 key. MACs are computed with pooled crypto/hmac states, which
// keep the key's padded blocks precomputed (two SHA-256 compressions per short message
// instead of four) and, with a scratch buffer in each pooled state, never allocate in the
// steady state. Safe for concurrent use.
type hmacKey struct {
	raw  []byte
	pool sync.Pool // of *macState
}

type macState struct {
	h   hash.Hash
	buf [maxMACInput]byte
	out [sha256.Size]byte
}

func newHMACKey(k []byte) *hmacKey {
	key := &hmacKey{raw: append([]byte(nil), k...)}
	key.pool.New = func() any { return &macState{h: hmac.New(sha256.New, key.raw)} }
	return key
}

// sum returns HMAC-SHA256(key, msg).
func sum[T string | []byte](k *hmacKey, msg T) (out [32]byte) {
	st := k.pool.Get().(*macState)
	st.h.Reset()
	for len(msg) > 0 {
		n := copy(st.buf[:], msg)
		st.h.Write(st.buf[:n])
		msg = msg[n:]
	}
	copy(out[:], st.h.Sum(st.out[:0]))
	k.pool.Put(st)
	return out
}

// kindTweak separates the MACs of kinds that share a shape (e.g. basic and dburl passwords),
// so one HMAC computation serves every candidate kind of a shape.
func kindTweak(k Kind) uint64 {
	return uint64(k.index()+1) * 0x9E3779B97F4A7C15
}

// macWord is the 64-bit MAC of carrier head h for kind k: the first 8 bytes of the HMAC,
// tweaked by kind. The ID is the next 8 bytes.
func macWord(h *[32]byte, k Kind) uint64 {
	return binary.BigEndian.Uint64(h[0:8]) ^ kindTweak(k)
}

func idOf(h *[32]byte) (id ID) {
	copy(id[:], h[8:16])
	return id
}

// appendMAC appends n characters of alphabet alpha encoding the MAC word x (least significant
// digit first). With alpha^n far below 2^64 the characters are uniform to within 2^-20.
func appendMAC(dst []byte, x uint64, alpha string, n int) []byte {
	b := uint64(len(alpha))
	for range n {
		dst = append(dst, alpha[x%b])
		x /= b
	}
	return dst
}

// macMatches reports whether s is appendMAC's encoding of x.
func macMatches(s string, x uint64, alpha string) bool {
	b := uint64(len(alpha))
	for i := 0; i < len(s); i++ {
		if s[i] != alpha[x%b] {
			return false
		}
		x /= b
	}
	return true
}

// appendRandom appends n characters drawn uniformly from alpha (rejection sampling on
// crypto/rand bytes).
func appendRandom(g io.Reader, dst []byte, alpha string, n int) []byte {
	limit := 256 - 256%len(alpha)
	var buf [64]byte
	for n > 0 {
		io.ReadFull(g, buf[:])
		for _, c := range buf {
			if n == 0 {
				break
			}
			if int(c) < limit {
				dst = append(dst, alpha[int(c)%len(alpha)])
				n--
			}
		}
	}
	return dst
}

// Character-class tables for the allocation-free shape checks.
var (
	isBase62   [256]bool
	isBase64u  [256]bool
	isBase36lc [256]bool
	isHexlc    [256]bool
	isDigit    [256]bool
	isBase32uc [256]bool
	isBase32lc [256]bool // either case: DNS resolvers may randomise case (0x20 encoding)
)

func init() {
	for _, t := range []struct {
		tab   *[256]bool
		alpha string
	}{{&isBase62, base62}, {&isBase64u, base64u}, {&isBase36lc, base36lc}, {&isHexlc, hexlc},
		{&isDigit, digits}, {&isBase32uc, base32uc}, {&isBase32lc, base32lc + base32uc}} {
		for i := 0; i < len(t.alpha); i++ {
			t.tab[t.alpha[i]] = true
		}
	}
}

func allIn(s string, tab *[256]bool) bool {
	for i := 0; i < len(s); i++ {
		if !tab[s[i]] {
			return false
		}
	}
	return true
}
