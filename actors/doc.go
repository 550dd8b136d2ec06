// Package actors turns events into actors: it clusters events by client IP,
// by client fingerprint (TLS JA4, header order and client family, but not
// the IP or the user-agent string, so rotating either keeps one actor) and
// by the credential presented; splits an actor's activity into sessions on
// inactivity; and derives behaviour signals (404 ratio, path enumeration,
// reading the API description then calling its operations, bait files,
// authentication failures, injection payloads in any parameter, scanner
// fingerprints) into an explained risk score and a kill-chain stage.
//
// It does not store anything itself: the recorder writes each event with
// the actor snapshot Observe returns, in one transaction (package store).
package actors
