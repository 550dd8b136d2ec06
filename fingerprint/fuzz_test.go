package fingerprint

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func seedHeads(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "heads", "*.head"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err == nil {
			f.Add(b)
		}
	}
	for _, req := range testRequests {
		f.Add([]byte(req))
	}
}

func FuzzParseHead(f *testing.F) {
	seedHeads(f)
	f.Add([]byte("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		method, target, proto, headers, err := ParseHead(raw)
		if err == nil {
			if !isToken(method) || target == "" || !validProto(proto) {
				t.Fatalf("accepted %q %q %q", method, target, proto)
			}
			for _, h := range headers {
				if !isToken(h.Name) || strings.ContainsAny(h.Value, "\r\n\x00") {
					t.Fatalf("accepted header %q", h)
				}
			}
		}
		// The fingerprint and the classifier take whatever the parser returns.
		_ = HeaderFingerprint(headers)
		_ = Classify(&Capture{RawHead: raw, Headers: headers, WireOrder: true, Proto: proto}, "")
	})
}

func FuzzParseClientHello(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "hellos", "*.hello"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add(specHello())
	f.Add(helloRecord(769, []uint16{4, 5, 10}))
	f.Fuzz(func(t *testing.T, rec []byte) {
		h, err := ParseClientHello(rec)
		if h == nil {
			if err == nil {
				t.Fatal("nil hello without error")
			}
			return
		}
		if len(h.Ciphers) > maxListItems || len(h.Extensions) > maxListItems || len(h.ALPN) > maxALPNValues {
			t.Fatalf("unbounded lists: %d %d %d", len(h.Ciphers), len(h.Extensions), len(h.ALPN))
		}
		full, sum := JA3(h)
		if len(sum) != 32 || !strings.Contains(full, ",") {
			t.Fatalf("JA3 %q %q", full, sum)
		}
		if ja4 := JA4(h, 't'); len(ja4) != 36 {
			t.Fatalf("JA4 %q has length %d", ja4, len(ja4))
		}
		_ = JA4Raw(h, 't')
		_ = h.HasGREASE()
	})
}

// streamResult is what a byte stream produced in the capture parser.
type streamResult struct {
	heads   []pendingHead
	reasons []string
	state   int
}

func runStream(data []byte, chunk, maxHead int) streamResult {
	var res streamResult
	s := newConnState("192.0.2.1:1", 1, maxHead, func(c *Capture, reason string) {
		res.reasons = append(res.reasons, reason)
	}, nil)
	for len(data) > 0 {
		n := min(chunk, len(data))
		s.feed(data[:n])
		data = data[n:]
		if len(s.head) > maxHead || len(s.queue) > maxQueuedHeads || len(s.line) > maxLineBytes {
			panic("capture state exceeds its bounds")
		}
		// Collect heads as a handler would, so the queue does not hide problems.
		res.heads = append(res.heads, s.queue...)
		s.queue = s.queue[:0]
	}
	s.closeConn()
	res.state = s.state
	return res
}

// FuzzCaptureStream feeds arbitrary byte streams through the capture parser: it must not panic,
// must stay within its bounds, and must give the same heads and events however the stream is cut
// into reads.
func FuzzCaptureStream(f *testing.F) {
	seedHeads(f)
	f.Add([]byte(strings.Join(testRequests, "")))
	f.Add([]byte("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /2 HTTP/1.1\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxHead = 512
		whole := runStream(data, len(data)+1, maxHead)
		for _, chunk := range []int{1, 7, 64} {
			cut := runStream(data, chunk, maxHead)
			if !slices.Equal(whole.heads, cut.heads) || !slices.Equal(whole.reasons, cut.reasons) || whole.state != cut.state {
				t.Fatalf("reads of %d bytes changed the result:\nwhole %+v\ncut   %+v", chunk, whole, cut)
			}
		}
		for _, h := range whole.heads {
			if len(h.head) > maxHead {
				t.Fatalf("queued head of %d bytes", len(h.head))
			}
		}
	})
}
