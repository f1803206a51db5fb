package jsontext_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/jsontext"
)

// message is an event as the codec writes and reads it: with the subject
// it is stored on, which the codec takes and returns as it is (its form is
// eventstore's), in place of its Owner, which the codec does not read.
type message struct {
	Subject string
	domain.Event
}

// testID is the id of the test events: any string is one to the codec.
const testID = "01KQ3M0R8V4Q2W7B3T5Y6Z9A1C"

func TestEncodeEvent_RejectsEventWithoutIDOrKind(t *testing.T) {
	for _, e := range []domain.Event{
		{Kind: domain.KindAttrSet},
		{ID: testID},
	} {
		if data, err := jsontext.EncodeEvent(e, "sso.uattr.zusr1"); err == nil {
			t.Errorf("EncodeEvent(%+v) = %s, want an error", e, data)
		}
	}
}

// decodeBoth decodes data with DecodeEvent and with the old decoder, and
// fails unless both reject it or both return the same event and subject.
func decodeBoth(t testing.TB, data []byte) (message, error) {
	t.Helper()
	var got message
	var err error
	got.Event, got.Subject, err = jsontext.DecodeEvent(data)
	want, wantErr := decodeStd(data)
	switch {
	case err != nil && !errors.Is(err, jsontext.ErrMalformed):
		t.Fatalf("DecodeEvent(%q) error %v does not wrap ErrMalformed", data, err)
	case (err == nil) != (wantErr == nil):
		t.Fatalf("DecodeEvent(%q) error = %v, old decoder error = %v", data, err, wantErr)
	case err == nil && !reflect.DeepEqual(got, want):
		t.Fatalf("DecodeEvent(%q) =\n%s\nold decoder:\n%s", data, showEvent(got), showEvent(want))
	}
	return got, err
}

// encodeBoth encodes m with EncodeEvent and with the old encoder, and
// fails unless both fail or both write the same bytes.
func encodeBoth(t testing.TB, m message) ([]byte, error) {
	t.Helper()
	got, err := jsontext.EncodeEvent(m.Event, m.Subject)
	want, wantErr := encodeStd(m)
	switch {
	case (err == nil) != (wantErr == nil):
		t.Fatalf("EncodeEvent(%s) error = %v, old encoder error = %v", showEvent(m), err, wantErr)
	case err == nil && !bytes.Equal(got, want):
		t.Fatalf("EncodeEvent(%s) =\n%s\nold encoder:\n%s", showEvent(m), got, want)
	}
	return got, err
}

// showEvent prints e for a failure message, time locations and raw bytes included.
func showEvent(e message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%+v", e)
	for _, a := range e.Data.Attrs {
		fmt.Fprintf(&b, "\n  attr %q value %q (nil %t) times %s / %s / %s", a.Name, a.Value, a.Value == nil,
			a.Created.Location(), a.Modified.Location(), a.Expires.Location())
	}
	if e.Data.User != nil {
		fmt.Fprintf(&b, "\n  user %+v", *e.Data.User)
	}
	if e.Data.Session != nil {
		fmt.Fprintf(&b, "\n  session %+v", *e.Data.Session)
	}
	return b.String()
}

// sameJSON reports whether two events and their subjects are equal up to
// what a round trip through the stored form may change: time locations of
// equal offsets, spacing and escaping inside raw values, empty versus nil
// lists.
func sameJSON(t testing.TB, a, b message) bool {
	t.Helper()
	a.Time, b.Time = a.Time.UTC(), b.Time.UTC()
	aj, err1 := json.Marshal(a)
	bj, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatalf("json.Marshal: %v, %v", err1, err2)
	}
	return bytes.Equal(aj, bj)
}

// codecEvents are events of every kind of domain/event.go, with every
// optional field set and unset, and strings that need escaping.
func codecEvents() []message {
	at := time.Date(2031, 5, 4, 9, 10, 11, 250000000, time.UTC)
	ist := time.Date(2031, 5, 4, 14, 40, 11, 123456789, time.FixedZone("IST", 5*3600+1800))
	s := func(v string) *string { return &v }
	fullUser := &domain.User{ID: "zusr1", Username: "alice <a&b>", Email: s("gAAAAAemail"),
		DisplayName: s("Alice \"A\" Ä"), FirstName: s("Alice"), MiddleName: s(""), LastName: s("Liddell\n"),
		IsSuperUser: true, IsLocked: true, LockedTime: &at, LockedBy: s("cli"),
		ApprovalStatus: domain.ApprovalApproved, ApprovalStatusModTime: at, ApprovalStatusModBy: domain.ModByAuto,
		PasswordHash: "gAAAAAhash", PasswordIsSet: true, PasswordMustChange: true, PasswordLastSet: at,
		PasswordExpiry: at.AddDate(2, 0, 0), SignUpStatus: domain.SignupFinal, SignUpTime: at, SignUpConfirmTime: &ist,
		SignUpTokenHash: "abc123", IsTOTPEnabled: true, TOTPKey: "gAAAAAkey", TOTPLabel: "gAAAAAlabel",
		CreationCtx: "api", IsRateLimitActive: true, RateLimitDef: s("10/m")}
	bareUser := &domain.User{ID: "zusr1", Username: "alice"}
	session := &domain.Session{ID: "zust9", UserID: "zusr1", Created: at, Expires: at.Add(time.Hour),
		RemoteAddr: "::1", UserAgent: "curl/8", AuthType: "default", AuthPrincipal: "alice", ExtSessionID: s("ext-1"),
		History: []domain.HistoryEntry{{RemoteAddr: "127.0.0.1", Timestamp: at, Source: "login", Idx: 1},
			{RemoteAddr: "::1", UserAgent: "x", Timestamp: ist, Source: "renew", Idx: 2}}}
	attr := func(name, value string) domain.Attr {
		return domain.Attr{Name: name, Value: json.RawMessage(value), Created: at, Modified: ist, Expires: domain.Never}
	}
	attrs := []domain.Attr{
		attr("string", `"0123456789abcdef"`),
		attr("object", `{"a":[1,2,"x"],"b":{"c":null}}`),
		attr("array", `[1,-2.5e+3,true,false,null,"s"]`),
		attr("number", `-0.125`), attr("true", `true`), attr("false", `false`), attr("null", `null`),
		attr("spaced", " { \"a\" : [ 1 , 2 ] ,\n\t\"b\" : \"x y\" } "),
		attr("html", `"<script>&amp;</script>"`),
		attr("separators", "\"a\u2028b\u2029c\""),
		attr("escapes", `"\"\\\/\b\f\n\r\t\u0000\u00e9\ud83d\ude00"`),
		attr("raw invalid UTF-8", "\"\xff\xfe\""),
		{Name: "no value", Created: at, Modified: at, Expires: at},
		{Name: "empty value", Value: json.RawMessage{}, Created: at, Modified: at, Expires: at},
		{Name: "encrypted", Value: json.RawMessage(`"gAAAAAbc"`), Encrypted: true, Created: at, Modified: at, Expires: at.Add(time.Minute)},
		attr("quote\" backslash\\ slash/ ctl\b\f\n\r\t\x00\x01\x1f\x7f", `1`),
		attr("html <>& separators \u2028\u2029", `2`),
		attr("unicode 名前 😀 \ufffd", `3`),
		attr("invalid UTF-8 \xff \xed\xa0\x80 \xe2\x80", `4`),
		attr("", `5`),
	}
	const owner, sess = "sso.user.zusr1", "sso.session.zusr1.zust9"
	const uattr, sattr = "sso.uattr.zusr1", "sso.sattr.zusr1.zust9"
	ev := func(kind, subject string, d domain.EventData) message {
		return message{subject, domain.Event{ID: testID, Kind: kind, Time: at, Data: d}}
	}
	events := []message{
		{uattr, domain.Event{ID: testID, Kind: domain.KindAttrSet, Time: ist,
			Actor: "zusr2", App: "CRM <x>", RemoteAddr: "127.0.0.1", CID: "0123456789abcdef01234567",
			Data: domain.EventData{Attrs: attrs}}},
		ev(domain.KindAttrCreated, sattr, domain.EventData{Attrs: attrs[:1]}),
		ev(domain.KindAttrUpdated, uattr, domain.EventData{Attrs: attrs[14:15]}),
		ev(domain.KindAttrDeleted, uattr, domain.EventData{Names: []string{"a", "b\"", "名前", "\xff"}}),
		ev(domain.KindAttrExpired, sattr, domain.EventData{Names: []string{"otp"}}),
		ev(domain.KindAttrRemoved, sattr,
			domain.EventData{Names: []string{"a", "b"}, Reason: domain.ReasonUserDeleted}),
		ev(domain.KindAttrSet, uattr, domain.EventData{}),
		ev(domain.KindAttrSet, uattr, domain.EventData{Attrs: []domain.Attr{}, Names: []string{}, Changed: []string{}}),
		ev(domain.KindUserCreated, owner, domain.EventData{User: fullUser}),
		ev(domain.KindUserCreated, owner, domain.EventData{User: bareUser}),
		ev(domain.KindUserUpdated, owner, domain.EventData{User: fullUser, Changed: []string{"email", "first_name"}}),
		ev(domain.KindSessionCreated, sess, domain.EventData{Session: session}),
		ev(domain.KindSessionRenewed, sess, domain.EventData{Session: &domain.Session{ID: "zust9", UserID: "zusr1"}}),
		ev(domain.KindSessionEnded, sess, domain.EventData{Reason: domain.ReasonLogout}),
		ev(domain.KindUsernameClaimed, "sso.username.alice", domain.EventData{Username: "alice", UserID: "zusr1"}),
		ev(domain.KindUsernameReleased, "sso.username.alice", domain.EventData{Username: "alice", UserID: "zusr1"}),
		// Everything at once, which no command writes, still keeps the field order.
		ev(domain.KindUserUpdated, owner, domain.EventData{Attrs: attrs[:2], Names: []string{"n"}, User: bareUser,
			Changed: []string{"c"}, Session: session, Reason: "r", Username: "u", UserID: "i"}),
		{"sso.user.u <&>\u2028\"", domain.Event{ID: "id \"quoted\"", Kind: "kind\xff<>", Time: time.Unix(0, 1).In(time.Local),
			Actor: "\u2028", App: "\x00", RemoteAddr: "&", CID: "\\"}},
	}
	for _, k := range []string{domain.KindUserApproved, domain.KindUserRejected, domain.KindUserLocked,
		domain.KindUserUnlocked, domain.KindUserPasswordChanged, domain.KindUserTOTPChanged,
		domain.KindUserSignupConfirmed, domain.KindUserDeleted} {
		events = append(events, ev(k, owner, domain.EventData{User: fullUser}))
	}
	return events
}

func TestEncodeEvent_MatchesOldEncoder(t *testing.T) {
	for i, e := range codecEvents() {
		t.Run(fmt.Sprintf("%d_%s", i, e.Kind), func(t *testing.T) {
			data, err := encodeBoth(t, e)
			if err != nil {
				t.Fatalf("EncodeEvent: %v", err)
			}
			got, err := decodeBoth(t, data)
			if err != nil {
				t.Fatalf("DecodeEvent(%s): %v", data, err)
			}
			if !sameJSON(t, got, e) && !strings.Contains(string(data), `\ufffd`) {
				t.Fatalf("DecodeEvent(EncodeEvent(e)) =\n%s\nwant\n%s", showEvent(got), showEvent(e))
			}
		})
	}
}

func TestEncodeEvent_RejectsWhatTheOldEncoderRejected(t *testing.T) {
	const subject = "sso.uattr.u"
	at := time.Date(2031, 5, 4, 9, 10, 11, 0, time.UTC)
	withAttr := func(a domain.Attr) domain.Event {
		return domain.Event{ID: "x", Kind: domain.KindAttrSet, Time: at,
			Data: domain.EventData{Attrs: []domain.Attr{a}}}
	}
	value := func(v string) domain.Event {
		return withAttr(domain.Attr{Name: "a", Value: json.RawMessage(v), Created: at, Modified: at, Expires: at})
	}
	tests := map[string]domain.Event{
		"value not JSON":          value(`hello`),
		"value unterminated":      value(`{"a":1`),
		"value two values":        value(`1 2`),
		"value trailing comma":    value(`[1,]`),
		"value control character": value("\"a\x01\""),
		"value bad escape":        value(`"\x"`),
		"value single quotes":     value(`'a'`),
		"value only space":        value(` `),
		"value too deep":          value(strings.Repeat("[", 10001) + strings.Repeat("]", 10001)),
		"event time after 9999":   {ID: "x", Kind: "k", Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"event time before 0":     {ID: "x", Kind: "k", Time: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		"attr time after 9999":    withAttr(domain.Attr{Name: "a", Created: at, Modified: at, Expires: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}),
		"attr zone offset 24h":    withAttr(domain.Attr{Name: "a", Created: at.In(time.FixedZone("", 24*3600)), Modified: at, Expires: at}),
		"user time after 9999":    {ID: "x", Kind: "k", Data: domain.EventData{User: &domain.User{SignUpTime: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}},
		"session time before 0":   {ID: "x", Kind: "k", Data: domain.EventData{Session: &domain.Session{Created: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}}},
		"no id":                   {Kind: "k"},
		"no kind":                 {ID: "x"},
	}
	for name, e := range tests {
		t.Run(name, func(t *testing.T) {
			if data, err := encodeBoth(t, message{subject, e}); err == nil {
				t.Fatalf("EncodeEvent = %s, want an error", data)
			}
		})
	}
	// The deepest value the API accepts is written, and reads back.
	deep := strings.Repeat("[", domain.MaxValueDepth) + strings.Repeat("]", domain.MaxValueDepth)
	data, err := encodeBoth(t, message{subject, value(deep)})
	if err != nil {
		t.Fatalf("EncodeEvent of a value nested %d deep: %v", domain.MaxValueDepth, err)
	}
	if got, _, err := jsontext.DecodeEvent(data); err != nil || string(got.Data.Attrs[0].Value) != deep {
		t.Fatalf("DecodeEvent of a value nested %d deep: %v", domain.MaxValueDepth, err)
	}
	// A deeper one is refused, though encoding/json would write it (up to
	// 10000 deep): in its event it would nest deeper than any reader reads
	// (domain.MaxJSONDepth), and be lost.
	for _, d := range []int{domain.MaxValueDepth + 1, domain.MaxJSONDepth - 2} {
		deeper := strings.Repeat("[", d) + strings.Repeat("]", d)
		if _, err := jsontext.EncodeEvent(value(deeper), subject); !errors.Is(err, domain.ErrInvalidInput) {
			t.Errorf("EncodeEvent of a value nested %d deep: err = %v, want ErrInvalidInput", d, err)
		}
	}
}

// decodeCase builds a message from the envelope of an attr.set event and data.
func decodeCase(data string) string {
	return `{"specversion":"1.0","id":"01J","source":"ssoattr","type":"io.ssoattr.attr.set.v1",` +
		`"subject":"sso.uattr.zusr1","time":"2031-05-04T09:10:11.25Z","datacontenttype":"application/json","data":` + data + `}`
}

// decodeCases are hand-written messages the old decoder accepts and rejects.
func decodeCases() (accepted, rejected map[string]string) {
	const attr = `{"name":"a","value":{"x":[1, 2]},"is_encrypted":true,"creation_time":"2031-05-04T09:10:11Z",` +
		`"last_modified":"2031-05-04T09:10:11.123456789+05:30","expiration_time":"9999-12-31T00:00:00Z"}`
	accepted = map[string]string{
		"attrs":                 decodeCase(`{"attrs":[` + attr + `,` + attr + `]}`),
		"names and reason":      decodeCase(`{"names":["a","b"],"reason":"logout"}`),
		"empty data":            decodeCase(`{}`),
		"null data":             decodeCase(`null`),
		"empty lists":           decodeCase(`{"attrs":[],"names":[],"changed":[]}`),
		"null lists":            decodeCase(`{"attrs":null,"names":null,"changed":null}`),
		"null elements":         decodeCase(`{"attrs":[null,{"name":"a"},null],"names":[null,"a"]}`),
		"null attr fields":      decodeCase(`{"attrs":[{"name":null,"value":null,"is_encrypted":null,"creation_time":null}]}`),
		"attr without fields":   decodeCase(`{"attrs":[{}]}`),
		"value kinds":           decodeCase(`{"attrs":[{"value":"s"},{"value":-1.5E-3},{"value":true},{"value":false},{"value":[]},{"value":{}},{"value":"\u00e9\n"}]}`),
		"user":                  decodeCase(`{"user":{"user_id":"zusr1","username":"alice","email":"e","locked_time":"2031-05-04T09:10:11Z","is_locked":true},"changed":["email"]}`),
		"null user and session": decodeCase(`{"user":null,"session":null}`),
		"session":               decodeCase(`{"session":{"session_id":"zust9","user_id":"zusr1","history":[{"idx":1,"timestamp_utc":"2031-05-04T09:10:11Z"}]}}`),
		"claim":                 decodeCase(`{"username":"alice","user_id":"zusr1"}`),
		"unknown data keys":     decodeCase(`{"x":1,"attrs":[{"name":"a","y":{"z":[null]}}],"Y":"\ud800"}`),
		"keys in another order": `{"data":{"names":["a"]},"time":"2031-05-04T09:10:11Z","subject":"sso.uattr.zusr1",` +
			`"type":"io.ssoattr.attr.set.v1","id":"01J","specversion":"1.0"}`,
		"only the checked keys": `{"specversion":"1.0","id":"x","type":"io.ssoattr.k.v1","subject":"sso.user.u"}`,
		// What a subject may be is eventstore's to say (ParseSubject).
		"foreign subject": `{"specversion":"1.0","id":"x","type":"io.ssoattr.k.v1","subject":"orders.1"}`,
		"no subject":      `{"specversion":"1.0","id":"x","type":"io.ssoattr.k.v1"}`,
		"whitespace": " \t\r\n{ \"specversion\" :\n\"1.0\" ,\t\"id\" : \"x\" , \"type\" : \"io.ssoattr.k.v1\" , \"subject\" : \"sso.user.u\" ," +
			" \"data\" : { \"attrs\" : [ { \"name\" : \"a\" , \"value\" : [ 1 , { } ] } , null ] , \"names\" : [ ] } } \n",
		"escapes": `{"specversion":"1\u002e0","id":"\u0030\"\\\/\b\f\n\r\t","type":"io.ssoattr.\u006bind.v1","subject":"sso.user.u",` +
			`"actoruserid":"\ud83d\ude00","currentapp":"\ud800","remoteaddr":"\ud800\u0041","cid":"\udc00\ud800\ud800\udc00",` +
			`"data":{"names":["\u2028","\u0000","\uFFFF","\ud83d"],"reason":"\\u0041"}}`,
		"invalid UTF-8": "{\"specversion\":\"1.0\",\"id\":\"\xff\",\"type\":\"io.ssoattr.k\xfe.v1\",\"subject\":\"sso.user.u\"," +
			"\"data\":{\"names\":[\"\xed\xa0\x80\",\"a\xe2\x80\"],\"attrs\":[{\"name\":\"\xc0\xaf\",\"value\":\"\xff\"}]}}",
		"keys in other case": `{"SpecVersion":"1.0","ID":"x","TYPE":"io.ssoattr.k.v1","Subject":"sso.user.u",` +
			`"DATA":{"Attrs":[{"NAME":"a","Is_Encrypted":true}],"NAMES":["n"],"User_ID":"u"}}`,
		"keys folded":  "{\"\u017fpecver\u017fion\":\"1.0\",\"id\":\"x\",\"type\":\"io.ssoattr.k.v1\",\"\u017fubject\":\"sso.user.u\"}",
		"keys escaped": `{"\u0073pecversion":"1.0","\u0069d":"x","type":"io.ssoattr.k.v1","subject":"sso.user.u"}`,
		"repeated key": `{"specversion":"1.0","id":"a","id":"b","type":"io.ssoattr.k.v1","subject":"sso.user.u","time":"2031-05-04T09:10:11Z","time":"2032-05-04T09:10:11Z"}`,
		"repeated then null": `{"specversion":"1.0","id":"a","id":null,"type":"io.ssoattr.k.v1","subject":"sso.user.u",` +
			`"time":"2031-05-04T09:10:11Z","time":null,"actoruserid":"x","actoruserid":null,"data":{"reason":"r"},"data":null}`,
		"repeated data merges": decodeCase(`{"names":["a"],"attrs":[{"name":"x"}]},"data":{"reason":"r","attrs":[{"value":1}]}`),
		"repeated attrs reuse elements": decodeCase(`{"attrs":[{"name":"a","is_encrypted":true,"value":1,"creation_time":"2031-05-04T09:10:11Z"},` +
			`{"name":"b","is_encrypted":true},{"name":"c","value":[3]}],"attrs":[{"value":2,"name":null,"is_encrypted":null,"creation_time":null}],` +
			`"attrs":[null,{"is_encrypted":false},{"name":"C"},{"name":"d"}]}`),
		"repeated data then nulls": decodeCase(`{"reason":"r","username":"u","user_id":"i","names":["n"],"changed":["c"],"user":{"user_id":"a"}},` +
			`"data":{"reason":null,"username":null,"user_id":null,"names":null,"changed":null,"user":null}`),
		"repeated names reuse elements": decodeCase(`{"names":["a","b","c"],"names":["x"],"names":[null,null,null,"d"]}`),
		"repeated attrs after empty":    decodeCase(`{"attrs":[{"name":"a"}],"attrs":[],"attrs":[null]}`),
		"repeated attrs after null":     decodeCase(`{"attrs":[{"name":"a"}],"attrs":null,"attrs":[null]}`),
		"repeated user merges":          decodeCase(`{"user":{"user_id":"a","email":"e"},"user":{"username":"b"}}`),
		"time with offset":              decodeCase(`{"attrs":[{"creation_time":"2031-05-04T09:10:11+00:00","last_modified":"2031-05-04T09:10:11-23:59"}]}`),
		// time.Time.UnmarshalJSON does not check these yet (go.dev/issue/54580).
		"time hour one digit":      decodeCase(`{"attrs":[{"creation_time":"2031-05-04T9:10:11Z"}]}`),
		"time offset hour 24":      decodeCase(`{"attrs":[{"creation_time":"2031-05-04T09:10:11+24:00"}]}`),
		"time with fraction":       decodeCase(`{"attrs":[{"creation_time":"2031-05-04T09:10:11.1Z","last_modified":"2031-05-04T09:10:11.123456789123Z"}]}`),
		"event time with offset":   `{"specversion":"1.0","id":"x","type":"io.ssoattr.k.v1","subject":"sso.user.u","time":"2031-05-04T09:10:11+01:00"}`,
		"event time year 0 in UTC": `{"specversion":"1.0","id":"x","type":"io.ssoattr.k.v1","subject":"sso.user.u","time":"0000-01-01T00:30:00+00:30"}`,
		"numbers":                  decodeCase(`{"x":[0,-0,1,-1,0.5,-0.5e10,1E+2,1e-2,12345678901234567890123456789,1e400]}`),
		"empty key":                decodeCase(`{"":1,"attrs":[{"":2}]}`),
		"nesting 10000 deep":       `{"specversion":"1.0","id":"x","type":"io.ssoattr.k.v1","subject":"sso.user.u","x":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`,
		"value nesting 10000 deep": decodeCase(`{"attrs":[{"value":` + strings.Repeat("[", 9996) + strings.Repeat("]", 9996) + `}]}`),
	}
	rejected = map[string]string{
		"empty":                    ``,
		"only space":               ` `,
		"null":                     `null`,
		"array":                    `[]`,
		"string":                   `"x"`,
		"number":                   `1`,
		"empty object":             `{}`,
		"trailing data":            decodeCase(`{}`) + `x`,
		"two objects":              decodeCase(`{}`) + `{}`,
		"trailing comma":           decodeCase(`{"names":["a"],}`),
		"trailing comma in array":  decodeCase(`{"names":["a",]}`),
		"missing comma":            decodeCase(`{"names":["a" "b"]}`),
		"missing colon":            decodeCase(`{"names" ["a"]}`),
		"missing value":            decodeCase(`{"names":}`),
		"unquoted key":             decodeCase(`{names:[]}`),
		"single quotes":            decodeCase(`{'names':[]}`),
		"unterminated":             decodeCase(`{"names":["a"]`)[:len(decodeCase(`{}`))-1],
		"unterminated string":      `{"specversion":"1.0`,
		"BOM":                      "\ufeff" + decodeCase(`{}`),
		"form feed as space":       decodeCase("\f{}"),
		"NBSP as space":            decodeCase("\u00a0{}"),
		"leading zero":             decodeCase(`{"x":01}`),
		"bare minus":               decodeCase(`{"x":-}`),
		"plus sign":                decodeCase(`{"x":+1}`),
		"dot without digits":       decodeCase(`{"x":1.}`),
		"leading dot":              decodeCase(`{"x":.5}`),
		"exponent without digits":  decodeCase(`{"x":1e+}`),
		"hex number":               decodeCase(`{"x":0x1}`),
		"NaN":                      decodeCase(`{"x":NaN}`),
		"bad literal":              decodeCase(`{"x":tru}`),
		"literal prefix":           decodeCase(`{"x":nulll}`),
		"capital literal":          decodeCase(`{"x":True}`),
		"control in string":        decodeCase("{\"x\":\"a\tb\"}"),
		"bad escape":               decodeCase(`{"x":"\q"}`),
		"short unicode escape":     decodeCase(`{"x":"\u12"}`),
		"bad unicode escape":       decodeCase(`{"x":"\u12G4"}`),
		"escaped single quote":     decodeCase(`{"x":"\'"}`),
		"id not a string":          `{"specversion":"1.0","id":1,"type":"io.ssoattr.k.v1","subject":"sso.user.u"}`,
		"time not a string":        decodeCase(`{}`)[:len(decodeCase(`{}`))-1] + `,"time":1}`,
		"time an object":           decodeCase(`{"attrs":[{"creation_time":{"a":1}}]}`),
		"time not RFC 3339":        decodeCase(`{"attrs":[{"creation_time":"2031-05-04 09:10:11Z"}]}`),
		"time escaped":             decodeCase(`{"attrs":[{"creation_time":"2031-05-04T09:10:11\u005a"}]}`),
		"time lower-case t":        decodeCase(`{"attrs":[{"creation_time":"2031-05-04t09:10:11Z"}]}`),
		"event time after 9999":    `{"specversion":"1.0","id":"x","type":"io.ssoattr.k.v1","subject":"sso.user.u","time":"9999-12-31T23:30:00-01:00"}`,
		"data an array":            decodeCase(`[]`),
		"data a string":            decodeCase(`"x"`),
		"attrs an object":          decodeCase(`{"attrs":{}}`),
		"attr a number":            decodeCase(`{"attrs":[1]}`),
		"attr an array":            decodeCase(`{"attrs":[[]]}`),
		"name a number":            decodeCase(`{"attrs":[{"name":1}]}`),
		"is_encrypted a string":    decodeCase(`{"attrs":[{"is_encrypted":"true"}]}`),
		"names a string":           decodeCase(`{"names":"a"}`),
		"names of numbers":         decodeCase(`{"names":[1]}`),
		"reason a bool":            decodeCase(`{"reason":true}`),
		"user an array":            decodeCase(`{"user":[]}`),
		"user id a number":         decodeCase(`{"user":{"user_id":1}}`),
		"session a string":         decodeCase(`{"session":"s"}`),
		"nesting 10001 deep":       `{"specversion":"1.0","id":"x","type":"io.ssoattr.k.v1","subject":"sso.user.u","x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
		"value nesting 10001 deep": decodeCase(`{"attrs":[{"value":` + strings.Repeat("[", 9997) + strings.Repeat("]", 9997) + `}]}`),
		"wrong specversion":        `{"specversion":"1.1","id":"x","type":"io.ssoattr.k.v1","subject":"sso.user.u"}`,
		"empty id":                 `{"specversion":"1.0","id":"","type":"io.ssoattr.k.v1","subject":"sso.user.u"}`,
	}
	return accepted, rejected
}

func TestDecodeEvent_MatchesOldDecoder(t *testing.T) {
	accepted, rejected := decodeCases()
	for name, msg := range accepted {
		t.Run("accepts/"+name, func(t *testing.T) {
			if _, err := decodeBoth(t, []byte(msg)); err != nil {
				t.Fatalf("DecodeEvent(%.300q): %v", msg, err)
			}
		})
	}
	for name, msg := range rejected {
		t.Run("rejects/"+name, func(t *testing.T) {
			if e, err := decodeBoth(t, []byte(msg)); err == nil {
				t.Fatalf("DecodeEvent(%.300q) = %s, want ErrMalformed", msg, showEvent(e))
			}
		})
	}
}

// A decoded value shares the message's memory (as DecodeEvent documents),
// but appending to it must not write into the message, and nothing else
// may change when the message buffer is reused.
func TestDecodeEvent_ValueSharesOnlyItsOwnBytes(t *testing.T) {
	msg := []byte(decodeCase(`{"attrs":[{"name":"n","value":[1,2]},{"name":"m","value":"v"}],"names":["x"]}`))
	orig := bytes.Clone(msg)
	e, subject, err := jsontext.DecodeEvent(msg)
	if err != nil {
		t.Fatal(err)
	}
	v := e.Data.Attrs[0].Value
	_ = append(v, "XXXX"...)
	if !bytes.Equal(msg, orig) {
		t.Fatalf("appending to a decoded value changed the message:\n%s", msg)
	}
	for i := range msg {
		msg[i] = 'Z'
	}
	if e.ID != "01J" || e.Data.Attrs[0].Name != "n" || e.Data.Names[0] != "x" || subject != "sso.uattr.zusr1" || e.Kind != "attr.set" {
		t.Fatalf("reusing the message buffer changed the decoded strings: %s", showEvent(message{subject, e}))
	}
}
