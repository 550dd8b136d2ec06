package decoys

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestErrorPagePerProfile(t *testing.T) {
	doc, err := LoadFile("testdata/users.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		profile, server, body string
	}{
		{"nginx", "nginx", "<center>nginx</center>"},
		{"apache", "Apache/2.4.58 (Ubuntu)", "<address>Apache/2.4.58 (Ubuntu)"},
		{"envoy", "envoy", "Bad Request"},
	}
	for _, tt := range tests {
		d, err := New([]*Document{doc}, Options{ServerProfile: tt.profile})
		if err != nil {
			t.Fatal(err)
		}
		page := d.ErrorPage(400)
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(page)), nil)
		if err != nil {
			t.Fatalf("%s: not an HTTP response: %v\n%s", tt.profile, err, page)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 400 || resp.Header.Get("Server") != tt.server || !strings.Contains(string(b), tt.body) || resp.ContentLength != int64(len(b)) {
			t.Errorf("%s: %d %q %q (length %d of %d)", tt.profile, resp.StatusCode, resp.Header.Get("Server"), b, resp.ContentLength, len(b))
		}
		if strings.Contains(string(page), "text/plain; charset=utf-8") {
			t.Errorf("%s: Go's error headers in the page", tt.profile)
		}
	}
	d, _ := New([]*Document{doc}, Options{ServerProfile: "none"})
	if d.ErrorPage(400) != nil {
		t.Error("profile none should keep the server's own answer")
	}
}
