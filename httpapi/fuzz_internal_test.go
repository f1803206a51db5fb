package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/sso"
)

// checkItem is the property of an accepted write item: a valid name, and a
// value (when one was sent) that is compact JSON other than null, a string
// when it is to be encrypted.
func checkItem(t *testing.T, it sso.AttrItem, op domain.AttrOp) {
	t.Helper()
	if !domain.ValidName(it.Name) {
		t.Fatalf("accepted item name %q is not valid", it.Name)
	}
	if it.Value == nil {
		if op != domain.OpUpdate {
			t.Fatalf("accepted %v item %q without a value", op, it.Name)
		}
		return
	}
	var b bytes.Buffer
	if !json.Valid(it.Value) || string(it.Value) == "null" || json.Compact(&b, it.Value) != nil || !bytes.Equal(b.Bytes(), it.Value) {
		t.Fatalf("accepted item value %q is not compact non-null JSON", it.Value)
	}
	if it.Encrypt && it.Value[0] != '"' {
		t.Fatalf("accepted encryption of non-string value %q", it.Value)
	}
	if it.Expiration != nil && *it.Expiration < 0 {
		t.Fatalf("accepted negative expiration %d", *it.Expiration)
	}
}

// FuzzRequestBody feeds request bodies and query strings to the decoders of
// outside input: parseInput, writeItem (single and many mode) and
// readNames. Property: each rejects the input with the documented error or
// returns values that hold their invariants. Nothing panics.
func FuzzRequestBody(f *testing.F) {
	for _, s := range []struct{ body, query string }{
		{benchSetBody, ""},
		{benchGetBody, ""},
		{benchManyBody(), ""},
		{`{"ust":"x","current_app":"CRM","name":"a","value":{"k":[1,2.5e3,null,true]},"expiration":"30","encrypt":"yes"}`, ""},
		{`{"ust":"x","current_app":"CRM","data":["a","b","名前"]}`, ""},
		{`{"name":null,"data":[{"name":"x","value":"v","encrypt":1,"expiration":5.0}]}`, ""},
		{`{"name":"a","value":1,"encrypt":true}`, ""},
		{``, "name=a&value=v&ust=x&current_app=CRM"},
		{`{"name":"a"}`, "data=%5B%22b%22%5D&name="},
		{`  {"name" : "\u00e9\ud800" , "value":"\u2028"}  `, ""},
		{`[1]`, ""},
		{`{"a":1,}`, ""},
		{`{"expiration":-1,"name":"a","value":0}`, ""},
	} {
		f.Add([]byte(s.body), s.query)
	}
	f.Fuzz(func(t *testing.T, body []byte, query string) {
		r := &http.Request{Method: "PUT", URL: &url.URL{Path: "/zato/sso/user/attr", RawQuery: query},
			Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		in, err := parseInput(r)
		if err != nil {
			if !errors.Is(err, errBadRequest) {
				t.Fatalf("parseInput error %v is not errBadRequest", err)
			}
			return
		}
		for k, raw := range in.body {
			if !json.Valid(raw) {
				t.Fatalf("body key %q holds invalid JSON %q", k, raw)
			}
		}
		for _, op := range []domain.AttrOp{domain.OpCreate, domain.OpSet, domain.OpUpdate} {
			if it, err := writeItem(in, op, writeOpts{}, false); err == nil {
				checkItem(t, it, op)
			}
		}
		if list, ok, err := in.list("data"); err == nil && ok {
			for _, raw := range list {
				if obj, err := object(raw); err == nil {
					if it, err := writeItem(obj, domain.OpSet, writeOpts{}, true); err == nil {
						checkItem(t, it, domain.OpSet)
					}
				}
			}
		}
		if names, _, err := readNames(in); err == nil {
			if len(names) == 0 {
				t.Fatal("readNames accepted no names")
			}
			for _, n := range names {
				if !domain.ValidName(n) {
					t.Fatalf("readNames accepted invalid name %q", n)
				}
			}
		}
		_, _ = in.callerToken()
		_, _, _ = in.datetime("expiration_time")
		_, _, _ = in.integer("page")
	})
}
