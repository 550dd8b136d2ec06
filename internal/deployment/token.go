package deployment

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
)

// minTokenLen is the shortest admin token accepted (from the environment or the file).
const minTokenLen = 24

// TokenFilePath returns the admin token file that belongs to the database at dbPath.
func TokenFilePath(dbPath string) string { return dbPath + ".admin-token" }

// AdminToken is the token the admin API requires.
type AdminToken struct {
	Token   string // never log it
	Source  string // "env" or the token file's path
	Created bool   // this call generated it (print it once)
}

// LoadAdminToken returns the admin token: configured (HONEYAPI_ADMIN_TOKEN)
// if set, else the token file beside the database, created with mode 0600
// on first use. A token file readable beyond its owner is refused.
func LoadAdminToken(dbPath, configured string) (*AdminToken, error) {
	if configured != "" {
		if len(configured) < minTokenLen {
			return nil, fmt.Errorf("deployment: HONEYAPI_ADMIN_TOKEN must be at least %d characters", minTokenLen)
		}
		return &AdminToken{Token: configured, Source: "env"}, nil
	}
	path := TokenFilePath(dbPath)
	tok, err := readToken(path)
	if errors.Is(err, fs.ErrNotExist) {
		tok, err = createToken(path)
		if errors.Is(err, fs.ErrExist) {
			tok, err = readToken(path)
		}
	}
	return tok, err
}

// ReadAdminToken reads an existing token (for CLI clients); it never creates one.
func ReadAdminToken(dbPath, configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	tok, err := readToken(TokenFilePath(dbPath))
	if err != nil {
		return "", err
	}
	return tok.Token, nil
}

func readToken(path string) (*AdminToken, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("deployment: admin token file %s has mode %#o, readable beyond its owner: run chmod 600 %s", path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("deployment: admin token file: %w", err)
	}
	tok := strings.TrimSpace(string(data))
	if len(tok) < minTokenLen {
		return nil, fmt.Errorf("deployment: admin token file %s holds no valid token; delete it to generate a new one", path)
	}
	return &AdminToken{Token: tok, Source: path}, nil
}

func createToken(path string) (*AdminToken, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("deployment: generating admin token: %w", err)
	}
	tok := "hapi_" + base64.RawURLEncoding.EncodeToString(b)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		return nil, fmt.Errorf("deployment: creating admin token file: %w", err)
	}
	_, werr := f.WriteString(tok + "\n")
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("deployment: writing admin token file: %w", werr)
	}
	return &AdminToken{Token: tok, Source: path, Created: true}, nil
}
