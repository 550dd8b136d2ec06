package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRealHandlerAndDecoy(t *testing.T) {
	mux, err := build("../specs/catalog-openapi31.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/status")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok\n" {
		t.Errorf("real handler: %q", b)
	}
	resp, err = http.Get(srv.URL + "/v2/products/ABC-1234")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Server") != "nginx" {
		t.Errorf("decoy: %d %q", resp.StatusCode, resp.Header.Get("Server"))
	}
}
