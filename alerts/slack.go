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
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// SlackOptions configures a Slack channel. Exactly one of WebhookURL or
// BotToken (with Channel) must be set.
type SlackOptions struct {
	// Name is the channel's name in configuration, logs and the outbox:
	// 1 to 64 characters among a-z, 0-9, '_' and '-'. Default "slack".
	Name string
	// WebhookURL is a Slack incoming-webhook URL. It is a secret: it never
	// appears in logs or error strings. It must use https; http is accepted
	// only for loopback hosts (tests, local relays).
	WebhookURL string
	// BotToken is a bot token (xoxb-…) used with chat.postMessage. It is a
	// secret: it never appears in logs or error strings.
	BotToken string
	// Channel is the channel ID or name the bot posts to (with BotToken).
	Channel string
	// APIURL is the base URL of the Slack Web API used with BotToken (for
	// tests and Slack-compatible servers). Default slack.APIURL
	// ("https://slack.com/api/"). It must use https, or http to a loopback
	// host; a trailing "/" is added when missing.
	APIURL string
	// HTTPClient sends the requests. Default: a client with a 10s timeout.
	// A caller's client is used with its Timeout and Transport, but
	// redirects are never followed whatever its CheckRedirect says: a
	// redirect could carry the bot token (sent in the form body) or the
	// alert to another host.
	HTTPClient *http.Client
	// MinSeverity is the lowest severity this channel receives; the
	// dispatcher reads it with MinSeverity. Default Info (every alert).
	MinSeverity Severity
}

// String describes the options without their secrets, so that printing
// them (%v, %+v) cannot leak the webhook URL or the bot token.
func (o SlackOptions) String() string {
	return fmt.Sprintf("alerts.SlackOptions{Name:%q WebhookURL:%s BotToken:%s Channel:%q APIURL:%q MinSeverity:%q}",
		o.Name, slackRedactedMark(o.WebhookURL), slackRedactedMark(o.BotToken), o.Channel, o.APIURL, o.MinSeverity)
}

// GoString is String for %#v.
func (o SlackOptions) GoString() string { return o.String() }

// Slack delivers alerts to Slack as Block Kit messages, through an incoming
// webhook or chat.postMessage (slack-go). It is safe for concurrent use.
//
// In mrkdwn text, every attacker-controlled string of the payload (paths,
// queries, user agents, notes, summaries, fingerprints, ids…) is rendered
// inside an inline code span, where Slack applies no formatting, after:
//   - & < > are written as &amp; &lt; &gt; (so no <!channel>, <@U…>,
//     <#C…> or <url|label> control sequence can form);
//   - a backtick is replaced by "ˋ" (U+02CB), so a value cannot close its
//     code span (mrkdwn has no backslash escape);
//   - control characters, line and paragraph separators, invisible
//     format characters (bidi overrides, zero-width characters) and
//     spaces other than U+0020 are shown as \n, \t, \uXXXX, so a value
//     cannot add lines, reorder text or hide in look-alike spaces;
//   - invalid UTF-8 becomes U+FFFD, leading and trailing U+0020 spaces
//     are trimmed, and the value is truncated with "…" to a bound that keeps
//     every block within Slack's limits.
//
// Every mrkdwn text object is sent with verbatim=true (no automatic
// linking of URLs, channel names or mentions), messages with parse=none,
// link_names=false and unfurling off, so Slack never fetches a URL an
// attacker chose. The header (plain_text: severity and title) carries no
// control characters, shows & < > as look-alikes (＆ ‹ ›) and is cut to
// 150 characters. The dashboard button is added only for an http(s) URL.
type Slack struct {
	name        string
	minSeverity Severity
	client      *http.Client

	// creds holds the webhook URL (webhook mode) and what to redact; the
	// bot token lives in api (bot mode). String has a value receiver, so
	// that printing a Slack or a copy of one shows neither.
	creds *slackCreds

	// Bot mode.
	api     *slack.Client
	channel string

	// target describes the destination without secrets, for errors.
	target string
}

// slackCreds are a Slack channel's secrets.
type slackCreds struct {
	webhookURL string
	// secrets are replaced by "[redacted]" in every error string, longest
	// first.
	secrets []string
}

func (*slackCreds) String() string   { return "[redacted]" }
func (*slackCreds) GoString() string { return "[redacted]" }

var _ Channel = (*Slack)(nil)

// slackDefaultTimeout is the timeout of the default HTTP client.
const slackDefaultTimeout = 10 * time.Second

// NewSlack returns a Slack channel, or an error naming what is wrong in the
// options. The error never contains the webhook URL or the token.
func NewSlack(opts SlackOptions) (*Slack, error) {
	name := opts.Name
	if name == "" {
		name = "slack"
	}
	if !slackValidName(name) {
		return nil, errors.New("alerts: SlackOptions.Name must be 1 to 64 characters among a-z, 0-9, '_' and '-'")
	}
	minSeverity := opts.MinSeverity
	switch {
	case minSeverity == "":
		minSeverity = Info
	case minSeverity.Rank() == 0:
		return nil, fmt.Errorf("alerts: slack %q: MinSeverity must be info, high or critical", name)
	}
	webhook := strings.TrimSpace(opts.WebhookURL)
	token := strings.TrimSpace(opts.BotToken)
	channel := strings.TrimSpace(opts.Channel)

	s := &Slack{
		name:        name,
		minSeverity: minSeverity,
		client:      slackHTTPClient(opts.HTTPClient),
		creds:       &slackCreds{},
	}

	switch {
	case webhook != "" && (token != "" || channel != ""):
		return nil, fmt.Errorf("alerts: slack %q: set either WebhookURL or BotToken and Channel, not both (an incoming webhook posts to the channel it was created for)", name)
	case webhook != "":
		u, err := slackCheckURL(webhook)
		if err != nil {
			return nil, fmt.Errorf("alerts: slack %q: WebhookURL %v", name, err)
		}
		s.creds.webhookURL = webhook
		s.target = "webhook " + u.Scheme + "://" + u.Host + "/[redacted]"
		s.addSecret(webhook, u.String(), u.Path, u.RawPath, u.EscapedPath(), u.RawQuery, u.Fragment)
		if u.User != nil {
			s.addSecret(u.User.String())
		}
	case token != "" && channel == "":
		return nil, fmt.Errorf("alerts: slack %q: Channel is required with BotToken", name)
	case token == "" && channel != "":
		return nil, fmt.Errorf("alerts: slack %q: BotToken is required with Channel", name)
	case token != "":
		if strings.ContainsFunc(token, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
			return nil, fmt.Errorf("alerts: slack %q: BotToken contains spaces or control characters", name)
		}
		apiURL := strings.TrimSpace(opts.APIURL)
		if apiURL == "" {
			apiURL = slack.APIURL
		}
		u, err := slackCheckURL(apiURL)
		if err != nil {
			return nil, fmt.Errorf("alerts: slack %q: APIURL %v", name, err)
		}
		if !strings.HasSuffix(apiURL, "/") {
			apiURL += "/"
		}
		s.channel = channel
		s.api = slack.New(token, slack.OptionHTTPClient(s.client), slack.OptionAPIURL(apiURL))
		s.target = "chat.postMessage " + u.Scheme + "://" + u.Host
		s.addSecret(token, url.QueryEscape(token))
	default:
		return nil, fmt.Errorf("alerts: slack %q: set WebhookURL, or BotToken and Channel", name)
	}
	return s, nil
}

// Name is the channel's name.
func (s *Slack) Name() string { return s.name }

// MinSeverity is the lowest severity the channel receives.
func (s *Slack) MinSeverity() Severity { return s.minSeverity }

// String describes the channel without its secrets. (A value receiver,
// so that printing a copy cannot show the secrets either.)
func (s Slack) String() string { return fmt.Sprintf("slack channel %q (%s)", s.name, s.target) }

// GoString is String for %#v.
func (s Slack) GoString() string { return s.String() }

// Send posts one alert. See Channel for the meaning of the error; its
// text never contains the webhook URL or the token.
func (s *Slack) Send(ctx context.Context, p *Payload) error {
	if p == nil {
		return &PermanentError{Err: fmt.Errorf("alerts: slack %q: nil payload", s.name)}
	}
	blocks, text := slackMessage(p)
	info := &slackResponseInfo{}
	ctx2 := context.WithValue(ctx, slackCaptureKey{}, info)

	var err error
	if s.api != nil {
		_, _, err = s.api.PostMessageContext(ctx2, s.channel,
			slack.MsgOptionBlocks(blocks...),
			slack.MsgOptionText(text, false), // already escaped
			slack.MsgOptionParse(false),
			slack.MsgOptionLinkNames(false),
			slack.MsgOptionDisableLinkUnfurl(),
			slack.MsgOptionDisableMediaUnfurl(),
		)
	} else {
		off := false
		err = slack.PostWebhookCustomHTTPContext(ctx2, s.creds.webhookURL, s.client, &slack.WebhookMessage{
			Text:        text,
			Blocks:      &slack.Blocks{BlockSet: blocks},
			Parse:       "none",
			UnfurlLinks: &off,
			UnfurlMedia: &off,
		})
	}
	if err == nil {
		return nil
	}
	return s.classify(ctx, err, info)
}

// --- errors ---------------------------------------------------------------

// slackError is an error whose text has been redacted. It never wraps the
// error it was made from (whose text or fields, such as a *url.Error's URL,
// could hold the webhook URL), only, at most, a context sentinel.
type slackError struct {
	msg      string
	sentinel error
}

func (e *slackError) Error() string { return e.msg }
func (e *slackError) Unwrap() error { return e.sentinel }

// slackRetryableCodes are Slack Web API error codes worth retrying; every
// other code is permanent (bad token, missing channel, scope, payload…).
var slackRetryableCodes = map[string]bool{
	"ratelimited":            true,
	"rate_limited":           true,
	"message_limit_exceeded": true,
	"internal_error":         true,
	"fatal_error":            true,
	"service_unavailable":    true,
	"request_timeout":        true,
	"timeout":                true,
	"team_added_to_org":      true,
	"rollup_error":           true,
}

// slackMaxRetryAfter bounds a Retry-After a server asks for.
const slackMaxRetryAfter = 24 * time.Hour

// classify turns a slack-go error into the Channel contract's errors.
func (s *Slack) classify(ctx context.Context, err error, info *slackResponseInfo) error {
	prefix := fmt.Sprintf("alerts: slack %q: %s", s.name, s.target)
	plain := func(format string, args ...any) *slackError {
		return &slackError{msg: prefix + ": " + s.redact(fmt.Sprintf(format, args...))}
	}

	// The caller's deadline or cancellation: retryable, and errors.Is
	// finds the context error.
	if cerr := ctx.Err(); cerr != nil {
		e := plain("%v", err)
		e.sentinel = cerr
		return e
	}

	// Slack's rate limit (HTTP 429 with an integer Retry-After).
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		after, ok := slackParseRetryAfter(info.retryAfter, time.Now())
		if !ok { // cannot happen: slack-go read the same header
			after = min(max(rl.RetryAfter, 0), slackMaxRetryAfter)
		}
		return &RetryAfterError{After: after, Err: plain("rate limited (HTTP 429)")}
	}

	// An HTTP status other than 200, as the transport saw it (slack-go
	// keeps only the code, and no Retry-After other than an integer one
	// on 429, nor the body).
	if info.status != 0 && info.status != http.StatusOK {
		code := info.status
		detail := ""
		if info.code != "" {
			detail = ": " + info.code
		}
		switch {
		case code >= 200 && code < 300 && s.api == nil:
			// A Slack-compatible webhook receiver answering 201/202/204
			// accepted the message.
			return nil
		case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
			if after, ok := slackParseRetryAfter(info.retryAfter, time.Now()); ok {
				return &RetryAfterError{After: after, Err: plain("HTTP %d%s", code, detail)}
			}
			return plain("HTTP %d%s", code, detail)
		case code == http.StatusRequestTimeout || code >= 500:
			return plain("HTTP %d%s", code, detail)
		case code >= 300 && code < 400:
			return &PermanentError{Err: plain("HTTP %d: redirect not followed (check the URL)", code)}
		default:
			return &PermanentError{Err: plain("HTTP %d%s", code, detail)}
		}
	}

	// chat.postMessage answered {"ok":false,"error":…}.
	var api slack.SlackErrorResponse
	if errors.As(err, &api) {
		code := slackSafeCode(api.Err)
		if code == "" {
			code = "unknown error"
		}
		msg := "Slack API error " + code
		if needed := slackSafeCode(api.Needed); needed != "" {
			msg += " (needed " + needed + ")"
		}
		if slackRetryableCodes[api.Err] {
			if after, ok := slackParseRetryAfter(info.retryAfter, time.Now()); ok {
				return &RetryAfterError{After: after, Err: plain("%s", msg)}
			}
			return plain("%s", msg)
		}
		return &PermanentError{Err: plain("%s", msg)}
	}

	// A status slack-go saw but the transport did not (a caller's client
	// whose transport was bypassed cannot happen, but stay safe).
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		if sc.Code >= 500 || sc.Code == http.StatusTooManyRequests || sc.Code == http.StatusRequestTimeout {
			return plain("HTTP %d", sc.Code)
		}
		return &PermanentError{Err: plain("HTTP %d", sc.Code)}
	}

	// Network errors, timeouts, unreadable responses: retryable.
	return plain("%v", err)
}

// slackValidName is the rule for channel names (as for webhooks).
func slackValidName(s string) bool {
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

// addSecret records strings to redact from errors.
func (s *Slack) addSecret(secrets ...string) {
	c := s.creds
	for _, v := range secrets {
		// Too short to be a secret ("/", ""), and replacing it would
		// mangle the message.
		if len(v) < 4 {
			continue
		}
		c.secrets = append(c.secrets, v)
	}
	sort.Slice(c.secrets, func(i, j int) bool { return len(c.secrets[i]) > len(c.secrets[j]) })
}

// redact removes every secret from msg.
func (s *Slack) redact(msg string) string {
	for _, v := range s.creds.secrets {
		msg = strings.ReplaceAll(msg, v, "[redacted]")
	}
	return msg
}

// slackRedactedMark shows whether a secret is set without showing it.
func slackRedactedMark(v string) string {
	if v == "" {
		return `""`
	}
	return "[redacted]"
}

// slackSafeCode keeps a Slack error code ("channel_not_found",
// "chat:write") and drops anything else a server could send.
func slackSafeCode(v string) string {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 64 {
		return ""
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.:,", r)) {
			return ""
		}
	}
	return v
}

// slackParseRetryAfter reads a Retry-After header: seconds or an HTTP
// date, bounded by slackMaxRetryAfter.
func slackParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(slackMaxRetryAfter/time.Second) {
			return slackMaxRetryAfter, true
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), slackMaxRetryAfter), true
	}
	return 0, false
}

// --- HTTP -----------------------------------------------------------------

// slackCheckURL accepts an absolute https URL, or http to a loopback host.
// Its errors never contain the URL.
func slackCheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, errors.New("is not an absolute URL")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !slackLoopbackHost(u.Hostname()) {
			return nil, errors.New("must use https (http is allowed only to loopback hosts)")
		}
	default:
		return nil, errors.New("must use https")
	}
	return u, nil
}

func slackLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// slackHTTPClient copies the caller's client (or makes the default one),
// wraps its transport to capture what slack-go drops, and refuses
// redirects.
func slackHTTPClient(c *http.Client) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	} else {
		out.Timeout = slackDefaultTimeout
	}
	base := out.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	out.Transport = &slackTransport{base: base}
	out.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &out
}

// slackCaptureKey is the context key of a request's *slackResponseInfo.
type slackCaptureKey struct{}

// slackResponseInfo is what the transport saw of the response.
type slackResponseInfo struct {
	status     int
	retryAfter string
	// code is a Slack error code read from a non-200 body ("no_service",
	// "invalid_payload", or the "error" of a JSON body).
	code string
}

// slackTransport records the status, Retry-After and error code of a
// response in the request's slackResponseInfo: slack-go reports a non-200
// webhook response as a bare status code and discards its body and
// headers. It runs in the goroutine of the Send that made the request.
type slackTransport struct{ base http.RoundTripper }

func (t *slackTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp == nil {
		return resp, err
	}
	info, ok := req.Context().Value(slackCaptureKey{}).(*slackResponseInfo)
	if !ok {
		return resp, nil
	}
	info.status = resp.StatusCode
	info.retryAfter = resp.Header.Get("Retry-After")
	if resp.StatusCode != http.StatusOK && resp.Body != nil {
		head, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		info.code = slackBodyCode(head)
		resp.Body = slackReadCloser{Reader: io.MultiReader(bytes.NewReader(head), resp.Body), Closer: resp.Body}
	}
	return resp, nil
}

type slackReadCloser struct {
	io.Reader
	io.Closer
}

// slackBodyCode extracts an error code from a Slack error body: plain text
// ("no_service") or JSON ({"ok":false,"error":"invalid_arguments"}).
func slackBodyCode(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '{' {
		var v struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &v) == nil {
			return slackSafeCode(v.Error)
		}
		return ""
	}
	return slackSafeCode(string(body))
}

// --- message --------------------------------------------------------------

// Slack's limits (characters; lengths here are counted in UTF-16 code
// units, never fewer than Slack's characters).
const (
	slackHeaderMax = 150
	slackTextMax   = 3000
	slackMaxBlocks = 50
	slackURLMax    = 3000
)

// slackRuleLabels name the rules in words.
var slackRuleLabels = map[string]string{
	"token_used":   "honeytoken used",
	"exploitation": "exploitation attempt",
	"new_actor":    "new actor",
	"stage":        "actor reached a new stage",
	"test":         "test alert",
}

// slackMessage renders p as Block Kit blocks and a one-line fallback
// (notification) text.
func slackMessage(p *Payload) ([]slack.Block, string) {
	var blocks []slack.Block
	mrkdwn := func(text string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, text, false, true)
	}
	section := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(slackJoinLines(title, lines)), nil, nil))
	}

	blocks = append(blocks, slack.NewHeaderBlock(
		slack.NewTextBlockObject(slack.PlainTextType, slackHeaderText(p), false, false)))

	if p.Test {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(
			"*This is a test alert*, sent by `honeyapi alerts test`. No decoy or honeytoken was touched: the details below are sample data."), nil, nil))
	}
	if v := slackCode(p.Summary, 2800); v != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(v), nil, nil))
	}

	// What.
	if t := p.Token; t != nil {
		var lines []string
		kind := "Honeytoken " + slackOr(slackCode(t.Kind, 100), "of unknown kind")
		if v := slackCode(t.ID, 100); v != "" {
			kind += " (id " + v + ")"
		}
		if t.Revoked {
			kind += ", *revoked*"
		}
		lines = append(lines, kind)
		lines = slackLine(lines, "Note", t.Note, 400)
		if v := slackCode(t.Planted, 400); v != "" {
			if src := slackCode(t.Source, 40); src != "" {
				v += " (source " + src + ")"
			}
			lines = append(lines, "Planted: "+v)
		} else {
			lines = slackLine(lines, "Source", t.Source, 40)
		}
		lines = slackLine(lines, "Decoy", t.Decoy, 200)
		lines = slackLine(lines, "Presented in", t.Where, 300)
		switch {
		case t.Signature == "valid":
			lines = append(lines, "Signature: *verified* with the token's secret")
		case t.Signature != "":
			lines = slackLine(lines, "Signature", t.Signature, 60)
		}
		section("*What was used*", lines)
	} else {
		lines := slackLine(nil, "Rule", p.Rule, 60)
		section("*What happened*", lines)
	}

	// Who.
	{
		c := p.Client
		var lines []string
		lines = slackLine(lines, "Client IP", c.IP, 64)
		var parts []string
		if v := slackCode(c.Actor, 100); v != "" {
			parts = append(parts, v)
		}
		if c.Risk != 0 {
			parts = append(parts, "risk "+strconv.Itoa(c.Risk))
		}
		if v := slackCode(c.Stage, 60); v != "" {
			parts = append(parts, "stage "+v)
		}
		if len(parts) > 0 {
			lines = append(lines, "Actor: "+strings.Join(parts, " · "))
		}
		parts = parts[:0]
		if v := slackCode(c.Family, 80); v != "" {
			parts = append(parts, "family "+v)
		}
		if v := slackCode(c.Tool, 80); v != "" {
			parts = append(parts, "tool "+v)
		}
		if len(parts) > 0 {
			lines = append(lines, "Client: "+strings.Join(parts, " · "))
		}
		lines = slackLine(lines, "User agent", c.UserAgent, 500)
		parts = parts[:0]
		if v := slackCode(c.JA3, 80); v != "" {
			parts = append(parts, "JA3 "+v)
		}
		if v := slackCode(c.JA4, 80); v != "" {
			parts = append(parts, "JA4 "+v)
		}
		if v := slackCode(c.HeaderFP, 80); v != "" {
			parts = append(parts, "headers "+v)
		}
		if len(parts) > 0 {
			lines = append(lines, "Fingerprints: "+strings.Join(parts, " · "))
		}
		if len(c.Signals) > 0 {
			const show = 10
			var sig []string
			for i, v := range c.Signals {
				if i == show {
					sig = append(sig, fmt.Sprintf("+%d more", len(c.Signals)-show))
					break
				}
				if v := slackCode(v, 80); v != "" {
					sig = append(sig, v)
				}
			}
			if len(sig) > 0 {
				lines = append(lines, "Signals: "+strings.Join(sig, ", "))
			}
		}
		section("*Who*", lines)
	}

	// When.
	{
		var lines []string
		if !p.Time.IsZero() {
			lines = append(lines, "Time: "+slackTime(p.Time))
		}
		if p.Count > 1 {
			noun := "events"
			if p.Token != nil {
				noun = "uses"
			}
			line := fmt.Sprintf("%d %s", p.Count, noun)
			if !p.FirstSeen.IsZero() && !p.LastSeen.IsZero() {
				line += " between " + slackTime(p.FirstSeen) + " and " + slackTime(p.LastSeen)
			}
			lines = append(lines, line)
		}
		section("*When*", lines)
	}

	// Through which request.
	if r := p.Request; r != nil {
		var lines []string
		var parts []string
		if v := slackCode(r.Method, 16); v != "" {
			parts = append(parts, v)
		}
		if v := slackCode(r.Host, 256); v != "" {
			parts = append(parts, "host "+v)
		}
		if len(parts) > 0 {
			lines = append(lines, "Request: "+strings.Join(parts, " "))
		}
		lines = slackLine(lines, "Path", r.Path, 800)
		lines = slackLine(lines, "Query", r.Query, 600)
		if r.Status != 0 {
			lines = append(lines, "Status: "+strconv.Itoa(r.Status))
		}
		parts = parts[:0]
		if v := slackCode(r.Listener, 80); v != "" {
			parts = append(parts, "listener "+v)
		}
		if v := slackCode(r.Kind, 40); v != "" {
			parts = append(parts, "kind "+v)
		}
		if v := slackCode(r.Event, 100); v != "" {
			parts = append(parts, "event "+v)
		}
		if len(parts) > 0 {
			lines = append(lines, "Recorded: "+strings.Join(parts, " · "))
		}
		section("*Request*", lines)
	}

	if u := slackDashboardURL(p.DashboardURL); u != "" {
		button := slack.NewButtonBlockElement("honeyapi_open_dashboard", "",
			slack.NewTextBlockObject(slack.PlainTextType, "Open in the dashboard", false, false)).WithURL(u)
		blocks = append(blocks, slack.NewActionBlock("", button))
	}

	ctxText := "Alert " + slackOr(slackCode(p.ID, 100), "without id")
	if v := slackCode(p.Rule, 60); v != "" {
		ctxText += " · rule " + v
	}
	if p.Test {
		ctxText += " · *test*"
	}
	ctxText += " · honeyapi"
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(ctxText)))

	if len(blocks) > slackMaxBlocks { // cannot happen: at most 9 blocks
		blocks = blocks[:slackMaxBlocks]
	}
	return blocks, slackFallback(p)
}

// slackHeaderText is "CRITICAL · honeytoken used" (plain text).
func slackHeaderText(p *Payload) string {
	sev := "ALERT"
	if p.Severity.Rank() > 0 {
		sev = strings.ToUpper(string(p.Severity))
	}
	what := strings.TrimSpace(p.Title)
	if what == "" {
		what = slackRuleLabels[p.Rule]
	}
	if what == "" {
		what = "alert"
	}
	text := sev + " · " + what
	if p.Test {
		text = "TEST · " + text
	}
	return slackPlain(text, slackHeaderMax)
}

// slackFallback is the one-line notification text.
func slackFallback(p *Payload) string {
	var b strings.Builder
	if p.Test {
		b.WriteString("[TEST] ")
	}
	if p.Severity.Rank() > 0 {
		b.WriteString(strings.ToUpper(string(p.Severity)))
	} else {
		b.WriteString("ALERT")
	}
	b.WriteString(": ")
	if label := slackRuleLabels[p.Rule]; label != "" {
		b.WriteString(label)
	} else {
		b.WriteString(slackOr(slackCode(p.Rule, 40), "alert"))
	}
	if p.Token != nil {
		if v := slackCode(p.Token.Kind, 60); v != "" {
			b.WriteString(" " + v)
		}
	}
	if v := slackCode(p.Client.IP, 64); v != "" {
		b.WriteString(" from " + v)
	}
	if r := p.Request; r != nil {
		m, path := slackCode(r.Method, 16), slackCode(r.Path, 120)
		switch {
		case m != "" && path != "":
			b.WriteString(" (" + m + " " + path + ")")
		case path != "":
			b.WriteString(" (" + path + ")")
		}
	}
	if p.Count > 1 {
		fmt.Fprintf(&b, ", %d times", p.Count)
	}
	// Every part is bounded; stay far below Slack's 40,000 anyway.
	return b.String()
}

// slackLine appends "Label: `value`" when value is not empty.
func slackLine(lines []string, label, value string, limit int) []string {
	if v := slackCode(value, limit); v != "" {
		lines = append(lines, label+": "+v)
	}
	return lines
}

// slackJoinLines renders a section: a bold title and bulleted lines,
// dropping whole lines (never cutting a code span) past Slack's limit.
func slackJoinLines(title string, lines []string) string {
	const more = "\n• …"
	rendered := make([]string, len(lines))
	total := slackLen(title)
	for i, l := range lines {
		rendered[i] = "\n• " + l
		total += slackLen(rendered[i])
	}
	var b strings.Builder
	b.WriteString(title)
	if total <= slackTextMax {
		for _, l := range rendered {
			b.WriteString(l)
		}
		return b.String()
	}
	n := slackLen(title)
	for _, l := range rendered {
		w := slackLen(l)
		if n+w > slackTextMax-slackLen(more) {
			break
		}
		b.WriteString(l)
		n += w
	}
	b.WriteString(more)
	return b.String()
}

func slackOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func slackTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// slackDashboardURL returns u when it is a usable http(s) link for a
// button, else "".
func slackDashboardURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return ""
	}
	s := u.String()
	if slackLen(s) > slackURLMax {
		return ""
	}
	return s
}

// slackLen counts UTF-16 code units: never fewer than Slack's characters.
func slackLen(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// slackTruncate joins pieces, keeping at most limit UTF-16 units: when
// they do not all fit, as many as fit with "…" after them. A piece (an
// escape sequence) is never cut.
func slackTruncate(pieces []string, limit int) string {
	total := 0
	for _, p := range pieces {
		total += slackLen(p)
	}
	var b strings.Builder
	if total <= limit {
		for _, p := range pieces {
			b.WriteString(p)
		}
		return b.String()
	}
	n := 0
	for _, p := range pieces {
		w := slackLen(p)
		if n+w > limit-1 {
			break
		}
		b.WriteString(p)
		n += w
	}
	b.WriteString("…")
	return b.String()
}

// slackRunes splits s into runes, invalid UTF-8 bytes becoming U+FFFD.
func slackRunes(s string) []rune {
	rs := make([]rune, 0, len(s))
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		rs = append(rs, r) // utf8.RuneError is U+FFFD
		s = s[size:]
	}
	return rs
}

// slackCode renders an untrusted value as an inline code span with at
// most limit UTF-16 units between the backticks ("" for an empty value).
// See Slack for the rules.
func slackCode(s string, limit int) string {
	s = strings.Trim(s, " ")
	if s == "" {
		return ""
	}
	// Bound the work on huge values: each rune renders to one unit or more.
	if len(s) > 4*limit+4 {
		s = s[:4*limit+4]
	}
	rs := slackRunes(s)
	pieces := make([]string, len(rs))
	for i, r := range rs {
		pieces[i] = slackEscapeRune(r)
	}
	return "`" + slackTruncate(pieces, limit) + "`"
}

// slackEscapeRune is the text shown for r inside a code span.
func slackEscapeRune(r rune) string {
	switch r {
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	case '`':
		return "ˋ" // U+02CB: a code span cannot be closed from inside
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	}
	if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co, unicode.Cs) ||
		(r != ' ' && unicode.Is(unicode.Zs, r)) {
		if r > 0xFFFF {
			return fmt.Sprintf(`\U%08x`, r)
		}
		return fmt.Sprintf(`\u%04x`, r)
	}
	return string(r)
}

// slackPlain makes a plain_text value: control and invisible characters
// dropped, spaces of every kind made plain spaces, & < > shown as
// look-alikes (whether Slack decodes entities in plain_text is not
// documented), at most limit UTF-16 units.
func slackPlain(s string, limit int) string {
	s = strings.TrimSpace(s)
	if len(s) > 4*limit+4 {
		s = s[:4*limit+4]
	}
	var pieces []string
	for _, r := range slackRunes(s) {
		switch {
		case r == '&':
			r = '＆'
		case r == '<':
			r = '‹'
		case r == '>':
			r = '›'
		case unicode.IsSpace(r):
			r = ' '
		case unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Co, unicode.Cs):
			continue
		}
		pieces = append(pieces, string(r))
	}
	return slackTruncate(pieces, limit)
}
