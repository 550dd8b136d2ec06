package decoys

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestMountBesideRealEchoAPI(t *testing.T) {
	doc, err := LoadFile("testdata/users.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := New([]*Document{doc}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.HideBanner = true
	e.GET("/api/v1/health", func(c echo.Context) error { return c.String(200, "real") })
	e.GET("/api/v1/orders", func(c echo.Context) error { return c.String(200, "real orders") })
	Mount(e, d)
	srv := httptest.NewServer(e)
	defer srv.Close()

	get := func(p string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		req.Header.Set("Authorization", bearer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if c, b := get("/api/v1/health"); c != 200 || b != "real" {
		t.Errorf("real route: %d %q", c, b)
	}
	if c, b := get("/api/v1/orders"); c != 200 || b != "real orders" {
		t.Errorf("real route: %d %q", c, b)
	}
	if c, b := get("/api/v1/users/5"); c != 200 || !strings.Contains(b, `"id":5`) {
		t.Errorf("decoy route: %d %q", c, b)
	}
	if c, b := get("/openapi.json"); c != 200 || !strings.Contains(b, `"openapi"`) {
		t.Errorf("decoy document: %d %.40q", c, b)
	}
	if c, b := get("/api/v1/nothing-here"); c != 404 || strings.Contains(b, `"message":"Not Found"}`) && !strings.Contains(b, "status") {
		t.Errorf("unknown decoy path: %d %q", c, b)
	}
}

func TestMountOnGroupWithPrefix(t *testing.T) {
	doc, err := LoadFile("testdata/users.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := New([]*Document{doc}, Options{Prefix: "/internal"})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	Mount(e.Group("/internal"), d)
	srv := httptest.NewServer(e)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/internal/api/v1/users/8", nil)
	req.Header.Set("Authorization", bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"id":8`) {
		t.Errorf("grouped decoy: %d %s", resp.StatusCode, b)
	}
}

func TestHandlerForNetHTTP(t *testing.T) {
	doc, err := LoadFile("testdata/users.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := New([]*Document{doc}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/real", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "real") })
	mux.Handle("/api/v1/", Handler(d))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Server") != "nginx" {
		t.Errorf("net/http mount: %d %q", resp.StatusCode, resp.Header.Get("Server"))
	}
}
