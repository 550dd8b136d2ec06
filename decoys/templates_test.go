package decoys

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/honeyapi/honeyapi/templates"
)

// TestTemplatesServeEveryOperation calls every operation of every built-in
// template with schema-valid parameters and bodies and a credential, and
// expects a success status and a response that validates.
func TestTemplatesServeEveryOperation(t *testing.T) {
	for _, tmpl := range templates.List() {
		t.Run(tmpl.Name, func(t *testing.T) {
			doc, err := LoadTemplate(tmpl.Name)
			if err != nil {
				t.Fatal(err)
			}
			// Each operation is its own client, so a DELETE does not hide the
			// object from the GET of another operation.
			d, err := New([]*Document{doc}, Options{Secret: []byte("templates-test"), ClientKey: func(r *http.Request) string { return r.Header.Get("X-Test-Client") }})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(d)
			defer srv.Close()
			s := &testServer{t: t, d: d, url: srv.URL}
			ds := d.docs[0]
			n := 0
			for _, rt := range ds.routes {
				for method, op := range rt.ops {
					req := requestFor(t, ds, rt, op, srv.URL, method)
					if req == nil {
						continue
					}
					req.Header.Set("X-Test-Client", method+" "+rt.template)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					body := readAll(resp)
					s.validate(req, resp, body)
					if resp.StatusCode >= 300 && resp.StatusCode != 302 {
						t.Errorf("%s %s: %d %.300s", method, req.URL.RequestURI(), resp.StatusCode, body)
					}
					n++
				}
			}
			if n < 20 {
				t.Errorf("only %d operations exercised", n)
			}
		})
	}
}

func readAll(resp *http.Response) []byte {
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		k, err := resp.Body.Read(buf)
		b.Write(buf[:k])
		if err != nil {
			return []byte(b.String())
		}
	}
}

// requestFor builds a valid, authorised request for an operation.
func requestFor(t *testing.T, ds *docState, rt *route, op *operation, base, method string) *http.Request {
	t.Helper()
	g := newSynth(ds, base, defaultEpoch)
	g.request = true
	params := append(openapi3.Parameters{}, rt.item.Parameters...)
	params = append(params, op.op.Parameters...)
	path := rt.template
	q := url.Values{}
	hdr := http.Header{}
	for i, p := range params {
		if p == nil || p.Value == nil {
			continue
		}
		pv := p.Value
		if !pv.Required && pv.In != "path" {
			continue
		}
		var v any
		if pv.Schema != nil {
			v = g.gen(pv.Schema, uint64(i+7), pv.Name, 1)
		}
		sv := fmt.Sprint(v)
		if arr, ok := v.([]any); ok && len(arr) > 0 {
			sv = fmt.Sprint(arr[0])
		}
		if f, ok := v.(float64); ok {
			sv = fmt.Sprint(int64(f))
		}
		switch pv.In {
		case "path":
			path = strings.ReplaceAll(path, "{"+pv.Name+"}", url.PathEscape(sv))
		case "query":
			q.Set(pv.Name, sv)
		case "header":
			hdr.Set(pv.Name, sv)
		}
	}
	var body string
	if op.op.RequestBody != nil && op.op.RequestBody.Value != nil {
		for mt, media := range op.op.RequestBody.Value.Content {
			if !isJSONMedia(mt) || media.Schema == nil {
				continue
			}
			body = string(appendJSON(nil, g.gen(media.Schema, 99, "", 0)))
			hdr.Set("Content-Type", mt)
			break
		}
		if body == "" && op.op.RequestBody.Value.Required {
			t.Logf("skip %s %s: no JSON request body", method, rt.template)
			return nil
		}
	}
	u := base + ds.BasePath + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = hdr
	for _, reqs := range op.security {
		for name := range reqs {
			ss := ds.Spec.Components.SecuritySchemes[name].Value
			switch {
			case ss.Type == "apiKey" && ss.In == "header":
				req.Header.Set(ss.Name, "k3y")
			case ss.Type == "apiKey" && ss.In == "query":
				qq := req.URL.Query()
				qq.Set(ss.Name, "k3y")
				req.URL.RawQuery = qq.Encode()
			case ss.Type == "apiKey" && ss.In == "cookie":
				req.AddCookie(&http.Cookie{Name: ss.Name, Value: "k3y"})
			case ss.Type == "http" && strings.EqualFold(ss.Scheme, "basic"):
				req.SetBasicAuth("admin", "hunter2")
			default:
				req.Header.Set("Authorization", "Bearer t0ken")
			}
		}
		break
	}
	return req
}
