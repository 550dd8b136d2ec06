package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Durability modes for Options.Durability.
const (
	// DurabilityStrict makes Record return only after the event's
	// transaction is committed and fsynced.
	DurabilityStrict = "strict"
	// DurabilityAsync makes Record return once the event is queued.
	DurabilityAsync = "async"
)

// Defaults for Options.
const (
	DefaultMaxSize = 1 << 30
	// DefaultRetainFor is the retention the configuration layer should use
	// when none is configured (Options.RetainFor zero means forever).
	DefaultRetainFor   = 30 * 24 * time.Hour
	DefaultBodyLimit   = 16 << 10
	DefaultHeadLimit   = 16 << 10
	DefaultMaxBatch    = 256
	DefaultOpenTimeout = time.Second
)

// Options configures Open. Zero fields take the documented defaults.
type Options struct {
	// Path is the bbolt file. Open creates it unless ReadOnly is set.
	Path string
	// Durability is DurabilityStrict (the default: Record returns only after
	// the event's transaction is committed and fsynced) or DurabilityAsync
	// (Record returns once the event is queued; the queue is bounded and
	// Record blocks while it is full, honouring its context).
	Durability string
	// MaxSize bounds the file (bbolt Options.MaxSize): it never grows past
	// it. When a write would need more room, the oldest events are deleted
	// and the write retried. Default 1 GiB.
	MaxSize int64
	// RetainFor is how long events are kept; older ones are deleted in the
	// background. Zero (or negative) keeps events forever, bounded only by
	// RetainBytes and MaxSize. The configuration layer's default is
	// DefaultRetainFor (30 days); Open does not substitute it for zero, so
	// "0 = forever" passes straight through from a flag.
	RetainFor time.Duration
	// RetainBytes keeps the data under this many bytes by deleting the
	// oldest events in the background. Default 80% of the usable MaxSize.
	RetainBytes int64
	// BodyLimit is how much of a body is stored; BodyLen and BodySHA256 keep
	// the facts of the original. Default 16 KiB.
	BodyLimit int
	// HeadLimit bounds Event.RawHead. Default 16 KiB.
	HeadLimit int
	// OnCommit, when set, is called by the writer after each committed
	// transaction with its duration and its number of events (metrics).
	// It must not block.
	OnCommit func(d time.Duration, events int)
	// MaxBatch is the most events committed in one transaction. Default 256.
	MaxBatch int
	// QueueSize bounds the events waiting for the writer; Record blocks
	// while it is full. Default 4×MaxBatch.
	QueueSize int
	// OpenTimeout is how long Open waits for the file lock. A running server
	// holds it; Open then returns ErrLocked. Default 1s.
	OpenTimeout time.Duration
	// ReadOnly opens the file for reading only (for the CLI when the server
	// is not running). Writes return ErrReadOnly.
	ReadOnly bool
	// Logger receives background errors and retention notices. Default: none.
	Logger *zerolog.Logger
}

// Errors callers branch on.
var (
	// ErrLocked reports that another process (a running server) holds the
	// database file.
	ErrLocked = errors.New("store: database is locked by another process")
	// ErrNotFound reports a missing event or actor.
	ErrNotFound = errors.New("store: not found")
	// ErrClosed reports use of a closed store.
	ErrClosed = errors.New("store: closed")
	// ErrReadOnly reports a write to a store opened ReadOnly.
	ErrReadOnly = errors.New("store: opened read-only")
)

// Bucket names. See doc.go for their layout.
var (
	bEvents       = []byte("events")
	bIdxActor     = []byte("idx_actor")
	bIdxIP        = []byte("idx_ip")
	bActors       = []byte("actors")
	bActorSeen    = []byte("idx_actor_seen")
	bActorKeys    = []byte("actor_keys")
	bMeta         = []byte("meta")
	bTokens       = []byte("tokens")
	bTokenCreated = []byte("idx_token_created")
	bIdxToken     = []byte("idx_token")
	bAlerts       = []byte("alerts")
	bAlertPending = []byte("idx_alert_pending")
	bAlertKeys    = []byte("alert_keys")
	bCountHour    = []byte("count_hour")
	bCountOp      = []byte("count_op")
	allBuckets    = [][]byte{bEvents, bIdxActor, bIdxIP, bActors, bActorSeen, bActorKeys, bMeta, bTokens, bTokenCreated, bIdxToken,
		bAlerts, bAlertPending, bAlertKeys, bCountHour, bCountOp}
	mSchema     = []byte("schema")
	mEventCount = []byte("events")
	mActorCount = []byte("actors")
	mWaitedUS   = []byte("tarpit_waited_us")
	mHolds      = []byte("tarpit_holds")
)

// schemaVersion is the layout version written to meta/schema.
const schemaVersion = 1

// Store is the durable event store. It is safe for concurrent use.
type Store struct {
	db       *bolt.DB
	path     string
	opts     Options
	log      zerolog.Logger
	strict   bool
	usable   int64 // the largest high-water mark bbolt allows under MaxSize
	pageSize int

	// The group-commit queue. IDs are assigned under mu in queue order, so
	// they are committed in increasing order.
	mu      sync.Mutex
	queue   []*request
	closed  bool
	slots   chan struct{} // a token per queued request (bounds the queue)
	wake    chan struct{}
	closing chan struct{}
	done    chan struct{} // closed when the writer and retainer have exited
	bg      sync.WaitGroup

	retainKick chan struct{}

	// Counters mirrored from meta after each commit.
	nEvents, nActors atomic.Int64
	// Counters since Open.
	commits, recorded, commitNanos                    atomic.Int64
	deletedAge, deletedSize, droppedSpace, actorsGone atomic.Int64
	writeErrors                                       atomic.Int64
	// sizeRetries counts batches bbolt refused with ErrMaxSizeReached
	// although makeRoom estimated they fit (each costs bbolt a rollback
	// that rescans the file for free pages).
	sizeRetries atomic.Int64

	// hook, when set by a test, is told about every cursor step ("step")
	// and every event fetched by ID ("get") during queries.
	hook func(op string)

	closeOnce sync.Once
	closeErr  error
}

// Open opens (or creates) the store at opts.Path.
func Open(opts Options) (*Store, error) {
	if opts.Path == "" {
		return nil, errors.New("store: Options.Path is empty")
	}
	switch opts.Durability {
	case "":
		opts.Durability = DurabilityStrict
	case DurabilityStrict, DurabilityAsync:
	default:
		return nil, fmt.Errorf("store: unknown durability %q (want %q or %q)", opts.Durability, DurabilityStrict, DurabilityAsync)
	}
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultMaxSize
	}
	if opts.MaxSize < 1<<20 {
		return nil, fmt.Errorf("store: MaxSize %d is below the 1 MiB minimum", opts.MaxSize)
	}
	if opts.RetainFor < 0 {
		opts.RetainFor = 0
	}
	usable := usableSize(opts.MaxSize)
	if opts.RetainBytes <= 0 || opts.RetainBytes > usable {
		if opts.RetainBytes <= 0 {
			opts.RetainBytes = usable / 10 * 8
		} else {
			opts.RetainBytes = usable
		}
	}
	if opts.BodyLimit <= 0 {
		opts.BodyLimit = DefaultBodyLimit
	}
	if opts.HeadLimit <= 0 {
		opts.HeadLimit = DefaultHeadLimit
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 4 * opts.MaxBatch
	}
	if opts.QueueSize < opts.MaxBatch {
		opts.QueueSize = opts.MaxBatch
	}
	if opts.OpenTimeout <= 0 {
		opts.OpenTimeout = DefaultOpenTimeout
	}
	s := &Store{
		path:       opts.Path,
		opts:       opts,
		log:        zerolog.Nop(),
		strict:     opts.Durability == DurabilityStrict,
		usable:     usable,
		slots:      make(chan struct{}, opts.QueueSize),
		wake:       make(chan struct{}, 1),
		closing:    make(chan struct{}),
		done:       make(chan struct{}),
		retainKick: make(chan struct{}, 1),
	}
	if opts.Logger != nil {
		s.log = *opts.Logger
	}
	if opts.ReadOnly {
		if _, err := os.Stat(opts.Path); err != nil {
			return nil, fmt.Errorf("store: unable to open %s read-only: %w", opts.Path, err)
		}
	}
	bopts := &bolt.Options{
		Timeout:  opts.OpenTimeout,
		ReadOnly: opts.ReadOnly,
		// The freelist is rebuilt at open instead of being written by every
		// commit: commits stay small however fragmented the file becomes.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
		MaxSize:        int(opts.MaxSize),
	}
	if !opts.ReadOnly {
		// Map the whole allowed size up front: a write transaction that
		// grows the mapping has to wait for every open reader.
		bopts.InitialMmapSize = int(opts.MaxSize)
	}
	db, err := bolt.Open(opts.Path, 0o600, bopts)
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("%w: %s (waited %s)", ErrLocked, opts.Path, opts.OpenTimeout)
		}
		return nil, fmt.Errorf("store: unable to open %s: %w", opts.Path, err)
	}
	s.db = db
	s.pageSize = db.Info().PageSize
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	if opts.ReadOnly {
		close(s.done)
		return s, nil
	}
	s.bg.Add(2)
	go s.writer()
	go s.retainer()
	go func() { s.bg.Wait(); close(s.done) }()
	return s, nil
}

// init creates the buckets, checks the schema and loads the counters.
func (s *Store) init() error {
	check := func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if meta == nil {
			return nil
		}
		if v := meta.Get(mSchema); v != nil {
			if len(v) != 8 {
				return fmt.Errorf("store: %s: corrupt schema version", s.path)
			}
			if got := binary.BigEndian.Uint64(v); got > schemaVersion {
				return fmt.Errorf("store: %s has schema version %d; this build understands up to %d", s.path, got, schemaVersion)
			}
		}
		s.nEvents.Store(int64(getCount(meta, mEventCount)))
		s.nActors.Store(int64(getCount(meta, mActorCount)))
		if b := tx.Bucket(bEvents); b != nil {
			if k, _ := b.Cursor().Last(); len(k) == len(ID{}) {
				observeID(ID(k))
			}
		}
		return nil
	}
	if s.opts.ReadOnly {
		return s.db.View(check)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("store: unable to create bucket %s: %w", name, err)
			}
		}
		meta := tx.Bucket(bMeta)
		if meta.Get(mSchema) == nil {
			if err := putCount(meta, mSchema, schemaVersion); err != nil {
				return err
			}
		}
		return check(tx)
	})
}

func getCount(meta *bolt.Bucket, key []byte) uint64 {
	if v := meta.Get(key); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func putCount(meta *bolt.Bucket, key []byte, n uint64) error {
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], n)
	return meta.Put(key, v[:])
}

// usableSize is the largest high-water mark bbolt lets the file reach under
// maxSize: bbolt grows the mapping in powers of two up to its allocation
// step (16 MiB) and beyond that in steps of 16 MiB, and refuses a growth
// whose step would pass maxSize.
func usableSize(maxSize int64) int64 {
	const allocStep = 16 << 20
	if maxSize >= 2*allocStep {
		return maxSize - allocStep
	}
	p := int64(32 << 10)
	for p*2 <= maxSize && p*2 <= allocStep {
		p *= 2
	}
	return p
}

// Path returns the file path.
func (s *Store) Path() string { return s.path }

// Close stops accepting events, commits everything queued, stops the
// background retention and closes the file. It is safe to call twice.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.closing)
		s.signal(s.wake)
		<-s.done
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("store: unable to close %s: %w", s.path, err)
		}
	})
	return s.closeErr
}

func (s *Store) signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Stats returns the current figures. It opens one short read transaction.
func (s *Store) Stats() Stats {
	st := Stats{
		Events:        s.nEvents.Load(),
		Actors:        s.nActors.Load(),
		MaxSize:       s.opts.MaxSize,
		RetainBytes:   s.opts.RetainBytes,
		Commits:       s.commits.Load(),
		Recorded:      s.recorded.Load(),
		DeletedAge:    s.deletedAge.Load(),
		DeletedSize:   s.deletedSize.Load(),
		DroppedSpace:  s.droppedSpace.Load(),
		ActorsDeleted: s.actorsGone.Load(),
		WriteErrors:   s.writeErrors.Load(),
	}
	if st.Commits > 0 {
		st.EventsPerCommit = float64(st.Recorded) / float64(st.Commits)
		st.AvgCommit = time.Duration(s.commitNanos.Load() / st.Commits)
	}
	s.mu.Lock()
	st.Queued = len(s.queue)
	s.mu.Unlock()
	if fi, err := os.Stat(s.path); err == nil {
		st.FileBytes = fi.Size()
	}
	_ = s.db.View(func(tx *bolt.Tx) error {
		st.DataBytes = s.inUse(tx)
		if b := tx.Bucket(bEvents); b != nil {
			c := b.Cursor()
			if k, _ := c.First(); len(k) == len(ID{}) {
				st.Oldest = ID(k).Time()
			}
			if k, _ := c.Last(); len(k) == len(ID{}) {
				st.Newest = ID(k).Time()
			}
		}
		if meta := tx.Bucket(bMeta); meta != nil {
			st.TarpitWaited = time.Duration(getCount(meta, mWaitedUS)) * time.Microsecond
			st.TarpitHolds = int64(getCount(meta, mHolds))
		}
		if s.opts.ReadOnly {
			if meta := tx.Bucket(bMeta); meta != nil {
				st.Events = int64(getCount(meta, mEventCount))
				st.Actors = int64(getCount(meta, mActorCount))
			}
		}
		return nil
	})
	return st
}

// inUse is the high-water mark less the pages on the freelist (free or
// pending release).
func (s *Store) inUse(tx *bolt.Tx) int64 {
	n := tx.Size() - int64(s.db.Stats().FreeAlloc)
	if n < 0 {
		n = 0
	}
	return n
}

// room returns the bytes in use and the room left before the file would
// have to grow past MaxSize (free pages count as room).
func (s *Store) room() (inUse, headroom int64) {
	_ = s.db.View(func(tx *bolt.Tx) error {
		free := int64(s.db.Stats().FreeAlloc)
		inUse = tx.Size() - free
		headroom = s.usable - tx.Size() + free
		return nil
	})
	return inUse, headroom
}
