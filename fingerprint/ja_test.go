package fingerprint

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ext is one ClientHello extension for helloRecord.
type ext struct {
	typ  uint16
	data []byte
}

func u16(v uint16) []byte { return []byte{byte(v >> 8), byte(v)} }

func u16s(vs ...uint16) []byte {
	var b []byte
	for _, v := range vs {
		b = append(b, u16(v)...)
	}
	return b
}

func vec16(b []byte) []byte { return append(u16(uint16(len(b))), b...) }
func vec8(b []byte) []byte  { return append([]byte{byte(len(b))}, b...) }

func sniExt(name string) ext {
	entry := append([]byte{0}, vec16([]byte(name))...)
	return ext{0x0000, vec16(entry)}
}
func groupsExt(gs ...uint16) ext  { return ext{0x000a, vec16(u16s(gs...))} }
func pointsExt(ps ...byte) ext    { return ext{0x000b, vec8(ps)} }
func sigAlgsExt(ss ...uint16) ext { return ext{0x000d, vec16(u16s(ss...))} }
func versionsExt(vs ...uint16) ext {
	return ext{0x002b, vec8(u16s(vs...))}
}
func alpnExt(protos ...string) ext {
	var b []byte
	for _, p := range protos {
		b = append(b, vec8([]byte(p))...)
	}
	return ext{0x0010, vec16(b)}
}
func emptyExt(typ uint16) ext { return ext{typ, nil} }

// helloRecord builds a TLS record carrying a ClientHello, byte by byte, independently of the
// parser under test.
func helloRecord(version uint16, ciphers []uint16, exts ...ext) []byte {
	body := u16(version)
	body = append(body, make([]byte, 32)...) // random
	body = append(body, 0)                   // empty session id
	body = append(body, vec16(u16s(ciphers...))...)
	body = append(body, 1, 0) // compression: null
	if exts != nil {
		var eb []byte
		for _, e := range exts {
			eb = append(eb, u16(e.typ)...)
			eb = append(eb, vec16(e.data)...)
		}
		body = append(body, vec16(eb)...)
	}
	hs := append([]byte{1, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
	return append([]byte{22, 3, 1, byte(len(hs) >> 8), byte(len(hs))}, hs...)
}

func mustHello(t testing.TB, rec []byte) *ClientHello {
	t.Helper()
	h, err := ParseClientHello(rec)
	if err != nil {
		t.Fatalf("ParseClientHello: %v", err)
	}
	return h
}

// TestJA3SalesforceVectors checks the two examples of the Salesforce JA3 README
// (github.com/salesforce/ja3): the ClientHellos are built byte by byte here with exactly the
// fields of each published JA3 string, and the published MD5s are the expected values.
func TestJA3SalesforceVectors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		rec       []byte
		str, hash string
	}{
		{
			name: "README example with extensions",
			rec: helloRecord(769, []uint16{47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4},
				sniExt("example.com"), groupsExt(23, 24, 25), pointsExt(0)),
			str:  "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0",
			hash: "ada70206e40642a3e4461f35503241d5",
		},
		{
			name: "README example without extensions",
			rec:  helloRecord(769, []uint16{4, 5, 10, 9, 100, 98, 3, 6, 19, 18, 99}),
			str:  "769,4-5-10-9-100-98-3-6-19-18-99,,,",
			hash: "de350869b8c85de67a350c8d186f11e6",
		},
	} {
		s, h := JA3(mustHello(t, tc.rec))
		if s != tc.str || h != tc.hash {
			t.Errorf("%s:\n got %s %s\nwant %s %s", tc.name, s, h, tc.str, tc.hash)
		}
	}
}

// specHello reconstructs the ClientHello of the worked example in FoxIO's JA4 technical details
// (technical_details/JA4.md): its cipher list and extension list in their original order
// (JA4_ro), its signature algorithms, ALPN h2 and TLS 1.3 in supported_versions, plus GREASE
// values, which must not change anything.
func specHello() []byte {
	ciphers := []uint16{0x3a3a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}
	order := []uint16{0x1a1a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015}
	var exts []ext
	for _, typ := range order {
		switch typ {
		case 0x0000:
			exts = append(exts, sniExt("example.com"))
		case 0x0010:
			exts = append(exts, alpnExt("h2", "http/1.1"))
		case 0x000d:
			exts = append(exts, sigAlgsExt(0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601))
		case 0x002b:
			exts = append(exts, versionsExt(0x6a6a, 0x0304, 0x0303))
		case 0x000a:
			exts = append(exts, groupsExt(0x2a2a, 0x001d, 0x0017, 0x0018))
		case 0x000b:
			exts = append(exts, pointsExt(0))
		default:
			exts = append(exts, emptyExt(typ))
		}
	}
	return helloRecord(0x0303, ciphers, exts...)
}

// TestJA4SpecExample checks the worked example of the JA4 specification. The current
// specification gives JA4 = t13d1516h2_8daaf6152771_e5627efa2ab1 and the JA4_r string below.
func TestJA4SpecExample(t *testing.T) {
	h := mustHello(t, specHello())
	const (
		want  = "t13d1516h2_8daaf6152771_e5627efa2ab1"
		wantR = "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601"
	)
	if got := JA4(h, 't'); got != want {
		t.Errorf("JA4 = %s, want %s", got, want)
	}
	if got := JA4Raw(h, 't'); got != wantR {
		t.Errorf("JA4_r = %s\nwant   %s", got, wantR)
	}
}

// TestJA4HeadlineValue explains "t13d1516h2_8daaf6152771_b186095e22b6", the value printed at the
// top of FoxIO's JA4 documents (and in this package's brief). Its c part comes from the first
// revision of the specification, which hashed the sorted extensions with SNI and ALPN included and
// without signature algorithms. The current specification (implemented here) removes 0000 and 0010
// and appends the signature algorithms, which gives e5627efa2ab1 for the same hello.
func TestJA4HeadlineValue(t *testing.T) {
	firstRevision := "0000,0005,000a,000b,000d,0010,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01"
	sum := sha256.Sum256([]byte(firstRevision))
	if got := hex.EncodeToString(sum[:6]); got != "b186095e22b6" {
		t.Fatalf("first-revision c part = %s, want b186095e22b6", got)
	}
	if got := JA4(mustHello(t, specHello()), 't'); strings.HasSuffix(got, "b186095e22b6") {
		t.Errorf("JA4 = %s follows the superseded first revision", got)
	}
}

// sha12 is the first 12 hex digits of SHA-256, computed here independently of ja4Hash.
func sha12(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:12]
}

// TestJA4Rules checks the specification's edge rules: counts, missing lists, ALPN forms, versions.
func TestJA4Rules(t *testing.T) {
	base := []uint16{0x1301}
	for _, tc := range []struct {
		name string
		rec  []byte
		want string
	}{
		{"no extensions, TLS 1.2 legacy version", helloRecord(0x0303, base), "t12i010000_" + sha12("1301") + "_000000000000"},
		{"no signature algorithms: no underscore", helloRecord(0x0303, base, groupsExt(29)),
			"t12i010100_" + sha12("1301") + "_" + sha12("000a")},
		{"single-character ALPN", helloRecord(0x0303, base, alpnExt("h")), "t12i0101hh_" + sha12("1301") + "_000000000000"},
		// The specification's examples for non-alphanumeric ALPN bytes.
		{"ALPN 0xAB", helloRecord(0x0303, base, alpnExt("\xab")), "t12i0101ab_" + sha12("1301") + "_000000000000"},
		{"ALPN 0xAB 0xCD", helloRecord(0x0303, base, alpnExt("\xab\xcd")), "t12i0101ad_" + sha12("1301") + "_000000000000"},
		{"ALPN 0x30 0xAB", helloRecord(0x0303, base, alpnExt("0\xab")), "t12i01013b_" + sha12("1301") + "_000000000000"},
		{"ALPN 0x30 0x31 0xAB 0xCD", helloRecord(0x0303, base, alpnExt("01\xab\xcd")), "t12i01013d_" + sha12("1301") + "_000000000000"},
		{"ALPN 0x30 0xAB 0xCD 0x31", helloRecord(0x0303, base, alpnExt("0\xab\xcd1")), "t12i010101_" + sha12("1301") + "_000000000000"},
		{"empty ALPN value", helloRecord(0x0303, base, alpnExt("")), "t12i010100_" + sha12("1301") + "_000000000000"},
		{"SSL 3.0", helloRecord(0x0300, base), "ts3i010000_" + sha12("1301") + "_000000000000"},
		{"unknown version", helloRecord(0x0305, base), "t00i010000_" + sha12("1301") + "_000000000000"},
	} {
		got := JA4(mustHello(t, tc.rec), 't')
		if got != tc.want {
			t.Errorf("%s: JA4 = %s, want %s", tc.name, got, tc.want)
		}
	}
}

// recordedHellos are ClientHellos recorded on a Debian 12 machine by a small TLS server that
// saved the first bytes of each connection (testdata/hellos/*.hello, trimmed to the ClientHello
// records). The expected values were computed independently of this package:
//   - JA3 by Wireshark's tshark 4.0.17 (field tls.handshake.ja3, from a pcap made with text2pcap),
//     and again by testdata/tlsref.py, a separate Python implementation; both agree.
//   - JA4 by testdata/tlsref.py (written from the FoxIO specification; tshark 4.0 has no JA4).
//     curl's values also match the ones published by other JA4 users for curl/OpenSSL 3.
//
// Regenerate with: python3 testdata/tlsref.py testdata/hellos/*.hello
var recordedHellos = []struct {
	file, sni, ja3hash, ja4 string
	grease                  bool
}{
	{"chromium-headless.hello", "localhost", "cd48941888ab723508315a81aee809aa", "t13d1517h2_8daaf6152771_cb7bf5808d99", true},
	{"curl.hello", "localhost", "0149f47eabf9a20d0893e2a44e5a6323", "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6", false},
	{"firefox.hello", "localhost", "6447ab086255d194909d4013b1a89e87", "t13d1617h2_86a278354501_3cbfd9057e0d", false},
	{"go-http-client.hello", "localhost", "03117a8ed39ef02427ebbc39f121275c", "t13d1312h2_f57a46bbacb6_ab7e3b40a677", false},
	{"java-httpclient.hello", "localhost", "eea0a26d87c4721f5818bb176368f238", "t13d3713h2_db35923f8641_7c76daad20ec", false},
	{"node-fetch.hello", "localhost", "1a28e69016765d92e3b381168d68922c", "t13d5911h1_a33745022dd6_1f22a2ca17c4", false},
	{"python-requests.hello", "localhost", "a48c0d5f95b1ef98f560f324fd275da1", "t13d1812h1_85036bcba153_b26ce05bbdd6", false},
}

func readHello(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "hellos", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRecordedHellos(t *testing.T) {
	for _, tc := range recordedHellos {
		h := mustHello(t, readHello(t, tc.file))
		if _, got := JA3(h); got != tc.ja3hash {
			t.Errorf("%s: JA3 = %s, want %s", tc.file, got, tc.ja3hash)
		}
		if got := JA4(h, 't'); got != tc.ja4 {
			t.Errorf("%s: JA4 = %s, want %s", tc.file, got, tc.ja4)
		}
		if h.SNI != tc.sni {
			t.Errorf("%s: SNI = %q, want %q", tc.file, h.SNI, tc.sni)
		}
		if h.HasGREASE() != tc.grease {
			t.Errorf("%s: HasGREASE = %v, want %v", tc.file, h.HasGREASE(), tc.grease)
		}
	}
}

// TestRecordedHellosAgainstPythonReference re-runs the independent Python implementation on the
// recorded hellos, so the grounding above stays live where python3 is installed.
func TestRecordedHellosAgainstPythonReference(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 is required in CI to recompute the JA3/JA4 vectors independently")
		}
		t.Skip("python3 not installed; expected values are pinned in recordedHellos")
	}
	var files []string
	for _, tc := range recordedHellos {
		files = append(files, filepath.Join("testdata", "hellos", tc.file))
	}
	out, err := exec.Command(py, append([]string{filepath.Join("testdata", "tlsref.py")}, files...)...).Output()
	if err != nil {
		t.Fatalf("tlsref.py: %v", err)
	}
	ref := map[string]map[string]string{}
	var cur string
	for _, line := range strings.Split(string(out), "\n") {
		if line != "" && line[0] != ' ' {
			cur = filepath.Base(line)
			ref[cur] = map[string]string{}
			continue
		}
		if f := strings.Fields(line); len(f) >= 2 && cur != "" {
			ref[cur][f[0]] = f[1]
		}
	}
	for _, tc := range recordedHellos {
		h := mustHello(t, readHello(t, tc.file))
		full, hash := JA3(h)
		if ref[tc.file]["ja3"] != full || ref[tc.file]["ja3md5"] != hash {
			t.Errorf("%s: JA3 %s %s, reference %s %s", tc.file, full, hash, ref[tc.file]["ja3"], ref[tc.file]["ja3md5"])
		}
		if ref[tc.file]["ja4"] != JA4(h, 't') || ref[tc.file]["ja4_r"] != JA4Raw(h, 't') {
			t.Errorf("%s: JA4 %s, reference %s", tc.file, JA4(h, 't'), ref[tc.file]["ja4"])
		}
	}
}

func TestParseClientHelloRejects(t *testing.T) {
	good := readHello(t, "curl.hello")
	for _, tc := range []struct {
		name string
		rec  []byte
	}{
		{"empty", nil},
		{"not handshake", append([]byte{23}, good[1:]...)},
		{"short header", good[:3]},
		{"truncated body", good[:100]},
		{"zero-length record", []byte{22, 3, 1, 0, 0}},
		{"server hello", func() []byte { b := append([]byte(nil), good...); b[5] = 2; return b }()},
		{"http", []byte("GET / HTTP/1.1\r\n\r\n")},
	} {
		if h, err := ParseClientHello(tc.rec); err == nil {
			t.Errorf("%s: parsed %+v, want error", tc.name, h)
		}
	}
}

// TestParseClientHelloSplitRecords checks a hello split over several records, as large
// post-quantum hellos can be.
func TestParseClientHelloSplitRecords(t *testing.T) {
	rec := readHello(t, "chromium-headless.hello")
	want := mustHello(t, rec)
	hs := rec[5:]
	var split []byte
	for len(hs) > 0 {
		n := min(len(hs), 300)
		split = append(split, 22, 3, 1, byte(n>>8), byte(n))
		split = append(split, hs[:n]...)
		hs = hs[n:]
	}
	got := mustHello(t, split)
	if JA4(got, 't') != JA4(want, 't') || got.SNI != want.SNI {
		t.Errorf("split hello: JA4 %s SNI %q, want %s %q", JA4(got, 't'), got.SNI, JA4(want, 't'), want.SNI)
	}
}
