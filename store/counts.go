package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Count is the number of events accepted in the hour starting at Start.
type Count struct {
	Start time.Time `json:"start"`
	N     int64     `json:"n"`
}

// maxHistogramHours bounds one Histogram call (93 days).
const maxHistogramHours = 93 * 24

// Histogram returns the events accepted per hour between since and until
// (hours that overlap them, zero-filled, oldest first). It reads one
// counter per hour, kept in the events' transactions, so its cost does not
// depend on how many events are stored; retention does not lower the
// counts.
func (s *Store) Histogram(since, until time.Time) ([]Count, error) {
	start := since.UTC().Truncate(time.Hour)
	end := until.UTC()
	if !end.After(start) {
		return nil, nil
	}
	hours := int(end.Sub(start)/time.Hour) + 1
	if end.Sub(start)%time.Hour == 0 {
		hours--
	}
	if hours > maxHistogramHours {
		return nil, fmt.Errorf("store: a histogram covers at most %d hours", maxHistogramHours)
	}
	out := make([]Count, hours)
	for i := range out {
		out[i].Start = start.Add(time.Duration(i) * time.Hour)
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bCountHour)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		lo := hourKey(start)
		for k, v := c.Seek(lo[:]); k != nil; k, v = c.Next() {
			if len(k) != 8 || len(v) != 8 {
				continue
			}
			h := int64(binary.BigEndian.Uint64(k))
			i := int((h - start.Unix()) / 3600)
			if i >= hours {
				break
			}
			if i >= 0 {
				out[i].N = int64(binary.BigEndian.Uint64(v))
			}
		}
		return nil
	})
	return out, err
}

func hourKey(t time.Time) [8]byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], uint64(t.Unix()/3600*3600))
	return k
}

// OperationCount is how often one decoy operation was called.
type OperationCount struct {
	Document  string    `json:"document"`
	Operation string    `json:"operation"`
	Hits      int64     `json:"hits"`
	Last      time.Time `json:"last"`
}

// OperationHits returns the hit count of every decoy operation that was
// ever called (events with a Document and an Operation), kept in the
// events' transactions.
func (s *Store) OperationHits() ([]OperationCount, error) {
	var out []OperationCount
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bCountOp)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			doc, op, ok := splitOpKey(k)
			if !ok || len(v) != 16 {
				return nil
			}
			out = append(out, OperationCount{Document: doc, Operation: op,
				Hits: int64(binary.BigEndian.Uint64(v)), Last: unixTime(int64(binary.BigEndian.Uint64(v[8:])))})
			if len(out) >= 100_000 {
				return errStopScan
			}
			return nil
		})
	})
	if errors.Is(err, errStopScan) {
		err = nil
	}
	return out, err
}

var errStopScan = errors.New("stop")

func opKey(doc, op string) []byte {
	doc, op = cut(doc, maxIndexValue), cut(op, maxListItem)
	k := make([]byte, 0, 1+len(doc)+len(op))
	k = append(k, byte(len(doc)))
	k = append(k, doc...)
	return append(k, op...)
}

func splitOpKey(k []byte) (doc, op string, ok bool) {
	if len(k) == 0 || int(k[0]) > len(k)-1 {
		return "", "", false
	}
	n := int(k[0])
	return string(k[1 : 1+n]), string(k[1+n:]), true
}

// count adds one event to its hour's counter and its operation's.
func (w *txWriter) count(at time.Time, doc, op string) error {
	if w.countHour == nil {
		return nil
	}
	hk := hourKey(at)
	n := uint64(1)
	if v := w.countHour.Get(hk[:]); len(v) == 8 {
		n += binary.BigEndian.Uint64(v)
	}
	var nv [8]byte
	binary.BigEndian.PutUint64(nv[:], n)
	if err := w.countHour.Put(w.key(hk[:]), w.key(nv[:])); err != nil {
		return fmt.Errorf("put hour count: %w", err)
	}
	if doc == "" || op == "" {
		return nil
	}
	k := opKey(doc, op)
	var v [16]byte
	hits := uint64(1)
	if old := w.countOp.Get(k); len(old) == 16 {
		hits += binary.BigEndian.Uint64(old)
	}
	binary.BigEndian.PutUint64(v[:], hits)
	binary.BigEndian.PutUint64(v[8:], uint64(at.UnixNano()))
	if err := w.countOp.Put(w.key(k), w.key(v[:])); err != nil {
		return fmt.Errorf("put operation count: %w", err)
	}
	return nil
}

// Wait is the outcome of a tarpit hold, for AmendWait.
type Wait struct {
	Event ID
	// Mode and End are the tarpit mode and how it ended; Waited is how
	// long the client waited from its request to the end.
	Mode   string
	Waited time.Duration
	End    string
	// Actor, when not nil, is the actor's record with the wait added (the
	// caller's tracker owns the actor's totals).
	Actor *Actor
	// AddTotal is the time added to the all-time total (the part of the
	// wait not already counted when the event was recorded; negative when
	// the client waited less than was counted).
	AddTotal time.Duration
}

// AmendWait records how a tarpit hold ended on its event, saves the actor
// and adds to the all-time total, without waiting for the commit (the
// event it amends is already durable). An event deleted meanwhile is not
// recreated.
func (s *Store) AmendWait(ctx context.Context, w Wait) error {
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	req := &request{wait: &waitRec{id: w.Event, mode: w.Mode, waitedMS: float64(w.Waited.Microseconds()) / 1000, end: w.End, addUS: w.AddTotal.Microseconds()}}
	if w.Actor != nil {
		rec, err := encodeActor(w.Actor)
		if err != nil {
			return err
		}
		req.actors = []actorRec{rec}
	}
	_, err := s.enqueue(ctx, req, nil)
	return err
}

type waitRec struct {
	id       ID
	mode     string
	waitedMS float64
	end      string
	addUS    int64
}

// amend appends the tarpit outcome to a stored event.
func (w *txWriter) amend(r *waitRec) error {
	w.dWaitedUS += r.addUS
	if r.id.IsZero() {
		return nil
	}
	key := w.key(r.id[:])
	old := w.events.Get(key)
	if old == nil {
		return nil
	}
	waited := r.waitedMS
	if math.IsNaN(waited) || waited < 0 {
		waited = 0
	}
	val := make([]byte, 0, len(old)+64)
	val = append(val, old...)
	val = appendTarpit(val, r.mode, waited, r.end)
	if err := w.events.Put(key, val); err != nil {
		return fmt.Errorf("amend event: %w", err)
	}
	return nil
}
