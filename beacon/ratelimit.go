package beacon

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"time"
)

// limiterShards spreads sources over independently locked tables, so UDP workers rarely
// wait for one another.
const limiterShards = 32

// sweepEvery is how often a full shard may be swept for idle sources.
const sweepEvery = time.Second

// limiter holds the per-source token buckets of RateLimit. Its memory is bounded by
// MaxSources entries; sources beyond that share one overflow entry per shard, so a flood
// from many (spoofed) sources is limited as one source.
type limiter struct {
	respOn, repOn       bool
	respRate, respBurst float64
	repRate, repBurst   float64
	idle                time.Duration // after this long without traffic both buckets are full
	perShard            int
	seed                maphash.Seed
	shards              [limiterShards]shard
}

type shard struct {
	mu        sync.Mutex
	m         map[[16]byte]bucketPair // keys hold no pointers: the GC does not scan the table
	overflow  bucketPair
	lastSweep time.Duration
	_         [64]byte // keep shards on separate cache lines
}

// bucketPair is one source's two buckets, refilled together.
type bucketPair struct {
	resp, rep float64
	last      time.Duration
	slips     uint32
}

// decision is what the limiter allows for one query.
type decision struct {
	respond bool // send the response
	slip    bool // send an empty truncated response instead
	report  bool // report the token lookup
}

func newLimiter(rl RateLimit) *limiter {
	l := &limiter{
		respOn:    rl.Responses > 0,
		respRate:  rl.Responses,
		respBurst: float64(rl.ResponseBurst),
		repOn:     rl.Reports > 0,
		repRate:   rl.Reports,
		repBurst:  float64(rl.ReportBurst),
		perShard:  max(rl.MaxSources/limiterShards, 1),
		seed:      maphash.MakeSeed(),
	}
	if l.respOn {
		l.idle = max(l.idle, time.Duration(l.respBurst/l.respRate*float64(time.Second)))
	}
	if l.repOn {
		l.idle = max(l.idle, time.Duration(l.repBurst/l.repRate*float64(time.Second)))
	}
	for i := range l.shards {
		l.shards[i].m = make(map[[16]byte]bucketPair)
	}
	return l
}

// sourceKey is the rate-limited unit of an address: an IPv4 address or an IPv6 /64
// (one subscriber's allocation; limiting single IPv6 addresses would limit nothing).
func sourceKey(a netip.Addr) [16]byte {
	a = a.Unmap()
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			a = p.Addr()
		}
	}
	return a.As16()
}

// admit charges one query of a source at time now (monotonic, since the server
// started) and returns what it may have: a response if wantResp, a report if wantReport.
func (l *limiter) admit(key [16]byte, now time.Duration, wantResp, wantReport bool) decision {
	var d decision
	if (!wantResp || !l.respOn) && (!wantReport || !l.repOn) {
		return decision{respond: wantResp, report: wantReport}
	}
	sh := &l.shards[maphash.Bytes(l.seed, key[:])%limiterShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()

	b, known := sh.m[key]
	shared := false
	if !known {
		if len(sh.m) >= l.perShard && now-sh.lastSweep >= sweepEvery {
			sh.lastSweep = now
			for k, e := range sh.m {
				if now-e.last >= l.idle {
					delete(sh.m, k)
				}
			}
		}
		if len(sh.m) >= l.perShard {
			b, shared = sh.overflow, true
		} else {
			b = bucketPair{resp: l.respBurst, rep: l.repBurst, last: now}
		}
	}
	if el := (now - b.last).Seconds(); el > 0 {
		b.resp = min(l.respBurst, b.resp+el*l.respRate)
		b.rep = min(l.repBurst, b.rep+el*l.repRate)
		b.last = now
	}
	if wantResp {
		switch {
		case !l.respOn:
			d.respond = true
		case b.resp >= 1:
			b.resp--
			d.respond = true
		default:
			// RRL "slip": every second suppressed response goes out empty and
			// truncated, so a real resolver behind a spoofed flood retries over TCP.
			b.slips++
			d.slip = b.slips%2 == 0
		}
	}
	if wantReport {
		switch {
		case !l.repOn:
			d.report = true
		case b.rep >= 1:
			b.rep--
			d.report = true
		}
	}
	if shared {
		sh.overflow = b
	} else {
		sh.m[key] = b
	}
	return d
}

// sources returns the number of tracked sources (for tests).
func (l *limiter) sources() int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
