package tokens

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math"
	"strings"
)

// --- AWS ---------------------------------------------------------------------------------

// An AWS access key id is "AKIA" + 16 base32 characters, which decode to 80 bits:
//
//	bit 79      1 (set in every key id issued since 2019)
//	bits 78..39 the 40-bit AWS account number
//	bits 38..0  key-specific bits
//
// (the decoding published by Aidan Steele and used by `aws sts get-access-key-info`.)
// Honeytokens encode an "account" in [awsAccountBase, awsAccountBase+2^34): AWS account
// numbers have 12 decimal digits, and these have 13, so no token can ever name a real
// third party's account. The 5th character is then '6', as for real accounts from
// 962072674304 up. The remaining 34+39 = 73 bits carry a 40-bit nonce and a 33-bit MAC.
const (
	awsAccountBase = 1_000_000_000_000
	awsAccountSpan = 1 << 34
	awsMACBits     = 33
	awsLowBits     = 39
)

// awsKeyID builds the key id from a 40-bit nonce and its 33-bit MAC.
func awsKeyID(nonce, mac uint64) string {
	account := awsAccountBase + nonce>>(awsLowBits-awsMACBits)
	low := (nonce&(1<<(awsLowBits-awsMACBits)-1))<<awsMACBits | mac
	hi := uint64(1)<<15 | account>>(64-awsLowBits)
	lo := account<<awsLowBits | low
	var b [20]byte
	copy(b[:], "AKIA")
	for i := 19; i >= 4; i-- {
		b[i] = base32uc[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(b[:])
}

// awsAccount returns the account number encoded in an AKIA key id (no validation beyond
// the alphabet; ok is false for other strings).
func awsAccount(keyID string) (account uint64, ok bool) {
	_, _, account, ok = awsDecode(keyID)
	return account, ok
}

func awsDecode(s string) (hi, lo, account uint64, ok bool) {
	if len(s) != 20 || s[:4] != "AKIA" {
		return 0, 0, 0, false
	}
	for i := 4; i < 20; i++ {
		c := s[i]
		var d uint64
		switch {
		case c >= 'A' && c <= 'Z':
			d = uint64(c - 'A')
		case c >= '2' && c <= '7':
			d = uint64(c-'2') + 26
		default:
			return 0, 0, 0, false
		}
		hi = hi<<5 | lo>>59
		lo = lo<<5 | d
	}
	hi &= 0xffff
	account = (hi&0x7fff)<<(64-awsLowBits) | lo>>awsLowBits
	return hi, lo, account, true
}

func awsMACInput(nonce uint64) (b [9]byte) {
	copy(b[:], "AKIA")
	b[4], b[5], b[6], b[7], b[8] = byte(nonce>>32), byte(nonce>>24), byte(nonce>>16), byte(nonce>>8), byte(nonce)
	return b
}

func (m *Minter) newAWS(g io.Reader) Token {
	var r [8]byte
	io.ReadFull(g, r[:])
	nonce := binary.BigEndian.Uint64(r[:]) >> 24 // 40 bits
	in := awsMACInput(nonce)
	h := sum(m.mac, in[:])
	mac := macWord(&h, AWS) >> (64 - awsMACBits)
	id := awsKeyID(nonce, mac)
	return Token{ID: idOf(&h), Kind: AWS, Value: id,
		Fields: map[string]string{"secret_access_key": m.awsSecret(id), "region": "us-east-1"}}
}

func (m *Minter) recognizeAWS(s string) (ID, Kind, bool) {
	hi, lo, account, ok := awsDecode(s)
	if !ok || hi&0x8000 == 0 || account < awsAccountBase || account >= awsAccountBase+awsAccountSpan {
		return ID{}, "", false
	}
	low := lo & (1<<awsLowBits - 1)
	nonce := (account-awsAccountBase)<<(awsLowBits-awsMACBits) | low>>awsMACBits
	in := awsMACInput(nonce)
	h := sum(m.mac, in[:])
	if macWord(&h, AWS)>>(64-awsMACBits) != low&(1<<awsMACBits-1) {
		return ID{}, "", false
	}
	return idOf(&h), AWS, true
}

// awsSecret is base64(HMAC-SHA256(awsKey, keyID)[:30]): 40 characters of [A-Za-z0-9+/].
func (m *Minter) awsSecret(keyID string) string {
	h := sum(m.aws, keyID)
	return base64.StdEncoding.EncodeToString(h[:30])
}

// AWSSecretFor returns the secret access key of a honeytoken access key id of this
// deployment, so a sensor can verify a SigV4 signature made with it.
func (m *Minter) AWSSecretFor(accessKeyID string) (string, bool) {
	if _, _, ok := m.recognizeAWS(accessKeyID); !ok {
		return "", false
	}
	return m.awsSecret(accessKeyID), true
}

// --- GitHub and npm (CRC32 checksum) -----------------------------------------------------

// crc32String is crc32.ChecksumIEEE over a string, without converting it to []byte.
func crc32String(s string) uint32 {
	crc := ^uint32(0)
	for i := 0; i < len(s); i++ {
		crc = crc32.IEEETable[byte(crc)^s[i]] ^ crc>>8
	}
	return ^crc
}

// appendChecksum appends GitHub's checksum of body: CRC32 (IEEE) in base62
// (0-9A-Za-z), most significant digit first, left-padded with '0' to 6 characters.
func appendChecksum(dst []byte, body string) []byte {
	c := uint64(crc32String(body))
	var d [6]byte
	for i := 5; i >= 0; i-- {
		d[i] = base62[c%62]
		c /= 62
	}
	return append(dst, d[:]...)
}

func checksumOK(body, sum string) bool {
	c := uint64(crc32String(body))
	for i := 5; i >= 0; i-- {
		if sum[i] != base62[c%62] {
			return false
		}
		c /= 62
	}
	return true
}

// newChecksummed mints prefix + 23 random + 7 MAC + 6 checksum (base62), the layout of
// GitHub classic tokens and npm tokens.
func (m *Minter) newChecksummed(g io.Reader, kind Kind, prefix string) Token {
	b := make([]byte, 0, len(prefix)+36)
	b = append(b, prefix...)
	b = appendRandom(g, b, base62, 23)
	h := sum(m.mac, b)
	b = appendMAC(b, macWord(&h, kind), base62, 7)
	b = appendChecksum(b, string(b[len(prefix):]))
	return Token{ID: idOf(&h), Kind: kind, Value: string(b)}
}

func (m *Minter) recognizeChecksummed(s string, kind Kind, plen int) (ID, Kind, bool) {
	if len(s) != plen+36 || !allIn(s[plen:], &isBase62) || !checksumOK(s[plen:plen+30], s[plen+30:]) {
		return ID{}, "", false
	}
	return m.verify(s[:plen+30], 7, base62, kind, "")
}

func (m *Minter) newGitHub(g io.Reader) Token {
	switch r := randIntn(g, 20); {
	case r < 5:
		return m.newFineGrained(g)
	case r < 7:
		return m.newChecksummed(g, GitHub, "gho_")
	case r < 9:
		return m.newChecksummed(g, GitHub, "ghs_")
	default:
		return m.newChecksummed(g, GitHub, "ghp_")
	}
}

// Fine-grained PATs: "github_pat_" + 22 + "_" + 59. The 22 are "11" + 7 of [A-Z2-7] + "0" +
// 12 base62 as in issued tokens; the MAC is the last 7 characters of the 59.
func (m *Minter) newFineGrained(g io.Reader) Token {
	b := make([]byte, 0, 93)
	b = append(b, "github_pat_11"...)
	b = appendRandom(g, b, base32uc, 7)
	b = append(b, '0')
	b = appendRandom(g, b, base62, 12)
	b = append(b, '_')
	b = appendRandom(g, b, base62, 52)
	v, id := m.seal(b, GitHub, base62, 7)
	return Token{ID: id, Kind: GitHub, Value: v}
}

func (m *Minter) recognizeFineGrained(s string) (ID, Kind, bool) {
	if len(s) != 93 || s[:13] != "github_pat_11" || !allIn(s[13:20], &isBase32uc) || s[20] != '0' ||
		!allIn(s[21:33], &isBase62) || s[33] != '_' || !allIn(s[34:], &isBase62) {
		return ID{}, "", false
	}
	return m.verify(s, 7, base62, GitHub, "")
}

func (m *Minter) newNPM(g io.Reader) Token { return m.newChecksummed(g, NPM, "npm_") }

// --- Slack -------------------------------------------------------------------------------

func appendDigits(g io.Reader, b []byte, n int) []byte {
	b = appendRandom(g, b, digits[1:], 1)
	return appendRandom(g, b, digits, n-1)
}

// Bot tokens: xoxb-<12 digit team>-<13 digit bot user>-<24 base62>, MAC in the last 7.
// User tokens: xoxp-<11>-<12>-<12 digits>-<32 hex>, MAC in the last 10.
func (m *Minter) newSlack(g io.Reader) Token {
	b := make([]byte, 0, 80)
	if randIntn(g, 3) == 0 {
		b = append(b, "xoxp-"...)
		b = appendDigits(g, b, 11)
		b = append(b, '-')
		b = appendDigits(g, b, 12)
		b = append(b, '-')
		b = appendDigits(g, b, 12)
		b = append(b, '-')
		b = appendRandom(g, b, hexlc, 22)
		v, id := m.seal(b, Slack, hexlc, 10)
		return Token{ID: id, Kind: Slack, Value: v}
	}
	b = append(b, "xoxb-"...)
	b = appendDigits(g, b, 12)
	b = append(b, '-')
	b = appendDigits(g, b, 13)
	b = append(b, '-')
	b = appendRandom(g, b, base62, 17)
	v, id := m.seal(b, Slack, base62, 7)
	return Token{ID: id, Kind: Slack, Value: v}
}

// slackGroups checks that s (after the "xoxX-") is digit groups of 10-13 digits, each
// followed by '-', and returns the rest.
func slackGroups(s string, groups int) (rest string, ok bool) {
	for range groups {
		i := strings.IndexByte(s, '-')
		if i < 10 || i > 13 || !allIn(s[:i], &isDigit) {
			return "", false
		}
		s = s[i+1:]
	}
	return s, true
}

func (m *Minter) recognizeSlack(s string) (ID, Kind, bool) {
	switch s[:5] {
	case "xoxb-":
		rest, ok := slackGroups(s[5:], 2)
		if ok && len(rest) == 24 && allIn(rest, &isBase62) {
			return m.verify(s, 7, base62, Slack, "")
		}
	case "xoxp-":
		rest, ok := slackGroups(s[5:], 3)
		if ok && len(rest) == 32 && allIn(rest, &isHexlc) {
			return m.verify(s, 10, hexlc, Slack, "")
		}
	}
	return ID{}, "", false
}

// --- Stripe, OpenAI ----------------------------------------------------------------------

// Stripe: sk_live_ / rk_live_ + 99 base62; current keys start "51" and an upper-case letter.
func (m *Minter) newStripe(g io.Reader) Token {
	b := make([]byte, 0, 107)
	if randIntn(g, 4) == 0 {
		b = append(b, "rk_live_51"...)
	} else {
		b = append(b, "sk_live_51"...)
	}
	b = appendRandom(g, b, "HIJKLMNOPQ", 1)
	b = appendRandom(g, b, base62, 89)
	v, id := m.seal(b, Stripe, base62, 7)
	return Token{ID: id, Kind: Stripe, Value: v}
}

// OpenAI project keys: sk-proj- + 74 + "T3BlbkFJ" + 74 of [A-Za-z0-9_-] (164 characters).
func (m *Minter) newOpenAI(g io.Reader) Token {
	for {
		b := make([]byte, 0, 164)
		b = append(b, "sk-proj-"...)
		b = appendRandom(g, b, base64u, 74)
		b = append(b, "T3BlbkFJ"...)
		b = appendRandom(g, b, base64u, 67)
		v, id := m.seal(b, OpenAI, base64u, 7)
		// gitleaks' openai-api-key rule ends in \b: a key ending in '-' or '_'
		// would never be reported, so such tokens are drawn again (1 in 32).
		if c := v[len(v)-1]; c != '-' && c != '_' {
			return Token{ID: id, Kind: OpenAI, Value: v}
		}
	}
}

// newHighEntropyHex mints 30 random + 10 MAC lowercase hex digits, drawn
// again while the Shannon entropy of the whole is at most 3.5 bits per
// character: gitleaks' generic-api-key rule drops values at or below that
// (about 5% of random 40-digit hex strings).
func (m *Minter) newHighEntropyHex(g io.Reader, kind Kind) Token {
	for {
		t := m.newSimple(g, kind, "", hexlc, 30, 10)
		if shannon(t.Value) > 3.55 {
			return t
		}
	}
}

// shannon is the Shannon entropy of s in bits per byte.
func shannon(s string) float64 {
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	h := 0.0
	n := float64(len(s))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// --- Carriers inside URLs, files and DNS names -------------------------------------------

func (m *Minter) newDBURL(g io.Reader) Token {
	t := m.newSimple(g, DBURL, "", base62, 17, 7)
	user := pick(g, []string{"app", "app_rw", "reporting", "svc-etl", "postgres", "billing"})
	db := pick(g, []string{"app", "production", "billing", "customers", "analytics"})
	t.Fields = map[string]string{"username": user, "password": t.Value, "host": m.host, "port": "5432", "database": db}
	t.Value = "postgres://" + user + ":" + t.Value + "@" + m.host + ":5432/" + db
	return t
}

func (m *Minter) newURL(g io.Reader) Token {
	t := m.newSimple(g, URL, "", base62, 15, 7)
	p := pick(g, []string{"share", "invite", "s", "download", "files", "reset-password", "api/v1/exports"})
	t.Fields = map[string]string{"path": "/" + p + "/" + t.Value}
	t.Value = "https://" + m.host + "/" + p + "/" + t.Value
	return t
}

func (m *Minter) newDNS(g io.Reader) (Token, error) {
	if m.zone == "" {
		return Token{}, ErrNoDNSZone
	}
	t := m.newSimple(g, DNS, "", base32lc, 18, 8)
	t.Fields = map[string]string{"label": t.Value, "zone": m.zone}
	t.Value = t.Value + "." + m.zone
	return t, nil
}

// Kubernetes bootstrap token "[a-z0-9]{6}.[a-z0-9]{16}" used as the kubeconfig bearer
// token; the MAC is the last 8 characters of the secret half.
func (m *Minter) newKubeconfig(g io.Reader) Token {
	b := make([]byte, 0, 23)
	b = appendRandom(g, b, base36lc, 6)
	b = append(b, '.')
	b = appendRandom(g, b, base36lc, 8)
	v, id := m.seal(b, Kubeconfig, base36lc, 8)
	return Token{ID: id, Kind: Kubeconfig, Value: v, Fields: map[string]string{
		"server":  "https://" + m.host + ":6443",
		"cluster": pick(g, []string{"prod-eu-west-1", "prod-us-east-1", "production", "k8s-prod"}),
		"user":    pick(g, []string{"deploy", "ci-bot", "cluster-admin", "argocd"}),
	}}
}
