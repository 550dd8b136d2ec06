package web

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/honeyapi/honeyapi/tokens"
)

func TestBuildSeedDownload(t *testing.T) {
	m, err := tokens.NewMinter(bytes.Repeat([]byte{7}, 32), tokens.MinterOptions{DecoyHost: "api.example.test"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := BuildSeedDownload(m, []tokens.Kind{tokens.AWS, tokens.GitHub}, "ci runner", "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(d.Zip), int64(len(d.Zip)))
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	modes := map[string]uint32{}
	for _, f := range zr.File {
		modes[f.Name] = uint32(f.Mode().Perm())
		if f.Mode().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		all.Write(b)
	}
	if modes[".aws/credentials"] != 0o600 {
		t.Fatalf("modes %v", modes)
	}
	if len(d.Tokens) != 2 {
		t.Fatalf("%d token records, want 2", len(d.Tokens))
	}
	for _, rec := range d.Tokens {
		if !strings.Contains(all.String(), rec.Value) {
			t.Errorf("token %s (%s) is not in the archive", rec.ID, rec.Kind)
		}
		if len(rec.Placements) == 0 || rec.Placements[0].Repo != "ci runner" || rec.Placements[0].Path == "" {
			t.Errorf("token %s placements %+v", rec.ID, rec.Placements)
		}
	}
}
