package alerts

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	verifySecret = []byte("whsec-test-0123456789abcdef")
	verifyBody   = []byte(`{"id":"alr_1","title":"<b>&"}`)
	verifyTime   = time.Unix(1_700_000_000, 0)
)

// TestSignKnownVector pins the scheme: the value was computed outside Go
// (Python's hmac module), as a receiver in another language would.
func TestSignKnownVector(t *testing.T) {
	want := "t=1700000000,v1=fc9b482c2af3b58ed604a4287e8de50b650e5fad1aa3c6477a73cc1e5d89729d"
	if got := Sign(verifySecret, verifyTime, verifyBody); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// Sub-second precision does not matter: t is whole seconds.
	if got := Sign(verifySecret, verifyTime.Add(999*time.Millisecond), verifyBody); got != want {
		t.Errorf("with 999ms: got %q, want %q", got, want)
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	for _, body := range [][]byte{nil, {}, verifyBody, bytes.Repeat([]byte{0xff, 0, '.', ','}, 10000)} {
		h := Sign(verifySecret, verifyTime, body)
		if err := VerifySignature(verifySecret, h, body, verifyTime.Add(time.Minute), 5*time.Minute); err != nil {
			t.Errorf("body of %d bytes: %v", len(body), err)
		}
	}
}

func TestVerifySignature(t *testing.T) {
	valid := Sign(verifySecret, verifyTime, verifyBody)
	sig := strings.TrimPrefix(valid, "t=1700000000,v1=")
	otherSecret := []byte("another-secret-0123456789")
	otherSig := strings.TrimPrefix(Sign(otherSecret, verifyTime, verifyBody), "t=1700000000,v1=")
	now := verifyTime.Add(30 * time.Second)

	for _, tc := range []struct {
		name      string
		secret    []byte
		header    string
		body      []byte
		now       time.Time
		tolerance time.Duration
		want      error // nil = accepted
	}{
		{"valid", verifySecret, valid, verifyBody, now, time.Minute, nil},
		{"valid at the edge of the tolerance", verifySecret, valid, verifyBody, verifyTime.Add(time.Minute), time.Minute, nil},
		{"valid from a clock behind", verifySecret, valid, verifyBody, verifyTime.Add(-time.Minute), time.Minute, nil},
		{"spaces around entries", verifySecret, " t=1700000000 , v1=" + sig + " ", verifyBody, now, time.Minute, nil},
		{"uppercase hex", verifySecret, "t=1700000000,v1=" + strings.ToUpper(sig), verifyBody, now, time.Minute, nil},
		{"v1 before t", verifySecret, "v1=" + sig + ",t=1700000000", verifyBody, now, time.Minute, nil},
		{"unknown scheme ignored", verifySecret, "t=1700000000,v0=abc,v2=zzz,v1=" + sig, verifyBody, now, time.Minute, nil},
		{"rotation: new secret first", verifySecret, "t=1700000000,v1=" + sig + ",v1=" + otherSig, verifyBody, now, time.Minute, nil},
		{"rotation: receiver on the old secret", otherSecret, "t=1700000000,v1=" + sig + ",v1=" + otherSig, verifyBody, now, time.Minute, nil},
		{"default tolerance", verifySecret, valid, verifyBody, verifyTime.Add(4 * time.Minute), 0, nil},

		{"replay: old timestamp", verifySecret, valid, verifyBody, verifyTime.Add(10 * time.Minute), 5 * time.Minute, ErrSignatureExpired},
		{"replay: just past the tolerance", verifySecret, valid, verifyBody, verifyTime.Add(time.Minute + time.Second), time.Minute, ErrSignatureExpired},
		{"timestamp in the future", verifySecret, valid, verifyBody, verifyTime.Add(-10 * time.Minute), 5 * time.Minute, ErrSignatureExpired},
		{"default tolerance exceeded", verifySecret, valid, verifyBody, verifyTime.Add(6 * time.Minute), -1, ErrSignatureExpired},
		{"wrong secret", []byte("wrong-secret-0123456789"), valid, verifyBody, now, time.Minute, ErrSignatureMismatch},
		{"modified body", verifySecret, valid, []byte(`{"id":"alr_2","title":"<b>&"}`), now, time.Minute, ErrSignatureMismatch},
		{"body re-encoded", verifySecret, valid, []byte(`{"id":"alr_1","title":"\u003cb\u003e\u0026"}`), now, time.Minute, ErrSignatureMismatch},
		{"modified timestamp", verifySecret, "t=1700000030,v1=" + sig, verifyBody, now, time.Minute, ErrSignatureMismatch},
		{"leading zero timestamp", verifySecret, "t=01700000000,v1=" + sig, verifyBody, now, time.Minute, ErrSignatureMismatch},
		{"flipped signature", verifySecret, "t=1700000000,v1=" + flipHex(sig), verifyBody, now, time.Minute, ErrSignatureMismatch},
		{"signature of the other secret only", verifySecret, "t=1700000000,v1=" + otherSig, verifyBody, now, time.Minute, ErrSignatureMismatch},
		{"forged old signature is a mismatch, not expired", verifySecret, "t=1,v1=" + sig, verifyBody, now, time.Minute, ErrSignatureMismatch},

		{"empty", verifySecret, "", verifyBody, now, time.Minute, ErrSignatureMissing},
		{"blank", verifySecret, "  ", verifyBody, now, time.Minute, ErrSignatureMissing},
		{"garbage", verifySecret, "garbage", verifyBody, now, time.Minute, ErrSignatureMalformed},
		{"signature only", verifySecret, sig, verifyBody, now, time.Minute, ErrSignatureMalformed},
		{"no t", verifySecret, "v1=" + sig, verifyBody, now, time.Minute, ErrSignatureMalformed},
		{"no v1", verifySecret, "t=1700000000", verifyBody, now, time.Minute, ErrSignatureMalformed},
		{"only another scheme", verifySecret, "t=1700000000,v2=" + sig, verifyBody, now, time.Minute, ErrSignatureMalformed},
		{"t twice", verifySecret, "t=1700000000,t=1700000001,v1=" + sig, verifyBody, now, time.Minute, ErrSignatureMalformed},
		{"t not a number", verifySecret, "t=abc,v1=" + sig, verifyBody, now, time.Minute, ErrSignatureMalformed},
		{"t empty", verifySecret, "t=,v1=" + sig, verifyBody, now, time.Minute, ErrSignatureMalformed},
		{"t negative", verifySecret, "t=-1700000000,v1=" + sig, verifyBody, now, time.Minute, ErrSignatureMalformed},
		{"t signed", verifySecret, "t=+1700000000,v1=" + sig, verifyBody, now, time.Minute, ErrSignatureMalformed},
		{"t fractional", verifySecret, "t=1700000000.5,v1=" + sig, verifyBody, now, time.Minute, ErrSignatureMalformed},
		{"t too long", verifySecret, "t=99999999999999999999,v1=" + sig, verifyBody, now, time.Minute, ErrSignatureMalformed},
		{"v1 short", verifySecret, "t=1700000000,v1=" + sig[:63], verifyBody, now, time.Minute, ErrSignatureMalformed},
		{"v1 long", verifySecret, "t=1700000000,v1=" + sig + "0", verifyBody, now, time.Minute, ErrSignatureMalformed},
		{"v1 not hex", verifySecret, "t=1700000000,v1=" + strings.Repeat("g", 64), verifyBody, now, time.Minute, ErrSignatureMalformed},
		{"v1 empty", verifySecret, "t=1700000000,v1=", verifyBody, now, time.Minute, ErrSignatureMalformed},
		{"empty entry", verifySecret, "t=1700000000,,v1=" + sig, verifyBody, now, time.Minute, ErrSignatureMalformed},
		{"semicolons", verifySecret, "t=1700000000;v1=" + sig, verifyBody, now, time.Minute, ErrSignatureMalformed},
		{"too many v1", verifySecret, "t=1700000000" + strings.Repeat(",v1="+otherSig, 16) + ",v1=" + sig, verifyBody, now, time.Minute, ErrSignatureMalformed},
		{"too long", verifySecret, "t=1700000000,v1=" + sig + ",x=" + strings.Repeat("a", 5000), verifyBody, now, time.Minute, ErrSignatureMalformed},
	} {
		err := VerifySignature(tc.secret, tc.header, tc.body, tc.now, tc.tolerance)
		switch {
		case tc.want == nil && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
		if err != nil {
			msg := err.Error()
			for _, leak := range []string{string(tc.secret), sig, otherSig, string(tc.body)} {
				if leak != "" && strings.Contains(msg, leak) {
					t.Errorf("%s: error %q repeats %q", tc.name, msg, leak)
				}
			}
		}
	}
}

func TestVerifySignatureEmptySecret(t *testing.T) {
	h := Sign(nil, verifyTime, verifyBody)
	if err := VerifySignature(nil, h, verifyBody, verifyTime, time.Minute); err == nil {
		t.Error("an empty secret verified a signature")
	}
}

func TestVerifySignatureExpiredSaysWhen(t *testing.T) {
	err := VerifySignature(verifySecret, Sign(verifySecret, verifyTime, verifyBody), verifyBody, verifyTime.Add(10*time.Minute), 5*time.Minute)
	if err == nil || !strings.Contains(err.Error(), "10m0s ago") || !strings.Contains(err.Error(), "2023-11-14T22:13:20Z") {
		t.Errorf("got %v, want an error saying when it was signed and how long ago", err)
	}
	err = VerifySignature(verifySecret, Sign(verifySecret, verifyTime, verifyBody), verifyBody, verifyTime.Add(-10*time.Minute), 5*time.Minute)
	if err == nil || !strings.Contains(err.Error(), "10m0s in the future") {
		t.Errorf("got %v, want an error saying the timestamp is in the future", err)
	}
}

func flipHex(s string) string {
	b := []byte(s)
	if b[0] == '0' {
		b[0] = '1'
	} else {
		b[0] = '0'
	}
	return string(b)
}

func FuzzVerifySignature(f *testing.F) {
	f.Add(Sign(verifySecret, verifyTime, verifyBody), verifyBody)
	f.Add("t=1700000000,v1=00,v1="+strings.Repeat("a", 64), []byte("x"))
	f.Add("t=,=,,v1", []byte{})
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		err := VerifySignature(verifySecret, header, body, verifyTime, time.Minute)
		if err != nil {
			for _, e := range []error{ErrSignatureMissing, ErrSignatureMalformed, ErrSignatureMismatch, ErrSignatureExpired} {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("error %v wraps none of the sentinels", err)
		}
		// Accepted: then the header holds the true signature of this body.
		var ts string
		for _, part := range strings.Split(header, ",") {
			if k, v, _ := strings.Cut(strings.TrimSpace(part), "="); k == "t" {
				ts = v
			}
		}
		sec, perr := strconv.ParseInt(ts, 10, 64)
		if perr != nil {
			t.Fatalf("accepted %q without a numeric t", header)
		}
		want := strings.TrimPrefix(Sign(verifySecret, time.Unix(sec, 0), body), "t="+strconv.FormatInt(sec, 10)+",v1=")
		if !strings.Contains(strings.ToLower(header), want) {
			t.Fatalf("accepted %q, which lacks the signature %s", header, want)
		}
	})
}

func BenchmarkSign(b *testing.B) {
	body := bytes.Repeat([]byte(`{"k":"v"}`), 2048/9) // about a typical alert
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		_ = Sign(verifySecret, verifyTime, body)
	}
}

func BenchmarkVerifySignature(b *testing.B) {
	body := bytes.Repeat([]byte(`{"k":"v"}`), 2048/9)
	h := Sign(verifySecret, verifyTime, body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifySignature(verifySecret, h, body, verifyTime, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}
