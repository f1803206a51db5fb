package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/eventstore"
	"github.com/ssoattr/ssoattr/projections"
	"github.com/ssoattr/ssoattr/sso"
)

// FuzzAcceptedWritesReplay states the property that keeps the stream
// replayable: every attribute write the API accepts (the request decoder's
// items, decided by domain as sso decides them) becomes an event that
// encodes, decodes again, and gives every reader the same state as the
// event that was decided: the view that applied the decided event and the
// one that applied the decoded copy hold the same attributes, the same
// values (as JSON), the same times.
func FuzzAcceptedWritesReplay(f *testing.F) {
	for _, body := range []string{
		benchSetBody, benchManyBody(),
		`{"name":"a","value":{"k":[1,2.5e3,null,true,"<&>\u2028"]},"expiration":"30"}`,
		`{"name":"名前","value":"\u00e9\ud800\udc00"}`,
		"{\"name\":\"a\",\"value\":\"\xff\xfe\"}",
		`{"data":[{"name":"a","value":1},{"name":"a","value":[2]},{"name":"b","value":{ "x" : 1 }}]}`,
		`{"name":"a","value":` + strings.Repeat("[", domain.MaxValueDepth) + strings.Repeat("]", domain.MaxValueDepth) + `}`,
		`{"name":"a","value":` + strings.Repeat("[", 9998) + strings.Repeat("]", 9998) + `}`,
		`{"data":[{"name":"a","value":` + strings.Repeat(`{"k":`, domain.MaxValueDepth+1) + `1` + strings.Repeat("}", domain.MaxValueDepth+1) + `}]}`,
		`{"name":"a","value":1e400}`,
		`{"name":"a","value":-0.0e-7}`,
	} {
		f.Add([]byte(body), "")
	}
	f.Add([]byte(`{"name":"a"}`), "value=%3C%26%3E&expiration=5")
	at := time.Date(2031, 5, 4, 9, 10, 11, 123456000, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte, query string) {
		r := &http.Request{Method: "PUT", URL: &url.URL{Path: "/zato/sso/user/attr", RawQuery: query},
			Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		in, err := parseInput(r)
		if err != nil {
			return
		}
		var writes [][]sso.AttrItem // each an accepted request's items
		if it, err := writeItem(in, domain.OpSet, writeOpts{}, false); err == nil {
			writes = append(writes, []sso.AttrItem{it})
		}
		if list, ok, err := in.list("data"); err == nil && ok && len(list) <= domain.MaxItems {
			var items []sso.AttrItem
			for _, raw := range list {
				obj, err := object(raw)
				if err != nil {
					items = nil
					break
				}
				it, err := writeItem(obj, domain.OpSet, writeOpts{}, false)
				if err != nil {
					items = nil
					break
				}
				items = append(items, it)
			}
			if len(items) > 0 {
				writes = append(writes, items)
			}
		}
		for _, items := range writes {
			tx := domain.NewAttrTx(at, domain.LookupIn(nil))
			accepted := true
			for _, it := range items {
				if it.Encrypt {
					it.Value = json.RawMessage(`"gAAAAABciphertext"`) // as sso stores it: a JSON string
				}
				if tx.Apply(domain.OpSet, it.AttrWrite) != nil {
					accepted = false
					break
				}
			}
			if !accepted {
				continue
			}
			owner := domain.UserAttrsOwner("zusr1")
			e := domain.Event{ID: "01JZ0000000000000000000000", Kind: domain.KindAttrSet, Owner: owner, Time: at,
				Actor: "zusr1", App: "CRM", RemoteAddr: "127.0.0.1", CID: "cid",
				Data: domain.EventData{Attrs: tx.Result()}}
			data, err := eventstore.Encode(e)
			if err != nil {
				t.Fatalf("an accepted write does not encode: %v", err)
			}
			got, err := eventstore.Decode(data)
			if err != nil {
				t.Fatalf("the event of an accepted write does not decode: %v", err)
			}
			sameState(t, owner, e, got, at)
		}
	})
}

// sameState applies want and got to views of their own and fails unless
// every reader sees the same attributes in both.
func sameState(t *testing.T, owner domain.Owner, want, got domain.Event, at time.Time) {
	t.Helper()
	now := func() time.Time { return at }
	views := [2]*projections.View{projections.NewView(now), projections.NewView(now)}
	for i, e := range []domain.Event{want, got} {
		views[i].Apply(domain.Event{ID: "u", Kind: domain.KindUserCreated, Owner: domain.UserOwner(owner.User),
			Data: domain.EventData{User: &domain.User{ID: owner.User, Username: "u"}}}, 1)
		views[i].Apply(e, 2)
	}
	names := views[0].Names(owner)
	if other := views[1].Names(owner); !reflect.DeepEqual(names, other) {
		t.Fatalf("names = %q after decoding, %q as decided", other, names)
	}
	for _, n := range names {
		a, err1 := views[0].Get(owner, n)
		b, err2 := views[1].Get(owner, n)
		if err1 != nil || err2 != nil || !sameJSONValue(a.Value, b.Value) || a.Encrypted != b.Encrypted ||
			!a.Created.Equal(b.Created) || !a.Modified.Equal(b.Modified) || !a.Expires.Equal(b.Expires) {
			t.Fatalf("attribute %q = %+v (%v) after decoding, %+v (%v) as decided", n, b, err2, a, err1)
		}
	}
}

// sameJSONValue reports whether a and b are the same JSON value, as a
// client's JSON decoder reads them.
func sameJSONValue(a, b []byte) bool {
	var x, y any
	da, db := json.NewDecoder(bytes.NewReader(a)), json.NewDecoder(bytes.NewReader(b))
	da.UseNumber()
	db.UseNumber()
	if da.Decode(&x) != nil || db.Decode(&y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
