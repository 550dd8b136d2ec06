package store

import (
	"time"
)

// Header is one request header as it arrived: original case, wire order,
// duplicates kept.
type Header struct {
	Name  string `json:"n"`
	Value string `json:"v"`
}

// Event is one recorded interaction with a decoy or a honeytoken. Every
// string, list and byte field is attacker-influenced data: the store bounds
// their sizes when it records them (see Options.BodyLimit, Options.HeadLimit
// and the limits in doc.go) and never interprets them.
type Event struct {
	// ID is assigned by Record when zero. Its time part is when the store
	// accepted the event; Query.Since/Until compare against it.
	ID ID `json:"id"`
	// Time is when the interaction happened; Record sets it to the current
	// time when zero. Read back in UTC.
	Time time.Time `json:"time"`
	// Kind is "request" (the default when empty), "malformed", and later
	// "token_used" or "sighting".
	Kind string `json:"kind"`
	// Listener names where the interaction arrived, e.g. "decoy" or an address.
	Listener string `json:"listener"`
	// Remote is the socket peer as ip:port.
	Remote string `json:"remote"`
	// ClientIP is the client address after trusted proxies; it is indexed.
	ClientIP string `json:"client_ip"`
	Proto    string `json:"proto,omitempty"`
	Method   string `json:"method,omitempty"`
	Host     string `json:"host,omitempty"`
	Path     string `json:"path,omitempty"`
	Query    string `json:"query,omitempty"`
	// Headers in wire order, original case, duplicates kept.
	Headers []Header `json:"headers,omitempty"`
	// RawHead is the raw request head, cut to Options.HeadLimit.
	RawHead []byte `json:"raw_head,omitempty"`
	// Body holds the first Options.BodyLimit bytes of the request body.
	Body []byte `json:"body,omitempty"`
	// BodyLen is the original body length. Record sets it from Body when zero.
	BodyLen int64 `json:"body_len,omitempty"`
	// BodySHA256 is the hex SHA-256 of the original body. Record computes it
	// when empty and Body holds the whole body.
	BodySHA256 string `json:"body_sha256,omitempty"`
	// Document and Operation name the decoy document and operation matched.
	Document  string `json:"document,omitempty"`
	Operation string `json:"operation,omitempty"`
	// Status and RespBytes describe the response sent.
	Status    int `json:"status,omitempty"`
	RespBytes int `json:"resp_bytes,omitempty"`
	// ServeMS is the time spent building the response, DelayMS the tarpit
	// delay planned for it. Tarpit is the tarpit mode applied ("delay",
	// "hold", "drip", "endless"; "" for none). WaitedMS is how long the
	// client actually waited from the request to the end of the response
	// (or to when it gave up), TarpitEnd how the tarpit ended ("done",
	// "client_gone", "write_timeout", "max_hold", "shutdown"); for held
	// connections both are filled in when the hold ends (Store.AmendWait).
	ServeMS   float64 `json:"serve_ms,omitempty"`
	DelayMS   float64 `json:"delay_ms,omitempty"`
	Tarpit    string  `json:"tarpit,omitempty"`
	WaitedMS  float64 `json:"waited_ms,omitempty"`
	TarpitEnd string  `json:"tarpit_end,omitempty"`
	// TLS is nil for plain-text connections.
	TLS    *TLS   `json:"tls,omitempty"`
	Client Client `json:"client"`
	// Actor is the ID of the actor this event was attributed to; it is indexed.
	Actor   string `json:"actor,omitempty"`
	Session string `json:"session,omitempty"`
	Risk    int    `json:"risk"`
	Stage   string `json:"stage,omitempty"`
	// Signals explain the risk score.
	Signals []string `json:"signals,omitempty"`
	Tags    []string `json:"tags,omitempty"`
	Note    string   `json:"note,omitempty"`
}

// TLS describes the TLS handshake of the connection an event arrived on.
type TLS struct {
	Version string `json:"version,omitempty"`
	Cipher  string `json:"cipher,omitempty"`
	SNI     string `json:"sni,omitempty"`
	ALPN    string `json:"alpn,omitempty"`
	JA3     string `json:"ja3,omitempty"`
	JA3Hash string `json:"ja3_hash,omitempty"`
	JA4     string `json:"ja4,omitempty"`
}

// Client is what fingerprinting concluded about the client software.
type Client struct {
	HeaderFP  string   `json:"header_fp,omitempty"`
	UserAgent string   `json:"user_agent,omitempty"`
	UAFamily  string   `json:"ua_family,omitempty"`
	Family    string   `json:"family,omitempty"`
	Tool      string   `json:"tool,omitempty"`
	Claimed   string   `json:"claimed,omitempty"`
	Mismatch  bool     `json:"mismatch,omitempty"`
	Reasons   []string `json:"reasons,omitempty"`
}

// Actor is a cluster of fingerprints believed to be one adversary. The
// clustering lives elsewhere; the store keeps the record, indexes it by last
// seen, and maps each clustering key to it. Lists are bounded when stored
// (the most recent entries, at the end of each list, are kept).
type Actor struct {
	ID        string    `json:"id"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Events    int       `json:"events"`
	// IPs holds the most recent 64 client IPs.
	IPs []string `json:"ips,omitempty"`
	// Fingerprints holds JA4 / header fingerprint / UA family keys (at most 64).
	Fingerprints []string `json:"fingerprints,omitempty"`
	Families     []string `json:"families,omitempty"`
	Risk         int      `json:"risk"`
	Stage        string   `json:"stage,omitempty"`
	// Signals are explanations of the risk (at most 64).
	Signals  []string `json:"signals,omitempty"`
	Sessions int      `json:"sessions,omitempty"`
	// Keys are the clustering keys that point at this actor, e.g.
	// "ip:1.2.3.4", "fp:…", "cred:…" (at most 256). Storing the actor points
	// each key at it in the actor_keys bucket.
	Keys []string `json:"keys,omitempty"`
	// MergedInto is set when this actor was merged into another; merged
	// actors are left out of Actors listings but Actor still returns them.
	MergedInto string `json:"merged_into,omitempty"`
	// WaitedMS is the time this actor spent waiting on the tarpit, and
	// Holds the connections of its that the tarpit held.
	WaitedMS int64 `json:"waited_ms,omitempty"`
	Holds    int64 `json:"holds,omitempty"`
}

// Query selects events. Zero fields do not filter.
type Query struct {
	// Since (inclusive) and Until (exclusive) bound the ID time, i.e. when
	// the store accepted the event.
	Since, Until time.Time
	// Actor and IP select events by actor ID and by client IP through their
	// indexes; both together select events matching both.
	Actor, IP string
	// Token selects the events that presented a honeytoken (its 16-hex-digit
	// ID), through the token index; Actor and IP then filter those.
	Token string
	// After and Before are exclusive ID bounds for paging: pass the last ID of
	// a page as After (oldest-first paging) or Before (with Reverse).
	After, Before ID
	// Limit defaults to 100 and is capped at 1000.
	Limit int
	// Reverse returns newest first.
	Reverse bool
}

// ActorQuery selects actors, newest LastSeen first.
type ActorQuery struct {
	// Since drops actors last seen before it.
	Since time.Time
	// After is the ID of the last actor of the previous page. An actor seen
	// again between two pages moves to the top of the list.
	After string
	// Limit defaults to 100 and is capped at 1000.
	Limit int
	// MinRisk drops actors with a lower risk.
	MinRisk int
}

// Stats describes the store. Counters marked "since Open" start at zero on
// each Open.
type Stats struct {
	// Events and Actors are the records currently stored.
	Events int64 `json:"events"`
	Actors int64 `json:"actors"`
	// FileBytes is the size of the file; DataBytes the part of it in use
	// (not on bbolt's freelist). In ReadOnly mode DataBytes is the high-water
	// mark, since the freelist is not loaded.
	FileBytes int64 `json:"file_bytes"`
	DataBytes int64 `json:"data_bytes"`
	// MaxSize and RetainBytes are the configured bounds.
	MaxSize     int64 `json:"max_size"`
	RetainBytes int64 `json:"retain_bytes"`
	// Oldest and Newest are the ID times of the first and last stored event.
	Oldest time.Time `json:"oldest,omitzero"`
	Newest time.Time `json:"newest,omitzero"`
	// Commits, Recorded (events committed), EventsPerCommit and AvgCommit
	// describe the group-commit writer since Open.
	Commits         int64         `json:"commits"`
	Recorded        int64         `json:"recorded"`
	EventsPerCommit float64       `json:"events_per_commit"`
	AvgCommit       time.Duration `json:"avg_commit_ns"`
	// Queued is the number of events waiting for the writer.
	Queued int `json:"queued"`
	// DeletedAge and DeletedSize count events removed by retention (RetainFor,
	// RetainBytes) since Open; DroppedSpace counts the oldest events deleted
	// by the writer to stay under MaxSize. ActorsDeleted counts actor records
	// removed because all their events were.
	DeletedAge    int64 `json:"deleted_age"`
	DeletedSize   int64 `json:"deleted_size"`
	DroppedSpace  int64 `json:"dropped_space"`
	ActorsDeleted int64 `json:"actors_deleted"`
	// WriteErrors counts events that could not be committed since Open.
	WriteErrors int64 `json:"write_errors"`
	// TarpitWaited and TarpitHolds are all-time totals: the time clients
	// spent waiting on the tarpit, and the connections it held.
	TarpitWaited time.Duration `json:"tarpit_waited_ns"`
	TarpitHolds  int64         `json:"tarpit_holds"`
}
