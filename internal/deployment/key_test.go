package deployment

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestKeyFileCreatedOwnerOnly(t *testing.T) {
	db := filepath.Join(t.TempDir(), "honeyapi.db")
	before := time.Now().Add(-time.Second)
	id, err := Load(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !id.Created || id.Source != db+".key" {
		t.Errorf("Created = %v, Source = %q; want a new key file at %s.key", id.Created, id.Source, db)
	}
	if len(id.Secret) != SecretBytes {
		t.Errorf("secret is %d bytes, want %d", len(id.Secret), SecretBytes)
	}
	if id.Epoch.Before(before) || id.Epoch.After(time.Now()) {
		t.Errorf("Epoch = %v, want about now", id.Epoch)
	}

	st, err := os.Stat(db + ".key")
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %#o, want 0600", st.Mode().Perm())
	}
	data, _ := os.ReadFile(db + ".key")
	var kf map[string]string
	if err := json.Unmarshal(data, &kf); err != nil {
		t.Fatalf("key file is not JSON: %v", err)
	}
	secret, err := base64.StdEncoding.DecodeString(kf["secret"])
	if err != nil || !bytes.Equal(secret, id.Secret) {
		t.Errorf("key file secret does not match the returned one (err %v)", err)
	}
	if created, err := time.Parse(time.RFC3339, kf["created"]); err != nil || !created.Equal(id.Epoch) {
		t.Errorf("created = %q (err %v), want %v", kf["created"], err, id.Epoch)
	}
}

func TestKeyFileReusedOnLaterStarts(t *testing.T) {
	db := filepath.Join(t.TempDir(), "honeyapi.db")
	first, err := Load(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Load(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if second.Created {
		t.Error("second Load created a new key file")
	}
	if !bytes.Equal(first.Secret, second.Secret) || !first.Epoch.Equal(second.Epoch) {
		t.Error("second Load returned a different secret or epoch")
	}
}

func TestKeyFileReadableByOthersRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644} {
		db := filepath.Join(t.TempDir(), "honeyapi.db")
		if _, err := Load(db, nil); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(db+".key", mode); err != nil {
			t.Fatal(err)
		}
		_, err := Load(db, nil)
		if err == nil {
			t.Fatalf("mode %#o: Load succeeded, want a refusal", mode)
		}
		for _, w := range []string{db + ".key", "chmod 600"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("mode %#o: error %q does not contain %q", mode, err, w)
			}
		}
	}
}

func TestConfiguredSecretWins(t *testing.T) {
	db := filepath.Join(t.TempDir(), "honeyapi.db")
	id, err := Load(db, []byte("configured-secret-0123"))
	if err != nil {
		t.Fatal(err)
	}
	if string(id.Secret) != "configured-secret-0123" || id.Source != "config" || !id.Epoch.IsZero() {
		t.Errorf("got source %q epoch %v", id.Source, id.Epoch)
	}
	if _, err := os.Stat(db + ".key"); !os.IsNotExist(err) {
		t.Errorf("a key file was written although a secret was configured (stat err %v)", err)
	}
}

func TestBadKeyFiles(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"not json", "secret=abc", "not valid JSON"},
		{"short secret", `{"secret":"YWJj","created":"2025-01-01T00:00:00Z"}`, "at least 16 bytes"},
		{"bad created", `{"secret":"` + base64.StdEncoding.EncodeToString(make([]byte, 32)) + `","created":"yesterday"}`, "RFC 3339"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "honeyapi.db")
			if err := os.WriteFile(db+".key", []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(db, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), db+".key") {
				t.Errorf("err = %v, want one naming the file and containing %q", err, tt.want)
			}
		})
	}
}

func TestMissingDatabaseDirectory(t *testing.T) {
	db := filepath.Join(t.TempDir(), "absent", "honeyapi.db")
	_, err := Load(db, nil)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("err = %v, want a missing-directory error", err)
	}
}
