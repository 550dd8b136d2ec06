package fingerprint

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// BenchmarkCaptureOverhead measures requests per second through an http.Server on loopback,
// with a plain listener and with NewListener plus a handler that calls FromRequest and Classify,
// using one keep-alive client connection.
func BenchmarkCaptureOverhead(b *testing.B) {
	for _, mode := range []string{"plain", "captured"} {
		b.Run(mode, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if mode == "captured" {
					c := FromRequest(r)
					_ = Classify(c, r.UserAgent())
					_ = HeaderFingerprint(c.Headers)
				}
				_, _ = io.WriteString(w, "ok")
			})
			srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
			var l net.Listener = ln
			if mode == "captured" {
				l = NewListener(ln, ListenerOptions{})
			}
			done := make(chan struct{})
			go func() { _ = Serve(srv, l); close(done) }()
			defer func() { _ = srv.Close(); <-done }()

			tr := &http.Transport{MaxIdleConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			url := "http://" + ln.Addr().String() + "/bench"
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				resp, err := client.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}

var benchHead = []byte("GET /api/v1/users?limit=10 HTTP/1.1\r\nHost: api.example.com\r\nConnection: keep-alive\r\n" +
	"sec-ch-ua: \"Google Chrome\";v=\"156\", \"Not:A-Brand\";v=\"8\"\r\nsec-ch-ua-mobile: ?0\r\nsec-ch-ua-platform: \"Linux\"\r\n" +
	"Upgrade-Insecure-Requests: 1\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nSec-Fetch-Site: none\r\nSec-Fetch-Mode: navigate\r\n" +
	"Sec-Fetch-User: ?1\r\nSec-Fetch-Dest: document\r\nAccept-Encoding: gzip, deflate, br, zstd\r\nAccept-Language: en-US,en;q=0.9\r\n\r\n")

func BenchmarkParseHead(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchHead)))
	for i := 0; i < b.N; i++ {
		if _, _, _, _, err := ParseHead(benchHead); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClassify(b *testing.B) {
	_, _, proto, headers, _ := ParseHead(benchHead)
	c := &Capture{Proto: proto, RawHead: benchHead, Headers: headers, WireOrder: true}
	ua := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if cl := Classify(c, ua); cl.Family != "browser" {
			b.Fatal(cl)
		}
	}
}

func BenchmarkHeaderFingerprint(b *testing.B) {
	_, _, _, headers, _ := ParseHead(benchHead)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = HeaderFingerprint(headers)
	}
}

// BenchmarkCaptureStream measures the capture parser alone on pipelined requests.
func BenchmarkCaptureStream(b *testing.B) {
	stream := []byte(strings.Repeat(string(benchHead), 8))
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for i := 0; i < b.N; i++ {
		s := newConnState("192.0.2.1:1", 1, DefaultMaxHeadBytes, nil, nil)
		s.feed(stream)
	}
}

func BenchmarkJA4(b *testing.B) {
	h, err := ParseClientHello(specHello())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = JA4(h, 't')
	}
}
