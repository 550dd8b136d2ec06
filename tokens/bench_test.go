package tokens

import "testing"

var sinkOK bool

func benchRecognize(b *testing.B, s string, want bool) {
	m := newTestMinter(b, testSecret)
	if _, _, ok := m.Recognize(s); ok != want {
		b.Fatalf("Recognize(%q) = %v, want %v", s, ok, want)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_, _, sinkOK = m.Recognize(s)
	}
}

func BenchmarkRecognize(b *testing.B) {
	m := newTestMinter(b, testSecret)
	gh, _ := m.New(GitHub)
	aws, _ := m.New(AWS)
	jwt, _ := m.New(JWT)
	other := newTestMinter(b, otherSecret)
	ogh, _ := other.New(GitHub)
	oaws, _ := other.New(AWS)
	ojwt, _ := other.New(JWT)

	b.Run("not-a-token/user-agent", func(b *testing.B) {
		benchRecognize(b, "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", false)
	})
	b.Run("not-a-token/session-cookie", func(b *testing.B) {
		benchRecognize(b, "s%3AJd8sKq0vZ2lWnYp.8n1s0ZxW4mPqR2tYv7uB", false)
	})
	b.Run("token-format-not-honey/github", func(b *testing.B) { benchRecognize(b, ogh.Value, false) })
	b.Run("token-format-not-honey/aws", func(b *testing.B) { benchRecognize(b, oaws.Value, false) })
	b.Run("token-format-not-honey/jwt", func(b *testing.B) { benchRecognize(b, ojwt.Value, false) })
	b.Run("honeytoken/github", func(b *testing.B) { benchRecognize(b, gh.Value, true) })
	b.Run("honeytoken/aws", func(b *testing.B) { benchRecognize(b, aws.Value, true) })
	b.Run("honeytoken/jwt", func(b *testing.B) { benchRecognize(b, jwt.Value, true) })
}

func BenchmarkNew(b *testing.B) {
	m := newTestMinter(b, testSecret)
	for _, k := range []Kind{GitHub, AWS, JWT} {
		b.Run(string(k), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.New(k); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
