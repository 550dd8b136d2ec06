package web

import (
	"net/http"
	"time"

	"github.com/honeyapi/honeyapi/decoys"
)

// DecoyList is the body of GET /api/v1/decoys.
type DecoyList struct {
	Documents []DecoyDocument `json:"documents"`
}

// DecoyDocument is one document the decoy serves, with its operations.
type DecoyDocument struct {
	Name string `json:"name"`
	// Source is the file path, or "template:NAME".
	Source  string `json:"source"`
	Version string `json:"version"`
	// BasePath prefixes every operation's path ("" for the root).
	BasePath string `json:"base_path"`
	// SpecPaths are the request paths at which the document itself is served.
	SpecPaths  []string         `json:"spec_paths"`
	Operations []DecoyOperation `json:"operations"`
	// Hits is the sum of the operations' hits.
	Hits int64 `json:"hits"`
}

// DecoyOperation is one operation and how often it was called.
type DecoyOperation struct {
	decoys.OperationInfo
	Hits int64 `json:"hits"`
	// Last is when the operation was last called; zero (absent) if never.
	Last time.Time `json:"last,omitzero"`
}

func (a *Admin) listDecoys(w http.ResponseWriter, _ *http.Request) {
	out, err := a.DecoyList()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "store", "could not read the operation counts")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// DecoyList lists the decoy's documents and operations with the hit
// counts the store keeps; an empty list when the server serves no decoy.
func (a *Admin) DecoyList() (*DecoyList, error) {
	out := &DecoyList{Documents: []DecoyDocument{}}
	d := a.opts.Decoy
	if d == nil {
		return out, nil
	}
	counts, err := a.opts.Store.OperationHits()
	if err != nil {
		return nil, err
	}
	type opKey struct{ doc, op string }
	hits := make(map[opKey]int, len(counts))
	for i, c := range counts {
		hits[opKey{c.Document, c.Operation}] = i
	}
	byDoc := map[string]int{}
	for _, doc := range d.Documents() {
		byDoc[doc.Name] = len(out.Documents)
		specPaths := doc.SpecPaths
		if specPaths == nil {
			specPaths = []string{}
		}
		out.Documents = append(out.Documents, DecoyDocument{Name: doc.Name, Source: doc.Source, Version: doc.Version,
			BasePath: doc.BasePath, SpecPaths: specPaths, Operations: []DecoyOperation{}})
	}
	for _, op := range d.OperationList() {
		i, ok := byDoc[op.Document]
		if !ok {
			continue
		}
		o := DecoyOperation{OperationInfo: op}
		if j, ok := hits[opKey{op.Document, op.Name}]; ok {
			o.Hits, o.Last = counts[j].Hits, counts[j].Last.UTC()
		}
		doc := &out.Documents[i]
		doc.Operations = append(doc.Operations, o)
		doc.Hits += o.Hits
	}
	return out, nil
}
