package jsontext_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/jsontext"
)

// FuzzScanner holds the scanner to encoding/json. Properties: Check agrees
// with json.Valid; a valid text read with the Scanner (keys through
// Object, strings through Skip and Unquote, or Text) is the value
// json.Unmarshal gives; Skip spans the whole value. Nothing panics.
func FuzzScanner(f *testing.F) {
	for _, text := range checkCases {
		if len(text) < 4096 { // not the deep ones: mutating them is slow
			f.Add([]byte(text))
		}
	}
	// Real examples: a stored event and a request body.
	f.Add([]byte(`{"specversion":"1.0","id":"01J","source":"ssoattr","type":"io.ssoattr.attr.set.v1",` +
		`"subject":"sso.uattr.zusr1","time":"2031-05-04T09:10:11.25Z","datacontenttype":"application/json",` +
		`"data":{"attrs":[{"name":"a","value":{"x":[1, 2]},"is_encrypted":true,"creation_time":"2031-05-04T09:10:11Z"}]}}`))
	f.Add([]byte(`{"ust":"gAAAAABoE1x2","current_app":"CRM","data":[{"name":"a","value":"v","encrypt":1,"expiration":5.0}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := jsontext.Check(data)
		if valid := json.Valid(data); (err == nil) != valid {
			t.Fatalf("Check(%q) = %v, json.Valid = %v", data, err, valid)
		}
		if err != nil {
			return
		}
		var want any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("json.Decode of valid %q: %v", data, err)
		}
		for _, text := range []bool{false, true} {
			s := jsontext.New(data)
			got, err := read(&s, text)
			if err != nil {
				t.Fatalf("reading valid %q (text %v): %v", data, text, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("reading %q (text %v) = %#v, json.Unmarshal %#v", data, text, got, want)
			}
		}
		s := jsontext.New(data)
		span, err := s.Skip()
		if err != nil || !bytes.Equal(span, bytes.Trim(data, " \t\r\n")) {
			t.Fatalf("Skip(%q) = %q, %v, want the value without the space around it", data, span, err)
		}
		if span[0] == '"' {
			var str string
			if err := json.Unmarshal(span, &str); err != nil || string(jsontext.Unquote(span)) != str {
				t.Fatalf("Unquote(%q) = %q, json.Unmarshal %q (%v)", span, jsontext.Unquote(span), str, err)
			}
		}
	})
}

// read builds the value that is next as json.Unmarshal does into an any
// (numbers as json.Number, a repeated key's last value winning), reading
// strings with Text if text, else with Skip and Unquote.
func read(s *jsontext.Scanner, text bool) (any, error) {
	switch s.Peek() {
	case '{':
		m := map[string]any{}
		err := s.Object(func(key []byte) error {
			v, err := read(s, text)
			m[string(key)] = v
			return err
		})
		return m, err
	case '[':
		l := []any{}
		err := s.Array(func() error {
			v, err := read(s, text)
			l = append(l, v)
			return err
		})
		return l, err
	case '"':
		if text {
			b, err := s.Text()
			return string(b), err
		}
		lit, err := s.Skip()
		if err != nil {
			return nil, err
		}
		return string(jsontext.Unquote(lit)), nil
	}
	raw, err := s.Skip()
	if err != nil {
		return nil, err
	}
	switch c := raw[0]; {
	case c == 't' || c == 'f':
		return c == 't', nil
	case c == 'n':
		return nil, nil
	case c == '-' || '0' <= c && c <= '9':
		return json.Number(raw), nil
	}
	return nil, fmt.Errorf("unexpected value %q", raw)
}

// FuzzAppendString holds the string writer to encoding/json: with the
// Marshal escaping it writes what json.Marshal writes, byte for byte; with
// NoHTML what an encoder with SetEscapeHTML(false) writes, \b and \f long.
func FuzzAppendString(f *testing.F) {
	for _, s := range writeCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkString(t, s) })
}

// FuzzIsCompact: for a valid text, IsCompact says whether json.Marshal
// writes it as it is.
func FuzzIsCompact(f *testing.F) {
	for _, text := range checkCases {
		if len(text) < 4096 {
			f.Add([]byte(text))
		}
	}
	f.Add([]byte("{\"a\":[1, \"<\u2028\"]}"))
	f.Fuzz(func(t *testing.T, v []byte) { checkCompact(t, v) })
}

// fuzzSeedEvents are real events of every family but the bench message's,
// as the service stores them.
func fuzzSeedEvents() []message {
	at := time.Date(2030, 1, 2, 3, 4, 5, 678901000, time.UTC)
	name := "Alice"
	return []message{
		{"sso.sattr.zusr1.zust2", domain.Event{ID: testID, Kind: domain.KindAttrDeleted, Time: at,
			Actor: "zusr1", Data: domain.EventData{Names: []string{"a.b", "*", ">"}}}},
		{"sso.user.zusr1", domain.Event{ID: testID, Kind: domain.KindUserCreated, Time: at, Actor: "cli",
			Data: domain.EventData{User: &domain.User{ID: "zusr1", Username: "alice", FirstName: &name,
				ApprovalStatus: domain.ApprovalApproved, ApprovalStatusModTime: at, PasswordHash: "gAAAAA",
				PasswordExpiry: at.AddDate(2, 0, 0), SignUpStatus: domain.SignupFinal, SignUpTime: at, SignUpConfirmTime: &at}}}},
		{"sso.session.zusr1.zust2", domain.Event{ID: testID, Kind: domain.KindSessionCreated, Time: at,
			Data: domain.EventData{Session: &domain.Session{ID: "zust2", UserID: "zusr1", Created: at, Expires: at.Add(time.Hour),
				History: []domain.HistoryEntry{{RemoteAddr: "::1", Timestamp: at, Source: "login", Idx: 1}}}}}},
		{"sso.username.alice", domain.Event{ID: testID, Kind: domain.KindUsernameClaimed, Time: at,
			Data: domain.EventData{Username: "alice", UserID: "zusr1"}}},
	}
}

// FuzzDecodeEvent feeds stored messages to DecodeEvent. Properties: it
// agrees with the old encoding/json decoder (decodeStd) on what to reject
// (with ErrMalformed) and on the event and subject it returns; what it
// accepted encodes, as the old encoder wrote it, and decodes again to the
// same event and subject; the encoding is then a fixed point. It never
// panics.
func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(benchMessage))
	for _, m := range append(fuzzSeedEvents(), codecEvents()...) {
		data, err := jsontext.EncodeEvent(m.Event, m.Subject)
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
			// the event's (which EncodeEvent writes in UTC). Both codecs do
			// that; no stored message holds such a time, since nothing
			// could have written it.
			if strings.Contains(err.Error(), "timezone hour outside of range") {
				return
			}
			t.Fatalf("DecodeEvent accepted %q, but EncodeEvent of the result fails: %v", data, err)
		}
		if !json.Valid(enc) {
			t.Fatalf("EncodeEvent wrote invalid JSON %q", enc)
		}
		again, err := decodeBoth(t, enc)
		if err != nil {
			t.Fatalf("DecodeEvent(EncodeEvent(DecodeEvent(%q))): %v", data, err)
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
// Properties: EncodeEvent writes the bytes the old encoding/json encoder wrote,
// or fails where it failed; what it writes, both decoders read alike.
func FuzzEncodeEvent(f *testing.F) {
	f.Add("01J", "attr.set", "zusr1", "", "zusr2", "name", []byte(`"value"`), false, "a,b", "", int64(1900000000), int64(250000000), int16(0), false)
	f.Add("x", "user.created", "zusr1", "", "cli", "名前 <&>", []byte(" { \"a\" : [1, 2] } "), true, "", "logout", int64(-62135596800), int64(0), int16(330), true)
	f.Add("x\"", "k\xff", "u.v", "s", "\u2028", "\x00\x1f\\", []byte("\"\xff\u2028<\""), true, ",", "\xed\xa0\x80", int64(253402300799), int64(999999999), int16(-1439), true)
	f.Add("x", "k", "u", "s", "", "", []byte(`{"a":`), false, "", "", int64(0), int64(0), int16(1440), false)
	f.Fuzz(func(t *testing.T, id, kind, user, session, actor, name string, value []byte, encrypted bool,
		names, reason string, sec, nsec int64, offsetMinutes int16, account bool) {
		at := time.Unix(sec, nsec).In(time.FixedZone("", int(offsetMinutes)*60))
		subject := "sso.uattr." + user // any text to the codec
		if session != "" {
			subject = "sso.sattr." + user + "." + session
		}
		e := domain.Event{ID: id, Kind: kind, Time: at, Actor: actor, App: name, RemoteAddr: reason, CID: session,
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
		enc, err := encodeBoth(t, message{subject, e})
		if err != nil {
			return
		}
		decodeBoth(t, enc)
	})
}
