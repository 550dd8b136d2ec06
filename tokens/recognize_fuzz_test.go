package tokens

import "testing"

// FuzzRecognize checks that Recognize never panics, and that what it recognises is
// stable (a second call agrees).
func FuzzRecognize(f *testing.F) {
	m := newTestMinter(f, testSecret)
	for _, k := range Kinds() {
		tok, err := m.New(k)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok.Value)
		f.Add(carrier(tok))
	}
	for _, s := range []string{"", "AKIA", "eyJ.eyJ.", "eyJhbGciOi.eyJqdGkiOiI=.x", "postgres://", "https://a:@b",
		"https://@/", "xoxb-1234567890-", "xoxp------", "aaaaaaaaaaaaaaaaaaaaaaaaaa.", "u:" + "A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, k, ok := m.Recognize(s)
		id2, k2, ok2 := m.Recognize(s)
		if id != id2 || k != k2 || ok != ok2 {
			t.Fatalf("Recognize(%q) not deterministic", s)
		}
		if ok && !k.Valid() {
			t.Fatalf("Recognize(%q) returned invalid kind %q", s, k)
		}
	})
}
