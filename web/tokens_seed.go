package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/honeyapi/honeyapi/tokens"
)

// SeedRequest is the body of POST /api/v1/tokens/seed.
type SeedRequest struct {
	// Kinds are the kinds to seed; every kind when empty.
	Kinds []string `json:"kinds,omitempty"`
	// Label says where the archive is meant to go ("build server"); it is
	// recorded as each placement's repository.
	Label string `json:"label,omitempty"`
	Note  string `json:"note,omitempty"`
}

// maxSeedBody bounds the body of POST /api/v1/tokens/seed.
const maxSeedBody = 8 << 10

// seedTokens mints tokens into seed files, saves their records and
// answers the files as a zip archive.
func (a *Admin) seedTokens(w http.ResponseWriter, r *http.Request) {
	if a.opts.Minter == nil {
		writeError(w, http.StatusNotImplemented, "no_minter", "this server does not mint tokens")
		return
	}
	var req SeedRequest
	if !readJSON(w, r, maxSeedBody, &req) {
		return
	}
	if len(req.Kinds) > maxSeedKinds {
		writeError(w, http.StatusBadRequest, "too_many_kinds", "at most "+strconv.Itoa(maxSeedKinds)+" kinds")
		return
	}
	kinds := make([]tokens.Kind, 0, len(req.Kinds))
	for _, k := range req.Kinds {
		kind := tokens.Kind(k)
		if !kind.Valid() {
			writeError(w, http.StatusBadRequest, "bad_kind", "kinds must be among "+kindList())
			return
		}
		kinds = append(kinds, kind)
	}
	dl, err := BuildSeedDownload(a.opts.Minter, kinds, bounded(req.Label, 256), bounded(req.Note, 1024), time.Now())
	switch {
	case errors.Is(err, tokens.ErrNoDNSZone):
		writeError(w, http.StatusUnprocessableEntity, "no_dns_zone", "dns tokens need a DNS zone (tokens.dns_zone)")
		return
	case err != nil:
		writeError(w, http.StatusUnprocessableEntity, "seed", err.Error())
		return
	}
	if err := a.opts.Store.SaveTokens(r.Context(), dl.Tokens...); err != nil {
		writeError(w, http.StatusInternalServerError, "store", "could not save the tokens")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="honeyapi-seed.zip"`)
	h.Set("Content-Length", strconv.Itoa(len(dl.Zip)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(dl.Zip)
}
