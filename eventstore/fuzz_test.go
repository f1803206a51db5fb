package eventstore_test

import (
	"bytes"
	"encoding/json"
	"errors"
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

// FuzzDecodeEvent feeds stored messages to Decode. Property: it rejects the
// message (with ErrMalformed) or accepts it, and then what it accepted
// encodes again and decodes to the same event: the encoding is a fixed
// point. It never panics.
func FuzzDecodeEvent(f *testing.F) {
	for _, e := range fuzzSeedEvents() {
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
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := eventstore.Decode(data)
		if err != nil {
			if !errors.Is(err, eventstore.ErrMalformed) {
				t.Fatalf("Decode error %v does not wrap ErrMalformed", err)
			}
			return
		}
		enc, err := eventstore.Encode(e)
		if err != nil {
			t.Fatalf("Decode accepted %q, but Encode of the result fails: %v", data, err)
		}
		again, err := eventstore.Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(%q))): %v", data, err)
		}
		if again.ID != e.ID || again.Kind != e.Kind || again.Owner != e.Owner || !again.Time.Equal(e.Time) {
			t.Fatalf("round trip of %q: got %+v, want %+v", data, again, e)
		}
		enc2, err := eventstore.Encode(again)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not a fixed point:\n%s\n%s (%v)", enc, enc2, err)
		}
		if !json.Valid(enc) {
			t.Fatalf("Encode wrote invalid JSON %q", enc)
		}
	})
}
