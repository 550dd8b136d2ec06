package web

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/honeyapi/honeyapi/decoys"
	"github.com/honeyapi/honeyapi/store"
)

func TestDecoysWithoutADecoyIsAnEmptyList(t *testing.T) {
	a, _ := newTestAdmin(t)
	rec := call(a, "GET", "/api/v1/decoys", "Bearer "+token)
	if rec.Code != 200 || rec.Body.String() != "{\"documents\":[]}\n" {
		t.Errorf("no decoy: %d %q", rec.Code, rec.Body.String())
	}
}

func TestDecoysListsDocumentsOperationsAndHits(t *testing.T) {
	var docs []*decoys.Document
	for _, name := range []string{"admin", "payments"} {
		doc, err := decoys.Resolve(name)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, doc)
	}
	d, err := decoys.New(docs, decoys.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, st := newTestAdmin(t)
	a.opts.Decoy = d
	ops := d.OperationList()
	var hit, other decoys.OperationInfo
	for _, op := range ops {
		if op.Document == "payments" && hit.Name == "" {
			hit = op
		}
		if op.Document == "admin" && other.Name == "" {
			other = op
		}
	}
	ctx := context.Background()
	for range 3 {
		if _, err := st.Record(ctx, &store.Event{Document: hit.Document, Operation: hit.Name, Status: 200}, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Counts of an operation the decoy no longer serves are left out, and
	// so are events without an operation.
	st.Record(ctx, &store.Event{Document: "payments", Operation: "retiredOperation"}, nil)
	st.Record(ctx, &store.Event{Path: "/nothing"}, nil)

	rec := call(a, "GET", "/api/v1/decoys", "Bearer "+token)
	var out DecoyList
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 {
		t.Fatalf("%d %v %s", rec.Code, err, rec.Body.String())
	}
	if len(out.Documents) != 2 || out.Documents[0].Name != "admin" || out.Documents[1].Name != "payments" {
		t.Fatalf("documents %+v", out.Documents)
	}
	total := 0
	for i, doc := range out.Documents {
		src := docs[i]
		if doc.Source != src.Source || doc.Version != src.Version || doc.BasePath != src.BasePath || len(doc.SpecPaths) != len(src.SpecPaths) {
			t.Errorf("document %s: %+v", doc.Name, doc)
		}
		for _, op := range doc.Operations {
			total++
			if op.Document != doc.Name {
				t.Errorf("operation %s listed under %s", op.Name, doc.Name)
			}
			switch op.Name {
			case hit.Name:
				if op.Hits != 3 || time.Since(op.Last) > time.Minute {
					t.Errorf("the called operation: %+v", op)
				}
			default:
				if op.Hits != 0 || !op.Last.IsZero() {
					t.Errorf("an operation never called: %+v", op)
				}
			}
		}
	}
	if total != len(ops) {
		t.Errorf("%d operations listed, the decoy serves %d", total, len(ops))
	}
	if out.Documents[1].Hits != 3 || out.Documents[0].Hits != 0 {
		t.Errorf("document hits: admin %d, payments %d", out.Documents[0].Hits, out.Documents[1].Hits)
	}
	// An operation never called has no "last" member at all.
	var raw struct {
		Documents []struct {
			Operations []map[string]any `json:"operations"`
		} `json:"documents"`
	}
	json.Unmarshal(rec.Body.Bytes(), &raw)
	for _, op := range raw.Documents[0].Operations {
		if _, ok := op["last"]; ok {
			t.Errorf("never called, yet a last: %v", op)
		}
	}
}
