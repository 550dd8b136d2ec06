package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/honeyapi/honeyapi/store"
)

// Every route of the OpenAPI document, with every method, refuses a
// request without the right bearer token with 401 and the same error
// body, and does nothing: no data, no side effect.
func TestEveryDocumentedRouteRefusesABadToken(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(f.admin)
	defer srv.Close()
	doc := loadAPIDoc(t)
	tokensBefore, err := f.st.Tokens(store.TokenQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	alertsBefore, _ := f.st.Alerts(store.AlertQuery{Limit: 1000})

	concrete := strings.NewReplacer("/api/v1/events/{id}", "/api/v1/events/"+f.event.String(),
		"/api/v1/actors/{id}", "/api/v1/actors/"+f.actor, "/api/v1/tokens/{id}", "/api/v1/tokens/"+f.token.ID,
		"/api/v1/alerts/{id}", "/api/v1/alerts/"+f.alert.String())
	// Text that any answer with data would hold.
	secrets := []string{f.event.String(), f.actor, f.token.ID, f.token.Value, f.alert.String(), "honeyapi_", "openapi", "198.51.100.7", "PK\x03\x04"}
	wrong := strings.Repeat("x", len(token))
	bad := map[string]func(*http.Request){
		"no Authorization":         func(r *http.Request) {},
		"empty Authorization":      func(r *http.Request) { r.Header.Set("Authorization", "") },
		"wrong token, same length": func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+wrong) },
		"the token, one more byte": func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token+"0") },
		"the token, one byte less": func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token[:len(token)-1]) },
		"a prefix of the token":    func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token[:8]) },
		"a long token":             func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+strings.Repeat(token, 64)) },
		"Basic scheme":             func(r *http.Request) { r.Header.Set("Authorization", "Basic "+token) },
		"Token scheme":             func(r *http.Request) { r.Header.Set("Authorization", "Token "+token) },
		"no scheme":                func(r *http.Request) { r.Header.Set("Authorization", token) },
		"Bearer without a token":   func(r *http.Request) { r.Header.Set("Authorization", "Bearer ") },
		"Bearer, two spaces":       func(r *http.Request) { r.Header.Set("Authorization", "Bearer  "+token) },
		"the token as a query": func(r *http.Request) {
			q := r.URL.Query()
			q.Set("token", token)
			q.Set("access_token", token)
			r.URL.RawQuery = q.Encode()
		},
		"the token as a cookie": func(r *http.Request) {
			r.AddCookie(&http.Cookie{Name: "token", Value: token})
			r.AddCookie(&http.Cookie{Name: "session", Value: token})
		},
		"the token in another header": func(r *http.Request) { r.Header.Set("X-Api-Key", token) },
	}
	methods := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
	var want string
	n := 0
	for path := range doc.Paths.Map() {
		for _, method := range methods {
			if path == "/healthz" && (method == "GET" || method == "HEAD") {
				continue // the one open operation (HEAD is GET without a body)
			}
			for name, spoil := range bad {
				body := `{"kind":"aws","kinds":["aws"],"text":"x","channel":"soc"}`
				req, err := http.NewRequest(method, srv.URL+concrete.Replace(path), strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				spoil(req)
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				n++
				where := method + " " + path + " (" + name + ")"
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s: %d, want 401", where, resp.StatusCode)
					continue
				}
				if ch := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, "Bearer") {
					t.Errorf("%s: challenge %q", where, ch)
				}
				if resp.Header.Get("Content-Disposition") != "" {
					t.Errorf("%s: a download", where)
				}
				if method == "HEAD" {
					continue
				}
				if want == "" {
					want = string(got)
				}
				if string(got) != want {
					t.Errorf("%s: body %q differs from the other refusals' %q", where, got, want)
				}
				for _, s := range secrets {
					if strings.Contains(string(got), s) {
						t.Errorf("%s: the refusal holds %q", where, s)
					}
				}
			}
		}
	}
	if n < 200 {
		t.Fatalf("only %d requests: the document lost its routes?", n)
	}
	if !strings.Contains(want, `"unauthorized"`) {
		t.Errorf("the refusal %q", want)
	}
	// Nothing was minted, saved or queued by the refused requests.
	tokensAfter, _ := f.st.Tokens(store.TokenQuery{Limit: 1000})
	alertsAfter, _ := f.st.Alerts(store.AlertQuery{Limit: 1000})
	if len(tokensAfter) != len(tokensBefore) || len(alertsAfter) != len(alertsBefore) {
		t.Errorf("refused requests changed the store: tokens %d → %d, alerts %d → %d",
			len(tokensBefore), len(tokensAfter), len(alertsBefore), len(alertsAfter))
	}
	if tok, err := f.st.Token(f.token.ID); err != nil || !tok.Revoked.IsZero() {
		t.Errorf("the token was revoked by a refused request: %v %+v", err, tok)
	}

	// The right token still works on the same server (the refusals are
	// not a broken handler).
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("with the token: %d", resp.StatusCode)
	}
}
