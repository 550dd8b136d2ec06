package decoys

import (
	"container/list"
	"sync"
	"time"
)

// stateStore remembers what each client wrote (POST/PUT/PATCH/DELETE) so a
// later GET agrees with it. It stores only the submitted fields, never whole
// objects: everything else is re-synthesised from the same seed. It is
// bounded in objects, in bytes and in time; the least recently active
// client is forgotten first.
type stateStore struct {
	mu        sync.Mutex
	ttl       time.Duration
	maxObjs   int
	maxBytes  int
	perClient int
	objs      int
	bytes     int
	seq       int
	clients   map[string]*clientState
	lru       *list.List // *clientState, most recent at the front
	now       func() time.Time
}

type clientState struct {
	key      string
	records  map[string]*record // collection + "\x00" + id
	order    []string           // record keys, oldest first
	created  map[string][]string
	seen     time.Time
	requests int
	bytes    int
	elem     *list.Element
}

type record struct {
	fields  map[string]any
	deleted bool
	size    int
}

// maxRecordBytes bounds the fields remembered for one object; a larger
// body is remembered by id only.
const maxRecordBytes = 16 << 10

func newStateStore(ttl time.Duration, maxObjs int) *stateStore {
	per := maxObjs / 10
	if per < 50 {
		per = 50
	}
	return &stateStore{
		ttl:       ttl,
		maxObjs:   maxObjs,
		maxBytes:  32 << 20,
		perClient: per,
		clients:   map[string]*clientState{},
		lru:       list.New(),
		now:       time.Now,
	}
}

// client returns the client's state, creating it; expired state is dropped.
// The caller holds mu.
func (s *stateStore) client(key string, create bool) *clientState {
	now := s.now()
	c := s.clients[key]
	if c != nil && now.Sub(c.seen) > s.ttl {
		s.drop(c)
		c = nil
	}
	if c == nil {
		if !create {
			return nil
		}
		c = &clientState{key: key, records: map[string]*record{}, created: map[string][]string{}}
		c.elem = s.lru.PushFront(c)
		s.clients[key] = c
	} else {
		s.lru.MoveToFront(c.elem)
	}
	c.seen = now
	return c
}

func (s *stateStore) drop(c *clientState) {
	s.objs -= len(c.records)
	s.bytes -= c.bytes
	s.lru.Remove(c.elem)
	delete(s.clients, c.key)
}

// evict forgets expired and least recently active clients until the store
// is within its bounds. The caller holds mu.
func (s *stateStore) evict(keep *clientState) {
	now := s.now()
	for e := s.lru.Back(); e != nil; {
		c := e.Value.(*clientState)
		prev := e.Prev()
		over := s.objs > s.maxObjs || s.bytes > s.maxBytes
		if c != keep && (over || now.Sub(c.seen) > s.ttl) {
			s.drop(c)
		} else if !over {
			break
		}
		e = prev
	}
}

func rkey(coll, id string) string { return coll + "\x00" + id }

func fieldsSize(f map[string]any) int {
	if len(f) == 0 {
		return 0
	}
	return len(appendJSON(nil, f))
}

func (s *stateStore) set(c *clientState, coll, id string, r *record) {
	k := rkey(coll, id)
	if old, ok := c.records[k]; ok {
		c.bytes -= old.size
		s.bytes -= old.size
	} else {
		if len(c.order) >= s.perClient {
			// A client that writes without end forgets its oldest writes.
			oldest := c.order[0]
			c.order = c.order[1:]
			if r := c.records[oldest]; r != nil {
				c.bytes -= r.size
				s.bytes -= r.size
				delete(c.records, oldest)
				s.objs--
			}
		}
		c.order = append(c.order, k)
		s.objs++
	}
	r.size = fieldsSize(r.fields) + len(k)
	if r.size > maxRecordBytes {
		r.fields = nil
		r.size = len(k)
	}
	c.records[k] = r
	c.bytes += r.size
	s.bytes += r.size
	s.evict(c)
}

// put records a created object.
func (s *stateStore) put(client, coll, id string, fields map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.client(client, true)
	s.set(c, coll, id, &record{fields: fields})
	ids := c.created[coll]
	if len(ids) >= s.perClient {
		ids = ids[:s.perClient-1]
	}
	c.created[coll] = append([]string{id}, ids...)
}

// get returns the fields the client wrote to an object and whether the
// client deleted it.
func (s *stateStore) get(client, coll, id string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.client(client, false)
	if c == nil {
		return nil, false
	}
	r := c.records[rkey(coll, id)]
	if r == nil {
		return nil, false
	}
	return r.fields, r.deleted
}

// update applies a PUT (replace) or PATCH (merge). It fails for an object
// the client deleted.
func (s *stateStore) update(client, coll, id string, fields map[string]any, replace bool) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.client(client, true)
	r := c.records[rkey(coll, id)]
	if r != nil && r.deleted {
		return nil, false
	}
	var merged map[string]any
	if r != nil && !replace {
		merged = mergeFields(r.fields, fields)
	} else {
		merged = mergeFields(nil, fields)
	}
	s.set(c, coll, id, &record{fields: merged})
	return merged, true
}

// remove deletes an object for the client; false if it was already deleted.
func (s *stateStore) remove(client, coll, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.client(client, true)
	if r := c.records[rkey(coll, id)]; r != nil && r.deleted {
		return false
	}
	s.set(c, coll, id, &record{deleted: true})
	ids := c.created[coll]
	for i, x := range ids {
		if x == id {
			c.created[coll] = append(ids[:i:i], ids[i+1:]...)
			break
		}
	}
	return true
}

// created lists the ids the client created in a collection, newest first.
func (s *stateStore) created(client, coll string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.client(client, false)
	if c == nil {
		return nil
	}
	return append([]string(nil), c.created[coll]...)
}

// tick counts a request for the client and returns the count before it.
func (s *stateStore) tick(client string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.client(client, true)
	n := c.requests
	c.requests++
	s.evict(c)
	return n
}

func (s *stateStore) requests(client string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.client(client, false); c != nil {
		return c.requests
	}
	return 0
}

func (s *stateStore) next() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return s.seq
}

// size reports the objects and clients held (for tests and metrics).
func (s *stateStore) size() (objs, clients int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.objs, len(s.clients)
}
