package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// request is one Record or SaveActors call waiting for the writer.
type request struct {
	hasEvent bool
	callerID bool // the caller supplied the ID: it may replace a stored event
	id       ID
	val      *[]byte // the encoded event (pooled)
	actorIdx string  // Event.Actor, for idx_actor
	ipIdx    string  // Event.ClientIP, for idx_ip
	actors   []actorRec
	// Tokens: records to merge, hits to count (from the event's
	// "token:<kind>:<id>" tags), a token to revoke.
	tokens    []Token
	tokenHits []tokenHit
	evTime    time.Time
	revoke    string
	revokeAt  time.Time
	revokeErr error
	alerts    []Alert
	alertOp   *alertOp
	// Counters: the event's document and operation, the tarpit time it
	// adds to the total and whether the tarpit held its connection; a
	// held connection's outcome (AmendWait).
	doc, op string
	addUS   int64
	held    bool
	wait    *waitRec
	done    chan error // nil when nobody waits
}

type tokenHit struct{ id, kind string }

// actorRec is an actor encoded by the caller's goroutine.
type actorRec struct {
	id       string
	val      []byte
	lastSeen int64
	risk     int
	merged   bool
	keys     []string
}

func (r *request) size() int {
	n := 0
	if r.hasEvent {
		n += len(*r.val) + 2*(len(r.actorIdx)+len(r.ipIdx)+20)
	}
	for _, t := range r.tokens {
		n += 2*(len(t.Value)+len(t.Note)+64) + 256*len(t.Placements)
	}
	n += 256 * len(r.tokenHits)
	for _, a := range r.alerts {
		n += 2 * (len(a.Payload) + 512)
	}
	if r.alertOp != nil {
		n += 4096
	}
	for _, a := range r.actors {
		n += len(a.val) + 2*(len(a.id)+10)
		for _, k := range a.keys {
			n += len(k) + len(a.id)
		}
	}
	return n
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// Record stores ev and, when actor is not nil, the actor record it updated,
// in the same transaction. It assigns ev.ID (when zero) and ev.Time (when
// zero), sets Kind to "request" when empty, and sets BodyLen and BodySHA256
// from Body when they are unset; the stored copy is bounded (BodyLimit,
// HeadLimit and the limits in doc.go). Record encodes the event before it
// returns, so the caller may reuse ev afterwards in either durability mode.
//
// One writer goroutine commits in groups: it takes every request queued (up
// to MaxBatch) into one bbolt transaction, so under load many events share
// one fsync. In strict mode Record returns after that transaction is
// committed and fsynced; if ctx ends first it returns ctx.Err() and the
// event may still be committed. In async mode it returns once queued,
// blocking while the queue is full (honouring ctx); commit failures are then
// logged and counted in Stats.WriteErrors.
func (s *Store) Record(ctx context.Context, ev *Event, actor *Actor) (ID, error) {
	return s.recordAll(ctx, ev, actor, nil, nil)
}

func (s *Store) recordAll(ctx context.Context, ev *Event, actor *Actor, toks []Token, alerts []Alert) (ID, error) {
	if ev == nil {
		return ID{}, errors.New("store: Record called with a nil event")
	}
	if s.opts.ReadOnly {
		return ID{}, ErrReadOnly
	}
	if err := ctx.Err(); err != nil {
		return ID{}, err
	}
	req := &request{hasEvent: true, actorIdx: ev.Actor, ipIdx: ev.ClientIP, tokens: toks, alerts: alerts}
	for _, tag := range ev.Tags {
		if id, kind, ok := tokenTagID(tag); ok && len(req.tokenHits) < maxList {
			req.tokenHits = append(req.tokenHits, tokenHit{id, kind})
		}
	}
	if actor != nil {
		a, err := encodeActor(actor)
		if err != nil {
			return ID{}, err
		}
		req.actors = []actorRec{a}
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	if ev.Kind == "" {
		ev.Kind = "request"
	}
	req.evTime = ev.Time
	req.doc, req.op = ev.Document, ev.Operation
	if ev.WaitedMS > 0 && !math.IsInf(ev.WaitedMS, 0) {
		req.addUS = int64(ev.WaitedMS * 1000)
	}
	req.held = ev.Tarpit != "" && ev.Tarpit != "delay"
	if ev.BodyLen == 0 && len(ev.Body) > 0 {
		ev.BodyLen = int64(len(ev.Body))
	}
	if ev.BodySHA256 == "" && len(ev.Body) > 0 && int64(len(ev.Body)) == ev.BodyLen {
		sum := sha256.Sum256(ev.Body)
		ev.BodySHA256 = hex.EncodeToString(sum[:])
	}
	buf := bufPool.Get().(*[]byte)
	*buf = appendEvent((*buf)[:0], ev, s.opts.BodyLimit, s.opts.HeadLimit)
	req.val = buf
	return s.enqueue(ctx, req, ev)
}

// SaveActors stores actor records without an event, in one transaction:
// for example both sides of a merge (the merged actor with MergedInto set,
// and the actor it was merged into, whose Keys now include the merged
// actor's keys). It follows the store's durability mode like Record.
func (s *Store) SaveActors(ctx context.Context, actors ...*Actor) error {
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	if len(actors) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &request{}
	for _, a := range actors {
		if a == nil {
			continue
		}
		rec, err := encodeActor(a)
		if err != nil {
			return err
		}
		req.actors = append(req.actors, rec)
	}
	_, err := s.enqueue(ctx, req, nil)
	return err
}

func encodeActor(a *Actor) (actorRec, error) {
	if a.ID == "" {
		return actorRec{}, errors.New("store: actor has an empty ID")
	}
	if len(a.ID) > maxListItem {
		return actorRec{}, fmt.Errorf("store: actor ID is %d bytes, the limit is %d", len(a.ID), maxListItem)
	}
	keys := a.Keys
	if len(keys) > maxActorKeys {
		keys = keys[len(keys)-maxActorKeys:]
	}
	rec := actorRec{
		id:     a.ID,
		val:    appendActor(nil, a),
		risk:   a.Risk,
		merged: a.MergedInto != "",
		keys:   make([]string, 0, len(keys)),
	}
	if !a.LastSeen.IsZero() {
		rec.lastSeen = a.LastSeen.UnixNano()
	}
	for _, k := range keys {
		if k != "" {
			rec.keys = append(rec.keys, cut(k, maxListItem))
		}
	}
	return rec, nil
}

// enqueue queues req, assigning the event's ID in queue order, and waits for
// the commit in strict mode, or whenever the caller gave req a done channel
// (it needs the outcome: Sync, revocations, alert updates).
func (s *Store) enqueue(ctx context.Context, req *request, ev *Event) (ID, error) {
	if s.strict && req.done == nil {
		req.done = make(chan error, 1)
	}
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		s.release(req)
		return ID{}, ctx.Err()
	case <-s.closing:
		s.release(req)
		return ID{}, ErrClosed
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.slots
		s.release(req)
		return ID{}, ErrClosed
	}
	if ev != nil {
		if ev.ID.IsZero() {
			ev.ID = NewID()
		} else {
			req.callerID = true
		}
		req.id = ev.ID
	}
	s.queue = append(s.queue, req)
	s.mu.Unlock()
	s.signal(s.wake)
	if req.done == nil {
		return req.id, nil
	}
	select {
	case err := <-req.done:
		return req.id, err
	case <-ctx.Done():
		return req.id, ctx.Err()
	}
}

func (s *Store) release(req *request) {
	if req.val != nil {
		if cap(*req.val) <= 64<<10 {
			bufPool.Put(req.val)
		}
		req.val = nil
	}
}

// writer is the single goroutine that commits queued requests in groups.
func (s *Store) writer() {
	defer s.bg.Done()
	var batch []*request
	for {
		s.mu.Lock()
		for len(s.queue) == 0 {
			if s.closed {
				s.mu.Unlock()
				return
			}
			s.mu.Unlock()
			<-s.wake
			s.mu.Lock()
		}
		n := min(len(s.queue), s.opts.MaxBatch)
		batch = append(batch[:0], s.queue[:n]...)
		m := copy(s.queue, s.queue[n:])
		clear(s.queue[m:])
		s.queue = s.queue[:m]
		s.mu.Unlock()

		s.commit(batch)
		clear(batch)
	}
}

func isMaxSize(err error) bool { return errors.Is(err, bolterrors.ErrMaxSizeReached) }

// commit writes one batch, making room under MaxSize first when needed, and
// reports the outcome to every request.
func (s *Store) commit(batch []*request) {
	need := int64(16 * s.pageSize)
	for _, r := range batch {
		need += 2 * int64(r.size())
	}
	s.makeRoom(need, 0)
	err := s.apply(batch)
	for attempt := 1; isMaxSize(err) && attempt <= 8; attempt++ {
		// The estimate said it fits, but bbolt needs contiguous free
		// pages: delete more each time, whatever the estimate says.
		s.sizeRetries.Add(1)
		if s.makeRoom(need<<attempt, 64*attempt) == 0 {
			break
		}
		err = s.apply(batch)
	}
	if isMaxSize(err) && len(batch) > 1 {
		// Nothing left to delete, or one record that can never fit: commit
		// the others on their own.
		for _, r := range batch {
			s.finish(r, s.apply([]*request{r}))
		}
	} else {
		for _, r := range batch {
			s.finish(r, err)
		}
	}
	if inUse, _ := s.room(); inUse > s.opts.RetainBytes {
		s.signal(s.retainKick)
	}
}

func (s *Store) finish(r *request, err error) {
	<-s.slots
	s.release(r)
	if err != nil {
		err = fmt.Errorf("store: unable to record: %w", err)
		if r.hasEvent {
			s.writeErrors.Add(1)
		}
		if r.done == nil {
			s.log.Error().Err(err).Str("id", r.id.String()).Msg("store: async record failed")
		}
	}
	if r.done != nil {
		r.done <- err
	}
}

// makeRoom deletes the oldest events, in small transactions, until need
// bytes can be written without passing MaxSize and at least atLeast events
// are gone. It returns how many events it deleted (counted in
// Stats.DroppedSpace).
func (s *Store) makeRoom(need int64, atLeast int) int {
	total := 0
	for {
		// Keep a reserve on top: bbolt needs contiguous free pages, and
		// near the limit the free ones are scattered.
		if _, headroom := s.room(); headroom >= need+s.usable/32 && total >= atLeast {
			return total
		}
		n, err := s.deleteOldest(64, nil)
		if err != nil {
			s.log.Error().Err(err).Msg("store: unable to delete old events to stay under MaxSize")
			return total
		}
		if n == 0 {
			return total
		}
		total += n
		s.droppedSpace.Add(int64(n))
	}
}

// apply commits a batch in one transaction.
func (s *Store) apply(batch []*request) error {
	start := time.Now()
	var w *txWriter
	err := s.db.Update(func(tx *bolt.Tx) error {
		w = newTxWriter(tx)
		for _, r := range batch {
			if err := w.put(r); err != nil {
				return err
			}
		}
		return w.saveCounts()
	})
	if err != nil {
		return err
	}
	events := 0
	for _, r := range batch {
		if r.hasEvent {
			events++
		}
	}
	took := time.Since(start)
	s.commits.Add(1)
	s.recorded.Add(int64(events))
	s.commitNanos.Add(int64(took))
	if s.opts.OnCommit != nil {
		s.opts.OnCommit(took, events)
	}
	s.nEvents.Add(w.dEvents)
	s.nActors.Add(w.dActors)
	return nil
}

// txWriter applies puts and deletes inside one write transaction, keeping
// the indexes and the counters in step with the records.
type txWriter struct {
	events, idxActor, idxIP, actors, actorSeen, actorKeys, meta *bolt.Bucket
	tokens, tokenCreated, idxToken                              *bolt.Bucket
	alerts, alertPending, alertKeys                             *bolt.Bucket
	countHour, countOp                                          *bolt.Bucket
	dEvents, dActors                                            int64
	dWaitedUS, dHolds                                           int64
	arena                                                       []byte
}

func newTxWriter(tx *bolt.Tx) *txWriter {
	w := &txWriter{
		events:    tx.Bucket(bEvents),
		idxActor:  tx.Bucket(bIdxActor),
		idxIP:     tx.Bucket(bIdxIP),
		actors:    tx.Bucket(bActors),
		actorSeen: tx.Bucket(bActorSeen),
		actorKeys: tx.Bucket(bActorKeys),
		meta:      tx.Bucket(bMeta),

		tokens:       tx.Bucket(bTokens),
		tokenCreated: tx.Bucket(bTokenCreated),
		idxToken:     tx.Bucket(bIdxToken),
		alerts:       tx.Bucket(bAlerts),
		alertPending: tx.Bucket(bAlertPending),
		alertKeys:    tx.Bucket(bAlertKeys),
		countHour:    tx.Bucket(bCountHour),
		countOp:      tx.Bucket(bCountOp),
	}
	// Event keys only grow: fill pages completely.
	w.events.FillPercent = 1.0
	return w
}

// key returns a stable copy of parts joined (bbolt keeps references to keys
// until commit). Earlier slices stay valid when the arena grows.
func (w *txWriter) key(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if cap(w.arena)-len(w.arena) < n {
		w.arena = make([]byte, 0, max(n, 8<<10))
	}
	start := len(w.arena)
	for _, p := range parts {
		w.arena = append(w.arena, p...)
	}
	return w.arena[start:len(w.arena):len(w.arena)]
}

// maxIndexValue bounds the indexed part of an index key; values are
// compared on their first 255 bytes.
const maxIndexValue = 255

// indexPrefix returns the prefix of the index keys for value v: one length
// byte, then v. The length byte keeps one value's keys contiguous and apart
// from every other value's.
func indexPrefix(dst []byte, v string) []byte {
	if len(v) > maxIndexValue {
		v = v[:maxIndexValue]
	}
	dst = append(dst, byte(len(v)))
	return append(dst, v...)
}

func (w *txWriter) indexKey(v []byte, id []byte) []byte {
	if len(v) > maxIndexValue {
		v = v[:maxIndexValue]
	}
	return w.key([]byte{byte(len(v))}, v, id)
}

var empty = []byte{}

// put applies one request. Only bbolt errors fail it (and with it the
// batch): a stored record that no longer decodes is overwritten, so one
// damaged record cannot block every later batch that touches it.
func (w *txWriter) put(r *request) error {
	if r.hasEvent {
		key := w.key(r.id[:])
		if r.callerID {
			if old := w.events.Get(key); old != nil {
				if err := w.deleteIndexes(key, old); err != nil && !errors.Is(err, errCorrupt) {
					return err
				}
				w.dEvents--
			}
		}
		if err := w.events.Put(key, *r.val); err != nil {
			return fmt.Errorf("put event: %w", err)
		}
		w.dEvents++
		if !r.callerID {
			if err := w.count(r.id.Time(), r.doc, r.op); err != nil {
				return err
			}
			w.dWaitedUS += r.addUS
			if r.held {
				w.dHolds++
			}
		}
		if r.actorIdx != "" {
			if err := w.idxActor.Put(w.indexKey([]byte(r.actorIdx), key), empty); err != nil {
				return fmt.Errorf("put actor index: %w", err)
			}
		}
		if r.ipIdx != "" {
			if err := w.idxIP.Put(w.indexKey([]byte(r.ipIdx), key), empty); err != nil {
				return fmt.Errorf("put ip index: %w", err)
			}
		}
		for _, h := range r.tokenHits {
			if err := w.idxToken.Put(w.indexKey([]byte(h.id), key), empty); err != nil {
				return fmt.Errorf("put token index: %w", err)
			}
			if r.callerID {
				continue // a replaced event was counted when first stored
			}
			if err := w.hitToken(h.id, h.kind, r.evTime); err != nil {
				return err
			}
		}
	}
	for i := range r.actors {
		if err := w.putActor(&r.actors[i]); err != nil {
			return err
		}
	}
	for i := range r.tokens {
		if err := w.putToken(&r.tokens[i], r.id, r.hasEvent); err != nil {
			return err
		}
	}
	for i := range r.alerts {
		at := r.evTime
		if at.IsZero() {
			at = time.Now()
		}
		if err := w.putAlert(&r.alerts[i], r.id, r.hasEvent, at); err != nil {
			return err
		}
	}
	if r.wait != nil {
		if err := w.amend(r.wait); err != nil {
			return err
		}
	}
	if r.alertOp != nil {
		if err := w.applyAlertOp(r.alertOp, time.Now()); err != nil {
			return err
		}
	}
	if r.revoke != "" {
		if err := w.revokeToken(r.revoke, r.revokeAt); err != nil {
			if errors.Is(err, ErrNotFound) || errors.Is(err, ErrBadTokenID) {
				r.revokeErr = err
				return nil
			}
			return err
		}
	}
	return nil
}

func seenKey(lastSeen int64, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(max(lastSeen, 0)))
	return append(k, id...)
}

// seenValue is the idx_actor_seen value: a flags byte (1 = merged) and the
// zigzag risk, so listings filter without decoding actors.
func seenValue(risk int, merged bool) []byte {
	v := []byte{0}
	if merged {
		v[0] = 1
	}
	return binary.AppendUvarint(v, zigzag(int64(risk)))
}

func parseSeenValue(v []byte) (risk int, merged bool) {
	if len(v) == 0 {
		return 0, false
	}
	u, n := binary.Uvarint(v[1:])
	if n <= 0 {
		return 0, v[0]&1 != 0
	}
	return int(unzigzag(u)), v[0]&1 != 0
}

func (w *txWriter) putActor(a *actorRec) error {
	id := []byte(a.id)
	if old := w.actors.Get(id); old != nil {
		// An undecodable old record leaves its idx_actor_seen entry
		// behind; listings skip entries whose actor is gone or moved.
		if ls, err := actorLastSeen(old); err == nil {
			if err := w.actorSeen.Delete(seenKey(ls, a.id)); err != nil {
				return err
			}
		}
	} else {
		w.dActors++
	}
	if err := w.actors.Put(id, a.val); err != nil {
		return fmt.Errorf("put actor: %w", err)
	}
	if err := w.actorSeen.Put(seenKey(a.lastSeen, a.id), seenValue(a.risk, a.merged)); err != nil {
		return fmt.Errorf("put actor index: %w", err)
	}
	for _, k := range a.keys {
		kb := []byte(k)
		if cur := w.actorKeys.Get(kb); !bytes.Equal(cur, id) {
			if err := w.actorKeys.Put(kb, id); err != nil {
				return fmt.Errorf("put actor key: %w", err)
			}
		}
	}
	return nil
}

// deleteIndexes removes the index entries of the stored event (key, val).
func (w *txWriter) deleteIndexes(key, val []byte) error {
	actor, ip, toks, err := eventIndexFields(val)
	if err != nil {
		return fmt.Errorf("event %s: %w", ID(key), err)
	}
	for _, t := range toks {
		if err := w.idxToken.Delete(w.indexKey(t, key)); err != nil {
			return err
		}
	}
	if len(actor) > 0 {
		if err := w.idxActor.Delete(w.indexKey(actor, key)); err != nil {
			return err
		}
	}
	if len(ip) > 0 {
		if err := w.idxIP.Delete(w.indexKey(ip, key)); err != nil {
			return err
		}
	}
	return nil
}

// deleteActor removes an actor record and the clustering keys that still
// point at it. The caller removes its idx_actor_seen entry.
func (w *txWriter) deleteActor(id []byte) error {
	val := w.actors.Get(id)
	if val == nil {
		return nil
	}
	var a Actor
	if err := decodeActor(id, val, &a); err == nil {
		for _, k := range a.Keys {
			if bytes.Equal(w.actorKeys.Get([]byte(k)), id) {
				if err := w.actorKeys.Delete([]byte(k)); err != nil {
					return err
				}
			}
		}
	}
	if err := w.actors.Delete(id); err != nil {
		return err
	}
	w.dActors--
	return nil
}

func (w *txWriter) saveCounts() error {
	for _, c := range []struct {
		key []byte
		d   int64
	}{{mWaitedUS, w.dWaitedUS}, {mHolds, w.dHolds}} {
		if c.d != 0 {
			n := max(int64(getCount(w.meta, c.key))+c.d, 0)
			if err := putCount(w.meta, c.key, uint64(n)); err != nil {
				return err
			}
		}
	}
	if w.dEvents != 0 {
		n := int64(getCount(w.meta, mEventCount)) + w.dEvents
		if err := putCount(w.meta, mEventCount, uint64(max(n, 0))); err != nil {
			return err
		}
	}
	if w.dActors != 0 {
		n := int64(getCount(w.meta, mActorCount)) + w.dActors
		if err := putCount(w.meta, mActorCount, uint64(max(n, 0))); err != nil {
			return err
		}
	}
	return nil
}
