// Package alerts turns recorded events into alerts and delivers them:
// Slack (incoming webhook or chat.postMessage, Block Kit) and signed
// webhooks, through a durable outbox in the store, at least once per
// channel, with backoff, Retry-After, pacing, aggregation and a
// dead-letter list.
package alerts
