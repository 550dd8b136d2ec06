package tokens

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestFindAndScan(t *testing.T) {
	m := newTestMinter(t, testSecret)
	gh, _ := m.New(GitHub)
	aws, _ := m.New(AWS)
	basic, _ := m.New(Basic)
	db, _ := m.New(DBURL)
	other, _ := newTestMinter(t, otherSecret).New(GitHub)

	b64 := base64.StdEncoding.EncodeToString([]byte(basic.Fields["username"] + ":" + basic.Value))
	log := strings.Join([]string{
		`10.0.0.7 - - [21/Nov/2026:10:00:00 +0000] "GET /repos HTTP/1.1" 200 512 "-" "curl/8.5.0" auth="Bearer ` + gh.Value + `"`,
		`{"level":"info","msg":"request","headers":{"authorization":"Basic ` + b64 + `"}}`,
		`nothing here ` + other.Value,
		`export AWS_ACCESS_KEY_ID=` + aws.Value + `; psql "` + db.Value + `"`,
		strings.Repeat("x", 300<<10) + " " + gh.Value, // a long line still scanned whole
	}, "\n")

	hits := m.Find(log)
	found := map[ID]bool{}
	for _, h := range hits {
		found[h.ID] = true
	}
	for _, tok := range []Token{gh, aws, basic, db} {
		if !found[tok.ID] {
			t.Errorf("Find missed %s %q", tok.Kind, tok.Value)
		}
	}
	if len(hits) != 4 {
		t.Errorf("Find returned %d hits, want 4 (each token once)", len(hits))
	}

	var lines []string
	err := m.Scan(strings.NewReader(log), func(line int, h Hit) error {
		lines = append(lines, fmt.Sprintf("%d:%s", line, h.Kind))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(lines, " "); got != "1:github 2:basic 4:aws 4:dburl 5:github" {
		t.Fatalf("Scan found %q", got)
	}
	// A line longer than maxScanLine is read in pieces and numbered once.
	long := strings.Repeat("y", maxScanLine+10) + " " + aws.Value + "\n" + gh.Value + "\n"
	lines = nil
	m.Scan(strings.NewReader(long), func(line int, h Hit) error {
		lines = append(lines, fmt.Sprintf("%d:%s", line, h.Kind))
		return nil
	})
	if got := strings.Join(lines, " "); got != "1:aws 2:github" {
		t.Fatalf("long lines: %q", got)
	}
}

// A DNS token whose label starts like another kind's prefix ("xox…" for
// Slack, "eyJ…" for a JWT once a resolver randomises case) is still
// recognised: the prefixed checks fall through to the shapes.
func TestRecognizeDNSLabelsThatLookLikePrefixes(t *testing.T) {
	m, err := NewMinter(testSecret, MinterOptions{DNSZone: "beacons.internal.example.net"})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for i := 0; i < 1_000_000 && len(found) < 2; i++ {
		tok, err := m.NewSeeded(DNS, []byte(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		var v string
		switch {
		case strings.HasPrefix(tok.Value, "xox"):
			v, found["xox"] = tok.Value, true
		case strings.HasPrefix(tok.Value, "eyj"):
			v, found["eyJ"] = "eyJ"+tok.Value[3:], true
		default:
			continue
		}
		if len(v) < 50 || len(v) > 100 {
			t.Fatalf("test setup: %q is not in the Slack length range", v)
		}
		if id, kind, ok := m.Recognize(v); !ok || id != tok.ID || kind != DNS {
			t.Fatalf("Recognize(%q) = %v %v %v", v, id, kind, ok)
		}
	}
	if len(found) < 2 {
		t.Fatalf("found only %v in a million seeded tokens", found)
	}
}

// Tokens are drawn so that gitleaks' rules always fire on them: no OpenAI
// key ends in '-' or '_' (the rule ends in \b), and no 40-digit hex key has
// an entropy gitleaks' generic-api-key rule drops (≤ 3.5).
func TestTokensStayInsideScannerRules(t *testing.T) {
	m := newTestMinter(t, testSecret)
	for i := range 3000 {
		o, _ := m.New(OpenAI)
		if c := o.Value[len(o.Value)-1]; c == '-' || c == '_' {
			t.Fatalf("openai token %d ends in %q", i, c)
		}
		for _, k := range []Kind{APIKey, GitCredentials} {
			h, _ := m.New(k)
			if e := shannon(h.Value); e <= 3.5 {
				t.Fatalf("%s token %q has entropy %.3f", k, h.Value, e)
			}
			if _, kind, ok := m.Recognize(h.Value); !ok || kind != k {
				t.Fatalf("%s token not recognised", k)
			}
		}
	}
}

// A provider token used as a URL's password is recognised.
func TestRecognizeTokenAsURLPassword(t *testing.T) {
	m := newTestMinter(t, testSecret)
	gh, _ := m.New(GitHub)
	gl, _ := m.New(GitLab)
	for _, u := range []string{
		"https://x-access-token:" + gh.Value + "@github.com/acme/app.git",
		"https://oauth2:" + gl.Value + "@gitlab.com/acme/app.git",
	} {
		if id, _, ok := m.Recognize(u); !ok || (id != gh.ID && id != gl.ID) {
			t.Errorf("Recognize(%q) = %v", u, ok)
		}
	}
}

// Padding a request with more header values than the detection budget
// does not hide a token in Authorization.
func TestDetectBudgetCannotHideAuthorization(t *testing.T) {
	m := newTestMinter(t, testSecret)
	gh, _ := m.New(GitHub)
	for round := range 20 {
		r, _ := http.NewRequest("GET", "http://x/", nil)
		for i := range 600 {
			r.Header.Set(fmt.Sprintf("X-Pad-%d", i), strings.Repeat("p", 20))
		}
		r.Header.Set("Authorization", "Bearer "+gh.Value)
		if hits := m.Detect(r, nil); len(hits) != 1 || hits[0].ID != gh.ID {
			t.Fatalf("round %d: hits %v", round, hits)
		}
	}
}

// Fetching a canary URL is a hit: the path's segments are checked.
func TestDetectCanaryURLPath(t *testing.T) {
	m := newTestMinter(t, testSecret)
	u, _ := m.New(URL)
	r, _ := http.NewRequest("GET", u.Value+"?utm=1", nil)
	hits := m.Detect(r, nil)
	if len(hits) != 1 || hits[0].ID != u.ID || hits[0].Where != "path" {
		t.Fatalf("Detect(GET %s) = %v", u.Value, hits)
	}
	r, _ = http.NewRequest("GET", "https://x/"+strings.Repeat("a/", 40)+u.Fields["path"][strings.LastIndexByte(u.Fields["path"], '/')+1:], nil)
	if hits := m.Detect(r, nil); len(hits) != 0 {
		t.Fatalf("a segment past the 32nd was examined: %v", hits)
	}
}
