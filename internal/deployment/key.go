package deployment

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// SecretBytes is the size of a generated secret.
const SecretBytes = 32

// minSecretBytes is the shortest secret accepted from a key file.
const minSecretBytes = 16

// Identity is what makes one deployment's decoys its own.
type Identity struct {
	// Secret seeds synthetic data. Never log it.
	Secret []byte
	// Epoch anchors synthesised dates: the key file's creation time. Zero
	// when the secret comes from configuration (the decoy engine then uses
	// its fixed built-in anchor).
	Epoch time.Time
	// Source says where the secret came from, for logs: "config" or the key
	// file's path.
	Source string
	// Created reports whether this call generated a new key file.
	Created bool
}

// keyFile is the JSON stored in <db>.key.
type keyFile struct {
	Secret  string `json:"secret"`
	Created string `json:"created"`
}

// KeyFilePath returns the key file that belongs to the database at dbPath.
func KeyFilePath(dbPath string) string { return dbPath + ".key" }

// Load returns the deployment identity. A non-empty configured secret wins
// and no key file is touched. Otherwise the key file beside dbPath is read,
// or created (mode 0600) if it does not exist yet. A key file that group or
// others can read is refused.
func Load(dbPath string, configured []byte) (*Identity, error) {
	if len(configured) > 0 {
		return &Identity{Secret: append([]byte(nil), configured...), Source: "config"}, nil
	}
	path := KeyFilePath(dbPath)
	id, err := read(path)
	if errors.Is(err, fs.ErrNotExist) {
		id, err = create(path, time.Now())
		if errors.Is(err, fs.ErrExist) { // another process created it first
			id, err = read(path)
		}
	}
	if err != nil {
		return nil, err
	}
	return id, nil
}

func read(path string) (*Identity, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("deployment: key file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("deployment: key file %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("deployment: key file %s has mode %#o, readable beyond its owner; it holds the deployment secret: run chmod 600 %s",
			path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("deployment: key file: %w", err)
	}
	var kf keyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		return nil, fmt.Errorf("deployment: key file %s is not valid JSON (%v); restore it from a backup, or delete it to generate a new secret (synthesised data will change)", path, err)
	}
	secret, err := base64.StdEncoding.DecodeString(kf.Secret)
	if err != nil || len(secret) < minSecretBytes {
		return nil, fmt.Errorf("deployment: key file %s: \"secret\" must be base64 of at least %d bytes", path, minSecretBytes)
	}
	created, err := time.Parse(time.RFC3339, kf.Created)
	if err != nil {
		return nil, fmt.Errorf("deployment: key file %s: \"created\" must be an RFC 3339 time: %v", path, err)
	}
	return &Identity{Secret: secret, Epoch: created, Source: path}, nil
}

func create(path string, now time.Time) (*Identity, error) {
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("deployment: directory %s of the database does not exist; create it or choose another --db", dir)
	}
	secret := make([]byte, SecretBytes)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("deployment: generating secret: %w", err)
	}
	created := now.UTC().Truncate(time.Second)
	data, err := json.Marshal(keyFile{
		Secret:  base64.StdEncoding.EncodeToString(secret),
		Created: created.Format(time.RFC3339),
	})
	if err != nil {
		return nil, fmt.Errorf("deployment: %w", err)
	}
	data = append(data, '\n')

	// O_EXCL: never overwrite a key file another process just wrote.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		return nil, fmt.Errorf("deployment: creating key file: %w", err)
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("deployment: writing key file: %w", werr)
	}
	return &Identity{Secret: secret, Epoch: created, Source: path, Created: true}, nil
}
