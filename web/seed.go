package web

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/tokens"
)

// SeedDownload is a seeding delivered as a download rather than written
// into a directory: a zip archive of the files, and the token records to
// save, each placed in the archive's files.
type SeedDownload struct {
	Zip    []byte
	Tokens []*store.Token
}

// maxSeedKinds bounds one download's kinds.
const maxSeedKinds = 64

// BuildSeedDownload mints fresh tokens of the given kinds (every kind when
// empty) into seed files and packs them in a zip archive with their file
// modes (for `unzip` to restore). label names where the archive is meant to
// go ("build server"), recorded as each placement's repository with note.
func BuildSeedDownload(m *tokens.Minter, kinds []tokens.Kind, label, note string, now time.Time) (*SeedDownload, error) {
	if m == nil {
		return nil, fmt.Errorf("no minter")
	}
	if len(kinds) > maxSeedKinds {
		return nil, fmt.Errorf("at most %d kinds", maxSeedKinds)
	}
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	files, err := m.SeedFiles(tokens.SeedOptions{Kinds: kinds, Now: now})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	dirs := map[string]bool{}
	byID := map[tokens.ID]*store.Token{}
	var recs []*store.Token
	for _, f := range files {
		if i := strings.LastIndexByte(f.Path, '/'); i > 0 && !dirs[f.Path[:i]] && f.DirMode != 0 {
			dir := f.Path[:i]
			dirs[dir] = true
			h := &zip.FileHeader{Name: dir + "/", Modified: now}
			h.SetMode(fs.ModeDir | f.DirMode.Perm())
			if _, err := zw.CreateHeader(h); err != nil {
				return nil, err
			}
		}
		h := &zip.FileHeader{Name: f.Path, Method: zip.Deflate, Modified: now}
		h.SetMode(f.Mode.Perm())
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.Data); err != nil {
			return nil, err
		}
		for _, t := range f.Tokens {
			rec := byID[t.ID]
			if rec == nil {
				rec = TokenRecord(m, t, store.SourceSeed, note)
				rec.Created = now
				byID[t.ID] = rec
				recs = append(recs, rec)
			}
			rec.Placements = append(rec.Placements, store.Placement{Time: now, Host: "download", Repo: label, Path: f.Path})
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return &SeedDownload{Zip: buf.Bytes(), Tokens: recs}, nil
}
