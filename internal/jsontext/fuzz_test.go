package jsontext_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

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
