package store

import (
	"bytes"
	"math"
	"reflect"
	"testing"
)

// FuzzDecodeEvent feeds arbitrary bytes to the decoders: they must fail
// cleanly, never panic, and what they accept must re-encode to a record
// that decodes to the same event.
func FuzzDecodeEvent(f *testing.F) {
	f.Add(appendEvent(nil, fullEvent(), DefaultBodyLimit, DefaultHeadLimit))
	f.Add(appendEvent(nil, &Event{}, DefaultBodyLimit, DefaultHeadLimit))
	f.Add(appendActor(nil, fullActor()))
	f.Add([]byte{codecVersion, 0x5a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{codecVersion, fHeader<<3 | wtBytes, 0x03, 0x0a, 0x05, 'x'})
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev Event
		id := NewID()
		if err := decodeEvent(id[:], data, &ev); err == nil {
			again := appendEvent(nil, &ev, 1<<30, 1<<30)
			var ev2 Event
			if err := decodeEvent(id[:], again, &ev2); err != nil {
				t.Fatalf("re-encoded event does not decode: %v", err)
			}
			if !reflect.DeepEqual(normal(ev), normal(ev2)) {
				t.Fatalf("re-encoded event differs:\n%+v\n%+v", ev, ev2)
			}
		}
		eventIndexFields(data)
		var a Actor
		decodeActor([]byte("a"), data, &a)
		actorLastSeen(data)
	})
}

// normal clears what legitimately changes across a re-encode (lists longer
// than the stored bounds, empty versus nil).
func normal(ev Event) Event {
	for _, f := range []*float64{&ev.ServeMS, &ev.DelayMS} {
		if math.IsNaN(*f) || math.IsInf(*f, 0) {
			*f = 0
		}
	}
	if len(ev.Headers) == 0 {
		ev.Headers = nil
	}
	if ev.TLS != nil && *ev.TLS == (TLS{}) {
		ev.TLS = &TLS{}
	}
	if len(ev.Signals) > maxList {
		ev.Signals = ev.Signals[len(ev.Signals)-maxList:]
	}
	if len(ev.Tags) > maxList {
		ev.Tags = ev.Tags[len(ev.Tags)-maxList:]
	}
	if len(ev.Client.Reasons) > maxList {
		ev.Client.Reasons = ev.Client.Reasons[len(ev.Client.Reasons)-maxList:]
	}
	if len(ev.Headers) > maxHeaders {
		ev.Headers = ev.Headers[:maxHeaders]
	}
	for _, p := range []*[]byte{&ev.Body, &ev.RawHead} {
		if len(*p) == 0 {
			*p = nil
		}
	}
	return ev
}

func FuzzParseID(f *testing.F) {
	f.Add(NewID().String())
	f.Add("7ZZZZZZZZZZZZZZZZZZZZZZZZZ")
	f.Add("8ZZZZZZZZZZZZZZZZZZZZZZZZZ")
	f.Add("ooooooooooooooooooooooooo1")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseID(s)
		if err != nil {
			return
		}
		again, err := ParseID(id.String())
		if err != nil || again != id {
			t.Fatalf("ParseID(%q) = %v; its String %q parses to %v, %v", s, id, id.String(), again, err)
		}
		if !bytes.Equal([]byte(id.String()), mustText(id)) {
			t.Fatal("MarshalText differs from String")
		}
	})
}

func mustText(id ID) []byte {
	b, _ := id.MarshalText()
	return b
}
