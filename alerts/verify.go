package alerts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultSignatureTolerance is how far a signature's timestamp may be from
// the receiver's clock when VerifySignature is given no tolerance.
const DefaultSignatureTolerance = 5 * time.Minute

// Bounds on a signature header, which a receiver gets from anyone.
const (
	maxSignatureHeader = 4096
	maxSignatures      = 16 // v1 entries
	maxTimestampDigits = 12 // Unix seconds until the year 33658
)

// Errors of VerifySignature, for errors.Is. Each returned error wraps one
// of them and says more; none repeats the header, the body or the secret.
var (
	// ErrSignatureMissing: the header is empty or absent.
	ErrSignatureMissing = errors.New("alerts: webhook signature missing")
	// ErrSignatureMalformed: the header is not "t=<unix seconds>,v1=<hex>[,v1=<hex>…]".
	ErrSignatureMalformed = errors.New("alerts: webhook signature malformed")
	// ErrSignatureMismatch: no v1 signature is the HMAC of this body and
	// timestamp under this secret (wrong secret, modified body or timestamp,
	// forgery).
	ErrSignatureMismatch = errors.New("alerts: webhook signature does not match")
	// ErrSignatureExpired: the signature is genuine but its timestamp is
	// outside the tolerance: a replay, a delivery that waited too long, or
	// a skewed clock.
	ErrSignatureExpired = errors.New("alerts: webhook signature timestamp outside tolerance")
)

// Sign returns the X-Honeyapi-Signature value for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>". The body
// must be exactly the bytes sent.
func Sign(secret []byte, t time.Time, body []byte) string {
	return signHeader([][]byte{secret}, t, body)
}

// signHeader is Sign with one v1 entry per secret, in order.
func signHeader(secrets [][]byte, t time.Time, body []byte) string {
	var tsBuf [20]byte
	ts := strconv.AppendInt(tsBuf[:0], t.Unix(), 10)
	out := make([]byte, 0, 2+len(ts)+len(secrets)*(4+2*sha256.Size))
	out = append(out, "t="...)
	out = append(out, ts...)
	for _, s := range secrets {
		var sum [sha256.Size]byte
		out = append(out, ",v1="...)
		out = hex.AppendEncode(out, signatureMAC(sum[:0], s, ts, body))
	}
	return string(out)
}

// signatureMAC appends HMAC-SHA256(secret, ts + "." + body) to dst.
func signatureMAC(dst, secret, ts, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(ts)
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(dst)
}

// VerifySignature checks a webhook delivery on the receiving side: header
// is the X-Honeyapi-Signature value, body the raw request body exactly as
// received (before any JSON decoding), now the receiver's clock.
//
// It returns nil when one of the header's v1 signatures is the HMAC-SHA256
// under secret of "<t>.<body>" (compared in constant time; during a secret
// rotation the sender puts one v1 per secret) and t is within tolerance of
// now, either way. A tolerance of zero or less means
// DefaultSignatureTolerance. Otherwise the error wraps
// ErrSignatureMissing, ErrSignatureMalformed, ErrSignatureMismatch or
// ErrSignatureExpired. Entries other than t and v1 are ignored (room for
// future schemes); a header longer than 4 KiB or with more than 16 v1
// entries is malformed.
//
// A signature inside the tolerance can still be replayed within it:
// receivers that must not act twice deduplicate on X-Honeyapi-Delivery
// (the alert ID, also sent as Idempotency-Key), which is the same on every
// retry.
func VerifySignature(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if len(secret) == 0 {
		return errors.New("alerts: VerifySignature: the secret is empty")
	}
	header = strings.TrimSpace(header)
	if header == "" {
		return ErrSignatureMissing
	}
	if len(header) > maxSignatureHeader {
		return fmt.Errorf("%w: longer than %d bytes", ErrSignatureMalformed, maxSignatureHeader)
	}
	var (
		ts   string
		sigs [maxSignatures][sha256.Size]byte
		n    int
	)
	for rest := header; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		key, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("%w: an entry is not key=value", ErrSignatureMalformed)
		}
		switch key {
		case "t":
			if ts != "" {
				return fmt.Errorf("%w: t is given twice", ErrSignatureMalformed)
			}
			if len(val) > maxTimestampDigits || !isASCIIDigits(val) {
				return fmt.Errorf("%w: t is not a Unix time in seconds", ErrSignatureMalformed)
			}
			ts = val
		case "v1":
			if n == maxSignatures {
				return fmt.Errorf("%w: more than %d v1 signatures", ErrSignatureMalformed, maxSignatures)
			}
			if len(val) != 2*sha256.Size {
				return fmt.Errorf("%w: a v1 signature is not %d hex digits", ErrSignatureMalformed, 2*sha256.Size)
			}
			if _, err := hex.Decode(sigs[n][:], []byte(val)); err != nil {
				return fmt.Errorf("%w: a v1 signature is not %d hex digits", ErrSignatureMalformed, 2*sha256.Size)
			}
			n++
		}
	}
	if ts == "" {
		return fmt.Errorf("%w: no t= timestamp", ErrSignatureMalformed)
	}
	if n == 0 {
		return fmt.Errorf("%w: no v1= signature", ErrSignatureMalformed)
	}

	// The signature first: a timestamp is only worth judging once it is
	// known to come from the sender.
	var sum [sha256.Size]byte
	want := signatureMAC(sum[:0], secret, []byte(ts), body)
	matched := false
	for i := range n {
		if hmac.Equal(want, sigs[i][:]) {
			matched = true
		}
	}
	if !matched {
		return ErrSignatureMismatch
	}

	if tolerance <= 0 {
		tolerance = DefaultSignatureTolerance
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil { // unreachable: at most 12 digits
		return fmt.Errorf("%w: t is not a Unix time in seconds", ErrSignatureMalformed)
	}
	signed := time.Unix(sec, 0)
	age := now.Sub(signed)
	switch {
	case age > tolerance:
		return fmt.Errorf("%w: signed at %s, %s ago (tolerance %s)", ErrSignatureExpired,
			signed.UTC().Format(time.RFC3339), age.Round(time.Second), tolerance)
	case age < -tolerance:
		return fmt.Errorf("%w: signed at %s, %s in the future (tolerance %s)", ErrSignatureExpired,
			signed.UTC().Format(time.RFC3339), (-age).Round(time.Second), tolerance)
	}
	return nil
}
