package store

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Token is what the store knows of one honeytoken: what it is, where it was
// planted, and how often it was used. The token itself is recognised
// without the store (package tokens); this record adds the context an alert
// and an investigation need.
type Token struct {
	// ID is the token's 16-hex-digit ID (tokens.ID.String()).
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Value is the credential as planted (the URL, the key, the JWT …).
	Value string `json:"value,omitempty"`
	// Fields are the parts of a composite credential (username, host,
	// the AWS secret …).
	Fields map[string]string `json:"fields,omitempty"`
	Note   string            `json:"note,omitempty"`
	// Source says how the token came to be: SourceCLI, SourceSeed,
	// SourceBreadcrumb, SourceAPI, or SourceSighted for a token of this
	// deployment that was first known from its use.
	Source  string    `json:"source"`
	Created time.Time `json:"created"`
	// Decoy is the host or URL the token points at, when it points anywhere.
	Decoy string `json:"decoy,omitempty"`
	// Placements say where the token was planted.
	Placements []Placement `json:"placements,omitempty"`
	// Actor and Event are, for a token served inside a decoy response
	// (a breadcrumb), the actor that received it and the event of that
	// response. Record fills Event in when it stores the placement with
	// the event.
	Actor string `json:"actor,omitempty"`
	Event string `json:"event,omitempty"`
	// Revoked is when the token was retired; zero while it is active. A
	// revoked token is still recognised and its uses are still recorded.
	Revoked time.Time `json:"revoked,omitzero"`
	// Hits counts the recorded events that presented the token.
	Hits     int64     `json:"hits"`
	FirstHit time.Time `json:"first_hit,omitzero"`
	LastHit  time.Time `json:"last_hit,omitzero"`
}

// Placement is one place a token was planted.
type Placement struct {
	Time time.Time `json:"time"`
	// Host is the machine the file was written on, Repo the repository
	// (its remote URL, or the directory), Path the file inside it.
	Host string `json:"host,omitempty"`
	Repo string `json:"repo,omitempty"`
	Path string `json:"path,omitempty"`
	// Where says where in a decoy response or a file the token sits.
	Where string `json:"where,omitempty"`
}

// Token sources.
const (
	SourceCLI        = "cli"
	SourceSeed       = "seed"
	SourceBreadcrumb = "breadcrumb"
	SourceAPI        = "api"
	SourceSighted    = "sighted"
)

// TokenTagPrefix starts the event tags that name a honeytoken presented in
// the event: "token:<kind>:<id>". Record indexes events by these tags and
// counts them as hits on the token.
const TokenTagPrefix = "token:"

// Token record bounds: a token record holds attacker-influenced text only
// in breadcrumb placements, but every field is bounded anyway.
const (
	maxPlacements = 64
	maxTokenField = 1 << 10
	maxTokenValue = 8 << 10
)

// TokenQuery selects tokens, newest first.
type TokenQuery struct {
	// Kind and Source, when set, keep only tokens of that kind or source.
	Kind, Source string
	// Active drops revoked tokens.
	Active bool
	// After is the ID of the last token of the previous page.
	After string
	// Limit defaults to 100 and is capped at 1000.
	Limit int
}

// ErrBadTokenID reports a token ID that is not 16 hex digits.
var ErrBadTokenID = errors.New("store: a token ID is 16 hex digits")

func tokenKey(id string) ([]byte, error) {
	if len(id) != 16 {
		return nil, ErrBadTokenID
	}
	k, err := hex.DecodeString(strings.ToLower(id))
	if err != nil {
		return nil, ErrBadTokenID
	}
	return k, nil
}

// tokenTagID returns the token ID of a "token:<kind>:<id>" tag.
func tokenTagID(tag string) (string, string, bool) {
	rest, ok := strings.CutPrefix(tag, TokenTagPrefix)
	if !ok {
		return "", "", false
	}
	kind, id, ok := strings.Cut(rest, ":")
	if !ok || len(id) != 16 {
		return "", "", false
	}
	if _, err := hex.DecodeString(id); err != nil {
		return "", "", false
	}
	return strings.ToLower(id), kind, true
}

// boundToken cuts a token record's fields to the store's limits.
func boundToken(t *Token) {
	cut := func(s string, n int) string {
		if len(s) > n {
			return s[:n]
		}
		return s
	}
	t.Kind = cut(t.Kind, 64)
	t.Value = cut(t.Value, maxTokenValue)
	t.Note = cut(t.Note, maxTokenField)
	t.Source = cut(t.Source, 32)
	t.Decoy = cut(t.Decoy, maxTokenField)
	t.Actor = cut(t.Actor, 256)
	if len(t.Fields) > 32 {
		t.Fields = nil
	}
	for k, v := range t.Fields {
		t.Fields[k] = cut(v, maxTokenField)
	}
	if len(t.Placements) > maxPlacements {
		t.Placements = t.Placements[len(t.Placements)-maxPlacements:]
	}
	for i := range t.Placements {
		p := &t.Placements[i]
		p.Host, p.Repo, p.Path, p.Where = cut(p.Host, 256), cut(p.Repo, maxTokenField), cut(p.Path, maxTokenField), cut(p.Where, maxTokenField)
	}
}

// SaveTokens stores token records in one transaction, through the writer
// like Record (so it follows the durability mode). A token already stored
// is merged: the new placements are appended, the earliest Created and the
// hit counts are kept, and empty fields do not overwrite stored ones.
func (s *Store) SaveTokens(ctx context.Context, toks ...*Token) error {
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	if len(toks) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &request{}
	var err error
	if req.tokens, err = copyTokens(toks); err != nil {
		return err
	}
	_, err = s.enqueue(ctx, req, nil)
	return err
}

// RecordWithTokens is Record, storing token records (breadcrumbs served in
// the event's response) in the same transaction. A token with an empty
// Event gets the event's ID.
func (s *Store) RecordWithTokens(ctx context.Context, ev *Event, actor *Actor, toks ...*Token) (ID, error) {
	cp, err := copyTokens(toks)
	if err != nil {
		return ID{}, err
	}
	return s.recordAll(ctx, ev, actor, cp, nil)
}

func copyTokens(toks []*Token) ([]Token, error) {
	out := make([]Token, 0, len(toks))
	for _, t := range toks {
		if t == nil {
			continue
		}
		if _, err := tokenKey(t.ID); err != nil {
			return nil, fmt.Errorf("token %q: %w", truncForErr(t.ID), err)
		}
		c := *t
		c.ID = strings.ToLower(c.ID)
		c.Fields = nil
		if len(t.Fields) > 0 {
			c.Fields = make(map[string]string, len(t.Fields))
			for k, v := range t.Fields {
				c.Fields[k] = v
			}
		}
		c.Placements = append([]Placement(nil), t.Placements...)
		if c.Created.IsZero() {
			c.Created = time.Now()
		}
		boundToken(&c)
		out = append(out, c)
	}
	return out, nil
}

// RevokeToken marks a token revoked (now) and returns it. Revoking a revoked
// token keeps the first revocation time.
func (s *Store) RevokeToken(ctx context.Context, id string) (*Token, error) {
	if _, err := tokenKey(id); err != nil {
		return nil, err
	}
	if s.opts.ReadOnly {
		return nil, ErrReadOnly
	}
	// Waits for the commit in either durability mode: the caller reads
	// the result back.
	req := &request{revoke: strings.ToLower(id), revokeAt: time.Now(), done: make(chan error, 1)}
	if _, err := s.enqueue(ctx, req, nil); err != nil {
		return nil, err
	}
	if req.revokeErr != nil {
		return nil, req.revokeErr
	}
	return s.Token(id)
}

// Token returns one token record.
func (s *Store) Token(id string) (*Token, error) {
	k, err := tokenKey(id)
	if err != nil {
		return nil, err
	}
	var t *Token
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bTokens)
		if b == nil {
			return ErrNotFound
		}
		v := b.Get(k)
		if v == nil {
			return ErrNotFound
		}
		t = new(Token)
		return json.Unmarshal(v, t)
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Tokens returns one page of tokens, newest Created first, through the
// creation index (a page reads at most Limit matching records, plus the
// ones its filters skip).
func (s *Store) Tokens(q TokenQuery) ([]Token, error) {
	limit := clampLimit(q.Limit)
	var out []Token
	err := s.db.View(func(tx *bolt.Tx) error {
		b, idx := tx.Bucket(bTokens), tx.Bucket(bTokenCreated)
		if b == nil || idx == nil {
			return nil
		}
		c := idx.Cursor()
		var k []byte
		if q.After != "" {
			ak, err := tokenKey(q.After)
			if err != nil {
				return err
			}
			v := b.Get(ak)
			if v == nil {
				return ErrNotFound
			}
			var t Token
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
			seek := createdKey(t.Created, ak)
			if k, _ = c.Seek(seek); k == nil {
				k, _ = c.Last()
			}
			for k != nil && string(k) >= string(seek) {
				k, _ = c.Prev()
			}
		} else {
			k, _ = c.Last()
		}
		for ; k != nil && len(out) < limit; k, _ = c.Prev() {
			if len(k) != 16 {
				continue
			}
			v := b.Get(k[8:])
			if v == nil {
				continue
			}
			var t Token
			if err := json.Unmarshal(v, &t); err != nil {
				continue
			}
			if q.Kind != "" && t.Kind != q.Kind || q.Source != "" && t.Source != q.Source || q.Active && !t.Revoked.IsZero() {
				continue
			}
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

// Sync waits until everything queued before it is committed.
func (s *Store) Sync(ctx context.Context) error {
	_, err := s.enqueue(ctx, &request{done: make(chan error, 1)}, nil)
	return err
}

func createdKey(t time.Time, id []byte) []byte {
	k := make([]byte, 8, 16)
	binary.BigEndian.PutUint64(k, uint64(max(t.UnixNano(), 0)))
	return append(k, id...)
}

// putToken merges t into the stored record (inside the writer's
// transaction).
func (w *txWriter) putToken(t *Token, event ID, hasEvent bool) error {
	k, err := tokenKey(t.ID)
	if err != nil {
		return nil // checked by copyTokens
	}
	if t.Event == "" && hasEvent {
		t.Event = event.String()
	}
	merged := *t
	if old := w.tokens.Get(k); old != nil {
		var o Token
		if json.Unmarshal(old, &o) == nil {
			merged = o
			if merged.Kind == "" || merged.Source == SourceSighted && t.Source != "" && t.Source != SourceSighted {
				// A token first known from a hit gets its real origin.
				merged.Kind, merged.Source = t.Kind, t.Source
			}
			fill := func(dst *string, v string) {
				if *dst == "" {
					*dst = v
				}
			}
			fill(&merged.Value, t.Value)
			fill(&merged.Note, t.Note)
			fill(&merged.Decoy, t.Decoy)
			fill(&merged.Actor, t.Actor)
			fill(&merged.Event, t.Event)
			if merged.Fields == nil {
				merged.Fields = t.Fields
			}
			merged.Placements = append(merged.Placements, t.Placements...)
			if !t.Created.IsZero() && t.Created.Before(merged.Created) {
				if err := w.tokenCreated.Delete(createdKey(merged.Created, k)); err != nil {
					return err
				}
				merged.Created = t.Created
			}
		} else if err := w.tokenCreated.Delete(createdKey(o.Created, k)); err != nil {
			return err
		}
	}
	boundToken(&merged)
	return w.storeToken(k, &merged)
}

func (w *txWriter) storeToken(k []byte, t *Token) error {
	v, err := json.Marshal(t)
	if err != nil {
		return err
	}
	if err := w.tokens.Put(w.key(k), v); err != nil {
		return fmt.Errorf("put token: %w", err)
	}
	if err := w.tokenCreated.Put(w.key(createdKey(t.Created, k)), empty); err != nil {
		return fmt.Errorf("put token index: %w", err)
	}
	return nil
}

// hitToken counts an event presenting token id (of kind) on its record,
// creating a record for a token first known from its use.
func (w *txWriter) hitToken(id, kind string, at time.Time) error {
	k, err := tokenKey(id)
	if err != nil {
		return nil
	}
	var t Token
	if old := w.tokens.Get(k); old == nil || json.Unmarshal(old, &t) != nil {
		t = Token{ID: id, Kind: kind, Source: SourceSighted, Created: at}
	}
	t.Hits++
	if t.FirstHit.IsZero() || at.Before(t.FirstHit) {
		t.FirstHit = at
	}
	if at.After(t.LastHit) {
		t.LastHit = at
	}
	return w.storeToken(k, &t)
}

// revokeToken sets Revoked on a stored token.
func (w *txWriter) revokeToken(id string, at time.Time) error {
	k, err := tokenKey(id)
	if err != nil {
		return err
	}
	old := w.tokens.Get(k)
	if old == nil {
		return ErrNotFound
	}
	var t Token
	if err := json.Unmarshal(old, &t); err != nil {
		return fmt.Errorf("token %s: %w", id, err)
	}
	if t.Revoked.IsZero() {
		t.Revoked = at
	}
	return w.storeToken(k, &t)
}
