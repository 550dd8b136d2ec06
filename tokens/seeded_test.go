package tokens

import (
	"strings"
	"testing"
)

func TestNewSeededIsStablePerSeed(t *testing.T) {
	m := newTestMinter(t, testSecret)
	for _, k := range Kinds() {
		a1, err := m.NewSeeded(k, []byte("actor-1/.env/AWS_ACCESS_KEY_ID"))
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		a2, _ := m.NewSeeded(k, []byte("actor-1/.env/AWS_ACCESS_KEY_ID"))
		b, _ := m.NewSeeded(k, []byte("actor-2/.env/AWS_ACCESS_KEY_ID"))
		same := func(x, y Token) bool {
			if k == JWT { // claims are seeded, the ES256 signature is not
				return x.ID == y.ID && x.Value[:strings.LastIndexByte(x.Value, '.')] == y.Value[:strings.LastIndexByte(y.Value, '.')]
			}
			return x.ID == y.ID && x.Value == y.Value
		}
		if !same(a1, a2) {
			t.Errorf("%s: one seed gave %q then %q", k, a1.Value, a2.Value)
		}
		if a1.ID == b.ID || a1.Value == b.Value {
			t.Errorf("%s: two seeds gave the same token %q", k, a1.Value)
		}
		for _, tok := range []Token{a1, b} {
			id, kind, ok := m.Recognize(tok.Value)
			if !ok || id != tok.ID || kind != k {
				t.Errorf("%s: seeded token %q not recognised (%v %v %v)", k, tok.Value, id, kind, ok)
			}
		}
	}
}
