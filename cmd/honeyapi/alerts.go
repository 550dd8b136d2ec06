package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/honeyapi/honeyapi/alerts"
	"github.com/honeyapi/honeyapi/internal/config"
	"github.com/honeyapi/honeyapi/internal/deployment"
	"github.com/honeyapi/honeyapi/store"
	"github.com/honeyapi/honeyapi/web"
)

// alertChannels builds the configured alert channels and their routes.
func alertChannels(cfg *config.Config) ([]alerts.Dispatch, []alerts.Route, error) {
	var ds []alerts.Dispatch
	var routes []alerts.Route
	sev := func(s string) alerts.Severity {
		if s == "" {
			return alerts.Info
		}
		return alerts.Severity(s)
	}
	if s := cfg.Alerts.Slack; s.WebhookURL != "" || s.BotToken != "" {
		if s.BotToken != "" && s.Channel == "" {
			return nil, nil, errors.New("alerts.slack.bot_token needs alerts.slack.channel")
		}
		ch, err := alerts.NewSlack(alerts.SlackOptions{Name: "slack", WebhookURL: s.WebhookURL, BotToken: s.BotToken,
			Channel: s.Channel, MinSeverity: sev(s.MinSeverity)})
		if err != nil {
			return nil, nil, fmt.Errorf("alerts.slack: %w", err)
		}
		ds = append(ds, alerts.Dispatch{Channel: ch, Pace: alerts.DefaultSlackPace})
		routes = append(routes, alerts.Route{Name: "slack", MinSeverity: sev(s.MinSeverity)})
	}
	for i, w := range cfg.Alerts.Webhooks {
		ch, err := alerts.NewWebhook(alerts.WebhookOptions{Name: w.Name, URL: w.URL, Secret: w.Secret, Headers: w.Headers,
			MinSeverity: sev(w.MinSeverity)})
		if err != nil {
			return nil, nil, fmt.Errorf("alerts.webhooks[%d] (%s): %w", i, w.Name, err)
		}
		ds = append(ds, alerts.Dispatch{Channel: ch})
		routes = append(routes, alerts.Route{Name: w.Name, MinSeverity: sev(w.MinSeverity)})
	}
	return ds, routes, nil
}

// alertRules turns the configured severities into alerts.Rules.
func alertRules(cfg *config.Config) alerts.Rules {
	sev := func(s string) alerts.Severity {
		if s == "off" {
			return ""
		}
		return alerts.Severity(s)
	}
	r := cfg.Alerts.Rules
	return alerts.Rules{Exploitation: sev(r.Exploitation), NewActor: sev(r.NewActor), Stage: sev(r.Stage)}
}

// startAlerts builds the raiser and starts the dispatcher (nil when no
// channel is configured: nothing is raised then).
func startAlerts(cfg *config.Config, st *store.Store, logger zerolog.Logger, onResult func(channel, outcome string)) (*alerts.Raiser, *alerts.Dispatcher, []alerts.Route, error) {
	ds, routes, err := alertChannels(cfg)
	if err != nil || len(ds) == 0 {
		return nil, nil, routes, err
	}
	alertLog := logger.With().Str("component", "alerts").Logger()
	d, err := alerts.NewDispatcher(alerts.DispatcherOptions{Store: st, Channels: ds, DeadAfter: time.Duration(cfg.Alerts.DeadAfter),
		DashboardURL: strings.TrimSuffix(cfg.Alerts.DashboardURL, "/"), Logger: &alertLog, OnResult: onResult})
	if err != nil {
		return nil, nil, nil, err
	}
	raiser := &alerts.Raiser{Rules: alertRules(cfg), Channels: routes, Tokens: st.Token, Logger: &alertLog,
		DashboardURL: strings.TrimSuffix(cfg.Alerts.DashboardURL, "/")}
	return raiser, d, routes, nil
}

func newAlertsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "alerts", Short: "Test alert channels, list the outbox, retry dead letters"}
	cmd.AddCommand(newAlertsTestCmd(a), newAlertsListCmd(a), newAlertsRetryCmd(a))
	return cmd
}

// alertAPI is the running server's admin API, or nil when none answers.
func alertAPI(a *app, cfg *config.Config) *apiTokens {
	envTok, _ := a.lookupEnv("HONEYAPI_ADMIN_TOKEN")
	tok, err := deployment.ReadAdminToken(cfg.DB, envTok)
	if err != nil || tok == "" {
		return nil
	}
	c := &apiSource{base: "http://" + dialAddr(cfg.AdminListen), token: tok, client: &http.Client{Timeout: 10 * time.Second}}
	if !c.alive() {
		return nil
	}
	return &apiTokens{c}
}

func newAlertsTestCmd(a *app) *cobra.Command {
	var channel string
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Send a test alert through the real path (outbox, dispatcher, channel) and wait for it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cmd.Flags(), a.lookupEnv)
			if err != nil {
				return usageError{err}
			}
			var get func(store.ID) (*store.Alert, error)
			var id store.ID
			if api := alertAPI(a, cfg); api != nil {
				var al store.Alert
				if err := api.do("POST", "/api/v1/alerts/test", web.TestAlertRequest{Channel: channel}, &al); err != nil {
					return err
				}
				id = al.ID
				get = func(id store.ID) (*store.Alert, error) {
					var al store.Alert
					err := api.do("GET", "/api/v1/alerts/"+id.String(), nil, &al)
					return &al, err
				}
			} else {
				st, err := store.Open(store.Options{Path: cfg.DB})
				if errors.Is(err, store.ErrLocked) {
					return fmt.Errorf("the database %s is in use by a running server whose admin API did not answer (set HONEYAPI_ADMIN_TOKEN or check admin_listen)", cfg.DB)
				}
				if err != nil {
					return err
				}
				defer st.Close()
				ds, routes, err := alertChannels(cfg)
				if err != nil {
					return err
				}
				al, err := alerts.TestAlert(routes, channel, time.Now())
				if err != nil {
					return usageError{err}
				}
				if id, err = st.SaveAlert(cmd.Context(), al); err != nil {
					return err
				}
				d, err := alerts.NewDispatcher(alerts.DispatcherOptions{Store: st, Channels: ds, DeadAfter: time.Duration(cfg.Alerts.DeadAfter)})
				if err != nil {
					return err
				}
				ctx, cancel := context.WithCancel(cmd.Context())
				defer cancel()
				go d.Run(ctx)
				get = st.Alert
			}
			deadline := time.Now().Add(wait)
			for {
				al, err := get(id)
				if err != nil {
					return err
				}
				if al.State() != store.DeliveryPending || time.Now().After(deadline) {
					printAlertDeliveries(a, al)
					if al.State() != store.DeliveryDelivered {
						return fmt.Errorf("test alert %s not delivered everywhere", al.ID)
					}
					return nil
				}
				time.Sleep(100 * time.Millisecond)
			}
		},
	}
	cmd.Flags().StringVar(&channel, "channel", "", "the channel to test (slack, or a webhook's name); default all")
	cmd.Flags().DurationVar(&wait, "wait", 30*time.Second, "how long to wait for delivery")
	return cmd
}

func printAlertDeliveries(a *app, al *store.Alert) {
	fmt.Fprintf(a.stdout, "alert %s (%s, %s)\n", al.ID, al.Rule, al.Severity)
	for _, d := range al.Deliveries {
		line := fmt.Sprintf("  %s: %s after %d attempt(s)", safe(d.Channel, 64), d.State, d.Attempts)
		if d.LastError != "" {
			line += ": " + safe(d.LastError, 300)
		}
		fmt.Fprintln(a.stdout, line)
	}
}

func newAlertsListCmd(a *app) *cobra.Command {
	var state string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List alerts, newest first: pending, delivered and dead-lettered",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cmd.Flags(), a.lookupEnv)
			if err != nil {
				return usageError{err}
			}
			switch state {
			case "", store.DeliveryPending, store.DeliveryDelivered, store.DeliveryDead:
			default:
				return usageError{errors.New("--state must be pending, delivered or dead")}
			}
			var list []store.Alert
			if api := alertAPI(a, cfg); api != nil {
				var out web.AlertList
				v := url.Values{"limit": {fmt.Sprint(limit)}}
				if state != "" {
					v.Set("state", state)
				}
				if err := api.do("GET", "/api/v1/alerts?"+v.Encode(), nil, &out); err != nil {
					return err
				}
				list = out.Alerts
			} else {
				st, err := store.Open(store.Options{Path: cfg.DB, ReadOnly: true})
				if err != nil {
					return err
				}
				defer st.Close()
				if list, err = st.Alerts(store.AlertQuery{State: state, Limit: limit}); err != nil {
					return err
				}
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				for i := range list {
					_ = enc.Encode(&list[i])
				}
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ALERT\tRAISED\tSEVERITY\tRULE\tCOUNT\tACTOR\tSTATE\tCHANNELS")
			for _, al := range list {
				var chs []string
				for _, d := range al.Deliveries {
					chs = append(chs, safe(d.Channel, 32)+"="+d.State)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", al.ID, al.Time.Local().Format("2006-01-02 15:04:05"),
					al.Severity, al.Rule, al.Count, safe(al.Actor, 24), al.State(), strings.Join(chs, " "))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&state, "state", "", "only alerts in this state: pending, delivered, dead")
	cmd.Flags().IntVar(&limit, "limit", 50, "how many alerts (1–1000)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per line")
	return cmd
}

func newAlertsRetryCmd(a *app) *cobra.Command {
	var channel string
	cmd := &cobra.Command{
		Use:   "retry ID",
		Short: "Put a dead-lettered alert back in the outbox",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(cmd.Flags(), a.lookupEnv)
			if err != nil {
				return usageError{err}
			}
			id, err := store.ParseID(args[0])
			if err != nil {
				return usageError{fmt.Errorf("%q is not an alert id", safe(args[0], 40))}
			}
			if api := alertAPI(a, cfg); api != nil {
				path := "/api/v1/alerts/" + id.String() + "/retry"
				if channel != "" {
					path += "?channel=" + url.QueryEscape(channel)
				}
				if err := api.do("POST", path, nil, nil); err != nil {
					return err
				}
			} else {
				st, err := store.Open(store.Options{Path: cfg.DB})
				if err != nil {
					return err
				}
				defer st.Close()
				if err := st.RetryAlert(cmd.Context(), id, channel); err != nil {
					return err
				}
			}
			fmt.Fprintf(a.stdout, "alert %s is pending again\n", id)
			return nil
		},
	}
	cmd.Flags().StringVar(&channel, "channel", "", "retry only this channel")
	return cmd
}

func notifyOf(d *alerts.Dispatcher) func() {
	if d == nil {
		return nil
	}
	return d.Notify
}

func routeNames(rs []alerts.Route) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}
