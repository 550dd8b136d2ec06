package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/honeyapi/honeyapi/store"
)

// Dispatcher defaults.
const (
	DefaultDeadAfter   = 24 * time.Hour
	DefaultBaseBackoff = 2 * time.Second
	DefaultMaxBackoff  = 10 * time.Minute
	DefaultSendTimeout = 15 * time.Second
	// DefaultSlackPace keeps a Slack channel inside Slack's limit of about
	// one message per second per channel.
	DefaultSlackPace = 1100 * time.Millisecond
	maxRetryAfter    = time.Hour
)

// DispatcherOptions configure a Dispatcher.
type DispatcherOptions struct {
	Store    *store.Store
	Channels []Dispatch
	// DeadAfter is how long after it was raised an undeliverable alert
	// keeps being retried before it moves to the dead letters (retryable
	// with "honeyapi alerts retry"). Default 24h.
	DeadAfter time.Duration
	// BaseBackoff and MaxBackoff bound the exponential backoff between
	// attempts (with jitter). Defaults 2s and 10m.
	BaseBackoff, MaxBackoff time.Duration
	// SendTimeout bounds one attempt. Default 15s.
	SendTimeout time.Duration
	// DashboardURL, when set, is linked from each alert.
	DashboardURL string
	Logger       *zerolog.Logger
	// OnResult, when set, is told the outcome of every delivery attempt:
	// ResultSent, ResultFailed (the attempt failed and will be retried) or
	// ResultDead (the alert was dead-lettered on the channel). An attempt
	// cut short by shutdown reports nothing. It is called on the channel's
	// goroutine and must not block (metrics.Metrics.Alert fits).
	OnResult func(channel, outcome string)
	// now is the clock (tests).
	now func() time.Time
}

// Delivery outcomes reported to DispatcherOptions.OnResult.
const (
	ResultSent   = "sent"
	ResultFailed = "failed"
	ResultDead   = "dead"
)

// Dispatch is a channel and how it is paced.
type Dispatch struct {
	Channel Channel
	// Pace is the least time between two sends on the channel (Slack:
	// DefaultSlackPace). 0: no pacing.
	Pace time.Duration
}

// Dispatcher delivers the outbox: one goroutine per channel, so a slow or
// failing channel never holds up another, each reading the alerts due on
// it from the store and writing every attempt back.
type Dispatcher struct {
	opts  DispatcherOptions
	log   zerolog.Logger
	wakes []chan struct{}
	wg    sync.WaitGroup
}

// NewDispatcher returns a dispatcher; Run starts it.
func NewDispatcher(opts DispatcherOptions) (*Dispatcher, error) {
	if opts.Store == nil {
		return nil, errors.New("alerts: the dispatcher needs a store")
	}
	seen := map[string]bool{}
	for _, c := range opts.Channels {
		if c.Channel == nil || c.Channel.Name() == "" || seen[c.Channel.Name()] {
			return nil, errors.New("alerts: channels need distinct names")
		}
		seen[c.Channel.Name()] = true
	}
	if opts.DeadAfter <= 0 {
		opts.DeadAfter = DefaultDeadAfter
	}
	if opts.BaseBackoff <= 0 {
		opts.BaseBackoff = DefaultBaseBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.SendTimeout <= 0 {
		opts.SendTimeout = DefaultSendTimeout
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	d := &Dispatcher{opts: opts, log: zerolog.Nop()}
	if opts.Logger != nil {
		d.log = opts.Logger.With().Str("component", "alerts").Logger()
	}
	for range opts.Channels {
		d.wakes = append(d.wakes, make(chan struct{}, 1))
	}
	return d, nil
}

// Run delivers until ctx ends, then returns once every channel's
// goroutine has stopped (an attempt in flight is cancelled; it stays
// pending and is retried at the next start).
func (d *Dispatcher) Run(ctx context.Context) {
	for i := range d.opts.Channels {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.loop(ctx, i)
		}()
	}
	d.wg.Wait()
}

// Notify wakes every channel: alerts were committed.
func (d *Dispatcher) Notify() {
	for _, w := range d.wakes {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

func (d *Dispatcher) loop(ctx context.Context, i int) {
	c := d.opts.Channels[i]
	name := c.Channel.Name()
	var lastSend time.Time
	for {
		now := d.opts.now()
		due, err := d.opts.Store.DueAlerts(name, now, 50)
		if err != nil {
			d.log.Error().Err(err).Str("channel", name).Msg("reading the outbox failed")
		}
		pause := time.Duration(0)
		for _, a := range due {
			if ctx.Err() != nil {
				return
			}
			if wait := c.Pace - time.Since(lastSend); c.Pace > 0 && wait > 0 {
				if !sleep(ctx, wait) {
					return
				}
			}
			lastSend = time.Now()
			if p := d.attempt(ctx, c.Channel, &a); p > 0 {
				pause = p // the receiver asked everyone to wait
				break
			}
		}
		if len(due) == 50 && pause == 0 {
			continue // more are due
		}
		wait := 30 * time.Second
		if next, ok, err := d.opts.Store.NextDue(name); err == nil && ok {
			wait = max(time.Until(next), 0)
		}
		if pause > wait {
			wait = pause
		}
		if wait > 30*time.Second {
			wait = 30 * time.Second
		}
		if wait == 0 {
			wait = 10 * time.Millisecond
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-d.wakes[i]:
			t.Stop()
			if pause > 0 && !sleep(ctx, pause) {
				return
			}
		case <-t.C:
		}
	}
}

// attempt sends one alert on one channel and records the outcome. It
// returns how long the channel must pause when the receiver said so.
func (d *Dispatcher) attempt(ctx context.Context, ch Channel, a *store.Alert) time.Duration {
	name := ch.Name()
	var del store.Delivery
	for _, x := range a.Deliveries {
		if x.Channel == name {
			del = x
		}
	}
	p, err := d.payloadOf(a)
	if err != nil {
		del.State, del.Done, del.LastError = store.DeliveryDead, d.opts.now(), "undecodable payload: "+err.Error()
		d.save(a.ID, del)
		d.report(name, ResultDead)
		return 0
	}
	sctx, cancel := context.WithTimeout(ctx, d.opts.SendTimeout)
	err = ch.Send(sctx, p)
	cancel()
	if ctx.Err() != nil {
		return 0 // shutting down: the attempt does not count
	}
	now := d.opts.now()
	del.Attempts++
	var pause time.Duration
	switch after, limited := RetryAfter(err); {
	case err == nil:
		del.State, del.Done, del.LastError = store.DeliveryDelivered, now, ""
		d.log.Info().Str("channel", name).Str("alert", a.ID.String()).Str("rule", a.Rule).Int("count", a.Count).
			Int("attempts", del.Attempts).Msg("alert delivered")
	case IsPermanent(err):
		del.State, del.Done, del.LastError = store.DeliveryDead, now, clip(err.Error(), 512)
		d.log.Error().Str("channel", name).Str("alert", a.ID.String()).Str("error", del.LastError).Msg("alert undeliverable: dead-lettered")
	case now.Sub(a.Time) >= d.opts.DeadAfter:
		del.State, del.Done, del.LastError = store.DeliveryDead, now, clip(err.Error(), 512)
		d.log.Error().Str("channel", name).Str("alert", a.ID.String()).Str("error", del.LastError).Msg("alert still undelivered after dead_after: dead-lettered")
	case limited:
		pause = min(max(after, time.Second), maxRetryAfter)
		del.Next, del.LastError = now.Add(pause), clip(err.Error(), 512)
		d.log.Warn().Str("channel", name).Dur("retry_after", pause).Msg("alert channel rate-limited")
	default:
		del.Next, del.LastError = now.Add(d.backoff(del.Attempts)), clip(err.Error(), 512)
		d.log.Warn().Str("channel", name).Str("alert", a.ID.String()).Int("attempts", del.Attempts).
			Time("next", del.Next).Str("error", del.LastError).Msg("alert delivery failed; will retry")
	}
	d.save(a.ID, del)
	switch del.State {
	case store.DeliveryDelivered:
		d.report(name, ResultSent)
	case store.DeliveryDead:
		d.report(name, ResultDead)
	default:
		d.report(name, ResultFailed)
	}
	return pause
}

func (d *Dispatcher) report(channel, outcome string) {
	if d.opts.OnResult != nil {
		d.opts.OnResult(channel, outcome)
	}
}

func (d *Dispatcher) save(id store.ID, del store.Delivery) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.opts.Store.UpdateDelivery(ctx, id, del); err != nil {
		d.log.Error().Err(err).Str("alert", id.String()).Msg("saving a delivery attempt failed")
	}
}

// backoff is exponential from BaseBackoff, capped at MaxBackoff, with the
// wait drawn from its upper half (jitter).
func (d *Dispatcher) backoff(attempts int) time.Duration {
	b := d.opts.BaseBackoff
	for i := 1; i < attempts && b < d.opts.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, d.opts.MaxBackoff)
	return b/2 + rand.N(b/2+1)
}

// payloadOf is the stored payload with what the store knows now: the
// alert's id (the idempotency key), counts and the event's id.
func (d *Dispatcher) payloadOf(a *store.Alert) (*Payload, error) {
	var p Payload
	if len(a.Payload) > 0 {
		if err := json.Unmarshal(a.Payload, &p); err != nil {
			return nil, err
		}
	}
	p.Version = PayloadVersion
	p.ID = a.ID.String()
	p.Count, p.FirstSeen, p.LastSeen = a.Count, a.FirstSeen, a.LastSeen
	if p.Severity == "" {
		p.Severity = Severity(a.Severity)
	}
	if p.Rule == "" {
		p.Rule = a.Rule
	}
	if !a.Event.IsZero() {
		if p.Request == nil {
			p.Request = &RequestInfo{}
		}
		p.Request.Event = a.Event.String()
		if d.opts.DashboardURL != "" {
			p.DashboardURL = d.opts.DashboardURL + "/events/" + a.Event.String()
		}
	}
	if a.Count > 1 && p.Rule == "token_used" {
		p.Summary += " (" + strconv.Itoa(a.Count) + " uses)"
	}
	return &p, nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
