package eventstore_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/eventstore"
	"github.com/ssoattr/ssoattr/internal/jsontext"
)

// These test the stored form as a whole, the owner's subject in it
// included; the JSON form's tests, against the encoding/json codec every
// stored event was once written and read with, are internal/jsontext's.

func sampleEvents() []domain.Event {
	at := time.Date(2031, 5, 4, 9, 10, 11, 250000000, time.UTC)
	email := "ciphertext-of-email"
	return []domain.Event{
		{ID: eventstore.NewID(), Kind: domain.KindAttrSet, Owner: domain.UserAttrsOwner("zusr1"), Time: at,
			Actor: "zusr2", App: "CRM", RemoteAddr: "127.0.0.1", CID: "0123456789abcdef01234567",
			Data: domain.EventData{Attrs: []domain.Attr{
				{Name: "ui.theme *>", Value: json.RawMessage(`{"a":[1,2,"x"]}`), Created: at, Modified: at, Expires: domain.Never},
				{Name: "名前", Value: json.RawMessage(`"gAAAAAbc"`), Encrypted: true, Created: at, Modified: at, Expires: at.Add(time.Minute)},
			}}},
		{ID: eventstore.NewID(), Kind: domain.KindAttrDeleted, Owner: domain.SessionAttrsOwner("zusr1", "zust9"), Time: at,
			Data: domain.EventData{Names: []string{"a", "b"}}},
		{ID: eventstore.NewID(), Kind: domain.KindUserCreated, Owner: domain.UserOwner("zusr1"), Time: at, Actor: "cli",
			Data: domain.EventData{User: &domain.User{ID: "zusr1", Username: "alice", Email: &email,
				ApprovalStatus: domain.ApprovalApproved, ApprovalStatusModTime: at, ApprovalStatusModBy: "auto",
				PasswordHash: "gAAAAAhash", PasswordIsSet: true, PasswordLastSet: at, PasswordExpiry: at.AddDate(2, 0, 0),
				SignUpStatus: domain.SignupFinal, SignUpTime: at, TOTPKey: "gAAAAAkey"}}},
		{ID: eventstore.NewID(), Kind: domain.KindSessionCreated, Owner: domain.SessionOwner("zusr1", "zust9"), Time: at,
			Data: domain.EventData{Session: &domain.Session{ID: "zust9", UserID: "zusr1", Created: at, Expires: at.Add(time.Hour),
				AuthType: "default", AuthPrincipal: "alice",
				History: []domain.HistoryEntry{{RemoteAddr: "127.0.0.1", Timestamp: at, Source: "login", Idx: 1}}}}},
		{ID: eventstore.NewID(), Kind: domain.KindSessionEnded, Owner: domain.SessionOwner("zusr1", "zust9"), Time: at,
			Data: domain.EventData{Reason: domain.ReasonLogout}},
		{ID: eventstore.NewID(), Kind: domain.KindUsernameClaimed, Owner: domain.UsernameOwner("alice"), Time: at,
			Data: domain.EventData{Username: "alice", UserID: "zusr1"}},
	}
}

func TestEncodeDecode_RoundTrip(t *testing.T) {
	for _, e := range sampleEvents() {
		t.Run(e.Kind, func(t *testing.T) {
			data, err := eventstore.Encode(e)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			got, err := eventstore.Decode(data)
			if err != nil {
				t.Fatalf("Decode(%s): %v", data, err)
			}
			if !got.Time.Equal(e.Time) {
				t.Fatalf("Time = %v, want %v", got.Time, e.Time)
			}
			got.Time = e.Time
			// Compare through JSON: times and raw values compare by content there.
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(e)
			if string(gj) != string(wj) {
				t.Fatalf("Decode(Encode(e)) =\n%s\nwant\n%s", gj, wj)
			}
		})
	}
}

func TestEncode_IsCloudEvent(t *testing.T) {
	e := sampleEvents()[0]
	data, err := eventstore.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"specversion": "1.0", "id": e.ID, "source": "ssoattr", "type": "io.ssoattr.attr.set.v1",
		"subject": "sso.uattr.zusr1", "datacontenttype": "application/json",
		"actoruserid": "zusr2", "currentapp": "CRM", "remoteaddr": "127.0.0.1", "cid": "0123456789abcdef01234567",
		"time": "2031-05-04T09:10:11.25Z",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
	if _, ok := m["data"].(map[string]any); !ok {
		t.Errorf("data = %#v, want an object", m["data"])
	}
}

func TestDecode_RejectsForeignMessages(t *testing.T) {
	valid := func(change func(m map[string]any)) []byte {
		data, err := eventstore.Encode(sampleEvents()[1])
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.Unmarshal(data, &m)
		change(m)
		out, _ := json.Marshal(m)
		return out
	}
	tests := map[string][]byte{
		"empty":                 nil,
		"not JSON":              []byte("hello"),
		"JSON array":            []byte(`[1,2]`),
		"empty object":          []byte(`{}`),
		"other CloudEvent type": valid(func(m map[string]any) { m["type"] = "com.example.order.created" }),
		"other version":         valid(func(m map[string]any) { m["type"] = "io.ssoattr.attr.set.v2" }),
		"no kind":               valid(func(m map[string]any) { m["type"] = "io.ssoattr..v1" }),
		"specversion 0.3":       valid(func(m map[string]any) { m["specversion"] = "0.3" }),
		"no id":                 valid(func(m map[string]any) { delete(m, "id") }),
		"foreign subject":       valid(func(m map[string]any) { m["subject"] = "orders.1" }),
		"no subject":            valid(func(m map[string]any) { delete(m, "subject") }),
		"unknown owner kind":    valid(func(m map[string]any) { m["subject"] = "sso.cart.zusr1" }),
		"session without id":    valid(func(m map[string]any) { m["subject"] = "sso.sattr.zusr1" }),
		"data not an object":    valid(func(m map[string]any) { m["data"] = "x" }),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			if e, err := eventstore.Decode(data); !errors.Is(err, jsontext.ErrMalformed) {
				t.Fatalf("Decode(%s) = %+v, %v; want ErrMalformed", data, e, err)
			}
		})
	}
}
