package eventstore_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/eventstore"
)

// The cost of signing an append and of verifying each event a reader
// reads (the start-up rebuild verifies every event of the stream), for
// the event one PUT stores. BenchmarkCheck is the readers' whole path per
// message (verify, then decode); compare it with internal/jsontext's
// BenchmarkDecodeEvent.

// benchAttrEvent is the event one PUT of one attribute stores: 16-byte
// name, 32-byte value, full audit metadata. Its stored form, with a fixed
// id, is internal/jsontext's benchMessage.
func benchAttrEvent() domain.Event {
	now := domain.Truncate(time.Date(2026, 5, 1, 12, 0, 0, 123456000, time.UTC))
	uid := "zusr" + "3lq5v2c4mrbhbe2xvl3e7blq6e"
	return domain.Event{ID: eventstore.NewID(), Kind: domain.KindAttrSet, Owner: domain.UserAttrsOwner(uid),
		Time: now, Actor: uid, App: "CRM", RemoteAddr: "127.0.0.1", CID: "0123456789abcdef01234567",
		Data: domain.EventData{Attrs: []domain.Attr{{Name: "bench-attr-00001",
			Value: json.RawMessage(`"0123456789abcdef0123456789abcdef"`), Created: now, Modified: now, Expires: domain.Never}}}}
}

func BenchmarkSign(b *testing.B) {
	e := benchAttrEvent()
	data, subject := encodedBench(b), eventstore.Subject(e.Owner)
	b.ReportAllocs()
	for b.Loop() {
		_ = testKeys.Sign(subject, data)
	}
}

func BenchmarkVerify(b *testing.B) {
	e := benchAttrEvent()
	data, subject := encodedBench(b), eventstore.Subject(e.Owner)
	sig := testKeys.Sign(subject, data)
	b.ReportAllocs()
	for b.Loop() {
		if !testKeys.Verify(subject, data, sig) {
			b.Fatal("does not verify")
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	e := benchAttrEvent()
	data, subject := encodedBench(b), eventstore.Subject(e.Owner)
	hdr := nats.Header{eventstore.SignatureHeader: {testKeys.Sign(subject, data)}}
	s := eventstore.Checker(testKeys)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Check(2, subject, hdr, data); err != nil {
			b.Fatal(err)
		}
	}
}

func encodedBench(b *testing.B) []byte {
	data, err := eventstore.Encode(benchAttrEvent())
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkDecodeHeaders is what the NATS client does for each delivered
// message that has headers, as every stored event now has: the signature
// and the append's expected sequence.
func BenchmarkDecodeHeaders(b *testing.B) {
	subject := "sso.uattr.zusr3lq5v2c4mrbhbe2xvl3e7blq6e"
	raw := "NATS/1.0\r\nNats-Expected-Last-Subject-Sequence: 123456\r\n" +
		eventstore.SignatureHeader + ": " + testKeys.Sign(subject, encodedBench(b)) + "\r\n\r\n"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := nats.DecodeHeadersMsg([]byte(raw)); err != nil {
			b.Fatal(err)
		}
	}
}
