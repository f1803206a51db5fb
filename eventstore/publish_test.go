package eventstore_test

import (
	"errors"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssoattr/ssoattr/eventstore"
)

func TestParseAck(t *testing.T) {
	for _, tc := range []struct {
		ack     string
		seq     uint64
		errCode jetstream.ErrorCode // 0: no API error
		invalid bool
	}{
		{ack: `{"stream":"SSO","seq":42}`, seq: 42},
		{ack: ` {"stream":"SSO", "domain":"hub", "seq":7, "duplicate":true} `, seq: 7},
		{ack: `{"seq":18446744073709551615,"stream":"S"}`, seq: 1<<64 - 1},
		{ack: `{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 4"},"stream":"SSO","seq":0}`, errCode: 10071},
		{ack: `{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"}}`, errCode: 10077},
		{ack: `{"stream":"","seq":1}`, invalid: true},
		{ack: `{"stream":"SSO"}`, seq: 0},         // as jetstream.Publish reads it
		{ack: `{"Stream":"SSO","SEQ":3}`, seq: 3}, // likewise: encoding/json folds case
		{ack: `{"stream":"SSO","seq":1,"ERROR":{"code":500,"err_code":10001}}`, errCode: 10001},
		{ack: `{"stream":"SSO","seq":-1}`, invalid: true},
		{ack: `{"stream":"SSO","seq":1.5}`, invalid: true},
		{ack: `{"stream":"SSO","seq":1}x`, invalid: true},
		{ack: `{"error":"broken","stream":"SSO","seq":1}`, invalid: true},
		{ack: `{"error":null,"stream":"SSO","seq":1}`, seq: 1},
		{ack: `[]`, invalid: true},
		{ack: ``, invalid: true},
	} {
		seq, err := eventstore.ParseAck([]byte(tc.ack))
		var apiErr *jetstream.APIError
		switch {
		case tc.errCode != 0:
			if !errors.As(err, &apiErr) || apiErr.ErrorCode != tc.errCode {
				t.Errorf("%s: got %d, %v; want API error %d", tc.ack, seq, err, tc.errCode)
			}
		case tc.invalid:
			if !errors.Is(err, jetstream.ErrInvalidJSAck) {
				t.Errorf("%s: got %d, %v; want ErrInvalidJSAck", tc.ack, seq, err)
			}
		case err != nil || seq != tc.seq:
			t.Errorf("%s: got %d, %v; want %d", tc.ack, seq, err, tc.seq)
		}
	}
}
