package jsontext_test

import (
	"testing"

	"github.com/ssoattr/ssoattr/internal/jsontext"
)

// benchMessage is what one PUT of one attribute stores: 16-byte name,
// 32-byte value, full audit metadata (eventstore's benchAttrEvent, with a
// fixed id).
const benchMessage = `{"specversion":"1.0","id":"01KQ3M0R8V4Q2W7B3T5Y6Z9A1C","source":"ssoattr",` +
	`"type":"io.ssoattr.attr.set.v1","subject":"sso.uattr.zusr3lq5v2c4mrbhbe2xvl3e7blq6e",` +
	`"time":"2026-05-01T12:00:00.123456Z","datacontenttype":"application/json",` +
	`"actoruserid":"zusr3lq5v2c4mrbhbe2xvl3e7blq6e","currentapp":"CRM","remoteaddr":"127.0.0.1",` +
	`"cid":"0123456789abcdef01234567","data":{"attrs":[{"name":"bench-attr-00001",` +
	`"value":"0123456789abcdef0123456789abcdef","creation_time":"2026-05-01T12:00:00.123456Z",` +
	`"last_modified":"2026-05-01T12:00:00.123456Z","expiration_time":"9999-12-31T00:00:00Z"}]}}`

// The subject is made outside the loop: Append makes it to publish on
// anyway, and the encoder only copies it.
func BenchmarkEncodeEvent(b *testing.B) {
	e, subject, err := jsontext.DecodeEvent([]byte(benchMessage))
	if err != nil {
		b.Fatal(err)
	}
	if data, err := jsontext.EncodeEvent(e, subject); string(data) != benchMessage {
		b.Fatalf("EncodeEvent = %s, %v; want benchMessage", data, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jsontext.EncodeEvent(e, subject); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	data := []byte(benchMessage)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := jsontext.DecodeEvent(data); err != nil {
			b.Fatal(err)
		}
	}
}
