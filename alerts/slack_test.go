package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/slack-go/slack"
)

// The secrets of these tests: no error may contain them.
const (
	slackTestHookPath = "/services/T0SECRET/B0SECRET/XSECRETxSECRETxSECRET"
	slackTestToken    = "xoxb-1111-2222-SECRETtokenSECRET"
	slackTestChannel  = "C0ALERTS"
)

// slackFakeRequest is one request the fake Slack server received.
type slackFakeRequest struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
	Form   url.Values
}

// slackFake is a fake Slack (incoming webhook and Web API) on loopback.
type slackFake struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []slackFakeRequest
}

// newSlackFake starts a fake whose answers come from respond.
func newSlackFake(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) *slackFake {
	t.Helper()
	f := &slackFake{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := slackFakeRequest{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			req.Form, _ = url.ParseQuery(string(body))
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, req)
		f.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		respond(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *slackFake) requests() []slackFakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]slackFakeRequest(nil), f.reqs...)
}

// slackWebhookOK answers like Slack's incoming webhooks.
func slackWebhookOK(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "ok")
}

// slackAPIOK answers chat.postMessage like Slack.
func slackAPIOK(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/chat.postMessage" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":true,"channel":"`+slackTestChannel+`","ts":"1700000000.000100","message":{"text":"x"}}`)
}

func newTestSlackWebhook(t *testing.T, f *slackFake, mod func(*SlackOptions)) *Slack {
	t.Helper()
	opts := SlackOptions{WebhookURL: f.URL + slackTestHookPath}
	if mod != nil {
		mod(&opts)
	}
	s, err := NewSlack(opts)
	if err != nil {
		t.Fatalf("NewSlack: %v", err)
	}
	return s
}

func newTestSlackBot(t *testing.T, f *slackFake, mod func(*SlackOptions)) *Slack {
	t.Helper()
	opts := SlackOptions{BotToken: slackTestToken, Channel: slackTestChannel, APIURL: f.URL + "/api/"}
	if mod != nil {
		mod(&opts)
	}
	s, err := NewSlack(opts)
	if err != nil {
		t.Fatalf("NewSlack: %v", err)
	}
	return s
}

func slackTestPayload() *Payload {
	first := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	last := first.Add(26 * time.Minute)
	return &Payload{
		Version:   PayloadVersion,
		ID:        "alr_01HZX",
		Time:      last,
		Severity:  Critical,
		Rule:      "token_used",
		Summary:   "AWS access key used from 203.0.113.7",
		Count:     12,
		FirstSeen: first,
		LastSeen:  last,
		Token: &TokenInfo{
			ID: "tok_42", Kind: "aws_access_key", Note: "prod deploy key bait",
			Source: "seed", Planted: "build-01 git@example.com:acme/app.git .env",
			Decoy: "aws", Where: "header Authorization (SigV4)", Signature: "valid",
		},
		Client: ClientInfo{
			IP: "203.0.113.7", Actor: "act_7f3a", Risk: 85, Stage: "exploitation",
			Family: "scanner", Tool: "aws-cli", UserAgent: "aws-cli/2.15.0 Python/3.11",
			JA3: "771,4865-4866,0-23,29-23,0", JA4: "t13d1516h2_8daaf6152771_e5627efa2ab1",
			HeaderFP: "hfp_9c1e", Signals: []string{"known_tool", "token_replay"},
		},
		Request: &RequestInfo{
			Event: "evt_99", Kind: "token_used", Listener: "decoy-main", Method: "POST",
			Host: "sts.internal.example", Path: "/", Query: "Action=GetCallerIdentity", Status: 403,
		},
		DashboardURL: "https://honeyapi.example/events/evt_99",
	}
}

// slackTextObject is a text object found in the blocks.
type slackTextObject struct {
	Type     string
	Text     string
	Verbatim bool
}

// slackTextObjects walks decoded JSON for every text object.
func slackTextObjects(v any) []slackTextObject {
	var out []slackTextObject
	switch v := v.(type) {
	case map[string]any:
		typ, _ := v["type"].(string)
		text, ok := v["text"].(string)
		if ok && (typ == "mrkdwn" || typ == "plain_text") {
			verbatim, _ := v["verbatim"].(bool)
			out = append(out, slackTextObject{Type: typ, Text: text, Verbatim: verbatim})
		}
		for _, x := range v {
			out = append(out, slackTextObjects(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, slackTextObjects(x)...)
		}
	}
	return out
}

// slackDecodeWebhook decodes the JSON a webhook received: its blocks (as
// generic JSON and through slack-go's types) and its fallback text.
func slackDecodeWebhook(t *testing.T, body []byte) (raw map[string]any, msg slack.WebhookMessage) {
	t.Helper()
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("webhook body is not JSON: %v", err)
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		t.Fatalf("webhook body does not decode as slack.WebhookMessage: %v", err)
	}
	return raw, msg
}

func slackAllText(objs []slackTextObject) string {
	var b strings.Builder
	for _, o := range objs {
		b.WriteString(o.Text)
		b.WriteString("\n")
	}
	return b.String()
}

func slackBlockTypes(blocks []any) []string {
	var types []string
	for _, b := range blocks {
		m, _ := b.(map[string]any)
		typ, _ := m["type"].(string)
		types = append(types, typ)
	}
	return types
}

func TestSlackWebhookDeliversBlockKit(t *testing.T) {
	f := newSlackFake(t, slackWebhookOK)
	s := newTestSlackWebhook(t, f, nil)
	if err := s.Send(context.Background(), slackTestPayload()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != slackTestHookPath {
		t.Errorf("got %s %s, want POST %s", r.Method, r.Path, slackTestHookPath)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	t.Logf("webhook body: %s", r.Body)
	raw, msg := slackDecodeWebhook(t, r.Body)
	if msg.Blocks == nil || len(msg.Blocks.BlockSet) == 0 {
		t.Fatal("no blocks decoded by slack-go")
	}
	if _, ok := msg.Blocks.BlockSet[0].(*slack.HeaderBlock); !ok {
		t.Errorf("first block is %T, want *slack.HeaderBlock", msg.Blocks.BlockSet[0])
	}
	if msg.UnfurlLinks == nil || *msg.UnfurlLinks || msg.UnfurlMedia == nil || *msg.UnfurlMedia {
		t.Error("unfurl_links and unfurl_media must be false")
	}
	if msg.Parse != "none" {
		t.Errorf("parse %q, want none", msg.Parse)
	}

	blocks, _ := raw["blocks"].([]any)
	types := slackBlockTypes(blocks)
	want := []string{"header", "section", "section", "section", "section", "section", "actions", "context"}
	if strings.Join(types, ",") != strings.Join(want, ",") {
		t.Errorf("block types %v, want %v", types, want)
	}
	objs := slackTextObjects(blocks)
	if objs[0].Type != "plain_text" || objs[0].Text != "CRITICAL · honeytoken used" {
		t.Errorf("header %+v, want plain_text %q", objs[0], "CRITICAL · honeytoken used")
	}
	for _, o := range objs {
		if o.Type == "mrkdwn" && !o.Verbatim {
			t.Errorf("mrkdwn text without verbatim=true: %q", o.Text)
		}
	}
	all := slackAllText(objs)
	for _, want := range []string{
		"*What was used*", "Honeytoken `aws_access_key` (id `tok_42`)",
		"Note: `prod deploy key bait`",
		"Planted: `build-01 git@example.com:acme/app.git .env` (source `seed`)",
		"Decoy: `aws`", "Presented in: `header Authorization (SigV4)`",
		"Signature: *verified* with the token's secret",
		"*Who*", "Client IP: `203.0.113.7`",
		"Actor: `act_7f3a` · risk 85 · stage `exploitation`",
		"Client: family `scanner` · tool `aws-cli`",
		"User agent: `aws-cli/2.15.0 Python/3.11`",
		"JA3 `771,4865-4866,0-23,29-23,0`", "JA4 `t13d1516h2_8daaf6152771_e5627efa2ab1`", "headers `hfp_9c1e`",
		"Signals: `known_tool`, `token_replay`",
		"*When*", "Time: 2025-03-14 09:26:00 UTC",
		"12 uses between 2025-03-14 09:00:00 UTC and 2025-03-14 09:26:00 UTC",
		"*Request*", "Request: `POST` host `sts.internal.example`", "Path: `/`",
		"Query: `Action=GetCallerIdentity`", "Status: 403",
		"Recorded: listener `decoy-main` · kind `token_used` · event `evt_99`",
		"`AWS access key used from 203.0.113.7`",
		"Alert `alr_01HZX` · rule `token_used` · honeyapi",
		"Open in the dashboard",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("message lacks %q; texts:\n%s", want, all)
		}
	}
	if strings.Contains(all, "test alert") {
		t.Error("a real alert must not say it is a test")
	}
	body := string(r.Body)
	if !strings.Contains(body, `"url":"https://honeyapi.example/events/evt_99"`) {
		t.Errorf("no dashboard button URL in %s", body)
	}
	wantText := "CRITICAL: honeytoken used `aws_access_key` from `203.0.113.7` (`POST` `/`), 12 times"
	if msg.Text != wantText {
		t.Errorf("fallback text %q, want %q", msg.Text, wantText)
	}
}

func TestSlackTestAlertSaysSo(t *testing.T) {
	f := newSlackFake(t, slackWebhookOK)
	s := newTestSlackWebhook(t, f, nil)
	p := &Payload{ID: "alr_test", Severity: Info, Rule: "test", Title: "Test alert from honeyapi", Test: true, Time: time.Now()}
	if err := s.Send(context.Background(), p); err != nil {
		t.Fatalf("Send: %v", err)
	}
	raw, msg := slackDecodeWebhook(t, f.requests()[0].Body)
	objs := slackTextObjects(raw["blocks"])
	if objs[0].Text != "TEST · INFO · Test alert from honeyapi" {
		t.Errorf("header %q", objs[0].Text)
	}
	all := slackAllText(objs)
	for _, want := range []string{"*This is a test alert*", "sample data", "· *test* ·"} {
		if !strings.Contains(all, want) {
			t.Errorf("test alert lacks %q:\n%s", want, all)
		}
	}
	if !strings.HasPrefix(msg.Text, "[TEST] INFO: test alert") {
		t.Errorf("fallback text %q does not say test", msg.Text)
	}
	// Without a request, token or dashboard: no such blocks.
	if strings.Contains(all, "*Request*") || strings.Contains(string(f.requests()[0].Body), `"actions"`) {
		t.Errorf("empty parts rendered:\n%s", all)
	}
}

func TestSlackBotPostsMessage(t *testing.T) {
	f := newSlackFake(t, slackAPIOK)
	s := newTestSlackBot(t, f, nil)
	if err := s.Send(context.Background(), slackTestPayload()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/api/chat.postMessage" {
		t.Fatalf("got %s %s, want POST /api/chat.postMessage", r.Method, r.Path)
	}
	if r.Form == nil {
		t.Fatalf("chat.postMessage body is not a form (Content-Type %q)", r.Header.Get("Content-Type"))
	}
	// slack-go v0.34.0 sends chat.postMessage as a form with the token in
	// the "token" field; accept the Authorization header too, should a
	// later version move it there.
	token := r.Form.Get("token")
	if h := r.Header.Get("Authorization"); h != "" {
		token = strings.TrimPrefix(h, "Bearer ")
	}
	if token != slackTestToken {
		t.Errorf("token %q, want the bot token", token)
	}
	if got := r.Form.Get("channel"); got != slackTestChannel {
		t.Errorf("channel %q, want %q", got, slackTestChannel)
	}
	for k, want := range map[string]string{"unfurl_links": "false", "unfurl_media": "false", "parse": "none", "link_names": "false"} {
		if got := r.Form.Get(k); got != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	if !strings.Contains(r.Form.Get("text"), "honeytoken used `aws_access_key`") {
		t.Errorf("fallback text %q", r.Form.Get("text"))
	}
	var blocks []any
	if err := json.Unmarshal([]byte(r.Form.Get("blocks")), &blocks); err != nil {
		t.Fatalf("blocks field is not JSON: %v", err)
	}
	var typed slack.Blocks
	if err := json.Unmarshal([]byte(r.Form.Get("blocks")), &typed); err != nil {
		t.Fatalf("blocks do not decode through slack-go: %v", err)
	}
	all := slackAllText(slackTextObjects(blocks))
	for _, want := range []string{"CRITICAL · honeytoken used", "Client IP: `203.0.113.7`", "Path: `/`"} {
		if !strings.Contains(all, want) {
			t.Errorf("blocks lack %q", want)
		}
	}
}

// slackModes runs a test in webhook and bot mode against one fake.
func slackModes(t *testing.T, respond func(w http.ResponseWriter, r *http.Request), mod func(*SlackOptions), run func(t *testing.T, s *Slack, f *slackFake)) {
	t.Run("webhook", func(t *testing.T) {
		f := newSlackFake(t, respond)
		run(t, newTestSlackWebhook(t, f, mod), f)
	})
	t.Run("bot", func(t *testing.T) {
		f := newSlackFake(t, respond)
		run(t, newTestSlackBot(t, f, mod), f)
	})
}

func TestSlackRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		status     int
		retryAfter string
		want       time.Duration
	}{
		{http.StatusTooManyRequests, "7", 7 * time.Second},
		{http.StatusServiceUnavailable, "3", 3 * time.Second},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			slackModes(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", tc.retryAfter)
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, "rate_limited")
			}, nil, func(t *testing.T, s *Slack, _ *slackFake) {
				err := s.Send(context.Background(), slackTestPayload())
				var ra *RetryAfterError
				if !errors.As(err, &ra) {
					t.Fatalf("got %T %v, want *RetryAfterError", err, err)
				}
				if ra.After != tc.want {
					t.Errorf("After %v, want %v", ra.After, tc.want)
				}
				if d, ok := RetryAfter(err); !ok || d != tc.want {
					t.Errorf("RetryAfter(err) = %v, %v", d, ok)
				}
				if IsPermanent(err) {
					t.Error("a rate limit must not be permanent")
				}
			})
		})
	}
}

func TestSlackRetryAfterHTTPDate(t *testing.T) {
	when := time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)
	slackModes(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", when)
		w.WriteHeader(http.StatusTooManyRequests)
	}, nil, func(t *testing.T, s *Slack, _ *slackFake) {
		err := s.Send(context.Background(), slackTestPayload())
		d, ok := RetryAfter(err)
		if !ok || d < 25*time.Second || d > 31*time.Second {
			t.Fatalf("RetryAfter = %v, %v (err %v), want about 30s", d, ok, err)
		}
	})
}

func TestSlackRateLimitWithoutRetryAfterIsRetryable(t *testing.T) {
	slackModes(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTooManyRequests)
	}, nil, func(t *testing.T, s *Slack, _ *slackFake) {
		err := s.Send(context.Background(), slackTestPayload())
		if err == nil || IsPermanent(err) {
			t.Fatalf("got %v, want a retryable error", err)
		}
	})
}

func TestSlackServerErrorIsRetryable(t *testing.T) {
	slackModes(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, "<html><body>oops</body></html>")
	}, nil, func(t *testing.T, s *Slack, _ *slackFake) {
		err := s.Send(context.Background(), slackTestPayload())
		if err == nil {
			t.Fatal("no error for HTTP 500")
		}
		if IsPermanent(err) {
			t.Errorf("HTTP 500 is permanent: %v", err)
		}
		if _, ok := RetryAfter(err); ok {
			t.Errorf("HTTP 500 without Retry-After asks to wait: %v", err)
		}
		if !strings.Contains(err.Error(), "HTTP 500") || strings.Contains(err.Error(), "html") {
			t.Errorf("error %q: want the status, not the body", err)
		}
	})
}

func TestSlackNetworkErrorIsRetryable(t *testing.T) {
	f := newSlackFake(t, slackWebhookOK)
	s := newTestSlackWebhook(t, f, nil)
	f.Close()
	err := s.Send(context.Background(), slackTestPayload())
	if err == nil || IsPermanent(err) {
		t.Fatalf("got %v, want a retryable error", err)
	}
}

func TestSlackAPIErrors(t *testing.T) {
	for _, tc := range []struct {
		code      string
		permanent bool
	}{
		{"channel_not_found", true},
		{"invalid_auth", true},
		{"not_in_channel", true},
		{"token_revoked", true},
		{"missing_scope", true},
		{"invalid_blocks", true},
		{"internal_error", false},
		{"ratelimited", false},
	} {
		t.Run(tc.code, func(t *testing.T) {
			f := newSlackFake(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"ok":false,"error":"`+tc.code+`","needed":"chat:write"}`)
			})
			err := newTestSlackBot(t, f, nil).Send(context.Background(), slackTestPayload())
			if err == nil {
				t.Fatal("no error")
			}
			if IsPermanent(err) != tc.permanent {
				t.Errorf("IsPermanent = %v, want %v (%v)", IsPermanent(err), tc.permanent, err)
			}
			if !strings.Contains(err.Error(), tc.code) {
				t.Errorf("error %q does not name %q", err, tc.code)
			}
		})
	}
}

func TestSlackWebhookErrors(t *testing.T) {
	for _, tc := range []struct {
		status    int
		body      string
		permanent bool
	}{
		{http.StatusNotFound, "no_service", true},
		{http.StatusBadRequest, "invalid_payload", true},
		{http.StatusForbidden, "action_prohibited", true},
		{http.StatusGone, "channel_is_archived", true},
		{http.StatusNotFound, `{"ok":false,"error":"channel_not_found"}`, true},
		{http.StatusRequestTimeout, "", false},
		{http.StatusBadGateway, "", false},
	} {
		t.Run(fmt.Sprint(tc.status, tc.body), func(t *testing.T) {
			f := newSlackFake(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			})
			err := newTestSlackWebhook(t, f, nil).Send(context.Background(), slackTestPayload())
			if err == nil {
				t.Fatal("no error")
			}
			if IsPermanent(err) != tc.permanent {
				t.Errorf("IsPermanent = %v, want %v (%v)", IsPermanent(err), tc.permanent, err)
			}
			if want := fmt.Sprintf("HTTP %d", tc.status); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
			if tc.body != "" && !strings.Contains(tc.body, "{") && !strings.Contains(err.Error(), tc.body) {
				t.Errorf("error %q does not name %q", err, tc.body)
			}
			if strings.Contains(tc.body, "channel_not_found") && !strings.Contains(err.Error(), "channel_not_found") {
				t.Errorf("error %q does not name the JSON error", err)
			}
		})
	}
}

func TestSlackWebhookAccepts2xx(t *testing.T) {
	f := newSlackFake(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	if err := newTestSlackWebhook(t, f, nil).Send(context.Background(), slackTestPayload()); err != nil {
		t.Fatalf("HTTP 204 from a Slack-compatible receiver: %v", err)
	}
}

func TestSlackRedirectsAreNotFollowed(t *testing.T) {
	var hits int
	var mu sync.Mutex
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		slackAPIOK(w, r)
	}))
	defer elsewhere.Close()
	// Even with a caller's client that would follow them.
	client := &http.Client{Timeout: 5 * time.Second}
	slackModes(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}, func(o *SlackOptions) { o.HTTPClient = client }, func(t *testing.T, s *Slack, _ *slackFake) {
		err := s.Send(context.Background(), slackTestPayload())
		if !IsPermanent(err) {
			t.Errorf("got %v, want a permanent error", err)
		}
	})
	mu.Lock()
	defer mu.Unlock()
	if hits != 0 {
		t.Errorf("the redirect target got %d requests (the token would have followed)", hits)
	}
	if client.CheckRedirect != nil {
		t.Error("NewSlack changed the caller's client")
	}
}

// slackHang answers only when the client goes away.
func slackHang(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(30 * time.Second):
	}
}

func TestSlackHangingServerHonoursContext(t *testing.T) {
	slackModes(t, slackHang, nil, func(t *testing.T, s *Slack, _ *slackFake) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := s.Send(ctx, slackTestPayload())
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("Send took %v after a 200ms deadline", took)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v, want context.DeadlineExceeded", err)
		}
		if IsPermanent(err) {
			t.Errorf("a timeout is permanent: %v", err)
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("error leaks a secret: %v", err)
		}
	})
}

func TestSlackHangingServerHonoursClientTimeout(t *testing.T) {
	slackModes(t, slackHang, func(o *SlackOptions) {
		o.HTTPClient = &http.Client{Timeout: 200 * time.Millisecond}
	}, func(t *testing.T, s *Slack, _ *slackFake) {
		start := time.Now()
		err := s.Send(context.Background(), slackTestPayload())
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("Send took %v with a 200ms client timeout", took)
		}
		if err == nil || IsPermanent(err) {
			t.Errorf("got %v, want a retryable error", err)
		}
	})
}

// slackAssertNoSecret checks every error of a chain and its printed forms.
func slackAssertNoSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	secrets := []string{slackTestHookPath, "T0SECRET", "B0SECRET", "XSECRETxSECRETxSECRET", slackTestToken, "SECRETtoken"}
	for e := err; e != nil; e = errors.Unwrap(e) {
		for _, form := range []string{e.Error(), fmt.Sprintf("%v", e), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e)} {
			for _, sec := range secrets {
				if strings.Contains(form, sec) {
					t.Errorf("error %q leaks %q", form, sec)
				}
			}
		}
	}
}

func TestSlackErrorsNeverContainSecrets(t *testing.T) {
	responders := map[string]func(w http.ResponseWriter, r *http.Request){
		"404": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, "no_service")
		},
		"500": func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) },
		"429": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		},
		"api error": func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"ok":false,"error":"invalid_auth"}`)
		},
		"not json": func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "<html>") },
		"hang":     slackHang,
		// A server echoing what it received (path, body with the token)
		// in its error.
		"echo": func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, r.URL.Path+" "+string(b))
		},
	}
	for name, respond := range responders {
		t.Run(name, func(t *testing.T) {
			slackModes(t, respond, func(o *SlackOptions) {
				o.HTTPClient = &http.Client{Timeout: 300 * time.Millisecond}
			}, func(t *testing.T, s *Slack, _ *slackFake) {
				err := s.Send(context.Background(), slackTestPayload())
				if err == nil && s.api != nil {
					t.Fatal("no error")
				}
				// (A webhook ignores the body of a 200.)
				t.Logf("error: %v", err)
				slackAssertNoSecret(t, err)
			})
		})
	}
	t.Run("connection refused", func(t *testing.T) {
		slackModes(t, slackWebhookOK, nil, func(t *testing.T, s *Slack, f *slackFake) {
			f.Close()
			err := s.Send(context.Background(), slackTestPayload())
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("error: %v", err)
			if !strings.Contains(err.Error(), "127.0.0.1") {
				t.Errorf("error %q does not say where it failed", err)
			}
			slackAssertNoSecret(t, err)
		})
	})
	t.Run("cancelled", func(t *testing.T) {
		slackModes(t, slackHang, nil, func(t *testing.T, s *Slack, _ *slackFake) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			err := s.Send(ctx, slackTestPayload())
			if !errors.Is(err, context.Canceled) {
				t.Errorf("got %v, want context.Canceled", err)
			}
			slackAssertNoSecret(t, err)
		})
	})
	t.Run("printing", func(t *testing.T) {
		opts := SlackOptions{WebhookURL: "https://hooks.slack.com" + slackTestHookPath}
		s, err := NewSlack(opts)
		if err != nil {
			t.Fatal(err)
		}
		bot := SlackOptions{BotToken: slackTestToken, Channel: "C1"}
		b, err := NewSlack(bot)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []any{opts, &opts, s, *s, bot, b} {
			for _, form := range []string{"%v", "%+v", "%#v", "%s"} {
				slackAssertNoSecret(t, errors.New(fmt.Sprintf(form, v)))
			}
		}
	})
}

func TestNewSlackValidation(t *testing.T) {
	hook := "https://hooks.slack.com" + slackTestHookPath
	for _, tc := range []struct {
		name string
		opts SlackOptions
		want string // in the error; "" for success
	}{
		{"webhook", SlackOptions{WebhookURL: hook}, ""},
		{"bot", SlackOptions{BotToken: slackTestToken, Channel: "#alerts"}, ""},
		{"loopback http", SlackOptions{WebhookURL: "http://127.0.0.1:9" + slackTestHookPath}, ""},
		{"localhost http", SlackOptions{WebhookURL: "http://localhost:9" + slackTestHookPath}, ""},
		{"ipv6 loopback http", SlackOptions{WebhookURL: "http://[::1]:9" + slackTestHookPath}, ""},
		{"nothing", SlackOptions{}, "set WebhookURL, or BotToken and Channel"},
		{"both", SlackOptions{WebhookURL: hook, BotToken: slackTestToken, Channel: "C1"}, "not both"},
		{"webhook and channel", SlackOptions{WebhookURL: hook, Channel: "C1"}, "not both"},
		{"token without channel", SlackOptions{BotToken: slackTestToken}, "Channel is required"},
		{"channel without token", SlackOptions{Channel: "C1"}, "BotToken is required"},
		{"http webhook", SlackOptions{WebhookURL: "http://hooks.slack.com" + slackTestHookPath}, "must use https"},
		{"ftp webhook", SlackOptions{WebhookURL: "ftp://hooks.slack.com" + slackTestHookPath}, "must use https"},
		{"relative webhook", SlackOptions{WebhookURL: slackTestHookPath}, "not an absolute URL"},
		{"bad webhook", SlackOptions{WebhookURL: "https://hooks.slack.com/%zz" + slackTestHookPath}, "not an absolute URL"},
		{"http API", SlackOptions{BotToken: slackTestToken, Channel: "C1", APIURL: "http://slack.example/api/"}, "APIURL must use https"},
		{"token with newline", SlackOptions{BotToken: "xoxb-1\nSECRETtoken", Channel: "C1"}, "control characters"},
		{"bad severity", SlackOptions{WebhookURL: hook, MinSeverity: "urgent"}, "MinSeverity must be"},
		{"bad name", SlackOptions{Name: "Slack Ops", WebhookURL: hook}, "Name must be"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSlack(tc.opts)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("NewSlack: %v", err)
				}
				if s.Name() != "slack" {
					t.Errorf("Name %q, want slack", s.Name())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			slackAssertNoSecret(t, err)
		})
	}
}

func TestSlackNameAndSeverity(t *testing.T) {
	s, err := NewSlack(SlackOptions{Name: "soc", WebhookURL: "https://hooks.slack.com/x/y/z", MinSeverity: High})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "soc" || s.MinSeverity() != High {
		t.Errorf("Name %q MinSeverity %q", s.Name(), s.MinSeverity())
	}
	s, err = NewSlack(SlackOptions{WebhookURL: "https://hooks.slack.com/x/y/z"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "slack" || s.MinSeverity() != Info {
		t.Errorf("defaults: Name %q MinSeverity %q, want slack, info", s.Name(), s.MinSeverity())
	}
}

func TestSlackNilPayloadIsPermanent(t *testing.T) {
	f := newSlackFake(t, slackWebhookOK)
	if err := newTestSlackWebhook(t, f, nil).Send(context.Background(), nil); !IsPermanent(err) {
		t.Errorf("got %v, want a permanent error", err)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests for a nil payload", n)
	}
}

func TestSlackCodeEscaping(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"GET", "`GET`"},
		{"  padded  ", "`padded`"},
		{"<!channel>", "`&lt;!channel&gt;`"},
		{"<@U123|bob>", "`&lt;@U123|bob&gt;`"},
		{"<https://evil.example|click>", "`&lt;https://evil.example|click&gt;`"},
		{"a&amp;b", "`a&amp;amp;b`"},
		{"```rm -rf```", "`ˋˋˋrm -rfˋˋˋ`"},
		{"`", "`ˋ`"},
		{"*b* _i_ ~s~", "`*b* _i_ ~s~`"},
		{"a\nb\r\tc", "`a\\nb\\r\\tc`"},
		{"nul\x00esc\x1b[31m", "`nul\\u0000esc\\u001b[31m`"},
		{"del\x7fc1\u0085x", "`del\\u007fc1\\u0085x`"},
		{"\tpadded\n", "`\\tpadded\\n`"},
		{"nbsp\u00a0ideo\u3000", "`nbsp\\u00a0ideo\\u3000`"},
		{"abc\u202edef", "`abc\\u202edef`"},
		{"zero\u200bwidth\ufeff", "`zero\\u200bwidth\\ufeff`"},
		{"line\u2028para\u2029x", "`line\\u2028para\\u2029x`"},
		{"tag\U000E0041", "`tag\\U000e0041`"},
		{"bad\xff\xfeutf8", "`bad\ufffd\ufffdutf8`"},
		{"日本語 🎉 café", "`日本語 🎉 café`"},
	} {
		if got := slackCode(tc.in, 100); got != tc.want {
			t.Errorf("slackCode(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSlackCodeTruncation(t *testing.T) {
	for _, tc := range []struct {
		in    string
		limit int
		want  string
	}{
		{"abcdef", 6, "`abcdef`"},
		{"abcdefg", 6, "`abcde…`"},
		{"ab<cd", 5, "`ab…`"}, // "&lt;" is never cut
		{"ab<", 6, "`ab&lt;`"},
		{"🎉🎉🎉", 5, "`🎉🎉…`"}, // a surrogate pair counts 2
	} {
		if got := slackCode(tc.in, tc.limit); got != tc.want {
			t.Errorf("slackCode(%q, %d) = %q, want %q", tc.in, tc.limit, got, tc.want)
		}
	}
	huge := strings.Repeat("<&`", 1_000_000)
	got := slackCode(huge, 2000)
	if n := slackLen(got); n > 2002 {
		t.Errorf("truncated value is %d units long", n)
	}
	if !strings.HasSuffix(got, "…`") {
		t.Errorf("truncated value does not end with an ellipsis: %q", got[len(got)-20:])
	}
}

func TestSlackPlain(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"CRITICAL · honeytoken used", "CRITICAL · honeytoken used"},
		{"<!channel> & <@U1>", "‹!channel› ＆ ‹@U1›"},
		{"a\nb\tc\x00d\u202ee", "a b cde"},
		{strings.Repeat("x", 200), strings.Repeat("x", 149) + "…"},
	} {
		if got := slackPlain(tc.in, 150); got != tc.want {
			t.Errorf("slackPlain(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// slackHostile builds a payload whose every attacker-reachable string is
// hostile. Every fragment carries EVIL, so that any of it found outside
// a code span is a failure.
func slackHostile(long bool) *Payload {
	h := "EVIL<!channel>EVIL <!here|here> <@U123ABC> <#C123|general> <!subteam^S1> " +
		"<https://evil.example/x|click me>EVIL ```EVIL\ncode```EVIL *EVIL* _EVIL_ ~EVIL~ `EVIL` " +
		"&amp;EVIL &lt;EVIL&gt; @channel @here #general :skull: https://evil.example/EVIL " +
		"\x00\x07\x1b[31mEVIL\u202eEVIL\u200bEVIL\u2028EVIL\r\n> EVIL quote\n日本語 🎉 EVIL\xff\xfeEVIL`"
	if long {
		h = strings.Repeat("EVIL`<!channel>*_~&\n", 20000) + h
	}
	return &Payload{
		ID: h, Time: time.Now(), Severity: Severity(h), Rule: h, Title: h, Summary: h, Count: 3,
		FirstSeen: time.Now(), LastSeen: time.Now(),
		Token:   &TokenInfo{ID: h, Kind: h, Note: h, Source: h, Planted: h, Decoy: h, Where: h, Signature: h},
		Client:  ClientInfo{IP: h, Actor: h, Stage: h, Family: h, Tool: h, UserAgent: h, JA3: h, JA4: h, HeaderFP: h, Signals: []string{h, h, h, h, h, h, h, h, h, h, h, h}},
		Request: &RequestInfo{Event: h, Kind: h, Listener: h, Method: h, Host: h, Path: h, Query: h, Status: 200},
		// Not a URL a button may carry.
		DashboardURL: "javascript:alert(1)//" + h,
	}
}

// slackCheckMrkdwn fails when text lets anything out of a code span.
func slackCheckMrkdwn(t *testing.T, where, text string) {
	t.Helper()
	if strings.ContainsAny(text, "<>") {
		t.Errorf("%s: raw < or > in %q", where, slackShort(text))
	}
	for i := 0; i < len(text); i++ {
		if text[i] != '&' {
			continue
		}
		rest := text[i:]
		if !strings.HasPrefix(rest, "&amp;") && !strings.HasPrefix(rest, "&lt;") && !strings.HasPrefix(rest, "&gt;") {
			t.Errorf("%s: bare & in %q", where, slackShort(rest))
			break
		}
	}
	for _, r := range text {
		if r != '\n' && (unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)) {
			t.Errorf("%s: raw control or format character %U", where, r)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		parts := strings.Split(line, "`")
		if len(parts)%2 == 0 {
			t.Errorf("%s: unbalanced backticks in line %q", where, slackShort(line))
			continue
		}
		for i := 0; i < len(parts); i += 2 { // outside code spans
			if strings.Contains(parts[i], "EVIL") || strings.ContainsAny(parts[i], "@#<>&") {
				t.Errorf("%s: attacker text outside a code span: %q", where, slackShort(parts[i]))
			}
		}
	}
	if n := slackLen(text); n > 3000 {
		t.Errorf("%s: %d characters, over Slack's 3000", where, n)
	}
}

func slackShort(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// slackCheckHostile checks a delivered message built from slackHostile.
func slackCheckHostile(t *testing.T, blocksJSON []byte, text string, long bool) {
	t.Helper()
	var blocks []any
	if err := json.Unmarshal(blocksJSON, &blocks); err != nil {
		t.Fatalf("blocks: %v", err)
	}
	if len(blocks) > 50 {
		t.Errorf("%d blocks, over Slack's 50", len(blocks))
	}
	if strings.Contains(string(blocksJSON), "javascript:") || strings.Contains(string(blocksJSON), `"actions"`) {
		t.Error("a javascript: dashboard URL became a button")
	}
	objs := slackTextObjects(blocks)
	for i, o := range objs {
		where := fmt.Sprintf("text %d (%s)", i, o.Type)
		switch o.Type {
		case "plain_text":
			if strings.ContainsAny(o.Text, "<>&\n") {
				t.Errorf("%s: %q", where, o.Text)
			}
			for _, r := range o.Text {
				if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
					t.Errorf("%s: control character %U", where, r)
				}
			}
			if n := slackLen(o.Text); n > 150 {
				t.Errorf("%s: %d characters, over the header's 150", where, n)
			}
		case "mrkdwn":
			if !o.Verbatim {
				t.Errorf("%s: not verbatim", where)
			}
			slackCheckMrkdwn(t, where, o.Text)
		}
	}
	slackCheckMrkdwn(t, "fallback text", text)
	if strings.Contains(text, "\n") {
		t.Errorf("fallback text is not one line: %q", slackShort(text))
	}
	all := slackAllText(objs)
	if !long {
		for _, want := range []string{"日本語 🎉", `\u202e`, `\u0000`, "&lt;!channel&gt;", "ˋˋˋEVIL", "\ufffd"} {
			if !strings.Contains(all, want) {
				t.Errorf("rendered text lacks %q", want)
			}
		}
	}
	if long && !strings.Contains(all, "…") {
		t.Error("long values are not marked as truncated")
	}
}

func TestSlackHostilePayloadWebhook(t *testing.T) {
	for _, long := range []bool{false, true} {
		t.Run(fmt.Sprintf("long=%v", long), func(t *testing.T) {
			f := newSlackFake(t, slackWebhookOK)
			if err := newTestSlackWebhook(t, f, nil).Send(context.Background(), slackHostile(long)); err != nil {
				t.Fatalf("Send: %v", err)
			}
			var raw struct {
				Blocks json.RawMessage `json:"blocks"`
				Text   string          `json:"text"`
			}
			if err := json.Unmarshal(f.requests()[0].Body, &raw); err != nil {
				t.Fatal(err)
			}
			slackCheckHostile(t, raw.Blocks, raw.Text, long)
		})
	}
}

func TestSlackHostilePayloadBot(t *testing.T) {
	for _, long := range []bool{false, true} {
		t.Run(fmt.Sprintf("long=%v", long), func(t *testing.T) {
			f := newSlackFake(t, slackAPIOK)
			if err := newTestSlackBot(t, f, nil).Send(context.Background(), slackHostile(long)); err != nil {
				t.Fatalf("Send: %v", err)
			}
			form := f.requests()[0].Form
			slackCheckHostile(t, []byte(form.Get("blocks")), form.Get("text"), long)
		})
	}
}

// Concurrent sends each see their own response: the Retry-After of a 503
// (which only the transport captures) is the number in the alert's id.
func TestSlackConcurrentSendsKeepTheirOwnResponse(t *testing.T) {
	idRE := regexp.MustCompile(`alr_conc_([0-9]+)`)
	slackModes(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(b))
		m := idRE.FindStringSubmatch(string(b) + form.Get("blocks"))
		if m == nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		time.Sleep(time.Millisecond)
		w.Header().Set("Retry-After", m[1])
		w.WriteHeader(http.StatusServiceUnavailable)
	}, nil, func(t *testing.T, s *Slack, _ *slackFake) {
		var wg sync.WaitGroup
		for i := 1; i <= 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := slackTestPayload()
				p.ID = fmt.Sprintf("alr_conc_%d", i)
				err := s.Send(context.Background(), p)
				if d, ok := RetryAfter(err); !ok || d != time.Duration(i)*time.Second {
					t.Errorf("alert %d: RetryAfter = %v, %v (%v)", i, d, ok, err)
				}
			}()
		}
		wg.Wait()
	})
}

func TestSlackParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7", 7 * time.Second, true},
		{" 0 ", 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"", 0, false},
		{"99999999999999", 24 * time.Hour, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	} {
		got, ok := slackParseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("slackParseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
