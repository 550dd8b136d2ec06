package tarpit

import (
	"testing"
	"time"
)

// BenchmarkDecide is the policy's cost per response (a log-normal draw and,
// for holds, the caps).
func BenchmarkDecide(b *testing.B) {
	tp, err := New(Config{MaxHeld: 1 << 30, MaxHeldPerIP: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	for _, c := range []struct {
		name string
		cl   Client
	}{
		{"browser", Client{IP: "203.0.113.7", Family: "browser"}},
		{"scanner-hold", Client{IP: "203.0.113.8", Family: "scanner", Tool: "sqlmap"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				p := tp.Decide(c.cl, now)
				p.Cancel()
			}
		})
	}
}
