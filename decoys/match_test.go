package decoys

import "testing"

func TestTrieMostSpecificFirst(t *testing.T) {
	var tr trie
	add := func(tmpl string) *route {
		segs, err := parseTemplate(tmpl)
		if err != nil {
			t.Fatalf("%s: %v", tmpl, err)
		}
		r := &route{template: tmpl, segs: segs}
		tr.insert(segs, r)
		return r
	}
	add("/users/{id}")
	add("/users/me")
	add("/users/{userId}/keys/{keyId}")
	add("/users/{name}/repos")
	add("/files/{name}.{ext}")
	add("/files/{path}")
	add("/v{version}/status")
	add("/")

	tests := []struct {
		path  string
		want  string
		want2 map[string]string
	}{
		{"/users/me", "/users/me", map[string]string{}},
		{"/users/42", "/users/{id}", map[string]string{"id": "42"}},
		{"/users/42/keys/7", "/users/{userId}/keys/{keyId}", map[string]string{"userId": "42", "keyId": "7"}},
		{"/users/octo/repos", "/users/{name}/repos", map[string]string{"name": "octo"}},
		{"/files/report.pdf", "/files/{name}.{ext}", map[string]string{"name": "report", "ext": "pdf"}},
		{"/files/README", "/files/{path}", map[string]string{"path": "README"}},
		{"/v2/status", "/v{version}/status", map[string]string{"version": "2"}},
		{"/", "/", map[string]string{}},
		{"/users/a%2Fb", "/users/{id}", map[string]string{"id": "a/b"}},
		{"/users/", "", nil},
		{"/users//keys/1", "", nil},
		{"/nope", "", nil},
		{"/users/42/keys", "", nil},
	}
	for _, tt := range tests {
		parts, ok := splitPath(tt.path)
		if !ok {
			t.Fatalf("%s: splitPath failed", tt.path)
		}
		r := tr.match(parts)
		got := ""
		if r != nil {
			got = r.template
		}
		if got != tt.want {
			t.Errorf("%s: matched %q, want %q", tt.path, got, tt.want)
			continue
		}
		if r == nil {
			continue
		}
		params := r.params(parts)
		for k, v := range tt.want2 {
			if params[k] != v {
				t.Errorf("%s: param %s = %q, want %q", tt.path, k, params[k], v)
			}
		}
	}
}

func TestSplitPathRejectsJunk(t *testing.T) {
	for _, p := range []string{"/a/%zz", "/a%00b", "noslash"} {
		if _, ok := splitPath(p); ok {
			t.Errorf("splitPath(%q) accepted", p)
		}
	}
}

func TestParseTemplateErrors(t *testing.T) {
	for _, p := range []string{"/a/{", "/a/}", "/a/{}", "/a/x{b", "/a/x}b{c}"} {
		if _, err := parseTemplate(p); err == nil {
			t.Errorf("parseTemplate(%q) accepted", p)
		}
	}
}
