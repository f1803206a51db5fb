package jsontext_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ssoattr/ssoattr/internal/jsontext"
)

// writeCases are strings where a hand-written escaper could part from
// encoding/json: every ASCII byte, the HTML characters, the line and
// paragraph separators, invalid UTF-8 and encoded surrogates.
var writeCases = func() []string {
	cases := []string{"", "plain", "<&>", "a\u2028b\u2029c", "\u2027\u202a", "ünïcødé 名前 🎉",
		"\xff", "a\xe2\x80", "\xe2\x80\xa8\xe2\x80", "\xed\xa0\x80", "\xc0\xaf", "\ufffd", "\x7f\u0080",
		`quote" back\slash`, "\b\f\n\r\t\x00\x1f"}
	var ascii strings.Builder
	for c := range byte(0x80) {
		ascii.WriteByte(c)
		cases = append(cases, string(c), "x"+string(c)+"y")
	}
	return append(cases, ascii.String())
}()

// marshal is the oracle of the Marshal escaping.
func marshal(t testing.TB, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("json.Marshal(%q): %v", s, err)
	}
	return string(b)
}

// bfLong rewrites encoding/json's \b and \f as \u0008 and \u000c, as the
// API's replies have always written them; an escaped backslash is stepped
// over, so `\\b` stays as it is.
var bfLong = strings.NewReplacer(`\\`, `\\`, `\b`, `\u0008`, `\f`, `\u000c`)

// noHTML is the oracle of the NoHTML escaping: an encoding/json encoder
// with SetEscapeHTML(false), \b and \f written long.
func noHTML(t testing.TB, s string) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatalf("Encode(%q): %v", s, err)
	}
	return bfLong.Replace(strings.TrimSuffix(b.String(), "\n"))
}

// checkString holds AppendString and AppendEscaped to their oracles for s.
func checkString(t testing.TB, s string) {
	t.Helper()
	for _, tc := range []struct {
		name   string
		e      jsontext.Escaping
		oracle func(testing.TB, string) string
	}{{"Marshal", jsontext.Marshal, marshal}, {"NoHTML", jsontext.NoHTML, noHTML}} {
		want := tc.oracle(t, s)
		if got := string(jsontext.AppendString([]byte("x"), s, tc.e)); got != "x"+want {
			t.Fatalf("AppendString(x, %q, %s) = %s, want x%s", s, tc.name, got, want)
		}
		if got := string(jsontext.AppendEscaped(nil, s, tc.e)); `"`+got+`"` != want {
			t.Fatalf("AppendEscaped(%q, %s) = %s, want %s without its quotes", s, tc.name, got, want)
		}
	}
}

func TestAppendString_MatchesEncodingJSON(t *testing.T) {
	for _, s := range writeCases {
		checkString(t, s)
	}
}

// TestAppendString_NoHTML: the replies' escaping leaves <, > and & as they
// are and writes \b and \f long; the oracle's rewriting is checked too.
func TestAppendString_NoHTML(t *testing.T) {
	for s, want := range map[string]string{
		"<&>":            `"<&>"`,
		"\b\f\n":         `"\u0008\u000c\n"`,
		`\b`:             `"\\b"`,
		"\u2028\xff\x01": `"\u2028\ufffd\u0001"`,
	} {
		if got := string(jsontext.AppendString(nil, s, jsontext.NoHTML)); got != want {
			t.Errorf("AppendString(%q, NoHTML) = %s, want %s", s, got, want)
		}
		if got := noHTML(t, s); got != want {
			t.Errorf("oracle noHTML(%q) = %s, want %s", s, got, want)
		}
	}
}

// TestIsCompact: IsCompact(v) says whether json.Marshal of v as a
// json.RawMessage is v itself.
func TestIsCompact(t *testing.T) {
	texts := []string{`{"a":[1,2]}`, `{ "a":1}`, "[1,\n2]", `" "`, `"<"`, `"\u003c"`, `"&"`, `"a\u2028"`,
		"\"\u2028\"", "\"\u2029\"", "\"\u202a\"", `"\""`, `"\\"`, `{"a":"\" "}`, `"\\" `}
	for _, text := range append(texts, checkCases...) {
		checkCompact(t, []byte(text))
	}
}

func checkCompact(t testing.TB, v []byte) {
	t.Helper()
	if !json.Valid(v) {
		return
	}
	m, err := json.Marshal(json.RawMessage(v))
	if err != nil {
		t.Fatalf("json.Marshal(%q): %v", v, err)
	}
	if got, want := jsontext.IsCompact(v), bytes.Equal(m, v); got != want {
		t.Fatalf("IsCompact(%q) = %v, want %v (json.Marshal writes %q)", v, got, want, m)
	}
}

// BenchmarkAppendString writes the strings of an attribute event: ids,
// a subject's parts, a name and an address, none of which needs escaping.
func BenchmarkAppendString(b *testing.B) {
	strs := []string{"01KQ8ZP3J6Y4XW7T3N5R2M9C1D", "attr.set", "uattr", "zusr1abcdefghijklmnopq", "bench-attr-00001",
		"203.0.113.7", "CRM", "0123456789abcdef01234567"}
	buf := make([]byte, 0, 1024)
	for _, e := range []struct {
		name string
		e    jsontext.Escaping
	}{{"Marshal", jsontext.Marshal}, {"NoHTML", jsontext.NoHTML}} {
		b.Run(e.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				buf = buf[:0]
				for _, s := range strs {
					buf = jsontext.AppendString(buf, s, e.e)
				}
			}
		})
	}
}

// TestAppendStrings: a list is written as json.Marshal writes it (with the
// Marshal escaping), and a nil or empty list as [].
func TestAppendStrings(t *testing.T) {
	want, err := json.Marshal(writeCases)
	if err != nil {
		t.Fatal(err)
	}
	if got := jsontext.AppendStrings(nil, writeCases, jsontext.Marshal); !bytes.Equal(got, want) {
		t.Errorf("AppendStrings = %s\nwant %s", got, want)
	}
	for _, list := range [][]string{nil, {}} {
		if got := string(jsontext.AppendStrings([]byte("x"), list, jsontext.NoHTML)); got != "x[]" {
			t.Errorf("AppendStrings(%#v) = %q, want x[]", list, got)
		}
	}
}
