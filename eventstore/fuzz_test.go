package eventstore_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/ssoattr/ssoattr/eventstore"
)

// FuzzAckPosition feeds reply subjects to ackPosition and checks it
// against the reply subject's format as jetstream.Msg.Metadata reads it,
// written the plain way (strings.Split, strconv): $JS.ACK. then 7 tokens
// (9 in all), or 9 and perhaps more (11 or more in all), the stream
// sequence 6th or 8th and the pending count 9th or 11th.
func FuzzAckPosition(f *testing.F) {
	for _, s := range []string{
		"$JS.ACK.SSO.cons.1.42.7.1764600000000000000.3",
		"$JS.ACK.hub.ACCHASH.SSO.cons.1.42.7.1764600000000000000.0.tok",
		"$JS.ACK.hub.ACCHASH.SSO.cons.1.42.7.1764600000000000000.9",
		"$JS.ACK.SSO.cons.1.18446744073709551615.7.1.18446744073709551616",
		"$JS.ACK..........", "_INBOX.x", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reply string) {
		seq, pending, ok := eventstore.AckPosition(reply)
		var wantSeq, wantPending uint64
		wantOK := false
		if rest, found := strings.CutPrefix(reply, "$JS.ACK."); found {
			tokens := append([]string{"$JS", "ACK"}, strings.Split(rest, ".")...)
			si, pi := -1, -1
			switch {
			case len(tokens) == 9:
				si, pi = 5, 8
			case len(tokens) >= 11:
				si, pi = 7, 10
			}
			if si >= 0 {
				s, err1 := strconv.ParseUint(tokens[si], 10, 64)
				p, err2 := strconv.ParseUint(tokens[pi], 10, 64)
				if err1 == nil && err2 == nil && s > 0 {
					wantSeq, wantPending, wantOK = s, p, true
				}
			}
		}
		if seq != wantSeq || pending != wantPending || ok != wantOK {
			t.Fatalf("ackPosition(%q) = %d, %d, %v; want %d, %d, %v", reply, seq, pending, ok, wantSeq, wantPending, wantOK)
		}
	})
}
