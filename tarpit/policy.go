package tarpit

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// Mode is how a response is delayed.
type Mode string

// Modes.
const (
	None    Mode = ""        // sent at once
	Delay   Mode = "delay"   // a wait in the handler
	Hold    Mode = "hold"    // a long wait outside the handler, then the response
	Drip    Mode = "drip"    // the body a few bytes at a time
	Endless Mode = "endless" // whitespace for as long as the client waits, then the response
)

// Hijacks reports whether the mode hands the connection to the scheduler.
func (m Mode) Hijacks() bool { return m == Hold || m == Drip || m == Endless }

// Config tunes the policy and bounds the tarpit. The zero value of a field
// means its default.
type Config struct {
	// Off disables all delays: every response is sent at once.
	Off bool
	// Latency is the median latency of a response to a plausible human
	// client (default 60ms) and Spread the log-normal shape of the
	// distribution it is drawn from (default 0.5). Draws are bounded to
	// [Latency/5, Latency*10].
	Latency time.Duration
	Spread  float64
	// MaxDelay bounds the wait before the first byte of a response
	// (default 30s).
	MaxDelay time.Duration
	// HandlerDelay is the longest wait kept in the handler; longer ones
	// are held by the scheduler (default 1s).
	HandlerDelay time.Duration
	// DripRisk is the risk score from which responses drip (default 60;
	// above 100 never).
	DripRisk int
	// DripBytes bytes are sent every DripInterval while dripping (defaults
	// 4 and 1s); a body that would take longer than MaxDrip is sent in
	// larger pieces (default 10m).
	DripBytes    int
	DripInterval time.Duration
	MaxDrip      time.Duration
	// Scanners is the mode for obvious scanners (default Endless; Hold,
	// Drip or Delay are also accepted).
	Scanners Mode
	// KeepAlive is the interval between the whitespace bytes of an endless
	// response (default 10s), MaxHold the longest an endless response is
	// held before its body is sent (default 24h).
	KeepAlive time.Duration
	MaxHold   time.Duration
	// MaxHeld and MaxHeldPerIP bound the connections held by the scheduler
	// (defaults 10000 and 64); MaxDelayed bounds the waits in handlers at
	// once (default 4096). Past a cap, responses are sent at once.
	MaxHeld      int
	MaxHeldPerIP int
	MaxDelayed   int
	// WriteTimeout closes a held connection whose socket has accepted
	// nothing for this long (default 30s).
	WriteTimeout time.Duration
	// SocketBuffer is the send and receive buffer size asked of the kernel
	// for held connections (default 4096; the kernel's minimum applies).
	SocketBuffer int
}

// Defaults fills in the zero fields.
func (c Config) Defaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Latency, 60*time.Millisecond)
	def(&c.MaxDelay, 30*time.Second)
	def(&c.HandlerDelay, time.Second)
	def(&c.DripInterval, time.Second)
	def(&c.MaxDrip, 10*time.Minute)
	def(&c.KeepAlive, 10*time.Second)
	def(&c.MaxHold, 24*time.Hour)
	def(&c.WriteTimeout, 30*time.Second)
	if c.Spread <= 0 {
		c.Spread = 0.5
	}
	if c.DripRisk <= 0 {
		c.DripRisk = 60
	}
	if c.DripBytes <= 0 {
		c.DripBytes = 4
	}
	if c.Scanners == None {
		c.Scanners = Endless
	}
	if c.MaxHeld <= 0 {
		c.MaxHeld = 10000
	}
	if c.MaxHeldPerIP <= 0 {
		c.MaxHeldPerIP = 64
	}
	if c.MaxDelayed <= 0 {
		c.MaxDelayed = 4096
	}
	if c.SocketBuffer <= 0 {
		c.SocketBuffer = 4096
	}
	return c
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	switch c.Scanners {
	case None, Delay, Hold, Drip, Endless:
	default:
		return fmt.Errorf("tarpit: scanner mode %q is not one of delay, hold, drip, endless", c.Scanners)
	}
	if c.Spread > 3 {
		return fmt.Errorf("tarpit: spread %g is above 3", c.Spread)
	}
	return nil
}

// Client is what the policy knows about the client of a response.
type Client struct {
	IP    string
	Actor string
	// Risk is the actor's risk score (0–100); Family the client family
	// from fingerprinting ("browser", "curl", "python", "scanner" …) and
	// Tool the scanner's name when known.
	Risk   int
	Family string
	Tool   string
}

// Plan is the decision for one response.
type Plan struct {
	Mode Mode
	// Delay is the wait from the request's start to the first byte.
	Delay time.Duration
	// Start is when the request arrived.
	Start time.Time
	// Chunk bytes every Interval while dripping; Interval is also the
	// whitespace interval of an endless response.
	Chunk    int
	Interval time.Duration
	// Reason explains the decision ("scanner sqlmap", "risk 72",
	// "cap: per-IP"…).
	Reason string
	Client Client
	// OnDone, when set, is called once the response has been delivered or
	// abandoned, off the request's goroutine for held connections.
	OnDone func(Result)

	t    *Tarpit
	slot bool // holds a place under the caps
}

// Result is how a delivery ended.
type Result struct {
	Mode Mode
	// Waited is from the request's start to the end of the response or to
	// when the client gave up; Sent counts the bytes written.
	Waited time.Duration
	Sent   int
	// End is "done", "client_gone", "write_timeout", "max_hold" or
	// "shutdown".
	End string
}

// Ends.
const (
	EndDone         = "done"
	EndClientGone   = "client_gone"
	EndWriteTimeout = "write_timeout"
	EndMaxHold      = "max_hold"
	EndShutdown     = "shutdown"
)

// familyFactor scales the latency by client family: a browser is served
// like any user, scripts a little slower, unknown clients in between.
func familyFactor(family string) float64 {
	switch family {
	case "browser":
		return 1
	case "":
		return 1.2
	case "curl", "wget", "python", "go", "node", "java":
		return 1.5
	}
	return 1.3
}

// riskFactor grows with the square of the risk score: 1 at 0, 2 at 10,
// 5 at 20, 17 at 40, 37 at 60, 101 at 100.
func riskFactor(risk int) float64 {
	r := float64(min(max(risk, 0), 100)) / 10
	return 1 + r*r
}

// latency draws a base latency from the log-normal distribution.
func (c *Config) latency() time.Duration {
	d := float64(c.Latency) * math.Exp(c.Spread*rand.NormFloat64())
	lo, hi := float64(c.Latency)/5, float64(c.Latency)*10
	return time.Duration(min(max(d, lo), hi))
}

// policy is the decision before the caps apply.
func (c *Config) policy(cl Client) (Mode, time.Duration, string) {
	if c.Off {
		return None, 0, "off"
	}
	base := c.latency()
	if cl.Family == "scanner" {
		why := "scanner"
		if cl.Tool != "" {
			why += " " + cl.Tool
		}
		d := min(time.Duration(float64(base)*riskFactor(max(cl.Risk, 30))), c.MaxDelay)
		return c.Scanners, d, why
	}
	d := time.Duration(float64(base) * familyFactor(cl.Family) * riskFactor(cl.Risk))
	d = min(d, c.MaxDelay)
	switch {
	case cl.Risk >= c.DripRisk && c.DripRisk <= 100:
		return Drip, d, "risk " + strconv.Itoa(cl.Risk)
	case d > c.HandlerDelay:
		return Hold, d, "risk " + strconv.Itoa(cl.Risk)
	}
	return Delay, d, "risk " + strconv.Itoa(cl.Risk)
}
