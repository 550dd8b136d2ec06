package tokens

import (
	"bufio"
	"encoding/base64"
	"errors"
	"io"
	"strconv"
	"strings"
)

// Find returns this deployment's honeytokens in free text: a log line, a
// config snippet, a sighting report. The text is checked whole and word by
// word (words split at white space, quotes, '=', ',', ';', '<', '>', '(',
// ')', '[', ']', '{', '}', '`' and '|'), and a word that is base64 of
// "user:password" (a logged Basic header) is decoded and checked too. Each
// token is reported once; Where is "text". Work is bounded like Detect's.
func (m *Minter) Find(text string) []Hit {
	d := detector{m: m, seen: map[ID]bool{}}
	d.findText(text, "text")
	return d.hits
}

// maxScanLine bounds one line of Scan; longer lines are read in pieces of
// this size (a token cut by a piece boundary is missed).
const maxScanLine = 1 << 20

// Scan reads r line by line and calls fn with the 1-based line number for
// each honeytoken found. A token is reported once per line. It returns fn's
// first error, or a read error.
func (m *Minter) Scan(r io.Reader, fn func(line int, h Hit) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	line := 1
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		full := errors.Is(err, bufio.ErrBufferFull)
		if full && len(buf) < maxScanLine {
			continue
		}
		if len(buf) > 0 {
			d := detector{m: m, seen: map[ID]bool{}}
			d.findText(strings.TrimRight(string(buf), "\r\n"), "line "+strconv.Itoa(line))
			for _, h := range d.hits {
				if ferr := fn(line, h); ferr != nil {
					return ferr
				}
			}
			buf = buf[:0]
		}
		switch {
		case full:
			// The same line goes on.
		case err == nil:
			line++
		case errors.Is(err, io.EOF):
			return nil
		default:
			return err
		}
	}
}

// findText is text() with the wider word split of Find and Basic
// credentials decoded. Long texts are examined in full: the value budget
// (maxDetectValues) is per call, so it is raised for free text.
func (d *detector) findText(s, where string) {
	d.check(s, where)
	words := strings.FieldsFunc(s, func(r rune) bool {
		switch r {
		case ' ', '\n', '\r', '\t', '"', '\'', '=', ',', ';', '<', '>', '(', ')', '[', ']', '{', '}', '`', '|':
			return true
		}
		return false
	})
	for _, w := range words {
		if len(w) < 16 {
			continue
		}
		if d.values >= maxDetectValues {
			// A fresh budget per 512 words: free text is the caller's own
			// (a file, a log), bounded by its length.
			d.values = 0
		}
		d.check(w, where)
		if len(w) <= 1024 {
			// '=' split the padding off.
			if raw, err := base64.RawStdEncoding.DecodeString(w); err == nil && isPrintable(raw) {
				if user, pass, ok := strings.Cut(string(raw), ":"); ok {
					d.check(pass, where)
					d.check(user, where)
				}
			}
		}
	}
}

func isPrintable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
