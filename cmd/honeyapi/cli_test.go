package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/honeyapi/honeyapi/decoys"
	"github.com/honeyapi/honeyapi/templates"
)

// runCLI runs the command line in-process with an empty environment.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut, func(string) (string, bool) { return "", false })
	return code, out.String(), errOut.String()
}

func TestTemplatesPrintsOneNamePerLine(t *testing.T) {
	code, out, errOut := runCLI(t, "templates")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var want []string
	for _, tpl := range templates.List() {
		want = append(want, tpl.Name)
	}
	if len(want) == 0 {
		t.Fatal("templates.List() is empty")
	}
	if got := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines = %q, want %q", got, want)
	}
	if !strings.Contains(out, templates.Default()+"\n") {
		t.Errorf("the default template %q is not listed", templates.Default())
	}
}

func TestTemplatesJSON(t *testing.T) {
	code, out, errOut := runCLI(t, "templates", "--json")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var got []struct{ Name, Title, Description string }
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not a JSON array: %v\n%s", err, out)
	}
	list := templates.List()
	if len(got) != len(list) {
		t.Fatalf("%d entries, want %d", len(got), len(list))
	}
	for i := range list {
		if got[i].Name != list[i].Name || got[i].Title != list[i].Title || got[i].Description != list[i].Description {
			t.Errorf("entry %d = %+v, want %s/%s/%s", i, got[i], list[i].Name, list[i].Title, list[i].Description)
		}
	}
	for _, key := range []string{`"name"`, `"title"`, `"description"`} {
		if !strings.Contains(out, key) {
			t.Errorf("output lacks key %s", key)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "version")
	if code != exitOK || !strings.HasPrefix(out, "honeyapi ") {
		t.Errorf("exit %d, output %q", code, out)
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"no command prints help", nil, exitOK, ""},
		{"help", []string{"serve", "--help"}, exitOK, ""},
		{"unknown command", []string{"serev"}, exitUsage, "unknown command"},
		{"unknown flag", []string{"serve", "--listne", ":1"}, exitUsage, "--listne"},
		{"unexpected argument", []string{"templates", "extra"}, exitUsage, "extra"},
		{"bad flag value", []string{"serve", "--max-body-bytes", "lots"}, exitUsage, "max-body-bytes"},
		{"invalid setting", []string{"serve", "--server-profile", "iis"}, exitUsage, "decoy.server_profile"},
		{"missing config file", []string{"serve", "--config", "/nonexistent/honeyapi.yaml"}, exitUsage, "/nonexistent/honeyapi.yaml"},
		{"global flags accepted by every command", []string{"templates", "--db", "/tmp/x.db"}, exitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q does not contain %q", errOut, tt.want)
			}
		})
	}
}

func TestServeBadSpecIsRuntimeError(t *testing.T) {
	code, _, errOut := runCLI(t, "serve", "--spec", "/nonexistent.yaml",
		"--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--db", t.TempDir()+"/h.db")
	if code != exitRuntime {
		t.Errorf("exit %d, want %d", code, exitRuntime)
	}
	if !strings.Contains(errOut, "/nonexistent.yaml") {
		t.Errorf("stderr %q does not name the spec", errOut)
	}
}

// TestBareErrorHandlerLeavesNoEchoTell checks the last-resort handler
// writes a status and nothing else: never Echo's {"message":...} body.
func TestBareErrorHandlerLeavesNoEchoTell(t *testing.T) {
	e := echo.New()
	for _, tt := range []struct {
		err  error
		code int
	}{
		{echo.ErrNotFound, 404},
		{echo.ErrMethodNotAllowed, 405},
		{echo.NewHTTPError(http.StatusRequestEntityTooLarge, "too big"), 413},
		{http.ErrHandlerTimeout, 500},
	} {
		rec := httptest.NewRecorder()
		c := e.NewContext(httptest.NewRequest(http.MethodGet, "/x", nil), rec)
		bareErrorHandler(zerolog.Nop())(tt.err, c)
		if rec.Code != tt.code || rec.Body.Len() != 0 {
			t.Errorf("%v: got %d %q, want %d and no body", tt.err, rec.Code, rec.Body.String(), tt.code)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "" {
			t.Errorf("%v: Content-Type %q, want none", tt.err, ct)
		}
	}
}

func TestLooksLikePath(t *testing.T) {
	for spec, want := range map[string]bool{
		"admin": false, "payments-v2": false, "./admin": true, "/nonexistent.yaml": true,
		"openapi.json": true, "api.YML": true, `specs\api`: true,
	} {
		if got := looksLikePath(spec); got != want {
			t.Errorf("looksLikePath(%q) = %v, want %v", spec, got, want)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8081": true, "[::1]:8081": true, "0.0.0.0:8081": false, "[::]:8081": false, "192.0.2.1:8081": false,
	} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := isLoopback(a); got != want {
			t.Errorf("isLoopback(%s) = %v, want %v", addr, got, want)
		}
	}
}

func newTestDecoy(t *testing.T) *decoys.Decoy {
	t.Helper()
	doc, err := decoys.Resolve(templates.Default())
	if err != nil {
		t.Fatal(err)
	}
	var docs []*decoys.Document
	if doc != nil {
		docs = append(docs, doc)
	}
	d, err := decoys.New(docs, decoys.Options{Secret: []byte("test-secret-0123456789")})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDecoyListenerLeavesNoEchoTell sends paths outside every document and
// made-up methods: the decoy must answer them as it would on its own, never
// Echo.
func TestDecoyListenerLeavesNoEchoTell(t *testing.T) {
	d := newTestDecoy(t)
	h := newDecoyHandler(d, zerolog.Nop())
	for _, req := range []struct{ method, path string }{
		{"GET", "/"}, {"GET", "/no/such/path"}, {"DELETE", "/no/such/path"},
		{"FOO", "/"}, {"FOO", "/no/such/path"}, {"PROPFIND", "/no/such/path"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(req.method, req.path, nil))
		body := rec.Body.String()
		if strings.Contains(body, `{"message":"Not Found"}`) || strings.Contains(body, `{"message":"Method Not Allowed"}`) {
			t.Errorf("%s %s: Echo's body %q", req.method, req.path, body)
		}
		if allow := rec.Header().Get("Allow"); strings.Contains(allow, "PROPFIND") {
			t.Errorf("%s %s: Echo's Allow list %q", req.method, req.path, allow)
		}
		direct := httptest.NewRecorder()
		d.ServeHTTP(direct, httptest.NewRequest(req.method, req.path, nil))
		if rec.Code != direct.Code {
			t.Errorf("%s %s: status %d, the decoy itself answers %d", req.method, req.path, rec.Code, direct.Code)
		}
		for _, k := range []string{"Server", "Content-Type", "Allow"} {
			if got, want := rec.Header().Get(k), direct.Header().Get(k); got != want {
				t.Errorf("%s %s: %s %q, the decoy itself answers %q", req.method, req.path, k, got, want)
			}
		}
	}
}
