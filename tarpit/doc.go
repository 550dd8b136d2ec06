// Package tarpit slows attackers down at almost no cost to the host.
//
// A Tarpit decides, for each decoy response, how long and in what way the
// client waits (Decide), and delivers the response that way (Deliver):
//
//   - delay: a short wait in the handler, drawn from a log-normal
//     distribution like a real service's latency, longer as the actor's
//     risk grows;
//   - hold: a longer wait, after which the whole response is sent;
//   - drip: the response's body trickles out a few bytes at a time;
//   - endless: for obvious scanners, the response head is sent and then
//     whitespace, which JSON and HTML ignore, every few seconds for as long
//     as the client waits (up to MaxHold), then the body.
//
// hold, drip and endless hijack the connection and hand it to one
// scheduler goroutine that keeps every held connection in a timer heap,
// writes with non-blocking system calls (never blocking on a client that
// does not read), drains and discards what the client sends so a close or
// reset is seen, shrinks the socket buffers, and closes connections whose
// buffers stay full for WriteTimeout. No goroutine is kept per held
// connection, so ten thousand of them cost a few megabytes.
//
// Global and per-IP caps bound what the tarpit holds; past them responses
// are fast and normal. It is a top-level package because both the decoys
// (delivery) and the recorder (the decision, recorded with the event
// before the first byte is released) use it.
package tarpit
