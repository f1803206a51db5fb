package eventstore_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/eventstore"
)

// benchAttrEvent is the event one PUT of one attribute stores: 16-byte
// name, 32-byte value, full audit metadata.
func benchAttrEvent() domain.Event {
	now := domain.Truncate(time.Date(2026, 5, 1, 12, 0, 0, 123456000, time.UTC))
	uid := "zusr" + "3lq5v2c4mrbhbe2xvl3e7blq6e"
	return domain.Event{ID: eventstore.NewID(), Kind: domain.KindAttrSet, Owner: domain.UserAttrsOwner(uid),
		Time: now, Actor: uid, App: "CRM", RemoteAddr: "127.0.0.1", CID: "0123456789abcdef01234567",
		Data: domain.EventData{Attrs: []domain.Attr{{Name: "bench-attr-00001",
			Value: json.RawMessage(`"0123456789abcdef0123456789abcdef"`), Created: now, Modified: now, Expires: domain.Never}}}}
}

func BenchmarkSubject(b *testing.B) {
	o := domain.SessionAttrsOwner("zusr3lq5v2c4mrbhbe2xvl3e7blq6e", "zust6mrbhbe2xvl3e7blq6e3lq5v2c4")
	b.ReportAllocs()
	for b.Loop() {
		_ = eventstore.Subject(o)
	}
}

func BenchmarkParseSubject(b *testing.B) {
	s := eventstore.Subject(domain.SessionAttrsOwner("zusr3lq5v2c4mrbhbe2xvl3e7blq6e", "zust6mrbhbe2xvl3e7blq6e3lq5v2c4"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eventstore.ParseSubject(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	e := benchAttrEvent()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eventstore.Encode(e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	data, err := eventstore.Encode(benchAttrEvent())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eventstore.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
