package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func TestTokensSaveMergeAndList(t *testing.T) {
	for _, durability := range []string{"strict", "async"} {
		t.Run(durability, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "t.db")
			s := openTest(t, Options{Path: path, Durability: durability})
			ctx := context.Background()
			base := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
			for i := range 5 {
				err := s.SaveTokens(ctx, &Token{ID: fmt.Sprintf("%016x", i+1), Kind: []string{"aws", "github"}[i%2],
					Value: fmt.Sprintf("value-%d", i), Source: SourceCLI, Created: base.Add(time.Duration(i) * time.Hour),
					Note: fmt.Sprintf("note %d", i)})
				if err != nil {
					t.Fatal(err)
				}
			}
			// A second placement of token 1 merges; an empty note does not erase.
			err := s.SaveTokens(ctx, &Token{ID: "0000000000000001", Kind: "aws", Source: SourceSeed,
				Created:    base.Add(48 * time.Hour),
				Placements: []Placement{{Host: "build-01", Repo: "git@example.com:acme/app.git", Path: ".aws/credentials"}}})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			tok, err := s.Token("0000000000000001")
			if err != nil {
				t.Fatal(err)
			}
			if tok.Note != "note 0" || tok.Value != "value-0" || !tok.Created.Equal(base) || tok.Source != SourceCLI ||
				len(tok.Placements) != 1 || tok.Placements[0].Path != ".aws/credentials" {
				t.Fatalf("merged token = %+v", tok)
			}

			page, err := s.Tokens(TokenQuery{Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) != 2 || page[0].ID != "0000000000000005" || page[1].ID != "0000000000000004" {
				t.Fatalf("first page = %v", tokenIDs(page))
			}
			rest, err := s.Tokens(TokenQuery{After: page[1].ID})
			if err != nil {
				t.Fatal(err)
			}
			if got := tokenIDs(rest); fmt.Sprint(got) != "[0000000000000003 0000000000000002 0000000000000001]" {
				t.Fatalf("second page = %v", got)
			}
			aws, _ := s.Tokens(TokenQuery{Kind: "aws"})
			if got := tokenIDs(aws); fmt.Sprint(got) != "[0000000000000005 0000000000000003 0000000000000001]" {
				t.Fatalf("aws tokens = %v", got)
			}

			if _, err := s.RevokeToken(ctx, "00000000000000ff"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("revoking an unknown token: %v", err)
			}
			if _, err := s.RevokeToken(ctx, "nothex"); !errors.Is(err, ErrBadTokenID) {
				t.Fatalf("revoking a bad id: %v", err)
			}
			rv, err := s.RevokeToken(ctx, "0000000000000003")
			if err != nil || rv.Revoked.IsZero() {
				t.Fatalf("RevokeToken = %+v, %v", rv, err)
			}
			first := rv.Revoked
			rv2, _ := s.RevokeToken(ctx, "0000000000000003")
			if !rv2.Revoked.Equal(first) {
				t.Fatalf("second revocation moved the time: %v then %v", first, rv2.Revoked)
			}
			active, _ := s.Tokens(TokenQuery{Active: true})
			if got := tokenIDs(active); fmt.Sprint(got) != "[0000000000000005 0000000000000004 0000000000000002 0000000000000001]" {
				t.Fatalf("active tokens = %v", got)
			}
			checkConsistency(t, s)

			// Everything survives a reopen.
			s.Close()
			s2 := openTest(t, Options{Path: path})
			if tok, err := s2.Token("0000000000000003"); err != nil || tok.Revoked.IsZero() {
				t.Fatalf("after reopen: %+v, %v", tok, err)
			}
		})
	}
}

func tokenIDs(ts []Token) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func TestTokenHitsIndexedAndCounted(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	const known, unknown = "00000000000000aa", "00000000000000bb"
	if err := s.SaveTokens(ctx, &Token{ID: known, Kind: "github", Source: SourceCLI, Note: "in CI"}); err != nil {
		t.Fatal(err)
	}
	var hitIDs []ID
	for i := range 6 {
		ev := realisticEvent(i)
		switch i % 3 {
		case 0:
			ev.Tags = []string{"token_used", "token:github:" + known}
		case 1:
			ev.Tags = []string{"token_used", "token:github:" + known, "token:aws:" + unknown}
		}
		id := record(t, s, ev, nil)
		if i%3 != 2 {
			hitIDs = append(hitIDs, id)
		}
	}
	tok, err := s.Token(known)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Hits != 4 || tok.FirstHit.IsZero() || tok.LastHit.Before(tok.FirstHit) || tok.Note != "in CI" {
		t.Fatalf("known token after hits = %+v", tok)
	}
	// A token of this deployment never saved is known from its use.
	un, err := s.Token(unknown)
	if err != nil {
		t.Fatal(err)
	}
	if un.Hits != 2 || un.Source != SourceSighted || un.Kind != "aws" {
		t.Fatalf("unknown token = %+v", un)
	}
	evs, err := s.Events(Query{Token: known, Reverse: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 4 || evs[0].ID != hitIDs[3] || evs[3].ID != hitIDs[0] {
		t.Fatalf("events of the token: %d, want 4 newest first", len(evs))
	}
	evs, _ = s.Events(Query{Token: unknown, IP: realisticEvent(1).ClientIP})
	if len(evs) != 1 {
		t.Fatalf("token+IP: %d events, want 1", len(evs))
	}
	if _, err := s.Events(Query{Token: "short"}); !errors.Is(err, ErrBadTokenID) {
		t.Fatalf("bad token query: %v", err)
	}
	checkConsistency(t, s)

	// Retention removes the index entries with the events.
	if _, err := s.deleteOldest(100, nil); err != nil {
		t.Fatal(err)
	}
	if evs, _ := s.Events(Query{Token: known}); len(evs) != 0 {
		t.Fatalf("%d token events after deleting every event", len(evs))
	}
	checkConsistency(t, s)
	// The record keeps its counts: it is what the token did, not an index.
	if tok, _ := s.Token(known); tok.Hits != 4 {
		t.Fatalf("hits after retention = %d", tok.Hits)
	}
}

func TestRecordWithTokensStoresBreadcrumbs(t *testing.T) {
	s := openTest(t, Options{})
	ev := realisticEvent(1)
	ev.Actor = "act_1"
	crumbs := []*Token{
		{ID: "0000000000000c01", Kind: "aws", Source: SourceBreadcrumb, Actor: "act_1",
			Placements: []Placement{{Where: "GET /.env AWS_ACCESS_KEY_ID"}}},
		{ID: "0000000000000c02", Kind: "stripe", Source: SourceBreadcrumb, Actor: "act_1"},
	}
	id, err := s.RecordWithTokens(context.Background(), ev, nil, crumbs...)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range crumbs {
		got, err := s.Token(c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Event != id.String() || got.Actor != "act_1" || got.Source != SourceBreadcrumb {
			t.Fatalf("breadcrumb %s = %+v, want event %s", c.ID, got, id)
		}
	}
	if crumbs[0].Event != "" {
		t.Fatal("RecordWithTokens changed the caller's token")
	}
	if _, err := s.RecordWithTokens(context.Background(), realisticEvent(2), nil, &Token{ID: "xyz"}); !errors.Is(err, ErrBadTokenID) {
		t.Fatalf("bad token id: %v", err)
	}
}

func TestTokenRecordsAreBounded(t *testing.T) {
	s := openTest(t, Options{})
	long := make([]byte, 100<<10)
	for i := range long {
		long[i] = 'a'
	}
	tok := &Token{ID: "0000000000000d01", Kind: "url", Value: string(long), Note: string(long)}
	for range 100 {
		tok.Placements = append(tok.Placements, Placement{Path: string(long)})
	}
	if err := s.SaveTokens(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	got, err := s.Token(tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Value) > maxTokenValue || len(got.Note) > maxTokenField || len(got.Placements) > maxPlacements ||
		len(got.Placements[0].Path) > maxTokenField {
		t.Fatalf("token not bounded: value %d note %d placements %d", len(got.Value), len(got.Note), len(got.Placements))
	}
}
