package eventstore_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/eventstore"
)

// fuzzSeedEvents are real events of every family, as the service stores them.
func fuzzSeedEvents() []domain.Event {
	at := time.Date(2030, 1, 2, 3, 4, 5, 678901000, time.UTC)
	name := "Alice"
	return []domain.Event{
		benchAttrEvent(),
		{ID: eventstore.NewID(), Kind: domain.KindAttrDeleted, Owner: domain.SessionAttrsOwner("zusr1", "zust2"), Time: at,
			Actor: "zusr1", Data: domain.EventData{Names: []string{"a.b", "*", ">"}}},
		{ID: eventstore.NewID(), Kind: domain.KindUserCreated, Owner: domain.UserOwner("zusr1"), Time: at, Actor: "cli",
			Data: domain.EventData{User: &domain.User{ID: "zusr1", Username: "alice", FirstName: &name,
				ApprovalStatus: domain.ApprovalApproved, ApprovalStatusModTime: at, PasswordHash: "gAAAAA",
				PasswordExpiry: at.AddDate(2, 0, 0), SignUpStatus: domain.SignupFinal, SignUpTime: at, SignUpConfirmTime: &at}}},
		{ID: eventstore.NewID(), Kind: domain.KindSessionCreated, Owner: domain.SessionOwner("zusr1", "zust2"), Time: at,
			Data: domain.EventData{Session: &domain.Session{ID: "zust2", UserID: "zusr1", Created: at, Expires: at.Add(time.Hour),
				History: []domain.HistoryEntry{{RemoteAddr: "::1", Timestamp: at, Source: "login", Idx: 1}}}}},
		{ID: eventstore.NewID(), Kind: domain.KindUsernameClaimed, Owner: domain.UsernameOwner("alice"), Time: at,
			Data: domain.EventData{Username: "alice", UserID: "zusr1"}},
	}
}

// FuzzDecodeEvent feeds stored messages to Decode. Properties: it agrees
// with the old encoding/json decoder (decodeStd) on what to reject (with
// ErrMalformed) and on the event it returns; what it accepted encodes, as
// the old encoder wrote it, and decodes again to the same event; the
// encoding is then a fixed point. It never panics.
func FuzzDecodeEvent(f *testing.F) {
	for _, e := range append(fuzzSeedEvents(), codecEvents()...) {
		data, err := eventstore.Encode(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"specversion":"1.0","id":"x","type":"io.ssoattr.attr.set.v1","subject":"sso.uattr.u","time":"2030-01-02T03:04:05+01:00","data":{}}`))
	f.Add([]byte(`{"specversion":"1.0","id":"x","type":"io.ssoattr..v1","subject":"sso.user.u","data":null}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"specversion":"1.0","id":"x","type":"io.ssoattr.attr.set.v1","subject":"sso.uattr.u","time":"0000-01-01T00:30:00+01:00","data":{}}`))
	accepted, rejected := decodeCases()
	for _, cases := range []map[string]string{accepted, rejected} {
		for _, msg := range cases {
			if len(msg) < 4096 { // not the 10000-deep ones: mutating them is slow
				f.Add([]byte(msg))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := decodeBoth(t, data)
		if err != nil {
			return
		}
		enc, err := encodeBoth(t, e)
		if err != nil {
			// time.Time.UnmarshalJSON accepts a zone offset of 24 hours or
			// more, which MarshalJSON refuses to write, in any time but
			// the event's (which Encode writes in UTC). Both codecs do
			// that; no stored message holds such a time, since nothing
			// could have written it.
			if strings.Contains(err.Error(), "timezone hour outside of range") {
				return
			}
			t.Fatalf("Decode accepted %q, but Encode of the result fails: %v", data, err)
		}
		if !json.Valid(enc) {
			t.Fatalf("Encode wrote invalid JSON %q", enc)
		}
		again, err := decodeBoth(t, enc)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(%q))): %v", data, err)
		}
		if !sameJSON(t, again, e) {
			t.Fatalf("round trip of %q:\ngot  %s\nwant %s", data, showEvent(again), showEvent(e))
		}
		enc2, err := encodeBoth(t, again)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not a fixed point:\n%s\n%s (%v)", enc, enc2, err)
		}
	})
}

// FuzzEncodeEvent builds events from arbitrary strings, values and times.
// Properties: Encode writes the bytes the old encoding/json encoder wrote,
// or fails where it failed; what it writes, both decoders read alike.
func FuzzEncodeEvent(f *testing.F) {
	f.Add("01J", "attr.set", "zusr1", "", "zusr2", "name", []byte(`"value"`), false, "a,b", "", int64(1900000000), int64(250000000), int16(0), false)
	f.Add("x", "user.created", "zusr1", "", "cli", "名前 <&>", []byte(" { \"a\" : [1, 2] } "), true, "", "logout", int64(-62135596800), int64(0), int16(330), true)
	f.Add("x\"", "k\xff", "u.v", "s", "\u2028", "\x00\x1f\\", []byte("\"\xff\u2028<\""), true, ",", "\xed\xa0\x80", int64(253402300799), int64(999999999), int16(-1439), true)
	f.Add("x", "k", "u", "s", "", "", []byte(`{"a":`), false, "", "", int64(0), int64(0), int16(1440), false)
	f.Fuzz(func(t *testing.T, id, kind, user, session, actor, name string, value []byte, encrypted bool,
		names, reason string, sec, nsec int64, offsetMinutes int16, account bool) {
		at := time.Unix(sec, nsec).In(time.FixedZone("", int(offsetMinutes)*60))
		owner := domain.UserAttrsOwner(user)
		if session != "" {
			owner = domain.SessionAttrsOwner(user, session)
		}
		e := domain.Event{ID: id, Kind: kind, Owner: owner, Time: at, Actor: actor, App: name, RemoteAddr: reason, CID: session,
			Data: domain.EventData{
				Attrs:  []domain.Attr{{Name: name, Value: value, Encrypted: encrypted, Created: at, Modified: at.UTC(), Expires: domain.Never}},
				Reason: reason, Username: actor, UserID: user,
			}}
		if names != "" {
			e.Data.Names = strings.Split(names, ",")
			e.Data.Changed = e.Data.Names[1:]
		}
		if account {
			e.Data.User = &domain.User{ID: user, Username: name, Email: &actor, LockedTime: &at, SignUpTime: at.UTC()}
			e.Data.Session = &domain.Session{ID: session, UserID: user, Created: at, ExtSessionID: &reason,
				History: []domain.HistoryEntry{{RemoteAddr: actor, Timestamp: at}}}
		}
		enc, err := encodeBoth(t, e)
		if err != nil {
			return
		}
		decodeBoth(t, enc)
	})
}

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
