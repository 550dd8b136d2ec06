package deployment

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAdminTokenCreatedOnceWithMode0600(t *testing.T) {
	db := filepath.Join(t.TempDir(), "h.db")
	a, err := LoadAdminToken(db, "")
	if err != nil {
		t.Fatal(err)
	}
	if !a.Created || !strings.HasPrefix(a.Token, "hapi_") || len(a.Token) < 40 {
		t.Fatalf("first load: %+v", a)
	}
	st, err := os.Stat(TokenFilePath(db))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %#o, want 0600", st.Mode().Perm())
	}
	b, err := LoadAdminToken(db, "")
	if err != nil || b.Created || b.Token != a.Token {
		t.Errorf("second load: %+v %v", b, err)
	}
	if got, _ := ReadAdminToken(db, ""); got != a.Token {
		t.Errorf("ReadAdminToken = %q", got)
	}
	os.Chmod(TokenFilePath(db), 0o644)
	if _, err := LoadAdminToken(db, ""); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable token file accepted: %v", err)
	}
}

func TestAdminTokenFromEnvironment(t *testing.T) {
	db := filepath.Join(t.TempDir(), "h.db")
	if _, err := LoadAdminToken(db, "short"); err == nil {
		t.Error("a short configured token was accepted")
	}
	a, err := LoadAdminToken(db, "a-configured-token-of-enough-length")
	if err != nil || a.Source != "env" {
		t.Fatalf("%+v %v", a, err)
	}
	if _, err := os.Stat(TokenFilePath(db)); !os.IsNotExist(err) {
		t.Error("a token file was written although the token is configured")
	}
}
