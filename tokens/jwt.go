package tokens

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// jwtClaims is in the order issuers commonly emit.
type jwtClaims struct {
	Iss   string `json:"iss"`
	Sub   string `json:"sub"`
	Aud   string `json:"aud"`
	Exp   int64  `json:"exp"`
	Nbf   int64  `json:"nbf"`
	Iat   int64  `json:"iat"`
	Jti   string `json:"jti"`
	Scope string `json:"scope"`
}

// newJWT mints an ES256 JWT signed by the deployment key. The MAC lives in the jti, a
// UUIDv4 whose first 11 bytes are random (with the version and variant bits) and whose
// last 5 bytes are the 40-bit MAC of the first 11.
func (m *Minter) newJWT(g io.Reader) (Token, error) {
	var u [16]byte
	io.ReadFull(g, u[:11])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	in := jtiMACInput(u[:11])
	h := sum(m.mac, in[:])
	w := macWord(&h, JWT)
	for i := range 5 {
		u[11+i] = byte(w >> (56 - 8*i))
	}
	now := time.Now().Add(-time.Duration(randIntn(g, 30*24)) * time.Hour).Truncate(time.Second)
	c := jwtClaims{
		Iss:   m.issuer,
		Sub:   pick(g, []string{"svc-deploy", "svc-billing-sync", "ci-pipeline", "svc-reporting", "backup-agent"}),
		Aud:   m.issuer + "/api",
		Exp:   now.Add(365 * 24 * time.Hour).Unix(),
		Nbf:   now.Unix(),
		Iat:   now.Unix(),
		Jti:   formatUUID(u),
		Scope: pick(g, []string{"read:all write:all", "api:read api:write admin", "read write deploy"}),
	}
	hdr, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{"ES256", m.kid, "JWT"})
	if err != nil {
		return Token{}, fmt.Errorf("tokens: jwt header: %w", err)
	}
	body, err := json.Marshal(c)
	if err != nil {
		return Token{}, fmt.Errorf("tokens: jwt claims: %w", err)
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(hdr) + "." + enc.EncodeToString(body)
	digest := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, m.jwt, digest[:])
	if err != nil {
		return Token{}, fmt.Errorf("tokens: sign jwt: %w", err)
	}
	var sig [64]byte
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return Token{ID: idOf(&h), Kind: JWT, Value: signing + "." + enc.EncodeToString(sig[:]),
		Fields: map[string]string{"kid": m.kid, "iss": m.issuer, "jti": c.Jti, "sub": c.Sub}}, nil
}

func jtiMACInput(u []byte) (b [14]byte) {
	copy(b[:], "jti")
	copy(b[3:], u[:11])
	return b
}

func formatUUID(u [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

var b64urlDec [256]int8

func init() {
	for i := range b64urlDec {
		b64urlDec[i] = -1
	}
	for i := 0; i < len(base64u); i++ {
		b64urlDec[base64u[i]] = int8(i)
	}
}

// maxJWTPayload bounds the payload segment Recognize looks at.
const maxJWTPayload = 4096

// jtiClaim is the claim that carries the MAC, as we serialise it.
const jtiClaim = `"jti":"`

// jtiNeedles[r] is the base64url text of the whole 3-byte groups of jtiClaim when the claim
// starts at a payload byte offset ≡ r (mod 3), and jtiSkip[r] how many claim bytes precede
// those groups. Searching the encoded payload for them finds the claim without decoding it.
var (
	jtiNeedles [3]string
	jtiSkip    = [3]int{0, 2, 1}
	jtiFirst   [256]bool // first characters of the needles
)

func init() {
	for r := range 3 {
		k := jtiSkip[r]
		n := (len(jtiClaim) - k) / 3 * 3
		jtiNeedles[r] = base64.RawURLEncoding.EncodeToString([]byte(jtiClaim[k : k+n]))
		jtiFirst[jtiNeedles[r][0]] = true
	}
}

// recognizeJWT finds the jti claim in the payload segment and checks its MAC. It does not
// verify the ECDSA signature (far too slow for the per-request path): a JWT whose jti is
// ours is reported even if its signature or other claims were altered.
func (m *Minter) recognizeJWT(s string) (ID, Kind, bool) {
	d1 := strings.IndexByte(s, '.')
	if d1 < 0 {
		return ID{}, "", false
	}
	rest := s[d1+1:]
	d2 := strings.IndexByte(rest, '.')
	if d2 < 0 || d2 > maxJWTPayload {
		return ID{}, "", false
	}
	seg := rest[:d2]
	// The needles are whole base64 groups, so they start at multiples of 4.
	for ci := 0; ci+4 <= len(seg); ci += 4 {
		if !jtiFirst[seg[ci]] {
			continue
		}
		for r := range 3 {
			nd := jtiNeedles[r]
			if seg[ci] != nd[0] || len(seg)-ci < len(nd) || seg[ci:ci+len(nd)] != nd {
				continue
			}
			p := ci/4*3 - jtiSkip[r] // byte offset of the claim in the payload
			if p < 0 {
				continue
			}
			if id, ok := m.jtiAt(seg, p); ok {
				return id, JWT, true
			}
		}
	}
	return ID{}, "", false
}

// jtiAt decodes the payload bytes [p, p+len(jtiClaim)+37) from the base64url segment and
// checks that they are the jti claim with one of our UUIDs.
func (m *Minter) jtiAt(seg string, p int) (ID, bool) {
	const want = len(jtiClaim) + 37 // claim, 36-character UUID, closing quote
	var buf [want + 3]byte
	c := p / 3 * 4 // first character of the group holding byte p
	skip := p % 3
	n := 0
	var acc uint32
	bits := 0
	for ; c < len(seg) && n < skip+want; c++ {
		v := b64urlDec[seg[c]]
		if v < 0 {
			return ID{}, false
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 8 {
			bits -= 8
			buf[n] = byte(acc >> bits)
			n++
		}
	}
	if n < skip+want {
		return ID{}, false
	}
	b := buf[skip : skip+want]
	if string(b[:len(jtiClaim)]) != jtiClaim || b[want-1] != '"' {
		return ID{}, false
	}
	var u [16]byte
	if !parseUUID(b[len(jtiClaim):len(jtiClaim)+36], &u) {
		return ID{}, false
	}
	in := jtiMACInput(u[:11])
	h := sum(m.mac, in[:])
	w := macWord(&h, JWT)
	for j := range 5 {
		if u[11+j] != byte(w>>(56-8*j)) {
			return ID{}, false
		}
	}
	return idOf(&h), true
}

func parseUUID(b []byte, u *[16]byte) bool {
	if b[8] != '-' || b[13] != '-' || b[18] != '-' || b[23] != '-' {
		return false
	}
	j := 0
	for i := 0; i < 36; i += 2 {
		if b[i] == '-' {
			i--
			continue
		}
		hi, lo := unhex(b[i]), unhex(b[i+1])
		if hi < 0 || lo < 0 {
			return false
		}
		u[j] = byte(hi<<4 | lo)
		j++
	}
	return j == 16
}

// unhex accepts lowercase hex only (the form we mint).
func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}
