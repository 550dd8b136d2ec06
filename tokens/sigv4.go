package tokens

// AWS Signature Version 4 (SigV4, AWS4-HMAC-SHA256) and its asymmetric variant
// (SigV4a, AWS4-ECDSA-P256-SHA256), verified under the secret access key that a
// honeytoken key id derives (AWSSecretFor). A valid signature proves that the
// caller holds the secret, not only a key id scraped from a log or a repository.
//
// The canonical request is rebuilt from the request as the server received it:
//
//	method \n canonical URI \n canonical query \n canonical headers \n signed headers \n payload hash
//
// Signers disagree on the canonical URI (S3 signs the path as sent, other
// services encode it once more; some normalise dot segments first) and a few
// other details, so a small, bounded set of canonical requests is tried and the
// signature is valid when one of them verifies. Time and expiry are not checked:
// a honeypot wants to know about old signatures too.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The algorithms of AWS request signatures.
const (
	SigV4Algorithm  = "AWS4-HMAC-SHA256"
	SigV4aAlgorithm = "AWS4-ECDSA-P256-SHA256"
)

// Errors of ParseSigV4 and VerifySigV4.
var (
	// ErrNoSigV4 means the request carries no SigV4 or SigV4a signature: no
	// Authorization header of an AWS4 algorithm and no presigned-URL parameters.
	ErrNoSigV4 = errors.New("tokens: no SigV4 signature in the request")
	// ErrMalformedSigV4 wraps every description of a signature that cannot
	// be parsed (a missing field, a bad credential scope, a bound exceeded).
	ErrMalformedSigV4 = errors.New("tokens: malformed SigV4 signature")
	// ErrUnknownAccessKey means the signature's access key id is not a
	// honeytoken of this deployment, so its secret is unknown.
	ErrUnknownAccessKey = errors.New("tokens: access key id is not a honeytoken of this deployment")

	errSigV4NoSignature = fmt.Errorf("%w: no signature value", ErrMalformedSigV4)
)

// Bounds on the work of one verification: the request is attacker-controlled.
const (
	maxSigV4AuthLen       = 8 << 10  // Authorization header value
	maxSigV4SignedHeaders = 64       // names in SignedHeaders
	maxSigV4HeaderName    = 128      // bytes of one signed header name
	maxSigV4HeaderBytes   = 64 << 10 // canonical headers, all together
	maxSigV4QueryLen      = 64 << 10 // raw query string
	maxSigV4QueryParams   = 1024     // parameters in the query string
	maxSigV4PathLen       = 16 << 10 // raw path
	maxSigV4SigLen        = 160      // hex characters of a signature (a DER P-256 signature is at most 144)
	maxSigV4Candidates    = 24       // canonical requests tried
)

// SigV4Auth is the signature of a SigV4- or SigV4a-signed request, from its
// Authorization header or from the query parameters of a presigned URL.
type SigV4Auth struct {
	// Algorithm is SigV4Algorithm or SigV4aAlgorithm.
	Algorithm string
	// Presigned is true for a signature in the query string (X-Amz-Signature).
	Presigned bool
	// AccessKeyID is the access key id of the credential (AKIA…).
	AccessKeyID string
	// Scope is the credential scope after the key id:
	// date/region/service/aws4_request (SigV4) or date/service/aws4_request (SigV4a).
	Scope string
	// Date, Region and Service are the parts of Scope; Region is empty for SigV4a.
	Date, Region, Service string
	// RegionSet is X-Amz-Region-Set of a SigV4a signature, as sent.
	RegionSet string
	// Time is the signing time: X-Amz-Date, or the Date header in the same
	// format (20060102T150405Z). It is not checked against the clock.
	Time string
	// SignedHeaders is the list of signed header names, as sent (';'-separated).
	SignedHeaders string
	// Signature is the hex signature: an HMAC-SHA256 (SigV4) or a DER ECDSA
	// P-256 signature (SigV4a).
	Signature string

	headers []string // SignedHeaders split
}

// ParseSigV4 finds the SigV4 or SigV4a signature of a request: the first
// Authorization header of an AWS4 algorithm, else the X-Amz-* parameters of a
// presigned URL. It returns ErrNoSigV4 when there is none. For a signature that
// is present but malformed it returns the fields it could read (AccessKeyID
// when the credential parsed) and an error wrapping ErrMalformedSigV4.
func ParseSigV4(r *http.Request) (*SigV4Auth, error) {
	if r == nil || r.URL == nil {
		return nil, ErrNoSigV4
	}
	for _, v := range r.Header.Values("Authorization") {
		if a, err := parseSigV4Authorization(r, v); !errors.Is(err, ErrNoSigV4) {
			return a, err
		}
	}
	return parseSigV4Presigned(r)
}

// VerifySigV4 tells whether the SigV4 or SigV4a signature of r verifies under
// the secret of its access key id, a honeytoken of this deployment. body is the
// request body as read so far; bodyComplete says whether it is all of it.
//
// result is SignatureValid or SignatureInvalid, or "" when it cannot be told:
// the signature covers a body that was not read whole (no X-Amz-Content-Sha256
// says its hash), or the key is not this deployment's (ErrUnknownAccessKey).
// err is ErrNoSigV4 when the request carries no signature, and wraps
// ErrMalformedSigV4 when it cannot be parsed; a malformed signature is
// SignatureInvalid, except a missing signature value, which gives "".
// keyID is the access key id whenever the credential could be read.
//
// The signing time is not checked. VerifySigV4 never records anything.
func (m *Minter) VerifySigV4(r *http.Request, body []byte, bodyComplete bool) (keyID, result string, err error) {
	a, err := ParseSigV4(r)
	if a != nil {
		keyID = a.AccessKeyID
	}
	if err != nil {
		return keyID, sigV4ParseResult(err), err
	}
	result, err = m.verifySigV4(r, a, body, bodyComplete)
	return keyID, result, err
}

// sigV4ParseResult is the result of a signature that failed to parse with err.
func sigV4ParseResult(err error) string {
	if errors.Is(err, ErrNoSigV4) || errors.Is(err, errSigV4NoSignature) {
		return ""
	}
	return SignatureInvalid
}

// verifyAuthorization is VerifySigV4's result for one Authorization header
// value v (Detect's view: the header it found the key id in).
func (m *Minter) verifyAuthorization(r *http.Request, v string, body []byte, complete bool) string {
	a, err := parseSigV4Authorization(r, v)
	if err != nil {
		return sigV4ParseResult(err)
	}
	result, _ := m.verifySigV4(r, a, body, complete)
	return result
}

// verifyPresigned is VerifySigV4's result for the presigned-URL parameters of r.
func (m *Minter) verifyPresigned(r *http.Request, body []byte, complete bool) string {
	a, err := parseSigV4Presigned(r)
	if err != nil {
		return sigV4ParseResult(err)
	}
	result, _ := m.verifySigV4(r, a, body, complete)
	return result
}

func malformedSigV4(what string) error {
	return fmt.Errorf("%w: %s", ErrMalformedSigV4, what)
}

// sigV4Algorithm returns the canonical spelling of an algorithm name, or "".
func sigV4Algorithm(s string) string {
	switch {
	case strings.EqualFold(s, SigV4Algorithm):
		return SigV4Algorithm
	case strings.EqualFold(s, SigV4aAlgorithm):
		return SigV4aAlgorithm
	}
	return ""
}

// parseSigV4Authorization parses the value of an Authorization header:
//
//	AWS4-HMAC-SHA256 Credential=AKIA…/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=…
//
// The signing time and region set come from r's headers.
func parseSigV4Authorization(r *http.Request, v string) (*SigV4Auth, error) {
	v = strings.TrimSpace(v)
	alg, rest, _ := strings.Cut(v, " ")
	a := &SigV4Auth{Algorithm: sigV4Algorithm(alg)}
	if a.Algorithm == "" {
		return nil, ErrNoSigV4
	}
	if len(v) > maxSigV4AuthLen {
		return a, malformedSigV4("authorization header too long")
	}
	// Credential, SignedHeaders and Signature, each once.
	var fields [3]struct {
		val  string
		seen bool
	}
	repeated := ""
	for n := 0; rest != ""; n++ {
		if n == 16 {
			return a, malformedSigV4("too many authorization fields")
		}
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		k = strings.TrimSpace(k)
		i := -1
		switch {
		case strings.EqualFold(k, "Credential"):
			i = 0
		case strings.EqualFold(k, "SignedHeaders"):
			i = 1
		case strings.EqualFold(k, "Signature"):
			i = 2
		}
		switch {
		case i < 0:
		case fields[i].seen:
			repeated = k
		default:
			fields[i].val, fields[i].seen = strings.TrimSpace(val), true
		}
	}
	cred, signed, sig := fields[0], fields[1], fields[2]
	if !cred.seen {
		return a, malformedSigV4("no Credential")
	}
	if err := a.setCredential(cred.val); err != nil {
		return a, err
	}
	if repeated != "" {
		return a, malformedSigV4("repeated field " + bounded(repeated, 32))
	}
	if !signed.seen {
		return a, malformedSigV4("no SignedHeaders")
	}
	if err := a.setSignedHeaders(signed.val); err != nil {
		return a, err
	}
	if a.Time = r.Header.Get("X-Amz-Date"); a.Time == "" {
		if t, err := http.ParseTime(r.Header.Get("Date")); err == nil {
			a.Time = t.UTC().Format("20060102T150405Z")
		}
	}
	if a.Algorithm == SigV4aAlgorithm {
		a.RegionSet = r.Header.Get("X-Amz-Region-Set")
	}
	if a.Signature = sig.val; a.Signature == "" {
		return a, errSigV4NoSignature
	}
	if a.Time == "" {
		return a, malformedSigV4("no X-Amz-Date or Date header")
	}
	return a, nil
}

// parseSigV4Presigned parses the X-Amz-* query parameters of a presigned URL.
func parseSigV4Presigned(r *http.Request) (*SigV4Auth, error) {
	raw := r.URL.RawQuery
	if raw == "" || !sigV4HasAmz(raw) && strings.IndexByte(raw, '%') < 0 {
		return nil, ErrNoSigV4
	}
	if len(raw) > maxSigV4QueryLen {
		return nil, malformedSigV4("query string too long")
	}
	var alg, cred, date, signed, sig, regions *string
	n := 0
	for rest := raw; rest != ""; {
		var seg string
		seg, rest, _ = strings.Cut(rest, "&")
		if n++; n > maxSigV4QueryParams {
			return nil, malformedSigV4("too many query parameters")
		}
		k, v, _ := strings.Cut(seg, "=")
		if !sigV4HasAmz(k) && strings.IndexByte(k, '%') < 0 {
			continue
		}
		key, err := url.QueryUnescape(k)
		if err != nil {
			continue
		}
		var p **string
		switch {
		case strings.EqualFold(key, "X-Amz-Algorithm"):
			p = &alg
		case strings.EqualFold(key, "X-Amz-Credential"):
			p = &cred
		case strings.EqualFold(key, "X-Amz-Date"):
			p = &date
		case strings.EqualFold(key, "X-Amz-SignedHeaders"):
			p = &signed
		case strings.EqualFold(key, "X-Amz-Signature"):
			p = &sig
		case strings.EqualFold(key, "X-Amz-Region-Set"):
			p = &regions
		default:
			continue
		}
		if *p != nil {
			continue // the first value counts
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			val = v
		}
		*p = &val
	}
	if alg == nil && cred == nil && sig == nil {
		return nil, ErrNoSigV4
	}
	a := &SigV4Auth{Presigned: true}
	if alg != nil {
		if a.Algorithm = sigV4Algorithm(*alg); a.Algorithm == "" {
			return a, malformedSigV4("unknown X-Amz-Algorithm")
		}
	}
	if cred == nil {
		return a, malformedSigV4("no X-Amz-Credential")
	}
	// Without X-Amz-Algorithm, the shape of the scope tells the algorithm
	// (so the key id is still read); the signature is then malformed.
	if err := a.setCredential(*cred); err != nil {
		return a, err
	}
	if sig == nil || *sig == "" {
		return a, errSigV4NoSignature
	}
	a.Signature = *sig
	if alg == nil {
		return a, malformedSigV4("no X-Amz-Algorithm")
	}
	if signed == nil {
		return a, malformedSigV4("no X-Amz-SignedHeaders")
	}
	if err := a.setSignedHeaders(*signed); err != nil {
		return a, err
	}
	if date == nil || *date == "" {
		return a, malformedSigV4("no X-Amz-Date")
	}
	a.Time = *date
	if regions != nil {
		a.RegionSet = *regions
	}
	return a, nil
}

// setCredential parses keyid/date/region/service/aws4_request (SigV4) or
// keyid/date/service/aws4_request (SigV4a). With no algorithm yet, the shape
// of the scope decides it.
func (a *SigV4Auth) setCredential(c string) error {
	id, scope, ok := strings.Cut(c, "/")
	if !ok || id == "" {
		return malformedSigV4("credential without scope")
	}
	a.AccessKeyID = id
	parts := strings.Count(scope, "/") + 1
	if a.Algorithm == "" {
		a.Algorithm = SigV4Algorithm
		if parts == 3 {
			a.Algorithm = SigV4aAlgorithm
		}
	}
	want := 4
	if a.Algorithm == SigV4aAlgorithm {
		want = 3
	}
	if parts != want || !strings.HasSuffix(scope, "/aws4_request") {
		return malformedSigV4("bad credential scope")
	}
	a.Scope = scope
	date, rest, _ := strings.Cut(scope, "/")
	a.Date = date
	if want == 4 {
		a.Region, rest, _ = strings.Cut(rest, "/")
	}
	a.Service, _, _ = strings.Cut(rest, "/")
	if a.Date == "" || a.Service == "" || (want == 4 && a.Region == "") {
		return malformedSigV4("empty credential scope part")
	}
	return nil
}

func (a *SigV4Auth) setSignedHeaders(s string) error {
	if s == "" {
		return malformedSigV4("empty SignedHeaders")
	}
	if strings.Count(s, ";") >= maxSigV4SignedHeaders {
		return malformedSigV4("too many signed headers")
	}
	a.SignedHeaders = s
	a.headers = strings.Split(s, ";")
	for _, h := range a.headers {
		if h == "" || len(h) > maxSigV4HeaderName {
			return malformedSigV4("bad signed header name")
		}
	}
	return nil
}

// verifySigV4 checks a parsed signature against the canonical requests r can
// have been signed as.
func (m *Minter) verifySigV4(r *http.Request, a *SigV4Auth, body []byte, complete bool) (string, error) {
	secret, ok := m.AWSSecretFor(a.AccessKeyID)
	if !ok {
		return "", ErrUnknownAccessKey
	}
	return verifySigV4With(r, a, secret, body, complete)
}

// verifySigV4With checks a parsed signature under the given secret access key.
func verifySigV4With(r *http.Request, a *SigV4Auth, secret string, body []byte, complete bool) (string, error) {
	if len(a.Signature) > maxSigV4SigLen {
		return SignatureInvalid, malformedSigV4("signature too long")
	}
	sig, err := hex.DecodeString(a.Signature)
	if err != nil {
		return SignatureInvalid, malformedSigV4("signature is not hex")
	}
	var check func(stringToSign []byte) bool
	switch a.Algorithm {
	case SigV4Algorithm:
		if len(sig) != sha256.Size {
			return SignatureInvalid, malformedSigV4("signature is not 32 bytes")
		}
		scratch := make([]byte, 0, 256)
		key := sigV4SigningKey(secret, a.Date, a.Region, a.Service, &scratch)
		check = func(sts []byte) bool {
			mac := sigV4HMAC(key[:], sts, &scratch)
			return hmac.Equal(mac[:], sig)
		}
	case SigV4aAlgorithm:
		pub, err := sigV4aPublicKey(a.AccessKeyID, secret)
		if err != nil {
			return "", err
		}
		check = func(sts []byte) bool {
			d := sha256.Sum256(sts)
			return ecdsa.VerifyASN1(pub, d[:], sig)
		}
	default:
		return SignatureInvalid, malformedSigV4("unknown algorithm")
	}

	// The payload hashes the signer may have used.
	payloads, declared, unsure := sigV4Payloads(r, a, body, complete)
	if len(payloads) == 0 {
		return "", nil
	}
	// A body that is not the one whose hash was signed is refused, as AWS
	// does (XAmzContentSHA256Mismatch): the signature does not cover it.
	if p := payloads[0]; declared && complete && len(p) == 2*sha256.Size && isLowerHex(p) {
		if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != p {
			return SignatureInvalid, nil
		}
	}
	c, err := newSigV4Canon(r, a)
	if err != nil {
		return SignatureInvalid, err
	}
	var creq []byte
	sts := make([]byte, 0, len(a.Algorithm)+len(a.Time)+len(a.Scope)+3+2*sha256.Size)
	tried := 0
candidates:
	for _, path := range c.paths {
		for _, query := range c.queries {
			for _, headers := range c.headers {
				for _, payload := range payloads {
					if tried++; tried > maxSigV4Candidates {
						break candidates
					}
					creq, sts = c.stringToSign(creq[:0], sts[:0], a, path, query, headers, payload)
					if check(sts) {
						return SignatureValid, nil
					}
				}
			}
		}
	}
	if unsure {
		return "", nil
	}
	return SignatureInvalid, nil
}

// sigV4Payloads returns the payload hashes to try; declared when the request
// states its payload hash (X-Amz-Content-Sha256); unsure when a failure to
// verify is inconclusive (the body that would have been hashed is incomplete).
func sigV4Payloads(r *http.Request, a *SigV4Auth, body []byte, complete bool) (payloads []string, declared, unsure bool) {
	if a.Presigned {
		if v := sigV4QueryValue(r.URL.RawQuery, "X-Amz-Content-Sha256"); v != "" {
			return []string{v}, true, false
		}
	}
	if v := r.Header.Get("X-Amz-Content-Sha256"); v != "" {
		return []string{strings.TrimSpace(v)}, true, false
	}
	if !complete {
		if a.Presigned {
			return []string{"UNSIGNED-PAYLOAD"}, false, true
		}
		return nil, false, true
	}
	sum := sha256.Sum256(body)
	bodyHash := hex.EncodeToString(sum[:])
	if a.Presigned {
		// S3 presigns with UNSIGNED-PAYLOAD; other services (STS for EKS
		// tokens, RDS) with the hash of the (empty) body.
		return []string{"UNSIGNED-PAYLOAD", bodyHash}, false, false
	}
	return []string{bodyHash}, false, false
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// sigV4QueryValue returns the decoded value of the first query parameter
// named key (case-insensitively), or "".
func sigV4QueryValue(raw, key string) string {
	if len(raw) > maxSigV4QueryLen {
		return ""
	}
	for n := 0; raw != "" && n < maxSigV4QueryParams; n++ {
		var seg string
		seg, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(seg, "=")
		if len(k) < len(key) || !sigV4HasAmz(k) && strings.IndexByte(k, '%') < 0 {
			continue
		}
		if dk, err := url.QueryUnescape(k); err == nil && strings.EqualFold(dk, key) {
			if dv, err := url.QueryUnescape(v); err == nil {
				return dv
			}
			return v
		}
	}
	return ""
}

// sigV4SigningKey is the SigV4 signing key: HMAC chained over
// "AWS4"+secret, the date, region, service and "aws4_request".
func sigV4SigningKey(secret, date, region, service string, scratch *[]byte) [sha256.Size]byte {
	k := sigV4HMAC("AWS4"+secret, date, scratch)
	k = sigV4HMAC(k[:], region, scratch)
	k = sigV4HMAC(k[:], service, scratch)
	return sigV4HMAC(k[:], "aws4_request", scratch)
}

// sigV4HMAC is HMAC-SHA256 (RFC 2104) of msg under key, computed in scratch
// so that, unlike crypto/hmac's fresh states, it does not allocate once
// scratch has grown to the message's size.
func sigV4HMAC[K, M string | []byte](key K, msg M, scratch *[]byte) [sha256.Size]byte {
	const block = 64
	var k [block]byte
	if len(key) > block {
		h := sha256.Sum256([]byte(key))
		copy(k[:], h[:])
	} else {
		copy(k[:], key)
	}
	b := (*scratch)[:0]
	for _, c := range k {
		b = append(b, c^0x36)
	}
	b = append(b, msg...)
	inner := sha256.Sum256(b)
	b = b[:0]
	for _, c := range k {
		b = append(b, c^0x5c)
	}
	b = append(b, inner[:]...)
	*scratch = b
	return sha256.Sum256(b)
}

// --- SigV4a keys ---------------------------------------------------------------------------

// p256NMinus2 is the order of P-256 minus 2, big-endian.
var p256NMinus2 = func() (b [32]byte) {
	elliptic.P256().Params().N.FillBytes(b[:])
	// subtract 2; N ends in ...2551, so no borrow.
	b[31] -= 2
	return b
}()

// sigV4aKeys caches SigV4a public keys by SHA-256(key id || 0 || secret):
// deriving one costs a scalar multiplication. Bounded; cleared when full.
var sigV4aKeys struct {
	sync.Mutex
	m map[[32]byte]*ecdsa.PublicKey
}

const maxSigV4aKeys = 1024

// sigV4aPublicKey returns the public half of the SigV4a key of an access key
// pair (cached).
func sigV4aPublicKey(accessKeyID, secret string) (*ecdsa.PublicKey, error) {
	h := sha256.New()
	h.Write([]byte(accessKeyID))
	h.Write([]byte{0})
	h.Write([]byte(secret))
	var id [32]byte
	h.Sum(id[:0])
	sigV4aKeys.Lock()
	pub := sigV4aKeys.m[id]
	sigV4aKeys.Unlock()
	if pub != nil {
		return pub, nil
	}
	priv, err := sigV4aPrivateKey(accessKeyID, secret)
	if err != nil {
		return nil, err
	}
	sigV4aKeys.Lock()
	if sigV4aKeys.m == nil || len(sigV4aKeys.m) >= maxSigV4aKeys {
		sigV4aKeys.m = make(map[[32]byte]*ecdsa.PublicKey)
	}
	sigV4aKeys.m[id] = &priv.PublicKey
	sigV4aKeys.Unlock()
	return &priv.PublicKey, nil
}

// sigV4aPrivateKey derives the P-256 key AWS derives from an access key pair
// for SigV4a (FIPS 186-4 B.4.2 "testing candidates", with candidates from the
// NIST SP 800-108 KDF in counter mode, HMAC-SHA256, one block):
//
//	K      = "AWS4A" || secret
//	input  = [1]₃₂ || "AWS4-ECDSA-P256-SHA256" || 0x00 || access key id || counter₈ || [256]₃₂
//	c      = HMAC-SHA256(K, input), counter = 1, 2, … until c ≤ n−2
//	d      = c + 1
func sigV4aPrivateKey(accessKeyID, secret string) (*ecdsa.PrivateKey, error) {
	mac := hmac.New(sha256.New, []byte("AWS4A"+secret))
	input := make([]byte, 0, 4+len(SigV4aAlgorithm)+1+len(accessKeyID)+1+4)
	input = binary.BigEndian.AppendUint32(input, 1)
	input = append(input, SigV4aAlgorithm...)
	input = append(input, 0)
	input = append(input, accessKeyID...)
	at := len(input)
	input = append(input, 0)
	input = binary.BigEndian.AppendUint32(input, 256)
	var c [32]byte
	for counter := 1; counter < 255; counter++ {
		input[at] = byte(counter)
		mac.Reset()
		mac.Write(input)
		mac.Sum(c[:0])
		if bytes.Compare(c[:], p256NMinus2[:]) > 0 {
			continue
		}
		for i := 31; i >= 0; i-- { // c + 1, no overflow since c ≤ n−2
			c[i]++
			if c[i] != 0 {
				break
			}
		}
		return ecdsa.ParseRawPrivateKey(elliptic.P256(), c[:])
	}
	return nil, errors.New("tokens: sigv4a key derivation exhausted its counter")
}

// --- the canonical request ----------------------------------------------------------------

// sigV4Canon holds the variants of the parts of the canonical request.
type sigV4Canon struct {
	method  string
	paths   []string // canonical URIs
	queries []string // canonical query strings
	headers []string // canonical headers + "\n" + signed headers + "\n"
}

func newSigV4Canon(r *http.Request, a *SigV4Auth) (*sigV4Canon, error) {
	c := &sigV4Canon{method: r.Method}
	if c.method == "" {
		c.method = http.MethodGet
	}
	p := sigV4RawPath(r)
	if len(p) > maxSigV4PathLen {
		return nil, malformedSigV4("path too long")
	}
	c.paths = sigV4Paths(p)
	raw := r.URL.RawQuery
	if len(raw) > maxSigV4QueryLen {
		return nil, malformedSigV4("query string too long")
	}
	if strings.Count(raw, "&") >= maxSigV4QueryParams {
		return nil, malformedSigV4("too many query parameters")
	}
	c.queries = append(c.queries, sigV4Query(raw, a.Presigned, true))
	if strings.ContainsAny(raw, "+;") {
		if q := sigV4Query(raw, a.Presigned, false); q != c.queries[0] {
			c.queries = append(c.queries, q)
		}
	}
	hs, tabs, err := sigV4Headers(r, a, false)
	if err != nil {
		return nil, err
	}
	c.headers = append(c.headers, hs)
	if tabs {
		if hs2, _, err := sigV4Headers(r, a, true); err == nil && hs2 != hs {
			c.headers = append(c.headers, hs2)
		}
	}
	return c, nil
}

// stringToSign builds one canonical request in creq and appends its string
// to sign to sts.
func (c *sigV4Canon) stringToSign(creq, sts []byte, a *SigV4Auth, path, query, headers, payload string) ([]byte, []byte) {
	creq = append(creq, c.method...)
	creq = append(creq, '\n')
	creq = append(creq, path...)
	creq = append(creq, '\n')
	creq = append(creq, query...)
	creq = append(creq, '\n')
	creq = append(creq, headers...)
	creq = append(creq, payload...)
	sum := sha256.Sum256(creq)
	sts = append(sts, a.Algorithm...)
	sts = append(sts, '\n')
	sts = append(sts, a.Time...)
	sts = append(sts, '\n')
	sts = append(sts, a.Scope...)
	sts = append(sts, '\n')
	return creq, hex.AppendEncode(sts, sum[:])
}

// sigV4RawPath is the path of r as it was sent (still escaped).
func sigV4RawPath(r *http.Request) string {
	if u := r.RequestURI; strings.HasPrefix(u, "/") {
		p, _, _ := strings.Cut(u, "?")
		return p
	}
	if o := r.URL.Opaque; o != "" { // "//host/path", as the AWS SDK for Go allows
		o, _, _ = strings.Cut(o, "?")
		o = strings.TrimPrefix(o, "//")
		if i := strings.IndexByte(o, '/'); i >= 0 {
			return o[i:]
		}
		return "/"
	}
	return r.URL.EscapedPath()
}

// sigV4Paths returns the canonical URIs a signer can have made of the sent
// path p, most likely first and without repeats:
//
//   - p itself: S3, whose signers sign the path as sent (single encoding);
//   - p encoded again: other services with the AWS SDKs for Go, Python and
//     JavaScript (double encoding of the sent path);
//   - p decoded and encoded strictly, once and twice: signers that encode the
//     unencoded path themselves, as the AWS documentation describes;
//   - p with "." and ".." segments and empty segments removed, then encoded
//     again: the JavaScript SDK and botocore for services other than S3.
func sigV4Paths(p string) []string {
	if p == "" {
		p = "/"
	}
	out := make([]string, 0, 4)
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	add(p)
	add(sigV4Escape(p, false))
	if u, err := url.PathUnescape(p); err == nil {
		once := sigV4Escape(u, false)
		add(once)
		add(sigV4Escape(once, false))
	}
	add(sigV4Escape(sigV4NormalizePath(p), false))
	return out
}

// sigV4NormalizePath removes empty, "." and ".." segments the way the AWS SDK
// for JavaScript does before encoding a path (a leading and a trailing slash
// are kept).
func sigV4NormalizePath(p string) string {
	if !strings.Contains(p, "//") && !strings.Contains(p, "/.") && !strings.HasPrefix(p, ".") {
		return p
	}
	segs := make([]string, 0, strings.Count(p, "/")+1)
	for s := range strings.SplitSeq(p, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, s)
		}
	}
	var b strings.Builder
	b.Grow(len(p))
	if strings.HasPrefix(p, "/") {
		b.WriteByte('/')
	}
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(s)
	}
	if len(segs) > 0 && strings.HasSuffix(p, "/") {
		b.WriteByte('/')
	}
	return b.String()
}

// sigV4Unreserved reports the bytes SigV4 never percent-encodes (RFC 3986
// unreserved characters).
var sigV4Unreserved = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~'
	}
	return t
}()

// sigV4Escape percent-encodes, with upper-case hex, every byte of s but the
// unreserved characters (and '/', unless slash). It returns s itself when
// nothing needs encoding.
func sigV4Escape(s string, slash bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; !sigV4Unreserved[c] && (c != '/' || slash) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexUC = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; !sigV4Unreserved[c] && (c != '/' || slash) {
			b = append(b, '%', hexUC[c>>4], hexUC[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

// sigV4Query returns the canonical query string of the raw query: each name
// and value decoded, then encoded strictly, sorted by name and then value;
// X-Amz-Signature left out of a presigned URL's.
//
// goStyle decodes as Go's url.ParseQuery does ('+' is a space; a pair with
// ';' or a bad escape is dropped), which is what the AWS SDK for Go signs and
// what most signers send (they send the canonical form). Otherwise '+' stays
// a plus, ';' is data and a bad escape is taken literally.
func sigV4Query(raw string, presigned, goStyle bool) string {
	if raw == "" {
		return ""
	}
	type pair struct{ k, v string }
	pairs := make([]pair, 0, strings.Count(raw, "&")+1)
	decode := func(s string) (string, bool) {
		plain := true
		for i := 0; i < len(s); i++ {
			if !sigV4Unreserved[s[i]] {
				plain = false
				break
			}
		}
		if plain {
			return s, true // canonical already
		}
		var d string
		var err error
		if goStyle {
			d, err = url.QueryUnescape(s)
		} else {
			d, err = url.PathUnescape(s)
		}
		if err != nil {
			if goStyle {
				return "", false
			}
			d = s
		}
		return sigV4Escape(d, true), true
	}
	for rest := raw; rest != ""; {
		var seg string
		seg, rest, _ = strings.Cut(rest, "&")
		if seg == "" || goStyle && strings.Contains(seg, ";") {
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		ek, ok1 := decode(k)
		ev, ok2 := decode(v)
		if !ok1 || !ok2 {
			continue
		}
		if presigned && strings.EqualFold(ek, "X-Amz-Signature") {
			continue
		}
		pairs = append(pairs, pair{ek, ev})
	}
	slices.SortFunc(pairs, func(x, y pair) int {
		if c := strings.Compare(x.k, y.k); c != 0 {
			return c
		}
		return strings.Compare(x.v, y.v)
	})
	n := 0
	for _, p := range pairs {
		n += len(p.k) + len(p.v) + 2
	}
	var b strings.Builder
	b.Grow(n)
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// sigV4Headers returns the canonical headers of the signed header list, a
// blank line and the list itself, and whether a value holds a tab. Values are
// trimmed and runs of spaces collapsed (the AWS SDK for Go), or with tabs runs
// of spaces and tabs (the SDKs for JavaScript and Python, when tabs is set);
// several values of one header are joined with commas. Host is r.Host.
func sigV4Headers(r *http.Request, a *SigV4Auth, tabs bool) (string, bool, error) {
	var b strings.Builder
	b.Grow(len(a.SignedHeaders) * 4)
	hasTab := false
	for _, name := range a.headers {
		b.WriteString(name)
		b.WriteByte(':')
		if strings.EqualFold(name, "host") {
			host := r.Host
			if host == "" {
				host = r.URL.Host
			}
			if b.Len()+len(host) > maxSigV4HeaderBytes {
				return "", false, malformedSigV4("signed headers too long")
			}
			sigV4WriteValue(&b, host, tabs)
			b.WriteByte('\n')
			continue
		}
		values := sigV4HeaderValues(r, name)
		for i, v := range values {
			if b.Len()+len(v) > maxSigV4HeaderBytes {
				return "", false, malformedSigV4("signed headers too long")
			}
			if i > 0 {
				b.WriteByte(',')
			}
			hasTab = hasTab || strings.IndexByte(v, '\t') >= 0
			sigV4WriteValue(&b, v, tabs)
		}
		b.WriteByte('\n')
		if b.Len() > maxSigV4HeaderBytes {
			return "", false, malformedSigV4("signed headers too long")
		}
	}
	b.WriteByte('\n')
	b.WriteString(a.SignedHeaders)
	b.WriteByte('\n')
	return b.String(), hasTab, nil
}

func sigV4HeaderValues(r *http.Request, name string) []string {
	if v, ok := r.Header[textproto.CanonicalMIMEHeaderKey(name)]; ok {
		return v
	}
	if v, ok := r.Header[name]; ok {
		return v
	}
	// Go's server moves these out of the header map.
	switch {
	case strings.EqualFold(name, "content-length") && r.ContentLength >= 0:
		return []string{strconv.FormatInt(r.ContentLength, 10)}
	case strings.EqualFold(name, "transfer-encoding") && len(r.TransferEncoding) > 0:
		return []string{strings.Join(r.TransferEncoding, ",")}
	}
	return nil
}

// sigV4WriteValue writes v trimmed, with inner runs of blanks as one space.
func sigV4WriteValue(b *strings.Builder, v string, tabs bool) {
	blank := func(c byte) bool { return c == ' ' || tabs && (c == '\t' || c == '\r' || c == '\n') }
	v = strings.Trim(v, " \t")
	for i := 0; i < len(v); i++ {
		c := v[i]
		if blank(c) {
			for i+1 < len(v) && blank(v[i+1]) {
				i++
			}
			c = ' '
		}
		b.WriteByte(c)
	}
}

// sigV4HasAmz reports whether s contains "amz" in any case: a cheap test
// before decoding a query parameter name that may be X-Amz-….
func sigV4HasAmz(s string) bool {
	for i := 0; i+3 <= len(s); i++ {
		if s[i]|0x20 == 'a' && s[i+1]|0x20 == 'm' && s[i+2]|0x20 == 'z' {
			return true
		}
	}
	return false
}
