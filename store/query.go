package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Query limits.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// step tells the test hook about a cursor step or a fetch.
func (s *Store) step(op string) {
	if s.hook != nil {
		s.hook(op)
	}
}

// bounds turns a query into a half-open ID range [lo, hi).
func (q *Query) bounds() (lo, hi ID, ok bool) {
	hi = maxID
	if !q.Since.IsZero() {
		lo = idAt(q.Since)
	}
	if !q.After.IsZero() {
		next, more := q.After.next()
		if !more {
			return lo, hi, false
		}
		if next.Compare(lo) > 0 {
			lo = next
		}
	}
	if !q.Until.IsZero() {
		if u := idAt(q.Until); u.Compare(hi) < 0 {
			hi = u
		}
	}
	if !q.Before.IsZero() && q.Before.Compare(hi) < 0 {
		hi = q.Before
	}
	return lo, hi, lo.Compare(hi) < 0
}

// Events returns one page of events matching q, oldest first (newest first
// with Reverse). It runs in one short read transaction of at most Limit
// results. A query by actor or IP walks only that value's index entries and
// fetches each match by ID; a query by both walks the actor's entries and
// checks each against the IP index; time bounds are ID bounds, so every
// query seeks straight to its first candidate.
func (s *Store) Events(q Query) ([]Event, error) {
	limit := clampLimit(q.Limit)
	lo, hi, ok := q.bounds()
	if !ok {
		return nil, nil
	}
	var out []Event
	err := s.db.View(func(tx *bolt.Tx) error {
		events := tx.Bucket(bEvents)
		if events == nil {
			return nil
		}
		decode := func(k, v []byte) error {
			out = append(out, Event{})
			if err := decodeEvent(k, v, &out[len(out)-1]); err != nil {
				out = out[:len(out)-1]
				return fmt.Errorf("store: event %s: %w", ID(k), err)
			}
			return nil
		}
		var idx *bolt.Bucket
		var prefix []byte
		var ipCheck *bolt.Cursor
		var ipPrefix []byte
		switch {
		case q.Token != "":
			if len(q.Token) != 16 {
				return ErrBadTokenID
			}
			idx, prefix = tx.Bucket(bIdxToken), indexPrefix(nil, strings.ToLower(q.Token))
		case q.Actor != "":
			idx, prefix = tx.Bucket(bIdxActor), indexPrefix(nil, q.Actor)
			if q.IP != "" {
				if b := tx.Bucket(bIdxIP); b != nil {
					ipCheck = b.Cursor()
				}
				ipPrefix = indexPrefix(nil, q.IP)
			}
		case q.IP != "":
			idx, prefix = tx.Bucket(bIdxIP), indexPrefix(nil, q.IP)
		}
		if prefix == nil {
			return s.scan(events.Cursor(), nil, lo, hi, q.Reverse, func(k, v []byte) (bool, error) {
				err := decode(k, v)
				return len(out) < limit, err
			})
		}
		if idx == nil || (q.IP != "" && q.Actor != "" && ipCheck == nil) {
			return nil
		}
		probe := make([]byte, 0, len(ipPrefix)+len(ID{}))
		return s.scan(idx.Cursor(), prefix, lo, hi, q.Reverse, func(k, _ []byte) (bool, error) {
			id := k[len(prefix):]
			if ipCheck != nil {
				probe = append(append(probe[:0], ipPrefix...), id...)
				s.step("step")
				if got, _ := ipCheck.Seek(probe); !bytes.Equal(got, probe) {
					return true, nil
				}
			}
			s.step("get")
			v := events.Get(id)
			if v == nil {
				return true, nil // deleted undecodable event; see deleteOldest
			}
			if err := decode(id, v); err != nil {
				return false, err
			}
			// Index keys hold the first 255 bytes of a value: a longer
			// one is confirmed on the event itself.
			if ev := &out[len(out)-1]; q.Token != "" && (q.Actor != "" && ev.Actor != q.Actor || q.IP != "" && ev.ClientIP != q.IP) ||
				q.Token == "" && len(q.Actor) > maxIndexValue && ev.Actor != q.Actor ||
				len(q.IP) > maxIndexValue && q.Actor == "" && ev.ClientIP != q.IP ||
				len(q.IP) > maxIndexValue && ipCheck != nil && ev.ClientIP != q.IP {
				out = out[:len(out)-1]
			}
			return len(out) < limit, nil
		})
	})
	return out, err
}

// scan walks the keys of c that are prefix followed by an ID in [lo, hi),
// ascending or descending, until fn returns false or an error.
func (s *Store) scan(c *bolt.Cursor, prefix []byte, lo, hi ID, reverse bool, fn func(k, v []byte) (bool, error)) error {
	n := len(prefix)
	in := func(k []byte) bool {
		return len(k) == n+len(ID{}) && bytes.HasPrefix(k, prefix)
	}
	if !reverse {
		start := append(append(make([]byte, 0, n+16), prefix...), lo[:]...)
		s.step("step")
		for k, v := c.Seek(start); k != nil; k, v = c.Next() {
			if !bytes.HasPrefix(k, prefix) || bytes.Compare(k[n:], hi[:]) >= 0 {
				return nil
			}
			if in(k) {
				more, err := fn(k, v)
				if err != nil || !more {
					return err
				}
			}
			s.step("step")
		}
		return nil
	}
	end := append(append(make([]byte, 0, n+16), prefix...), hi[:]...)
	s.step("step")
	k, _ := c.Seek(end)
	s.step("step")
	var v []byte
	if k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	for ; k != nil; k, v = c.Prev() {
		if !bytes.HasPrefix(k, prefix) || bytes.Compare(k[n:], lo[:]) < 0 {
			return nil
		}
		if in(k) {
			more, err := fn(k, v)
			if err != nil || !more {
				return err
			}
		}
		s.step("step")
	}
	return nil
}

// Event returns one event, or ErrNotFound.
func (s *Store) Event(id ID) (*Event, error) {
	var ev *Event
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bEvents)
		if b == nil {
			return ErrNotFound
		}
		v := b.Get(id[:])
		if v == nil {
			return ErrNotFound
		}
		ev = new(Event)
		if err := decodeEvent(id[:], v, ev); err != nil {
			return fmt.Errorf("store: event %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ev, nil
}

// Actor returns one actor record, merged or not, or ErrNotFound.
func (s *Store) Actor(id string) (*Actor, error) {
	var a *Actor
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bActors)
		if b == nil || id == "" {
			return ErrNotFound
		}
		v := b.Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		a = new(Actor)
		if err := decodeActor([]byte(id), v, a); err != nil {
			return fmt.Errorf("store: actor %q: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Actors returns one page of actors, newest LastSeen first, leaving out
// merged actors. It walks the idx_actor_seen index, whose values carry the
// risk, so MinRisk filters without decoding actors. Paging continues after
// the actor q.After at its current LastSeen; ErrNotFound if it is gone.
func (s *Store) Actors(q ActorQuery) ([]Actor, error) {
	limit := clampLimit(q.Limit)
	var out []Actor
	err := s.db.View(func(tx *bolt.Tx) error {
		seen, actors := tx.Bucket(bActorSeen), tx.Bucket(bActors)
		if seen == nil || actors == nil {
			return nil
		}
		c := seen.Cursor()
		var k, v []byte
		s.step("step")
		if q.After != "" {
			av := actors.Get([]byte(q.After))
			if av == nil {
				return fmt.Errorf("%w: actor %q (paging cursor)", ErrNotFound, q.After)
			}
			ls, err := actorLastSeen(av)
			if err != nil {
				return fmt.Errorf("store: actor %q: %w", q.After, err)
			}
			start := seenKey(ls, q.After)
			if k, _ = c.Seek(start); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		} else {
			k, v = c.Last()
		}
		since := int64(-1)
		if !q.Since.IsZero() {
			since = q.Since.UnixNano()
		}
		for ; k != nil && len(out) < limit; k, v = c.Prev() {
			if len(k) < 8 {
				continue
			}
			if int64(binary.BigEndian.Uint64(k[:8])) < since {
				break
			}
			risk, merged := parseSeenValue(v)
			if merged || risk < q.MinRisk {
				s.step("step")
				continue
			}
			id := k[8:]
			s.step("get")
			av := actors.Get(id)
			if av == nil {
				continue
			}
			out = append(out, Actor{})
			a := &out[len(out)-1]
			if err := decodeActor(id, av, a); err != nil {
				return fmt.Errorf("store: actor %q: %w", id, err)
			}
			var ls int64
			if !a.LastSeen.IsZero() {
				ls = max(a.LastSeen.UnixNano(), 0)
			}
			if ls != int64(binary.BigEndian.Uint64(k[:8])) {
				out = out[:len(out)-1] // a stale entry: the actor moved
			}
			s.step("step")
		}
		return nil
	})
	return out, err
}

// actorKeysPage is how many clustering keys ActorKeys reads per read
// transaction.
const actorKeysPage = 4096

// ActorKeys calls fn for every clustering key and the actor it points at,
// in key order (to rebuild in-memory clustering state at start). It reads in
// pages of short read transactions and calls fn outside them; an error from
// fn stops the walk and is returned.
func (s *Store) ActorKeys(fn func(key, actorID string) error) error {
	var after []byte
	for {
		type pair struct{ k, a string }
		page := make([]pair, 0, actorKeysPage)
		err := s.db.View(func(tx *bolt.Tx) error {
			b := tx.Bucket(bActorKeys)
			if b == nil {
				return nil
			}
			c := b.Cursor()
			var k, v []byte
			if after == nil {
				k, v = c.First()
			} else if k, v = c.Seek(after); bytes.Equal(k, after) {
				k, v = c.Next()
			}
			for ; k != nil && len(page) < actorKeysPage; k, v = c.Next() {
				page = append(page, pair{string(k), string(v)})
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, p := range page {
			if err := fn(p.k, p.a); err != nil {
				return err
			}
		}
		if len(page) < actorKeysPage {
			return nil
		}
		after = []byte(page[len(page)-1].k)
	}
}
