// Package conformance checks that honeyapi's decoys answer what their own
// OpenAPI documents promise, judged by validators this project did not
// write: github.com/pb33f/libopenapi-validator (OpenAPI 3.0 and 3.1) and
// Stoplight Prism's validation proxy (Swagger 2.0, and the smaller 3.x
// documents a second time).
//
// The documents are real public API descriptions fetched by fetch-specs.sh
// into .specs/ (GitHub's REST API, ReadMe's API, Scalar's Galaxy, the
// Kubernetes API) plus every built-in template. See README.md.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/honeyapi/honeyapi/conformance/harness"
	"github.com/honeyapi/honeyapi/decoys"
	"github.com/honeyapi/honeyapi/templates"
)

// realDocument is a public API description fetched by fetch-specs.sh.
type realDocument struct {
	name    string
	file    string // under .specs/
	version string // the document's declared version, checked
	prism   bool   // also validate through Prism (2.0, and small 3.x)
}

var realDocuments = []realDocument{
	// @octokit/openapi 23.0.2, OpenAPI 3.0.3, 13 MB, ~1000 GET operations.
	// Prism is not run on it: its start-up on 13 MB costs minutes.
	{name: "github", file: "github-api.json", version: "3.0.3"},
	// @readme/oas-examples 8.2.2: ReadMe's own API, OpenAPI 3.1.0.
	{name: "readme", file: "readme-api.json", version: "3.1.0", prism: true},
	// @scalar/galaxy 0.6.12: OpenAPI 3.1.1, every security scheme kind.
	{name: "galaxy", file: "scalar-galaxy.json", version: "3.1.1", prism: true},
	// kubernetes-client 9.0.0: the Kubernetes 1.13 API, Swagger 2.0.
	// libopenapi-validator reads 3.x only, so Prism is its validator.
	{name: "kubernetes", file: "kubernetes-1.13.json", version: "2.0", prism: true},
}

var (
	readMethods  = []string{"get"}
	writeMethods = []string{"get", "post", "put", "patch", "delete"}
)

// inCI reports whether missing inputs must fail rather than skip.
func inCI() bool { return os.Getenv("CI") == "true" }

func missing(t *testing.T, format string, a ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, a...)
	if inCI() {
		t.Fatalf("CI=true: %s", msg)
	}
	t.Skip(msg)
}

func TestRealDocuments(t *testing.T) {
	for _, rd := range realDocuments {
		t.Run(rd.name, func(t *testing.T) {
			path := filepath.Join(".specs", rd.file)
			raw, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				missing(t, "%s is absent: run conformance/fetch-specs.sh first", path)
			}
			if err != nil {
				t.Fatal(err)
			}
			doc, err := decoys.LoadFile(path)
			if err != nil {
				t.Fatalf("decoys.LoadFile(%s): %v", path, err)
			}
			if doc == nil {
				t.Fatalf("decoys.LoadFile(%s) returned no document", path)
			}
			checkDocument(t, target{
				name:    rd.name,
				raw:     raw,
				ext:     filepath.Ext(rd.file),
				version: rd.version,
				methods: readMethods,
				prism:   rd.prism,
				load:    func() (*decoys.Document, error) { return decoys.LoadFile(path) },
			})
		})
	}
}

func TestTemplates(t *testing.T) {
	list := templates.List()
	if len(list) == 0 {
		t.Fatal("templates.List() is empty: nothing to check")
	}
	for _, tpl := range list {
		t.Run(tpl.Name, func(t *testing.T) {
			raw, err := fs.ReadFile(templates.FS(), tpl.SpecFile)
			if err != nil {
				t.Fatalf("template %s: reading %s: %v", tpl.Name, tpl.SpecFile, err)
			}
			checkDocument(t, target{
				name:    "template-" + tpl.Name,
				raw:     raw,
				ext:     filepath.Ext(tpl.SpecFile),
				methods: writeMethods,
				prism:   true,
				load:    func() (*decoys.Document, error) { return decoys.LoadTemplate(tpl.Name) },
			})
		})
	}
}

type target struct {
	name    string
	raw     []byte // the original document, what the validators read
	ext     string // ".json", ".yaml"
	version string // expected declared version ("" = any)
	methods []string
	prism   bool
	load    func() (*decoys.Document, error)
}

// serveDecoy loads the document, builds a decoy for it and serves it on a
// loopback port. Every call gives a decoy with fresh write state.
func serveDecoy(t *testing.T, tg target) (url string, doc *decoys.Document) {
	t.Helper()
	doc, err := tg.load()
	if err != nil {
		t.Fatalf("loading %s: %v", tg.name, err)
	}
	if doc == nil {
		t.Fatalf("loading %s returned no document", tg.name)
	}
	d, err := decoys.New([]*decoys.Document{doc}, decoys.Options{Secret: []byte("conformance")})
	if err != nil {
		t.Fatalf("decoys.New(%s): %v", tg.name, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return "http://" + ln.Addr().String(), doc
}

func parallelism() int {
	n := 2 * runtime.GOMAXPROCS(0)
	if n < 4 {
		n = 4
	}
	if n > 16 {
		n = 16
	}
	return n
}

func checkDocument(t *testing.T, tg target) {
	spec, err := harness.ParseSpec(tg.name, tg.raw)
	if err != nil {
		t.Fatalf("harness cannot read %s: %v", tg.name, err)
	}
	if tg.version != "" && spec.Version != tg.version {
		t.Fatalf("%s declares version %q, want %q (wrong file fetched?)", tg.name, spec.Version, tg.version)
	}
	ops := spec.Operations(tg.methods...)
	if len(ops) == 0 {
		t.Fatalf("%s: no operations to check", tg.name)
	}
	ctx := context.Background()
	if dl, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-30*time.Second))
		defer cancel()
	}
	passes := 0

	// libopenapi-validator, straight against the decoy (OpenAPI 3.x)
	if !spec.Swagger2 {
		start := time.Now()
		v, err := harness.NewLibOpenAPI(tg.raw)
		if err != nil {
			t.Fatalf("libopenapi-validator cannot load %s: %v", tg.name, err)
		}
		t.Logf("%s: libopenapi-validator loaded the document in %s", tg.name, time.Since(start).Round(time.Millisecond))
		url, doc := serveDecoy(t, tg)
		rep := harness.Run(ctx, spec, ops, harness.Config{
			BaseURL:   url,
			BasePath:  doc.BasePath,
			Validator: v,
			Parallel:  parallelism(),
			Label:     tg.name + "/libopenapi-validator",
		})
		judge(t, tg, spec, rep)
		passes++
	}

	// Prism's validation proxy in front of a second, fresh decoy
	if tg.prism || spec.Swagger2 {
		bin, err := harness.FindPrism(".")
		if err != nil {
			if spec.Swagger2 || inCI() {
				missing(t, "%v", err)
			}
			t.Logf("%s: Prism pass skipped: %v", tg.name, err)
		} else {
			url, doc := serveDecoy(t, tg)
			specPath := filepath.Join(t.TempDir(), tg.name+tg.ext)
			if err := os.WriteFile(specPath, tg.raw, 0o644); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			// Prism routes on the document's paths without the base path;
			// it forwards to upstream + path, so the base path goes there.
			p, err := harness.StartPrism(ctx, bin, specPath, url+strings.TrimSuffix(doc.BasePath, "/"), 3*time.Minute)
			if err != nil {
				t.Fatalf("%s: %v", tg.name, err)
			}
			defer p.Stop()
			t.Logf("%s: Prism listening after %s", tg.name, time.Since(start).Round(time.Millisecond))
			rep := harness.Run(ctx, spec, ops, harness.Config{
				BaseURL:   p.URL,
				BasePath:  "",
				Validator: harness.PrismViolations{},
				Parallel:  parallelism(),
				Label:     tg.name + "/prism",
			})
			judge(t, tg, spec, rep)
			passes++
		}
	}
	if passes == 0 {
		t.Fatalf("%s: no validator ran", tg.name)
	}
}

// maxSkipShare is the share of operations that may be skipped before the
// run counts as vacuous.
const maxSkipShare = 0.10

func judge(t *testing.T, tg target, spec *harness.Spec, rep *harness.Report) {
	t.Helper()
	t.Log(rep.Summary())
	path := writeReport(t, rep)

	// Skips the harness caused (it could not build a valid request) count
	// against the run; operations the validator itself could not judge are
	// listed but do not (Prism judges them in the second pass).
	skipped, harnessSkips := 0, 0
	for class, n := range rep.Skipped {
		skipped += n
		if class != harness.ValidatorLimitation {
			harnessSkips += n
		}
	}
	if skipped > 0 {
		shown := rep.SkipInfo
		if len(shown) > 15 {
			shown = shown[:15]
		}
		for _, s := range shown {
			t.Logf("  skipped %s", s)
		}
		if len(rep.SkipInfo) > len(shown) {
			t.Logf("  ... %d more skips in %s", len(rep.SkipInfo)-len(shown), path)
		}
	}
	if rep.Checked == 0 {
		t.Errorf("%s: no operation was checked", rep.Label)
	}
	if float64(harnessSkips) > maxSkipShare*float64(rep.Ops) {
		t.Errorf("%s: the harness could not build a valid request for %d of %d operations (more than %.0f%%): the check is too thin",
			rep.Label, harnessSkips, rep.Ops, maxSkipShare*100)
	}
	if rep.Checked*2 < rep.Ops {
		t.Errorf("%s: only %d of %d operations were checked", rep.Label, rep.Checked, rep.Ops)
	}
	if len(rep.Failures) == 0 {
		return
	}
	byCheck := rep.FailuresByCheck()
	var kinds []string
	for k, v := range byCheck {
		kinds = append(kinds, fmt.Sprintf("%d %s", v, k))
	}
	sort.Strings(kinds)
	const show = 40
	var b strings.Builder
	for i, f := range rep.Failures {
		if i == show {
			fmt.Fprintf(&b, "\n  ... %d more in %s", len(rep.Failures)-show, path)
			break
		}
		fmt.Fprintf(&b, "\n  %s", f)
	}
	t.Errorf("%s: %d failures (%s):%s", rep.Label, len(rep.Failures), strings.Join(kinds, ", "), b.String())
}

// writeReport writes the full report to .reports/LABEL.txt and returns the
// path ("" if it could not be written).
func writeReport(t *testing.T, rep *harness.Report) string {
	dir := ".reports"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("report: %v", err)
		return ""
	}
	var b strings.Builder
	fmt.Fprintln(&b, rep.Summary())
	fmt.Fprintf(&b, "\nstatuses of authorised requests: %v\n", rep.Statuses)
	fmt.Fprintf(&b, "\nfailures (%d):\n", len(rep.Failures))
	for _, f := range rep.Failures {
		fmt.Fprintf(&b, "%s\n", f)
	}
	fmt.Fprintf(&b, "\nskipped (%d):\n", len(rep.SkipInfo))
	for _, s := range rep.SkipInfo {
		fmt.Fprintf(&b, "%s\n", s)
	}
	path := filepath.Join(dir, strings.ReplaceAll(rep.Label, "/", ".")+".txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Logf("report: %v", err)
		return ""
	}
	abs, _ := filepath.Abs(path)
	return abs
}
