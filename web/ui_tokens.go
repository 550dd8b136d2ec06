package web

import (
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/tokens"
)

// The tokens pages: the list with the create and seed-download forms, a
// token's page with its placements and hits, and the revoke action.

// tokensView is the body of the tokens page.
type tokensView struct {
	Tokens []store.Token
	Kinds  []tokens.Kind
	// Kind and Active are the list's filters.
	Kind   string
	Active bool
	Next   string
	// CanMint is false when the server has no minter.
	CanMint bool
	Error   string
}

func (u *ui) tokensPage(w http.ResponseWriter, r *http.Request, sess *session) {
	in := r.URL.Query()
	v := tokensView{Kinds: tokens.Kinds(), Kind: bounded(in.Get("kind"), 32), Active: in.Get("active") == "true", CanMint: u.a.opts.Minter != nil}
	q := store.TokenQuery{Limit: uiPageSize, Kind: v.Kind, Active: v.Active, After: strings.ToLower(bounded(in.Get("cursor"), 16))}
	ts, err := u.a.opts.Store.Tokens(q)
	if errors.Is(err, store.ErrBadTokenID) || errors.Is(err, store.ErrNotFound) {
		v.Error = "the page's starting token is gone; showing the newest tokens"
		q.After = ""
		ts, err = u.a.opts.Store.Tokens(q)
	}
	if err != nil {
		u.fail(w, r, sess, http.StatusInternalServerError, "Could not read tokens.")
		return
	}
	v.Tokens = ts
	if len(ts) == q.Limit {
		next := url.Values{"cursor": {ts[len(ts)-1].ID}}
		if v.Kind != "" {
			next.Set("kind", v.Kind)
		}
		if v.Active {
			next.Set("active", "true")
		}
		v.Next = "/ui/tokens?" + next.Encode()
	}
	u.render(w, r, http.StatusOK, "tokens", sess, "Tokens", "tokens", v)
}

// tokenView is the body of a token's page.
type tokenView struct {
	Token *store.Token
	// Fields are the token's parts, sorted by name.
	Fields []field
	Hits   []store.Event
	Next   string
}

type field struct{ Name, Value string }

func (u *ui) tokenPage(w http.ResponseWriter, r *http.Request, sess *session) {
	id := strings.ToLower(r.PathValue("id"))
	tok, err := u.a.opts.Store.Token(id)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrBadTokenID) {
		u.fail(w, r, sess, http.StatusNotFound, "There is no such token.")
		return
	}
	if err != nil {
		u.fail(w, r, sess, http.StatusInternalServerError, "Could not read the token.")
		return
	}
	q := store.Query{Token: id, Limit: uiPageSize, Reverse: true}
	if c := r.URL.Query().Get("cursor"); c != "" {
		if q.Before, err = store.ParseID(c); err != nil {
			u.fail(w, r, sess, http.StatusBadRequest, "cursor must be an event id")
			return
		}
	}
	hits, err := u.a.opts.Store.Events(q)
	if err != nil {
		u.fail(w, r, sess, http.StatusInternalServerError, "Could not read the token's hits.")
		return
	}
	v := tokenView{Token: tok, Hits: hits}
	for k, val := range tok.Fields {
		v.Fields = append(v.Fields, field{k, val})
	}
	sort.Slice(v.Fields, func(i, j int) bool { return v.Fields[i].Name < v.Fields[j].Name })
	if len(hits) == q.Limit {
		v.Next = "/ui/tokens/" + id + "?" + url.Values{"cursor": {hits[len(hits)-1].ID.String()}}.Encode()
	}
	u.render(w, r, http.StatusOK, "token", sess, "Token "+tok.ID, "tokens", v)
}

// createToken mints a token of the chosen kind, as POST /api/v1/tokens
// does, and shows its page.
func (u *ui) createToken(w http.ResponseWriter, r *http.Request, sess *session) {
	m := u.a.opts.Minter
	if m == nil {
		u.fail(w, r, sess, http.StatusNotImplemented, "This server does not mint tokens.")
		return
	}
	kind := tokens.Kind(r.PostForm.Get("kind"))
	if !kind.Valid() {
		u.fail(w, r, sess, http.StatusUnprocessableEntity, "Choose a kind: one of "+kindList()+".")
		return
	}
	tok, err := m.New(kind)
	if err != nil {
		u.fail(w, r, sess, http.StatusUnprocessableEntity, "Could not mint the token: "+err.Error())
		return
	}
	rec := TokenRecord(m, tok, store.SourceAPI, bounded(r.PostForm.Get("note"), 1024))
	if err := u.a.opts.Store.SaveTokens(r.Context(), rec); err != nil {
		u.fail(w, r, sess, http.StatusInternalServerError, "Could not save the token.")
		return
	}
	http.Redirect(w, r, "/ui/tokens/"+rec.ID+"?msg=created", http.StatusSeeOther)
}

// seedDownload mints tokens into seed files and answers them as a zip
// archive, saving the token records with their placements first.
func (u *ui) seedDownload(w http.ResponseWriter, r *http.Request, sess *session) {
	m := u.a.opts.Minter
	if m == nil {
		u.fail(w, r, sess, http.StatusNotImplemented, "This server does not mint tokens.")
		return
	}
	var kinds []tokens.Kind
	for _, k := range r.PostForm["kind"] {
		kind := tokens.Kind(k)
		if !kind.Valid() {
			u.fail(w, r, sess, http.StatusUnprocessableEntity, "Unknown kind: choose from "+kindList()+".")
			return
		}
		kinds = append(kinds, kind)
	}
	if len(kinds) > maxSeedKinds {
		u.fail(w, r, sess, http.StatusUnprocessableEntity, "Too many kinds.")
		return
	}
	label := bounded(strings.TrimSpace(r.PostForm.Get("label")), 256)
	d, err := BuildSeedDownload(m, kinds, label, bounded(r.PostForm.Get("note"), 1024), u.now())
	if err != nil {
		u.fail(w, r, sess, http.StatusUnprocessableEntity, "Could not build the seed files: "+err.Error())
		return
	}
	if err := u.a.opts.Store.SaveTokens(r.Context(), d.Tokens...); err != nil {
		u.fail(w, r, sess, http.StatusInternalServerError, "Could not save the seeded tokens.")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="honeyapi-seed.zip"`)
	h.Set("Content-Length", strconv.Itoa(len(d.Zip)))
	w.WriteHeader(http.StatusOK)
	w.Write(d.Zip)
}

// revokeToken retires a token, as POST /api/v1/tokens/{id}/revoke does.
func (u *ui) revokeToken(w http.ResponseWriter, r *http.Request, sess *session) {
	id := strings.ToLower(r.PathValue("id"))
	_, err := u.a.opts.Store.RevokeToken(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrBadTokenID) {
		u.fail(w, r, sess, http.StatusNotFound, "There is no such token.")
		return
	}
	if err != nil {
		u.fail(w, r, sess, http.StatusInternalServerError, "Could not revoke the token.")
		return
	}
	http.Redirect(w, r, "/ui/tokens/"+id+"?msg=revoked", http.StatusSeeOther)
}
