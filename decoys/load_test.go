package decoys

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadVersionsAndFormats(t *testing.T) {
	tests := []struct {
		file     string
		version  string
		basePath string
		ops      int
	}{
		{"testdata/users.yaml", "3.0.3", "/api/v1", 6},
		{"testdata/petstore2.yaml", "2.0", "/v2", 3},
		{"testdata/catalog31.json", "3.1.0", "/v2", 2},
		{"testdata/split/main.yaml", "3.0.3", "", 2},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			doc, err := LoadFile(tt.file)
			if err != nil {
				t.Fatalf("LoadFile: %v", err)
			}
			if doc.Version != tt.version {
				t.Errorf("version: got %q, want %q", doc.Version, tt.version)
			}
			if doc.BasePath != tt.basePath {
				t.Errorf("base path: got %q, want %q", doc.BasePath, tt.basePath)
			}
			d, err := New([]*Document{doc}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Operations(); got != tt.ops {
				t.Errorf("operations: got %d, want %d", got, tt.ops)
			}
		})
	}
}

func TestLoadErrorsNameFileAndPlace(t *testing.T) {
	tests := []struct {
		file    string
		pointer string
		line    int
		want    string
	}{
		{"testdata/broken-ref.yaml", "#/paths/~1things/get/responses/200/content/application~1json/schema", 0, `"#/components/schemas/Missing" does not resolve`},
		{"testdata/bad-syntax.yaml", "", 1, "invalid YAML"},
		{"testdata/bad-syntax.json", "", 1, "invalid JSON"},
		{"testdata/not-openapi.yaml", "#", 0, "not an OpenAPI document"},
		{"testdata/no-paths.yaml", "#/paths", 0, "declares no paths"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			_, err := LoadFile(tt.file)
			if err == nil {
				t.Fatal("LoadFile succeeded, want an error")
			}
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %T is not a *LoadError: %v", err, err)
			}
			if le.File != tt.file {
				t.Errorf("file: got %q, want %q", le.File, tt.file)
			}
			if le.Pointer != tt.pointer {
				t.Errorf("pointer: got %q, want %q", le.Pointer, tt.pointer)
			}
			if tt.line != 0 && le.Line != tt.line {
				t.Errorf("line: got %d, want %d", le.Line, tt.line)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.file) {
				t.Errorf("message %q lacks %q or the file name", err.Error(), tt.want)
			}
		})
	}
}

func TestLoadRefusesRemoteRefs(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "remote.yaml")
	doc := `openapi: 3.0.3
info: {title: R, version: "1"}
paths:
  /a:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: 'http://127.0.0.1:1/schema.yaml#/A'}
`
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(p)
	if err == nil || !strings.Contains(err.Error(), "remote $ref") {
		t.Fatalf("got %v, want a refusal of the remote $ref", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := LoadFile("testdata/does-not-exist.yaml")
	if err == nil || !strings.Contains(err.Error(), "testdata/does-not-exist.yaml") {
		t.Fatalf("got %v, want an error naming the file", err)
	}
}

func TestResolve(t *testing.T) {
	if _, err := Resolve("testdata/users.yaml"); err != nil {
		t.Fatalf("file: %v", err)
	}
	if _, err := Resolve("no-such-template-or-file"); !errors.Is(err, ErrUnknownSpec) {
		t.Fatalf("got %v, want ErrUnknownSpec", err)
	}
}

func TestKeyOrderFollowsDocument(t *testing.T) {
	for _, file := range []string{"testdata/users.yaml", "testdata/catalog31.json"} {
		doc, err := LoadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var name string
		var want []string
		if doc.Version == "3.0.3" {
			name, want = "User", []string{"id", "email", "first_name", "last_name", "city", "role", "password", "created_at", "updated_at", "manager"}
		} else {
			name, want = "Product", []string{"sku", "title", "price", "currency", "discontinued_at", "category", "tags", "attributes"}
		}
		ds := &docState{Document: doc}
		got := ds.propOrder(doc.Spec.Components.Schemas[name].Value)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: got %v, want %v", file, got, want)
		}
	}
}
