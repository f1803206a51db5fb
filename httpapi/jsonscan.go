package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// A request body is checked and split into its members in one pass by the
// scanner below, instead of being unmarshalled into raw messages whose
// fields are then unmarshalled again. It accepts exactly what encoding/json
// accepts: RFC 8259, invalid UTF-8 inside strings, nesting up to 10000
// levels. FuzzRequestBody holds it to the encoding/json decoder it replaced.

// maxDepth is encoding/json's nesting limit; a deeper body is invalid there.
const maxDepth = 10000

var errSyntax = errors.New("invalid JSON")

// member is one key of a JSON object: its text and its value's raw span.
type member struct {
	key []byte
	raw json.RawMessage
}

// splitObject checks that data is one JSON object, with nothing but
// whitespace after it, and appends its members to dst in order. Keys are
// unquoted as encoding/json does; values are spans of data.
func splitObject(data []byte, dst []member) ([]member, error) {
	s := scanner{data: data}
	if s.peek() != '{' {
		return dst, errSyntax
	}
	err := s.object(1, func(key, val []byte) {
		dst = append(dst, member{key: keyText(key), raw: val})
	})
	if err != nil || !s.end() {
		return dst, errSyntax
	}
	return dst, nil
}

// splitArray checks that data is one JSON array, with nothing but
// whitespace after it, and returns its elements as spans of data.
func splitArray(data []byte) ([]json.RawMessage, error) {
	s := scanner{data: data}
	if s.peek() != '[' {
		return nil, errSyntax
	}
	out := make([]json.RawMessage, 0, 8)
	err := s.array(1, func(val []byte) { out = append(out, val) })
	if err != nil || !s.end() {
		return nil, errSyntax
	}
	return out, nil
}

// keyText is a key's text: the bytes between the quotes unless it has
// escapes or invalid UTF-8, which json.Unmarshal decodes.
func keyText(raw []byte) []byte {
	if text := raw[1 : len(raw)-1]; plainString(text) {
		return text
	}
	var s string
	_ = json.Unmarshal(raw, &s) // raw is a valid string literal
	return []byte(s)
}

// unquote returns the text of raw, a valid JSON string literal, exactly as
// json.Unmarshal would; without it when there is nothing to decode.
func unquote(raw []byte) string {
	if text := raw[1 : len(raw)-1]; plainString(text) {
		return string(text)
	}
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

// plainString reports whether the inside of a string literal is its own
// text: no escapes, and valid UTF-8 (encoding/json replaces invalid bytes
// with U+FFFD).
func plainString(text []byte) bool {
	return bytes.IndexByte(text, '\\') < 0 && utf8.Valid(text)
}

// scanner walks JSON text, checking it as it goes.
type scanner struct {
	data []byte
	pos  int
}

// peek returns the byte at pos, or 0 at the end (0 is valid nowhere a
// caller peeks).
func (s *scanner) peek() byte {
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

// at is peek at position i.
func (s *scanner) at(i int) byte {
	if i < len(s.data) {
		return s.data[i]
	}
	return 0
}

// space skips JSON whitespace, which is narrower than Unicode's.
func (s *scanner) space() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// end skips trailing whitespace and reports whether nothing else follows.
func (s *scanner) end() bool {
	s.space()
	return s.pos == len(s.data)
}

// value scans one value at pos inside a container at depth.
func (s *scanner) value(depth int) error {
	switch c := s.peek(); {
	case c == '{':
		return s.object(depth+1, nil)
	case c == '[':
		return s.array(depth+1, nil)
	case c == '"':
		return s.str()
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return errSyntax
}

// object scans the object at pos, at depth, calling each (if not nil) with
// every key's and value's span.
func (s *scanner) object(depth int, each func(key, val []byte)) error {
	if depth > maxDepth {
		return errSyntax
	}
	s.pos++ // '{'
	s.space()
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	for {
		k := s.pos
		if s.peek() != '"' {
			return errSyntax
		}
		if err := s.str(); err != nil {
			return err
		}
		key := s.data[k:s.pos]
		s.space()
		if s.peek() != ':' {
			return errSyntax
		}
		s.pos++
		s.space()
		v := s.pos
		if err := s.value(depth); err != nil {
			return err
		}
		if each != nil {
			each(key, s.data[v:s.pos])
		}
		if done, err := s.next('}'); done || err != nil {
			return err
		}
	}
}

// array scans the array at pos, at depth, calling each (if not nil) with
// every element's span.
func (s *scanner) array(depth int, each func(val []byte)) error {
	if depth > maxDepth {
		return errSyntax
	}
	s.pos++ // '['
	s.space()
	if s.peek() == ']' {
		s.pos++
		return nil
	}
	for {
		v := s.pos
		if err := s.value(depth); err != nil {
			return err
		}
		if each != nil {
			each(s.data[v:s.pos])
		}
		if done, err := s.next(']'); done || err != nil {
			return err
		}
	}
}

// next scans what follows a container's item: a comma (another item
// follows) or the closing byte (done).
func (s *scanner) next(closing byte) (done bool, err error) {
	s.space()
	switch s.peek() {
	case ',':
		s.pos++
		s.space()
		return false, nil
	case closing:
		s.pos++
		return true, nil
	}
	return false, errSyntax
}

// str scans the string literal at pos.
func (s *scanner) str() error {
	for i := s.pos + 1; i < len(s.data); i++ {
		switch c := s.data[i]; {
		case c == '"':
			s.pos = i + 1
			return nil
		case c == '\\':
			n, ok := escapeLen(s.data[i+1:])
			if !ok {
				return errSyntax
			}
			i += n
		case c < 0x20:
			return errSyntax
		}
	}
	return errSyntax
}

// escapeLen is the length of the escape after a backslash.
func escapeLen(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	switch b[0] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 1, true
	case 'u':
		if len(b) < 5 {
			return 0, false
		}
		for _, c := range b[1:5] {
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return 0, false
			}
		}
		return 5, true
	}
	return 0, false
}

// number scans the number at pos: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
	i := s.pos
	if s.at(i) == '-' {
		i++
	}
	switch c := s.at(i); {
	case c == '0':
		i++
	case '1' <= c && c <= '9':
		i = s.digits(i + 1)
	default:
		return errSyntax
	}
	if s.at(i) == '.' {
		j := s.digits(i + 1)
		if j == i+1 {
			return errSyntax
		}
		i = j
	}
	if c := s.at(i); c == 'e' || c == 'E' {
		i++
		if c := s.at(i); c == '+' || c == '-' {
			i++
		}
		j := s.digits(i)
		if j == i {
			return errSyntax
		}
		i = j
	}
	s.pos = i
	return nil
}

// digits returns the position after the decimal digits from i.
func (s *scanner) digits(i int) int {
	for '0' <= s.at(i) && s.at(i) <= '9' {
		i++
	}
	return i
}

// literal scans true, false or null.
func (s *scanner) literal(word string) error {
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		return errSyntax
	}
	s.pos += len(word)
	return nil
}
