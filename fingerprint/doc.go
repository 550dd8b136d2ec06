// Package fingerprint captures every connection and request that reaches a decoy and turns
// them into fingerprints.
//
// # What it owns
//
//   - Capture: a listener wrapper ([NewListener]) that records the raw HTTP/1.x request head of
//     every request exactly as it arrived (header order, case and duplicates, which Go's
//     http.Header loses) and, when it terminates TLS itself, the raw TLS ClientHello of every
//     connection. [ConnContext] and [FromRequest] hand a request's [Capture] to handlers.
//     Input that never reaches a handler (binary junk, a broken request line, an oversized
//     head, a failed TLS handshake) is reported through [ListenerOptions.OnMalformed], so it
//     still becomes an event.
//   - Parsers for both, hardened for attacker-controlled bytes and fuzzed: [ParseHead] and
//     [ParseClientHello].
//   - TLS client fingerprints: [JA3] (Salesforce) and [JA4] (FoxIO, the TLS-client part, which is
//     BSD-licensed). JA4H is deliberately not implemented: its licence forbids commercial use.
//   - An ordered-header fingerprint of our own, [HeaderFingerprint] (algorithm below).
//   - User-Agent parsing ([ParseUserAgent]) and client-family classification ([Classify]), which
//     weighs what the User-Agent claims against what the header order and TLS hello show.
//   - Client-IP resolution through trusted proxies ([ClientIP]).
//   - A self-signed certificate helper for sensors that terminate TLS ([SelfSignedCertificate]).
//
// # What it does not own
//
// Storage of events (package store), grouping fingerprints into actors, risk scoring, tarpits
// and alerts live elsewhere. This package produces facts about one connection or request; it
// keeps no history across connections and makes no decisions.
//
// # Why a shared top-level package
//
// Capture happens below the router (at the net.Listener), and its results are needed by several
// packages at once: decoys records them into events, tokens' guard attaches them to token hits,
// the tarpit uses the classification, and the CLI wires the listener. Keeping it a leaf package
// that imports only the standard library and golang.org/x/net/http2 lets all of them depend on it
// without cycles (cmd → decoys/tokens/web → fingerprint).
//
// # Serving with the listener
//
//	ln, _ := net.Listen("tcp", ":8443")
//	fl := fingerprint.NewListener(ln, fingerprint.ListenerOptions{
//		TLSConfig:   tlsConfig, // nil for plaintext HTTP
//		OnMalformed: func(c *fingerprint.Capture, reason string) { /* record an event */ },
//	})
//	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
//	err := fingerprint.Serve(srv, fl) // srv.Serve plus ConnContext and HTTP/2
//
// Inside a handler, fingerprint.FromRequest(r) returns the request's Capture. Without [Serve],
// set srv.ConnContext = fingerprint.ConnContext and, for HTTP/2 over TLS, set
// ListenerOptions.H2Handler; otherwise the listener offers only http/1.1 in ALPN.
//
// Because the listener terminates TLS itself, http.Server sees a plain net.Conn and r.TLS is nil
// for HTTP/1.x requests: TLS facts are in Capture.TLS.
//
// # The ordered-header fingerprint ("h1:")
//
// HeaderFingerprint(headers) = "h1:" + the first 12 hex digits of SHA-256 over a canonical
// string built from the headers in wire order:
//
//  1. Every header whose lower-cased name is not volatile contributes "name:case", joined by ",".
//     name is the lower-cased name; case is one letter describing how the client wrote it:
//     "c" canonical (User-Agent), "l" all lower (user-agent), "u" all upper (USER-AGENT),
//     "m" anything else (user-Agent). Duplicates contribute once per occurrence, in order.
//  2. Volatile headers are skipped because they depend on the request or on state rather than
//     on the client software: content-length, content-type, transfer-encoding, cookie,
//     authorization, proxy-authorization, referer, origin, if-none-match, if-modified-since,
//     if-match, if-unmodified-since, if-range, range, cache-control, pragma, x-forwarded-for,
//     x-forwarded-proto, x-forwarded-host, x-forwarded-port, x-real-ip, forwarded, via,
//     x-request-id, cf-connecting-ip, true-client-ip.
//  3. Then ";" and four value features, in this order, joined by ";":
//     "ae=" the Accept-Encoding codings, lower-cased, without parameters, sorted, joined by ","
//     ("-" when absent); "ac=" a class of the first Accept value: "-" absent, "any" for "*/*",
//     "html" when it starts with text/html, "json" when it starts with application/json,
//     "other" otherwise; "al=" "1" when Accept-Language is present else "0"; "cn=" the first
//     Connection value lower-cased ("-" when absent).
//
// For example curl 7.88's "Host, User-Agent, Accept: */*" hashes the string
// "host:c,user-agent:c,accept:c;ae=-;ac=any;al=0;cn=-". Values other than those four features
// never enter the hash, so tokens, hosts, paths and cookies do not split one client into many
// fingerprints. For HTTP/2 requests the order and case are not available (Capture.WireOrder is
// false); the fingerprint then reflects the header set only. [HeaderFingerprintInput] returns
// the canonical string for display and debugging.
package fingerprint
