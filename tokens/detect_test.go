package tokens

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDetectEveryCredentialPlace(t *testing.T) {
	m, err := NewMinter([]byte("detect-test-secret-0123456789"), MinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mint := func(k Kind) Token {
		tk, err := m.New(k)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	gh, aws, basic, stripe, slack, npm := mint(GitHub), mint(AWS), mint(Basic), mint(Stripe), mint(Slack), mint(NPM)
	tests := []struct {
		name  string
		build func() (*http.Request, []byte)
		want  Token
		where string
	}{
		{"bearer", func() (*http.Request, []byte) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", "Bearer "+gh.Value)
			return r, nil
		}, gh, "header Authorization (Bearer)"},
		{"github token scheme", func() (*http.Request, []byte) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", "token "+gh.Value)
			return r, nil
		}, gh, "header Authorization (token)"},
		{"basic", func() (*http.Request, []byte) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(basic.Fields["username"]+":"+basic.Value)))
			return r, nil
		}, basic, "header Authorization (Basic)"},
		{"sigv4", func() (*http.Request, []byte) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+aws.Value+"/20261121/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
			return r, nil
		}, aws, "header Authorization (AWS4-HMAC-SHA256)"},
		{"presigned url", func() (*http.Request, []byte) {
			return httptest.NewRequest("GET", "/bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="+aws.Value+"%2F20261121%2Fus-east-1%2Fs3%2Faws4_request", nil), nil
		}, aws, "query parameter X-Amz-Credential"},
		{"api key header", func() (*http.Request, []byte) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("X-Api-Key", stripe.Value)
			return r, nil
		}, stripe, "header X-Api-Key"},
		{"query", func() (*http.Request, []byte) {
			return httptest.NewRequest("GET", "/?token="+slack.Value, nil), nil
		}, slack, "query parameter token"},
		{"cookie", func() (*http.Request, []byte) {
			r := httptest.NewRequest("GET", "/", nil)
			r.AddCookie(&http.Cookie{Name: "session", Value: npm.Value})
			return r, nil
		}, npm, "cookie session"},
		{"json body", func() (*http.Request, []byte) {
			r := httptest.NewRequest("POST", "/", nil)
			r.Header.Set("Content-Type", "application/json")
			return r, []byte(`{"config":{"registry":{"auth":"` + npm.Value + `"}}}`)
		}, npm, "body field $.config.registry.auth"},
		{"form body", func() (*http.Request, []byte) {
			r := httptest.NewRequest("POST", "/", nil)
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r, []byte("grant_type=client_credentials&client_secret=" + stripe.Value)
		}, stripe, "form field client_secret"},
		{"token inside text", func() (*http.Request, []byte) {
			r := httptest.NewRequest("POST", "/", nil)
			r.Header.Set("Content-Type", "text/plain")
			return r, []byte("export GITHUB_TOKEN=" + gh.Value + "\nexport X=1\n")
		}, gh, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body := tt.build()
			hits := m.Detect(r, body)
			if len(hits) != 1 || hits[0].ID != tt.want.ID || hits[0].Kind != tt.want.Kind || hits[0].Where != tt.where {
				t.Errorf("hits %+v, want %s %s at %q", hits, tt.want.Kind, tt.want.ID, tt.where)
			}
		})
	}
}

func TestDetectIgnoresOrdinaryAndForeignCredentials(t *testing.T) {
	m, _ := NewMinter([]byte("detect-test-secret-0123456789"), MinterOptions{})
	other, _ := NewMinter([]byte("another-deployment-secret-xyz"), MinterOptions{})
	foreign, _ := other.New(GitHub)
	r := httptest.NewRequest("POST", "/?q=hello&page=2", strings.NewReader(""))
	r.Header.Set("Authorization", "Bearer "+foreign.Value)
	r.Header.Set("User-Agent", "Mozilla/5.0")
	r.AddCookie(&http.Cookie{Name: "sid", Value: "abc123"})
	if hits := m.Detect(r, []byte(`{"password":"hunter2","nested":[{"a":"b"}]}`)); len(hits) != 0 {
		t.Errorf("false hits %+v", hits)
	}
}

func TestDetectIsBounded(t *testing.T) {
	m, _ := NewMinter([]byte("detect-test-secret-0123456789"), MinterOptions{})
	deep := strings.Repeat(`{"a":`, 10000) + `"x"` + strings.Repeat(`}`, 10000)
	wide := "{" + strings.Repeat(`"k":"v",`, 100000) + `"z":"z"}`
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("Content-Type", "application/json")
	for _, body := range []string{deep, wide, strings.Repeat("A", 4<<20)} {
		if hits := m.Detect(r, []byte(body)); len(hits) != 0 {
			t.Errorf("hits in junk: %+v", hits)
		}
	}
}

func BenchmarkDetect(b *testing.B) {
	m, _ := NewMinter([]byte("detect-test-secret-0123456789"), MinterOptions{})
	gh, _ := m.New(GitHub)
	for _, tc := range []struct{ name, auth string }{{"no-credential", ""}, {"foreign-bearer", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc"}, {"honeytoken", "Bearer " + gh.Value}} {
		b.Run(tc.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/api/v1/users?page=2", nil)
			r.Header.Set("User-Agent", "python-requests/2.32.3")
			r.Header.Set("Accept", "*/*")
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				m.Detect(r, nil)
			}
		})
	}
}
