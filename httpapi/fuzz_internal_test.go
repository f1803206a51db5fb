package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/jsontext"
	"github.com/ssoattr/ssoattr/sso"
)

// checkItem is the property of a write item that writeItem reads and
// AttrWrite.Check accepts, as the service does: a valid name, and a
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
// readNames, each followed by the domain's check of what it read, as the
// service does. Property: each rejects the input with the documented error or
// returns values that hold their invariants, and every reader gives the
// same result or error as the encoding/json decoder input.go replaced
// (input_oracle_internal_test.go). Nothing panics.
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
		// Cases where a one-pass decoder could part from encoding/json:
		// repeated and escaped keys, invalid UTF-8, spacing, numbers, depth.
		{`{"name":"a","name":"b","n\u0061me":"c","value":1,"value":null}`, ""},
		{"{\"na\xffme\":\"x\",\"na\uFFFDme\":\"y\",\"name\":\"\xc0\xaf\",\"value\":\"\xed\xa0\x80\"}", ""},
		{"{\"name\":\"a\",\"value\":{ \"k\" :\t[1 ,\n2]\r, \"s\":\"a b\"} }", ""},
		{`{"name":"a","value":[],"expiration":5.0,"limit":1e2,"page":-0,"encrypt":0,"decrypt":"  On "}`, ""},
		{`{"expiration":9223372036854775808,"limit":-9223372036854775809,"page":1e400,"since":"2031-05-04T09:10:11Z"}`, ""},
		{`{"data":[{"name":"a","value":1,"name":"b"},"x",null,[],{"value":" "}]}`, "data=%5B%22a%22%2C+%22b%22%5D+"},
		{`{"data":"","app_list":["CRM","\u00e9"],"ust":"a","current_ust":"a"}`, "app_list=%5B%5D&data=%5B1%2C%5D"},
		{`{"a":01}`, ""},
		{`{"a":"\x"}`, ""},
		{`{"a":1}x`, ""},
		{"\u00a0{\"a\":1}\u0085", ""},
		{`{"a":[` + strings.Repeat("[", jsontext.MaxDepth-2) + strings.Repeat("]", jsontext.MaxDepth-2) + `]}`, ""},
		{`{"a":[` + strings.Repeat("[", jsontext.MaxDepth-1) + strings.Repeat("]", jsontext.MaxDepth-1) + `]}`, ""},
		{`{"name":"a"}`, "data=" + strings.Repeat("%5B", jsontext.MaxDepth+1)},
	} {
		f.Add([]byte(s.body), s.query)
	}
	f.Fuzz(func(t *testing.T, body []byte, query string) {
		diffDecoders(t, body, query)
		r := &http.Request{Method: "PUT", URL: &url.URL{Path: "/zato/sso/user/attr", RawQuery: query},
			Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		in, err := parseInput(r)
		if err != nil {
			if !errors.Is(err, errBadRequest) {
				t.Fatalf("parseInput error %v is not errBadRequest", err)
			}
			return
		}
		for _, m := range in.body {
			if !json.Valid(m.raw) {
				t.Fatalf("body key %q holds invalid JSON %q", m.key, m.raw)
			}
		}
		for _, op := range []domain.AttrOp{domain.OpCreate, domain.OpSet, domain.OpUpdate} {
			if it, err := writeItem(in, op, writeOpts{}, false); err == nil && it.Check(op) == nil {
				checkItem(t, it, op)
			}
		}
		if list, ok, err := in.list("data"); err == nil && ok {
			for _, raw := range list {
				if obj, err := object(raw); err == nil {
					if it, err := writeItem(obj, domain.OpSet, writeOpts{}, true); err == nil && it.Check(domain.OpSet) == nil {
						checkItem(t, it, domain.OpSet)
					}
				}
			}
		}
		if names, _, err := readNames(in); err == nil && domain.CheckNames(names, domain.MaxItems) == nil {
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

// probeKeys are the fields handlers read, probed on every fuzzed request
// besides the keys it sends.
var probeKeys = []string{"ust", "current_ust", "current_app", "name", "value", "data", "expiration",
	"encrypt", "decrypt", "user_id", "target_ust", "app_list", "limit", "page", "since", "as_of",
	"expiration_time", "is_locked", ""}

// diffDecoders parses the request with input.go and with the oracle, the
// decoder it replaced, and fails unless every reader gives the same result
// or the same error.
func diffDecoders(t *testing.T, body []byte, query string) {
	t.Helper()
	req := func() *http.Request {
		return &http.Request{Method: "PUT", URL: &url.URL{Path: "/zato/sso/user/attr", RawQuery: query},
			Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
	}
	in, err := parseInput(req())
	old, oldErr := oldParseInput(req())
	if err != oldErr {
		t.Fatalf("parseInput error = %v, oracle %v", err, oldErr)
	}
	if err != nil {
		return
	}
	diffInput(t, "request", in, old, 0)
	names, many, err1 := readNames(in)
	oldNames, oldMany, err2 := oldReadNames(old)
	if err1 != err2 || many != oldMany || !reflect.DeepEqual(names, oldNames) {
		t.Fatalf("readNames = %q %v %v, oracle %q %v %v", names, many, err1, oldNames, oldMany, err2)
	}
	apps, err1 := appList(in)
	oldApps, err2 := oldAppList(old)
	if err1 != err2 || !reflect.DeepEqual(apps, oldApps) {
		t.Fatalf("appList = %q %v, oracle %q %v", apps, err1, oldApps, err2)
	}
	tok, err1 := in.callerToken()
	oldTok, err2 := old.callerToken()
	if tok != oldTok || err1 != err2 {
		t.Fatalf("callerToken = %q %v, oracle %q %v", tok, err1, oldTok, err2)
	}
}

// diffInput compares the readers of one object (the request, or at depth
// 1 an item of one of its lists).
func diffInput(t *testing.T, what string, in *input, old *oldInput, depth int) {
	t.Helper()
	keys := append([]string(nil), probeKeys...)
	for k := range old.body {
		keys = append(keys, k)
		if raw, ok := in.field(k); !ok || !bytes.Equal(raw, old.body[k]) {
			t.Fatalf("%s: body key %q = %q (%v), oracle %q", what, k, raw, ok, old.body[k])
		}
	}
	for _, m := range in.body {
		if _, ok := old.body[string(m.key)]; !ok {
			t.Fatalf("%s: body key %q is not in the oracle's body", what, m.key)
		}
	}
	for k := range old.query {
		keys = append(keys, k)
	}
	for _, k := range keys {
		diffKey(t, what, in, old, k, depth)
	}
	defs := []writeOpts{{}, {encrypt: true}}
	for _, op := range []domain.AttrOp{domain.OpCreate, domain.OpSet, domain.OpUpdate} {
		for _, def := range defs {
			for _, session := range []bool{false, true} {
				it, err := writeItem(in, op, def, session)
				oldIt, oldErr := oldWriteItem(old, op, def, session)
				if err != oldErr || !reflect.DeepEqual(it, oldIt) {
					t.Fatalf("%s: writeItem(%v, %v, %v) = %+v %v, oracle %+v %v", what, op, def, session, it, err, oldIt, oldErr)
				}
			}
		}
	}
}

// diffKey compares every typed reader of one key.
func diffKey(t *testing.T, what string, in *input, old *oldInput, k string, depth int) {
	t.Helper()
	fail := func(reader string, got, want any) {
		t.Helper()
		t.Fatalf("%s: %s(%q) = %v, oracle %v", what, reader, k, got, want)
	}
	type res struct {
		V   any
		Ok  bool
		Err error
	}
	if a, b := in.has(k), old.has(k); a != b {
		fail("has", a, b)
	}
	if a, b := isNull(in, k), oldIsNull(old, k); a != b {
		fail("isNull", a, b)
	}
	if a, b := in.emptyString(k), old.emptyString(k); a != b {
		fail("emptyString", a, b)
	}
	s, ok, err := in.str(k)
	os, ook, oerr := old.str(k)
	if a, b := (res{s, ok, err}), (res{os, ook, oerr}); a != b {
		fail("str", a, b)
	}
	for _, def := range []bool{false, true} {
		v, err := in.boolean(k, def)
		ov, oerr := old.boolean(k, def)
		if a, b := (res{v, def, err}), (res{ov, def, oerr}); a != b {
			fail("boolean", a, b)
		}
	}
	n, ok, err := in.integer(k)
	on, ook, oerr := old.integer(k)
	if a, b := (res{n, ok, err}), (res{on, ook, oerr}); a != b {
		fail("integer", a, b)
	}
	tm, ok, err := in.datetime(k)
	otm, ook, oerr := old.datetime(k)
	if !tm.Equal(otm) || ok != ook || err != oerr {
		fail("datetime", res{tm, ok, err}, res{otm, ook, oerr})
	}
	v, ok := in.value(k)
	ov, ook := old.value(k)
	if !bytes.Equal(v, ov) || ok != ook || (v == nil) != (ov == nil) {
		fail("value", res{string(v), ok, nil}, res{string(ov), ook, nil})
	}
	list, ok, err := in.list(k)
	olist, ook, oerr := old.list(k)
	if ok != ook || err != oerr || len(list) != len(olist) {
		fail("list", res{len(list), ok, err}, res{len(olist), ook, oerr})
	}
	for i := range list {
		if !bytes.Equal(list[i], olist[i]) {
			fail("list item", string(list[i]), string(olist[i]))
		}
		if depth > 0 {
			continue
		}
		item, err := object(list[i])
		oitem, oerr := oldObject(olist[i])
		if err != oerr {
			fail("object", err, oerr)
		}
		if err == nil {
			diffInput(t, what+" "+k+" item", item, oitem, depth+1)
		}
	}
}
