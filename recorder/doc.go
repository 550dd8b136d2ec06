// Package recorder turns what the decoy answered (decoys.Interaction) and
// what the listener captured (fingerprint.Capture) into a stored event:
// it fingerprints and classifies the client, assigns the actor and session
// (package actors) and writes the event with the actor's snapshot in one
// transaction (package store). With strict durability the decoy's response
// is released only after that transaction is on disk.
//
// It owns the mapping between those packages and nothing else.
package recorder
