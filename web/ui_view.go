package web

import (
	"encoding/hex"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/honeyapi/honeyapi/store"
)

// View helpers of the dashboard templates. None of them returns
// template.HTML: every stored string reaches the page through
// html/template's contextual escaping.

var uiFuncs = template.FuncMap{
	"time":     fmtTime,
	"ago":      ago,
	"bytes":    fmtBytes,
	"ms":       fmtMS,
	"msi":      func(ms int64) string { return fmtMS(float64(ms)) },
	"dur":      fmtDur,
	"vis":      visible,
	"trunc":    truncate,
	"join":     strings.Join,
	"seg":      url.PathEscape,
	"blob":     viewBlob,
	"tokenRef": tokenRefs,
	"target":   eventTarget,
	"add":      func(a, b int) int { return a + b },
	"risk":     riskClass,
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// ago is a short relative time, for tables.
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s ago"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + "h ago"
	}
	return strconv.Itoa(int(d.Hours()/24)) + "d ago"
}

func fmtBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func fmtMS(ms float64) string {
	switch {
	case ms <= 0:
		return "0"
	case ms < 1000:
		return strconv.FormatFloat(ms, 'f', 0, 64) + " ms"
	case ms < 120_000:
		return strconv.FormatFloat(ms/1000, 'f', 1, 64) + " s"
	}
	return fmtDur(time.Duration(ms * float64(time.Millisecond)))
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}

// visible makes attacker text safe to read: invalid UTF-8 bytes and
// invisible or control characters (including bidirectional overrides)
// are shown as escapes, so what is displayed is what was sent.
func visible(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsPrint(r):
			b.WriteString(s[i : i+n])
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += n
	}
	return b.String()
}

func truncate(n int, s string) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// blob is stored bytes prepared for display: the text when it is valid,
// printable UTF-8 (line breaks and tabs allowed), else a hex dump.
type blob struct {
	Text  string
	Hex   string
	Len   int
	Empty bool
	// Shown and Total tell a cut body from a whole one.
	Total int64
	Cut   bool
}

func viewBlob(b []byte, total int64) blob {
	v := blob{Len: len(b), Empty: len(b) == 0, Total: total}
	if total > int64(len(b)) {
		v.Cut = true
	}
	if len(b) == 0 {
		return v
	}
	if printableText(b) {
		v.Text = string(b)
	} else {
		v.Hex = hex.Dump(b)
	}
	return v
}

func printableText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r == '\n' || r == '\r' || r == '\t' {
			continue
		}
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// tokenRef is a honeytoken named in an event's tags.
type tokenRef struct{ Kind, ID string }

func tokenRefs(tags []string) []tokenRef {
	var out []tokenRef
	for _, t := range tags {
		rest, ok := strings.CutPrefix(t, store.TokenTagPrefix)
		if !ok {
			continue
		}
		kind, id, ok := strings.Cut(rest, ":")
		if !ok || len(id) != 16 {
			continue
		}
		if _, err := hex.DecodeString(id); err != nil {
			continue
		}
		out = append(out, tokenRef{Kind: kind, ID: strings.ToLower(id)})
	}
	return out
}

// eventTarget is the request target of an event, path and query.
func eventTarget(ev store.Event) string {
	if ev.Query == "" {
		return ev.Path
	}
	return ev.Path + "?" + ev.Query
}

func riskClass(risk int) string {
	switch {
	case risk >= 70:
		return "risk-high"
	case risk >= 40:
		return "risk-mid"
	}
	return "risk-low"
}

// chart is the overview's bar chart of events per hour, drawn as SVG with
// geometry in attributes (no inline style, so the CSP holds).
type chart struct {
	W, H   int
	Bars   []chartBar
	Labels []chartLabel
	Max    int64
	Total  int64
	// Base is the y of the axis.
	Base int
}

type chartBar struct {
	X, Y, W, H int
	N          int64
	Start      time.Time
}

type chartLabel struct {
	X, Y int
	Text string
}

func buildChart(counts []store.Count) chart {
	const (
		width, height = 1200, 170
		top, base     = 8, 146
	)
	c := chart{W: width, H: height, Base: base}
	if len(counts) == 0 {
		return c
	}
	for _, n := range counts {
		c.Total += n.N
		c.Max = max(c.Max, n.N)
	}
	step := width / len(counts)
	for i, n := range counts {
		h := 0
		if c.Max > 0 {
			h = int(float64(base-top) * float64(n.N) / float64(c.Max))
			if n.N > 0 && h < 1 {
				h = 1
			}
		}
		c.Bars = append(c.Bars, chartBar{X: i*step + 1, Y: base - h, W: max(step-2, 1), H: h, N: n.N, Start: n.Start})
		if i%3 == 0 {
			c.Labels = append(c.Labels, chartLabel{X: i*step + step/2, Y: height - 6, Text: n.Start.UTC().Format("15:04")})
		}
	}
	return c
}
