package store

import (
	"bytes"
	"encoding/binary"
	"time"

	bolt "go.etcd.io/bbolt"
)

// retainBatch is the most events one retention transaction deletes, so the
// writer and readers are never held up for long.
const retainBatch = 256

// retainInterval is how often retention runs besides when the writer asks.
var retainInterval = time.Minute

// retainer runs retention every retainInterval and whenever the writer finds
// the data above RetainBytes.
func (s *Store) retainer() {
	defer s.bg.Done()
	t := time.NewTicker(retainInterval)
	defer t.Stop()
	s.retain(time.Now()) // catch up after downtime
	for {
		select {
		case <-s.closing:
			return
		case <-t.C:
		case <-s.retainKick:
		}
		s.retain(time.Now())
	}
}

func (s *Store) stopping() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

// retain deletes events older than RetainFor, then the oldest events while
// the data is above RetainBytes (down to 90% of it, so that it does not run
// after every commit), in transactions of at most retainBatch events.
func (s *Store) retain(now time.Time) {
	if s.opts.RetainFor > 0 {
		stop := idAt(now.Add(-s.opts.RetainFor))
		for !s.stopping() {
			n, err := s.deleteOldest(retainBatch, &stop)
			if err != nil {
				s.log.Error().Err(err).Msg("store: retention by age failed")
				return
			}
			s.deletedAge.Add(int64(n))
			if n < retainBatch {
				break
			}
		}
		// Actors not seen within RetainFor go too, even if their events
		// went in an earlier pass.
		for !s.stopping() {
			n, err := s.deleteActorsBefore(now.Add(-s.opts.RetainFor), retainBatch)
			if err != nil {
				s.log.Error().Err(err).Msg("store: actor retention failed")
				return
			}
			if n < retainBatch {
				break
			}
		}
	}
	inUse, _ := s.room()
	if inUse <= s.opts.RetainBytes {
		return
	}
	target := s.opts.RetainBytes / 10 * 9
	deleted := 0
	for inUse > target && !s.stopping() {
		n, err := s.deleteOldest(retainBatch, nil)
		if err != nil {
			s.log.Error().Err(err).Msg("store: retention by size failed")
			return
		}
		if n == 0 {
			break
		}
		deleted += n
		s.deletedSize.Add(int64(n))
		inUse, _ = s.room()
	}
	if deleted > 0 {
		s.log.Info().Int("deleted", deleted).Int64("data_bytes", inUse).Int64("retain_bytes", s.opts.RetainBytes).
			Msg("store: deleted the oldest events to stay under RetainBytes")
	}
}

// deleteOldest deletes, in one transaction, up to limit of the oldest events
// (only those before stop, when stop is not nil) with their index entries,
// and up to limit actors last seen before the newest event it deleted. It
// returns the number of events deleted.
func (s *Store) deleteOldest(limit int, stop *ID) (int, error) {
	var n int
	var dActors int64
	var w *txWriter
	err := s.db.Update(func(tx *bolt.Tx) error {
		w = newTxWriter(tx)
		c := w.events.Cursor()
		keys := make([][]byte, 0, limit)
		for k, v := c.First(); k != nil && len(keys) < limit; k, v = c.Next() {
			if stop != nil && bytes.Compare(k, stop[:]) >= 0 {
				break
			}
			if err := w.deleteIndexes(k, v); err != nil {
				// A record that cannot be decoded still goes: its
				// index entries are left behind, and queries skip
				// entries whose event is gone.
				s.log.Error().Err(err).Msg("store: deleting an undecodable event")
			}
			keys = append(keys, k)
		}
		for _, k := range keys {
			if err := w.events.Delete(k); err != nil {
				return err
			}
		}
		w.dEvents -= int64(len(keys))
		n = len(keys)
		if n > 0 {
			newest := ID(keys[n-1]).Time()
			if err := w.pruneActors(newest.UnixNano(), limit); err != nil {
				return err
			}
		}
		return w.saveCounts()
	})
	if err != nil {
		return 0, err
	}
	dActors = w.dActors
	s.nEvents.Add(w.dEvents)
	s.nActors.Add(dActors)
	s.actorsGone.Add(-dActors)
	return n, nil
}

// deleteActorsBefore deletes, in one transaction, up to limit actors last
// seen before cutoff, and returns how many it deleted.
func (s *Store) deleteActorsBefore(cutoff time.Time, limit int) (int, error) {
	var w *txWriter
	err := s.db.Update(func(tx *bolt.Tx) error {
		w = newTxWriter(tx)
		if err := w.pruneActors(cutoff.UnixNano(), limit); err != nil {
			return err
		}
		return w.saveCounts()
	})
	if err != nil {
		return 0, err
	}
	s.nActors.Add(w.dActors)
	s.actorsGone.Add(-w.dActors)
	return int(-w.dActors), nil
}

// pruneActors deletes up to limit actors last seen before cutoff (Unix
// nanoseconds): their events are gone.
func (w *txWriter) pruneActors(cutoff int64, limit int) error {
	c := w.actorSeen.Cursor()
	var keys [][]byte
	for k, _ := c.First(); k != nil && len(keys) < limit; k, _ = c.Next() {
		if len(k) < 8 || int64(binary.BigEndian.Uint64(k[:8])) >= cutoff {
			break
		}
		keys = append(keys, k)
	}
	for _, k := range keys {
		if err := w.actorSeen.Delete(k); err != nil {
			return err
		}
		if err := w.deleteActor(k[8:]); err != nil {
			return err
		}
	}
	return nil
}
