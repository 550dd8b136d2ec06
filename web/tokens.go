package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/tokens"
)

// TokenList is the body of GET /api/v1/tokens.
type TokenList struct {
	Tokens []store.Token `json:"tokens"`
	Next   string        `json:"next,omitempty"`
}

// TokenDetail is the body of GET /api/v1/tokens/{id}: the record and the
// most recent events that presented the token.
type TokenDetail struct {
	Token store.Token   `json:"token"`
	Hits  []store.Event `json:"recent_hits"`
}

// NewToken is the body of POST /api/v1/tokens. With only Kind (and Note)
// the server mints a token. With Value it registers a token minted
// elsewhere with this deployment's key (honeyapi tokens new/seed): the
// server checks that Value is one of its own honeytokens of Kind, and
// stores it with its Fields and Placements.
type NewToken struct {
	Kind       string            `json:"kind"`
	Note       string            `json:"note,omitempty"`
	Value      string            `json:"value,omitempty"`
	Fields     map[string]string `json:"fields,omitempty"`
	Source     string            `json:"source,omitempty"` // "cli" or "seed" with Value; default "api"
	Placements []store.Placement `json:"placements,omitempty"`
}

// SightingResult is the body of a 201 answer to POST /api/v1/sightings.
type SightingResult struct {
	Event  string         `json:"event"`
	Tokens []SightedToken `json:"tokens"`
}

// SightedToken names one honeytoken a sighting held.
type SightedToken struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
}

// maxNewTokenBody bounds the body of POST /api/v1/tokens.
const maxNewTokenBody = 8 << 10

func (a *Admin) tokenRoutes() {
	a.mux.Handle("GET /api/v1/tokens", a.auth(a.listTokens))
	a.mux.Handle("POST /api/v1/tokens", a.auth(a.createToken))
	a.mux.Handle("GET /api/v1/tokens/{id}", a.auth(a.getToken))
	a.mux.Handle("POST /api/v1/tokens/{id}/revoke", a.auth(a.revokeToken))
	a.mux.Handle("POST /api/v1/sightings", a.auth(a.postSighting))
}

func (a *Admin) listTokens(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := store.TokenQuery{Limit: 100, Kind: bounded(v.Get("kind"), 32), Source: bounded(v.Get("source"), 32), After: bounded(v.Get("cursor"), 16)}
	if s := v.Get("active"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_query", "active must be true or false")
			return
		}
		q.Active = b
	}
	limit, err := parseLimit(v.Get("limit"), q.Limit)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_query", err.Error())
		return
	}
	q.Limit = limit
	ts, err := a.opts.Store.Tokens(q)
	switch {
	case errors.Is(err, store.ErrBadTokenID), errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusBadRequest, "bad_query", "cursor must be the id of a token")
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, "store", "could not read tokens")
		return
	}
	out := TokenList{Tokens: ts}
	if out.Tokens == nil {
		out.Tokens = []store.Token{}
	}
	if len(ts) == q.Limit && len(ts) > 0 {
		out.Next = ts[len(ts)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *Admin) getToken(w http.ResponseWriter, r *http.Request) {
	id := strings.ToLower(r.PathValue("id"))
	tok, err := a.opts.Store.Token(id)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrBadTokenID) {
		writeError(w, http.StatusNotFound, "not_found", "no such token")
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "store", "could not read the token")
		return
	}
	hits, err := a.opts.Store.Events(store.Query{Token: id, Limit: 50, Reverse: true})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "store", "could not read the token's hits")
		return
	}
	if hits == nil {
		hits = []store.Event{}
	}
	writeJSON(w, http.StatusOK, TokenDetail{Token: *tok, Hits: hits})
}

func (a *Admin) createToken(w http.ResponseWriter, r *http.Request) {
	if a.opts.Minter == nil {
		writeError(w, http.StatusNotImplemented, "no_minter", "this server does not mint tokens")
		return
	}
	var req NewToken
	if !readJSON(w, r, maxNewTokenBody, &req) {
		return
	}
	kind := tokens.Kind(req.Kind)
	if !kind.Valid() {
		writeError(w, http.StatusUnprocessableEntity, "bad_kind", "kind must be one of "+kindList())
		return
	}
	var rec *store.Token
	if req.Value != "" {
		id, got, ok := a.opts.Minter.Recognize(req.Value)
		if !ok || got != kind {
			writeError(w, http.StatusUnprocessableEntity, "not_ours", "value is not a "+string(kind)+" honeytoken of this deployment")
			return
		}
		rec = TokenRecord(a.opts.Minter, tokens.Token{ID: id, Kind: kind, Value: req.Value, Fields: req.Fields}, store.SourceAPI, bounded(req.Note, 1024))
		if req.Source == store.SourceCLI || req.Source == store.SourceSeed {
			rec.Source = req.Source
		}
		if len(req.Placements) > 64 {
			req.Placements = req.Placements[:64]
		}
		rec.Placements = req.Placements
	} else {
		tok, err := a.opts.Minter.New(kind)
		if err != nil {
			writeError(w, http.StatusUnprocessableEntity, "mint", err.Error())
			return
		}
		rec = TokenRecord(a.opts.Minter, tok, store.SourceAPI, bounded(req.Note, 1024))
	}
	if err := a.opts.Store.SaveTokens(r.Context(), rec); err != nil {
		writeError(w, http.StatusInternalServerError, "store", "could not save the token")
		return
	}
	saved, err := a.opts.Store.Token(rec.ID)
	if err != nil {
		saved = rec
	}
	writeJSON(w, http.StatusCreated, saved)
}

func (a *Admin) revokeToken(w http.ResponseWriter, r *http.Request) {
	tok, err := a.opts.Store.RevokeToken(r.Context(), strings.ToLower(r.PathValue("id")))
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrBadTokenID) {
		writeError(w, http.StatusNotFound, "not_found", "no such token")
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "store", "could not revoke the token")
		return
	}
	writeJSON(w, http.StatusOK, tok)
}

func (a *Admin) postSighting(w http.ResponseWriter, r *http.Request) {
	if a.opts.Sighting == nil {
		writeError(w, http.StatusNotImplemented, "no_sightings", "this server does not take sightings")
		return
	}
	var s tokens.Sighting
	if !readJSON(w, r, tokens.MaxSightingBody, &s) {
		return
	}
	if strings.TrimSpace(s.Text) == "" {
		writeError(w, http.StatusUnprocessableEntity, "no_text", "text is required: the credential, or the line it was seen in")
		return
	}
	id, hits, err := a.opts.Sighting(s, r.RemoteAddr)
	if err != nil {
		if len(hits) == 0 {
			writeError(w, http.StatusUnprocessableEntity, "no_token", "the text holds no honeytoken of this deployment")
			return
		}
		writeError(w, http.StatusInternalServerError, "store", "could not record the sighting")
		return
	}
	out := SightingResult{Event: id.String()}
	for _, h := range hits {
		out.Tokens = append(out.Tokens, SightedToken{ID: h.ID.String(), Kind: string(h.Kind)})
	}
	writeJSON(w, http.StatusCreated, out)
}

// readJSON decodes a JSON request body of at most limit bytes into v, and
// answers the error itself when it cannot.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "content_type", "send application/json")
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", "the body is larger than "+strconv.FormatInt(limit, 10)+" bytes")
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		writeError(w, http.StatusBadRequest, "bad_json", "the body is not the expected JSON object")
		return false
	}
	return true
}

func kindList() string {
	var names []string
	for _, k := range tokens.Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// TokenRecord is the store record of a freshly minted token.
func TokenRecord(m *tokens.Minter, tok tokens.Token, source, note string) *store.Token {
	rec := &store.Token{ID: tok.ID.String(), Kind: string(tok.Kind), Value: tok.Value, Note: note, Source: source}
	if len(tok.Fields) > 0 {
		rec.Fields = make(map[string]string, len(tok.Fields)+1)
		for k, v := range tok.Fields {
			rec.Fields[k] = v
		}
	}
	switch tok.Kind {
	case tokens.AWS:
		if secret, ok := m.AWSSecretFor(tok.Value); ok {
			rec.Fields = map[string]string{"secret_access_key": secret}
		}
		rec.Decoy = m.DecoyHost()
	case tokens.DNS:
		rec.Decoy = tok.Fields["zone"]
	case tokens.JWT, tokens.DBURL, tokens.URL, tokens.Kubeconfig, tokens.Docker, tokens.GitCredentials:
		rec.Decoy = m.DecoyHost()
	}
	return rec
}
