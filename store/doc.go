// Package store is honeyapi's durable event store, an embedded bbolt file.
//
// It owns the file: events and their indexes, actor records and the
// clustering keys that point at them, retention by age and by size, the
// MaxSize bound, and compaction. No package outside store touches bbolt.
// It does not own fingerprinting, the clustering logic that decides which
// actor an event belongs to, or HTTP: those live in fingerprint, the
// callers of Record, and web. It is its own package because decoys, tokens,
// alerts, web and the CLI all read or write the same file.
//
// # Writing
//
// Record hands an event (and, optionally, the actor record it updated) to
// one writer goroutine, which commits in groups: it takes every request
// queued, up to Options.MaxBatch, into one bbolt transaction, so under load
// many events share one fsync. Event IDs are minted in queue order, so they
// are committed in increasing order and a reader paging with Query.After
// never skips an event committed later. In strict durability (the default)
// Record returns after the event's transaction is committed and fsynced:
// every response an attacker saw is on disk. In async durability it returns
// once the event is queued; Close commits everything queued. SaveActors
// writes actor records without an event (both sides of a merge) through the
// same writer. At Open the ID generator is moved past the newest stored ID,
// so events recorded after a restart sort after the ones before it even if
// the clock went back.
//
// # Buckets
//
//	events          key: ID (16 bytes: big-endian Unix ns + counter)   value: encoded Event
//	idx_actor       key: len(actor) byte, actor, ID                    value: empty
//	idx_ip          key: len(client IP) byte, client IP, ID            value: empty
//	actors          key: actor ID                                      value: encoded Actor
//	idx_actor_seen  key: LastSeen (8 bytes big-endian Unix ns), actor ID
//	                value: flags byte (1 = merged), zigzag uvarint risk
//	actor_keys      key: clustering key ("ip:…", "fp:…", "cred:…")     value: actor ID
//	meta            schema (uint64 version), events and actors (uint64 counts)
//	tokens          key: token ID (8 bytes)                            value: JSON Token
//	idx_token_created key: Created (8 bytes big-endian Unix ns), token ID  value: empty
//	idx_token       key: len(id) byte, token ID (16 hex), event ID     value: empty
//
//	alerts          key: alert ID                                      value: JSON Alert (deliveries per channel)
//	idx_alert_pending key: len(channel) byte, channel, alert ID        value: empty (pending deliveries)
//	alert_keys      key: aggregation key                               value: ID of its latest alert
//
// Alerts are the outbox of package alerts: RecordWithAlerts commits an
// alert in the transaction of the event that raised it, before anything is
// sent; dispatchers read the pending index per channel and write each
// attempt back through the writer.
//
// Token records are JSON: they are few, written rarely, and read by people.
// An event tagged "token:<kind>:<id>" (a honeytoken presented) gets an
// idx_token entry and bumps the token's hit counts in the same transaction;
// a token of this deployment that was never saved gets a record then
// (Source "sighted"), so no use is lost. Retention deletes idx_token
// entries with their events; token records stay (they are bounded: 64
// placements, fields cut to 1 KiB).
//
// Because IDs start with their time, the events bucket is also the time
// index, and every index key ends in the ID: a query by actor or IP with a
// time range or a paging cursor seeks straight to its first entry and walks
// only matching entries, fetching each event by ID. No filtered query scans
// a whole bucket. Indexed values are compared on their first 255 bytes.
//
// # Encoding
//
// Records use a compact tagged binary encoding (see codec.go): a version
// byte, then (field number, wire type, value) triples, zero values left out
// and unknown fields skipped, so fields can be added without migrating.
// Bodies and raw heads are stored as bytes, not base64, and a SHA-256 as 32
// bytes. Attacker-controlled data is bounded when stored: the body to
// Options.BodyLimit, the raw head to Options.HeadLimit, any string to 8 KiB,
// at most 256 headers totalling 64 KiB, lists to 64 items of 1 KiB, actor
// keys to 256.
//
// # Size and retention
//
// Options.MaxSize is bbolt's MaxSize: the file never grows past it. A
// background retainer runs every minute, and whenever the data in use
// passes Options.RetainBytes, and deletes events older than
// Options.RetainFor and then the oldest events until the data is back under
// 90% of RetainBytes, in transactions of at most 256 events so readers and
// the writer are never held up for long. Deleting an event deletes its index
// entries; an actor last seen before the newest deleted event goes with its
// events (and, with RetainFor, any actor not seen within it), as do the
// clustering keys still pointing at it. If a batch would
// still not fit under MaxSize (with a reserve of 1/32 of it, because bbolt
// needs contiguous free pages), the writer itself deletes the oldest events
// and retries: an attacker can neither fill the disk nor stop new events
// from being recorded, only push old ones out. Everything deleted is counted
// in Stats. Space freed inside the file is reused; Compact gives it back to
// the file system.
//
// # Reading
//
// Readers use short read transactions: Events returns at most 1000 events
// per call, ActorKeys reads in pages, and callers page with After/Before
// rather than holding a transaction open. This matters with bbolt: pages
// freed by a write are reused only once every read transaction older than
// the write has ended, so a long reader makes the file grow (and under
// MaxSize, makes the writer delete more old events); and a write transaction
// that must grow the memory map waits for every open reader. The store maps
// the whole MaxSize at Open so the writer never has to remap.
//
// The freelist is not written to the file (bbolt NoFreelistSync): commits
// stay small however fragmented the file is, and Open rebuilds the freelist
// by walking the file, which takes longer for a large file.
package store
