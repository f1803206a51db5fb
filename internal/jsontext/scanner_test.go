package jsontext_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ssoattr/ssoattr/internal/jsontext"
)

// checkCases are texts on both sides of encoding/json's line, where a
// hand-written scanner could part from it.
var checkCases = []string{
	// accepted
	`{}`, `[]`, `""`, `0`, `-0`, `true`, `false`, `null`, " \t\r\n[ 1 , {} ]\n ",
	`{"a":[1,-1.5e3,2E+2,3e-0,0.0],"b":{"c":null},"a":"repeated"}`,
	`12345678901234567890123456789`, `1e400`, `{"":""}`,
	`"\"\\\/\b\f\n\r\t\u00e9\uD83D\ude00\ud800\udc00\uffff"`,
	"\"\xff\xed\xa0\x80\xc0\xaf a\xe2\x80\"", // invalid UTF-8 is accepted inside strings
	"\"\u2028\u007f\"",
	strings.Repeat("[", jsontext.MaxDepth) + strings.Repeat("]", jsontext.MaxDepth),
	strings.Repeat(`{"a":`, jsontext.MaxDepth-1) + "[]" + strings.Repeat("}", jsontext.MaxDepth-1),
	// rejected
	``, ` `, `{`, `]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{a:1}`, `{'a':1}`,
	`{"a" 1}`, `{"a":1}x`, `{} {}`, `01`, `-`, `+1`, `1.`, `.5`, `1e`, `1e+`, `0x1`, `NaN`,
	`tru`, `nulll`, `True`, `"a`, `"\q"`, `"\u12"`, `"\u12G4"`, `"\'"`, "\"a\tb\"", "\"\x00\"",
	"\ufeff{}", "\f{}", "\u00a0{}", `"\`, `"\u`,
	strings.Repeat("[", jsontext.MaxDepth+1) + strings.Repeat("]", jsontext.MaxDepth+1),
	strings.Repeat(`{"a":`, jsontext.MaxDepth) + "[]" + strings.Repeat("}", jsontext.MaxDepth),
}

func TestCheck_MatchesJSONValid(t *testing.T) {
	for _, text := range checkCases {
		err := jsontext.Check([]byte(text))
		if want := json.Valid([]byte(text)); (err == nil) != want {
			t.Errorf("Check(%.80q) = %v, json.Valid = %v", text, err, want)
		}
		var se *jsontext.SyntaxError
		if err != nil && !errors.As(err, &se) {
			t.Errorf("Check(%.80q) error %T is not a *SyntaxError", text, err)
		}
	}
}

func TestCheck_ErrorSaysWhere(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{`[1,]`, "offset 3: want a value"},
		{`{"a":1 "b":2}`, "offset 7: want ',' or '}' in an object"},
		{`"a` + "\n" + `"`, "offset 2: control character in a string"},
		{`[] x`, "offset 3: data after the top-level value"},
		{strings.Repeat("[", jsontext.MaxDepth+1), "offset 10000: nested more than 10000 deep"},
	} {
		if err := jsontext.Check([]byte(c.text)); err == nil || err.Error() != c.want {
			t.Errorf("Check(%.40q) = %v, want %q", c.text, err, c.want)
		}
	}
}

func TestUnquote_MatchesUnmarshal(t *testing.T) {
	for _, lit := range []string{
		`""`, `"plain"`, `"名前"`, `"\u0041\n\"\\\/"`, `"\ud83d\ude00"`, `"\ud800"`, `"\ud800x"`,
		`"\ud800\u0041"`, `"\udc00\ud800\ud800\udc00"`, `"\ud83d\ud83d\ude00"`, `"\u0000"`,
		"\"\xff\"", "\"\xed\xa0\x80\"", "\"a\xe2\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xc3\"",
	} {
		var want string
		if err := json.Unmarshal([]byte(lit), &want); err != nil {
			t.Fatalf("json.Unmarshal(%q): %v", lit, err)
		}
		if got := jsontext.Unquote([]byte(lit)); string(got) != want {
			t.Errorf("Unquote(%q) = %q, want %q", lit, got, want)
		}
		s := jsontext.New([]byte(lit))
		if got, err := s.Text(); err != nil || string(got) != want {
			t.Errorf("Text of %q = %q, %v, want %q", lit, got, err, want)
		}
	}
}

// A string without escapes or invalid UTF-8 is its own text: reading it
// must not allocate.
func TestUnquote_PlainStringIsASpan(t *testing.T) {
	lit := []byte(`"bench-attr-00001 名前"`)
	if n := testing.AllocsPerRun(100, func() { _ = jsontext.Unquote(lit) }); n != 0 {
		t.Errorf("Unquote of a plain string: %v allocations, want 0", n)
	}
	text := jsontext.Unquote(lit)
	if &text[0] != &lit[1] || cap(text) != len(text) {
		t.Errorf("Unquote(%q) is not the span between the quotes with its capacity cut", lit)
	}
}

func TestScanner_Object(t *testing.T) {
	data := []byte(` {"a" : 1, "\u0062":[true,null] ,"a":{"c":"d"}, "":""} `)
	s := jsontext.New(data)
	var got []string
	err := s.Object(func(key []byte) error {
		v, err := s.Skip()
		got = append(got, string(key)+"="+string(v))
		return err
	})
	if err == nil {
		err = s.End()
	}
	want := []string{`a=1`, `b=[true,null]`, `a={"c":"d"}`, `=""`}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Object = %q, %v; want %q", got, err, want)
	}
}

func TestScanner_ObjectStopsAtCallerError(t *testing.T) {
	stop := errors.New("stop")
	s := jsontext.New([]byte(`{"a":1,"b":2}`))
	calls := 0
	err := s.Object(func([]byte) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Fatalf("Object = %v after %d calls, want %v after 1", err, calls, stop)
	}
}

func TestScanner_Array(t *testing.T) {
	s := jsontext.New([]byte(`[ "x\n", 2 ,[3]]`))
	var got []string
	err := s.Array(func() error {
		if s.Peek() == '"' {
			text, err := s.Text()
			got = append(got, "text "+string(text))
			return err
		}
		v, err := s.Skip()
		got = append(got, string(v))
		return err
	})
	want := []string{"text x\n", "2", "[3]"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Array = %q, %v; want %q", got, err, want)
	}
}

func TestScanner_WrongKind(t *testing.T) {
	for _, c := range []struct {
		text string
		read func(*jsontext.Scanner) error
		want string
	}{
		{` []`, func(s *jsontext.Scanner) error { return s.Object(nil) }, "offset 1: want an object"},
		{`{}`, func(s *jsontext.Scanner) error { return s.Array(nil) }, "offset 0: want an array"},
		{`1`, func(s *jsontext.Scanner) error { _, err := s.Text(); return err }, "offset 0: want a string"},
		{`fals`, func(s *jsontext.Scanner) error { return s.Literal("false") }, "offset 0: want false"},
	} {
		s := jsontext.New([]byte(c.text))
		if err := c.read(&s); err == nil || err.Error() != c.want {
			t.Errorf("reading %q: %v, want %q", c.text, err, c.want)
		}
	}
}

func TestScanner_Null(t *testing.T) {
	for _, c := range []struct {
		text   string
		isNull bool
		ok     bool
	}{{` null`, true, true}, {`nul`, true, false}, {`"null"`, false, true}} {
		s := jsontext.New([]byte(c.text))
		isNull, err := s.Null()
		if isNull != c.isNull || (err == nil) != c.ok {
			t.Errorf("Null of %q = %v, %v; want %v, ok %v", c.text, isNull, err, c.isNull, c.ok)
		}
	}
}

// Skip hands out spans of the data: appending to one must not write over
// what follows it.
func TestSkip_SpanCannotOverwrite(t *testing.T) {
	data := []byte(`[[1,2],"s"]`)
	orig := bytes.Clone(data)
	s := jsontext.New(data)
	var spans [][]byte
	if err := s.Array(func() error {
		v, err := s.Skip()
		spans = append(spans, v)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, v := range spans {
		_ = append(v, "XXXX"...)
	}
	if !bytes.Equal(data, orig) {
		t.Fatalf("appending to a span changed the data: %s", data)
	}
}
