package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// Webhook defaults and limits.
const (
	// DefaultWebhookTimeout bounds one attempt to deliver an alert: the
	// connection, TLS, the request, the answer and reading what is read of
	// its body, redirects included.
	DefaultWebhookTimeout = 10 * time.Second
	// MinWebhookSecretLen is the shortest accepted signing secret, in bytes.
	MinWebhookSecretLen = 16
	// MaxWebhookRedirects is how many same-origin redirects one attempt
	// follows.
	MaxWebhookRedirects = 3

	// webhookMaxResponse is how much of a response body is read (and
	// discarded) so that the connection can be reused; the rest is dropped
	// with the connection.
	webhookMaxResponse = 64 << 10
	// webhookMaxResponseHeader bounds the response head the default
	// transport accepts (net/http's default is 1 MiB).
	webhookMaxResponseHeader = 64 << 10
	// webhookDrainTimeout bounds how long a response body is read once the
	// status is known: a receiver that answers 200 and then drips its body
	// must not hold the sender for the whole attempt timeout.
	webhookDrainTimeout = time.Second
	// webhookMaxRetryAfter caps a receiver's Retry-After (the dispatcher
	// applies its own, usually lower, cap).
	webhookMaxRetryAfter = 24 * time.Hour
	// webhookMaxID bounds the payload ID, which travels in two headers.
	webhookMaxID = 256
)

// Header names of a webhook delivery. Receivers read SignatureHeader with
// VerifySignature and deduplicate on DeliveryHeader (or Idempotency-Key,
// which carries the same value).
const (
	EventHeader     = "X-Honeyapi-Event"
	DeliveryHeader  = "X-Honeyapi-Delivery"
	SignatureHeader = "X-Honeyapi-Signature"
	// webhookUserAgent names the sender and the version of the delivery
	// format (headers, signature scheme).
	webhookUserAgent = "honeyapi-webhook/1"
)

// WebhookOptions configure a Webhook.
type WebhookOptions struct {
	// Name is the channel's name in configuration, logs and the outbox:
	// 1 to 64 characters among a-z, 0-9, '_' and '-'. Required.
	Name string
	// URL receives the alerts, one POST each. It must be https, except
	// that http is accepted when the host is a loopback address or
	// "localhost" (a local relay or a test). Required. A user:password in
	// it is sent as Basic authentication. Errors and RedactedURL never show
	// its userinfo, its query or its long path segments, which often hold
	// credentials.
	URL string
	// Secret signs every delivery (X-Honeyapi-Signature, HMAC-SHA256; see
	// Sign and VerifySignature). At least MinWebhookSecretLen bytes; 32
	// random bytes, hex or base64 encoded, is a good choice. Required. It
	// is never sent, logged or put in an error.
	Secret string
	// PreviousSecrets also sign every delivery while the secret is being
	// rotated: the header then carries one v1 signature per secret, Secret's
	// first, so receivers still on an old secret keep verifying until they
	// move to the new one. Each must be at least MinWebhookSecretLen bytes.
	// Default none.
	PreviousSecrets []string
	// Headers are sent with every delivery, e.g. an Authorization the
	// receiver wants. Names must be valid HTTP field names and values must
	// not contain control characters (CR, LF, NUL …). Host, Content-Length,
	// Content-Type, Transfer-Encoding, Connection, Idempotency-Key and
	// X-Honeyapi-* are set by the webhook and refused here. Values are never
	// put in an error.
	Headers map[string]string
	// Timeout bounds one attempt, the whole exchange: connecting, sending,
	// waiting for the answer, following redirects and reading the answer.
	// Default DefaultWebhookTimeout.
	Timeout time.Duration
	// HTTPClient is the base client (its Transport, Jar and Timeout are
	// used, e.g. for a proxy or a private CA). The webhook uses a copy and
	// follows redirects itself, whatever the client's CheckRedirect says.
	// Default: a client with its own copy of http.DefaultTransport whose
	// response head is limited to 64 KiB.
	HTTPClient *http.Client
	// MinSeverity is the lowest severity this channel receives; the
	// dispatcher reads it with MinSeverity. Default Info (every alert).
	MinSeverity Severity
}

// String describes the options without their secrets: the URL redacted
// as RedactedURL shows it, secrets and header values replaced by
// "[redacted]". fmt's %v and %+v use it, so options are safe to log.
func (o WebhookOptions) String() string {
	u := "[unparseable]"
	if parsed, err := url.Parse(o.URL); err == nil {
		u = redactWebhookURL(parsed)
	} else if o.URL == "" {
		u = ""
	}
	names := make([]string, 0, len(o.Headers))
	for k := range o.Headers {
		names = append(names, k+": [redacted]")
	}
	slices.Sort(names)
	secret := ""
	if o.Secret != "" {
		secret = "[redacted]"
	}
	return fmt.Sprintf("alerts.WebhookOptions{Name:%q URL:%q Secret:%s PreviousSecrets:%d Headers:%q Timeout:%s HTTPClient:%t MinSeverity:%q}",
		o.Name, u, secret, len(o.PreviousSecrets), names, o.Timeout, o.HTTPClient != nil, o.MinSeverity)
}

// GoString is String, for %#v.
func (o WebhookOptions) GoString() string { return o.String() }

// Webhook delivers alerts as signed JSON POSTs to one URL. It implements
// Channel and is safe for concurrent use.
//
// Each attempt POSTs the Payload as JSON (Content-Type application/json,
// User-Agent honeyapi-webhook/1) with X-Honeyapi-Event: alert, the
// payload's ID in both X-Honeyapi-Delivery and Idempotency-Key (the same on
// every retry, so receivers deduplicate on it), X-Honeyapi-Signature
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>" where t is
// the time of the attempt, and the configured Headers.
//
// A 2xx answer is a delivery. 429 and 503 with a valid Retry-After (delay
// seconds or an HTTP date) return a *RetryAfterError; other 5xx, 408, 429
// and 503, network errors, timeouts and unparseable answers return a plain
// error worth retrying; any other 4xx returns a *PermanentError. Redirects
// 301, 302, 307 and 308 are followed at most MaxWebhookRedirects times
// and only to the same scheme, host and port, by sending the same POST
// again (never turned into a GET, which would lose the alert); a
// redirect anywhere else, a 303 or another 3xx returns a *PermanentError
// and nothing is sent there. At most 64 KiB of any answer is read, and
// discarded.
type Webhook struct {
	name        string
	url         *url.URL
	redacted    string
	secrets     [][]byte // secrets[0] is the current one
	headers     http.Header
	timeout     time.Duration
	client      *http.Client
	minSeverity Severity
	now         func() time.Time
}

var _ Channel = (*Webhook)(nil)

// NewWebhook checks opts and returns the webhook channel they describe.
// Errors name the offending option but never contain the secret, a header
// value or the URL's userinfo or query.
func NewWebhook(opts WebhookOptions) (*Webhook, error) {
	if !validWebhookName(opts.Name) {
		return nil, errors.New("alerts: WebhookOptions.Name must be 1 to 64 characters among a-z, 0-9, '_' and '-'")
	}
	name := opts.Name
	u, err := parseWebhookURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("alerts: webhook %q: %w", name, err)
	}
	w := &Webhook{
		name:        name,
		url:         u,
		redacted:    redactWebhookURL(u),
		timeout:     opts.Timeout,
		minSeverity: opts.MinSeverity,
		now:         time.Now,
	}
	if len(opts.Secret) < MinWebhookSecretLen {
		return nil, fmt.Errorf("alerts: webhook %q: Secret must be at least %d bytes (it has %d)", name, MinWebhookSecretLen, len(opts.Secret))
	}
	w.secrets = append(w.secrets, []byte(opts.Secret))
	for i, s := range opts.PreviousSecrets {
		if len(s) < MinWebhookSecretLen {
			return nil, fmt.Errorf("alerts: webhook %q: PreviousSecrets[%d] must be at least %d bytes (it has %d)", name, i, MinWebhookSecretLen, len(s))
		}
		w.secrets = append(w.secrets, []byte(s))
	}
	if w.headers, err = webhookHeaders(opts.Headers); err != nil {
		return nil, fmt.Errorf("alerts: webhook %q: %w", name, err)
	}
	switch {
	case w.timeout < 0:
		return nil, fmt.Errorf("alerts: webhook %q: Timeout must not be negative", name)
	case w.timeout == 0:
		w.timeout = DefaultWebhookTimeout
	}
	switch {
	case w.minSeverity == "":
		w.minSeverity = Info
	case w.minSeverity.Rank() == 0:
		return nil, fmt.Errorf("alerts: webhook %q: MinSeverity must be info, high or critical", name)
	}
	if opts.HTTPClient != nil {
		c := *opts.HTTPClient
		w.client = &c
	} else {
		w.client = &http.Client{Transport: defaultWebhookTransport()}
	}
	// Redirects are followed by Send, which keeps the method and the body
	// and refuses other origins: the client never sees a Location.
	rt := w.client.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	w.client.Transport = hideLocation{rt}
	w.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return w, nil
}

// hiddenLocationKey holds a response's Location where http.Client does not
// look (a space cannot occur in a header name on the wire): the client
// would otherwise parse it before CheckRedirect is asked, and fail with an
// error quoting it whole.
const hiddenLocationKey = "honeyapi location"

// hideLocation moves the Location of every response to hiddenLocationKey.
type hideLocation struct{ rt http.RoundTripper }

func (h hideLocation) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := h.rt.RoundTrip(req)
	if resp != nil && resp.Header != nil {
		if loc, ok := resp.Header["Location"]; ok {
			delete(resp.Header, "Location")
			resp.Header[hiddenLocationKey] = loc
		}
	}
	return resp, err
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// wrapped transport.
func (h hideLocation) CloseIdleConnections() {
	if c, ok := h.rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func defaultWebhookTransport() http.RoundTripper {
	var t *http.Transport
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		t = dt.Clone()
	} else {
		t = &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true}
	}
	t.MaxResponseHeaderBytes = webhookMaxResponseHeader
	return t
}

// Name returns the channel's name.
func (w *Webhook) Name() string { return w.name }

// MinSeverity returns the lowest severity this channel receives.
func (w *Webhook) MinSeverity() Severity { return w.minSeverity }

// RedactedURL returns the URL for logs and display: scheme, host and path,
// without userinfo, with the query replaced by "?[redacted]" and path
// segments of 20 characters or more (tokens, as in many hosted webhook
// URLs) replaced by "[redacted]".
func (w *Webhook) RedactedURL() string { return w.redacted }

// String returns the channel's name and redacted URL.
func (w *Webhook) String() string { return "webhook " + w.name + " " + w.redacted }

// Send delivers p in one attempt (following at most MaxWebhookRedirects
// same-origin redirects) within the webhook's Timeout. See Webhook for
// what it sends and how it classifies the answer. Retrying is the
// caller's (the outbox's) business; net/http itself may resend the
// request once when a reused keep-alive connection turns out to be
// closed, which the Idempotency-Key makes safe.
func (w *Webhook) Send(ctx context.Context, p *Payload) error {
	if p == nil {
		return &PermanentError{Err: fmt.Errorf("alerts: webhook %q: nil payload", w.name)}
	}
	if p.ID == "" || len(p.ID) > webhookMaxID || !httpguts.ValidHeaderFieldValue(p.ID) {
		return &PermanentError{Err: fmt.Errorf("alerts: webhook %q: the payload ID (the idempotency key) must be 1 to %d printable characters", w.name, webhookMaxID)}
	}
	body, err := encodeWebhookPayload(p)
	if err != nil {
		return &PermanentError{Err: fmt.Errorf("alerts: webhook %q: encoding alert %s: %w", w.name, p.ID, err)}
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()

	h := w.headers.Clone()
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", webhookUserAgent)
	h.Set(EventHeader, "alert")
	h.Set(DeliveryHeader, p.ID)
	h.Set("Idempotency-Key", p.ID)
	h.Set(SignatureHeader, signHeader(w.secrets, w.now(), body))

	target := w.url
	for redirects := 0; ; redirects++ {
		code, respHeader, err := w.post(ctx, target, h, body)
		if err != nil {
			return w.transportError(ctx, err)
		}
		switch {
		case code >= 200 && code <= 299:
			return nil
		case code >= 300 && code <= 399:
			var location string
			if v := respHeader[hiddenLocationKey]; len(v) > 0 {
				location = v[0]
			}
			next, err := w.redirect(target, code, location, redirects)
			if err != nil {
				return err
			}
			target = next
		default:
			return w.statusError(code, respHeader)
		}
	}
}

// post sends one request and reads (and discards) at most
// webhookMaxResponse bytes of the answer, for at most webhookDrainTimeout.
func (w *Webhook) post(ctx context.Context, target *url.URL, h http.Header, body []byte) (int, http.Header, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header = h.Clone()
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	// The status decides; the body is read only so that the connection
	// can be reused, and cancelling ctx ends a read that drips.
	stop := time.AfterFunc(webhookDrainTimeout, cancel)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, webhookMaxResponse))
	stop.Stop()
	_ = resp.Body.Close()
	return resp.StatusCode, resp.Header, nil
}

// redirect checks a 3xx answer and returns where to send the POST again.
func (w *Webhook) redirect(from *url.URL, code int, location string, followed int) (*url.URL, error) {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil, &PermanentError{Err: w.errorf("receiver answered %d %s; only 301, 302, 307 and 308 redirects are followed (configure the final URL)", code, http.StatusText(code))}
	}
	if location == "" {
		return nil, &PermanentError{Err: w.errorf("receiver answered %d without a Location", code)}
	}
	next, err := from.Parse(location)
	if err != nil || (next.Scheme != "http" && next.Scheme != "https") || next.Host == "" {
		return nil, &PermanentError{Err: w.errorf("receiver answered %d with an invalid Location", code)}
	}
	next.Fragment, next.RawFragment = "", ""
	if !sameWebhookOrigin(w.url, next) {
		return nil, &PermanentError{Err: w.errorf("receiver redirected (%d) to %s://%s; refused: redirects are followed only to the same scheme, host and port", code, next.Scheme, clipWebhookText(next.Host, 100))}
	}
	if followed >= MaxWebhookRedirects {
		return nil, &PermanentError{Err: w.errorf("more than %d redirects", MaxWebhookRedirects)}
	}
	return next, nil
}

// statusError classifies a final non-2xx, non-3xx answer.
func (w *Webhook) statusError(code int, h http.Header) error {
	err := w.errorf("receiver answered %d %s", code, http.StatusText(code))
	switch {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		if d, ok := parseWebhookRetryAfter(h.Get("Retry-After"), w.now()); ok {
			return &RetryAfterError{After: d, Err: err}
		}
		return err
	case code == http.StatusRequestTimeout:
		return err
	case code >= 400 && code <= 499:
		return &PermanentError{Err: err}
	}
	return err // 5xx, and codes no receiver should send
}

// transportError rewrites an error from the HTTP client, whose *url.Error
// would show the URL's query.
func (w *Webhook) transportError(ctx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return w.errorf("no complete answer in time (timeout %s): %w", w.timeout, err)
	}
	return w.errorf("%w", err)
}

func (w *Webhook) errorf(format string, args ...any) error {
	return fmt.Errorf("alerts: webhook %q: POST %s: "+format, append([]any{w.name, w.redacted}, args...)...)
}

// encodeWebhookPayload is the body of a delivery: the Payload as JSON
// without HTML escaping ("<", ">" and "&" stay as they are, which keeps
// paths and queries searchable in a SIEM; every JSON decoder reads both
// forms the same). The signature covers exactly these bytes.
func encodeWebhookPayload(p *Payload) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// parseWebhookRetryAfter reads a Retry-After value: delay seconds or an
// HTTP date, clamped to [0, webhookMaxRetryAfter].
func parseWebhookRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isASCIIDigits(v) {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > uint64(webhookMaxRetryAfter/time.Second) {
			return webhookMaxRetryAfter, true
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), webhookMaxRetryAfter), true
}

func validWebhookName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func parseWebhookURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("URL is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error quotes the whole URL.
		return nil, errors.New("URL does not parse")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("URL must be an http or https URL")
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, errors.New("URL has no host")
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("URL must be https (http is accepted only for a loopback host, not %q)", clipWebhookText(u.Hostname(), 100))
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// forbiddenWebhookHeaders are set by the webhook or by net/http.
var forbiddenWebhookHeaders = map[string]bool{
	"Host":              true,
	"Content-Length":    true,
	"Content-Type":      true,
	"Transfer-Encoding": true,
	"Connection":        true,
	"Idempotency-Key":   true,
}

func webhookHeaders(in map[string]string) (http.Header, error) {
	h := make(http.Header, len(in))
	for name, value := range in {
		if !httpguts.ValidHeaderFieldName(name) {
			return nil, fmt.Errorf("Headers: %q is not a valid header name", clipWebhookText(name, 64))
		}
		key := http.CanonicalHeaderKey(name)
		if forbiddenWebhookHeaders[key] || strings.HasPrefix(key, "X-Honeyapi-") {
			return nil, fmt.Errorf("Headers: %s is set by the webhook and cannot be configured", key)
		}
		if !httpguts.ValidHeaderFieldValue(value) {
			return nil, fmt.Errorf("Headers: the value of %s contains a control character (CR, LF, NUL …)", key)
		}
		if _, dup := h[key]; dup {
			return nil, fmt.Errorf("Headers: %s is given twice (names are case-insensitive)", key)
		}
		h[key] = []string{value}
	}
	return h, nil
}

// redactWebhookURL is u without userinfo, query or long path segments.
func redactWebhookURL(u *url.URL) string {
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteString("://")
	b.WriteString(u.Host)
	segs := strings.Split(u.EscapedPath(), "/")
	for i, seg := range segs {
		if len(seg) >= 20 {
			segs[i] = "[redacted]"
		}
	}
	b.WriteString(strings.Join(segs, "/"))
	if u.RawQuery != "" || u.ForceQuery {
		b.WriteString("?[redacted]")
	}
	return b.String()
}

// sameWebhookOrigin reports whether a and b have the same scheme, host and
// port (an omitted port is the scheme's default).
func sameWebhookOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		webhookPort(a) == webhookPort(b)
}

func webhookPort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

func isASCIIDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// clipWebhookText bounds text that came from elsewhere (a Location, a
// configured name) before it goes into an error.
func clipWebhookText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
