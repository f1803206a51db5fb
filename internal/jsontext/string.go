package jsontext

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// Text reads the string that is next and returns its text, unquoted as
// encoding/json does. The text is a span of the data, with its capacity
// cut at its end, unless the string holds an escape or invalid UTF-8: then
// it is a new slice.
func (s *Scanner) Text() ([]byte, error) {
	if s.Peek() != '"' {
		return nil, s.fail("want a string")
	}
	text, plain, err := s.rawString()
	if err != nil || plain {
		return text, err
	}
	return unquoteText(text), nil
}

// Unquote returns the text of lit, a string literal with its quotes that a
// Scanner has checked (a span Skip returned, or one inside it), unquoted as
// encoding/json does. Without escapes or invalid UTF-8 the text is a span
// of lit and nothing is allocated. Unquote does not check lit again: an
// invalid literal may give any result, or panic.
func Unquote(lit []byte) []byte {
	text := lit[1 : len(lit)-1 : len(lit)-1]
	if bytes.IndexByte(text, '\\') < 0 && utf8.Valid(text) {
		return text
	}
	return unquoteText(text)
}

// rawString reads the string at pos and returns what is between its
// quotes, checked but not unquoted. plain reports that it needs no
// unquoting: no escapes and valid UTF-8.
func (s *Scanner) rawString() (text []byte, plain bool, err error) {
	data := s.data
	start := s.pos + 1 // after the opening quote
	ascii, escaped := true, false
	for i := start; ; {
		// Most bytes are printable ASCII: step over them in a tight loop.
		for i < len(data) && stringASCII[data[i]] {
			i++
		}
		if i == len(data) {
			s.pos = i
			return nil, false, s.fail("unterminated string")
		}
		switch c := data[i]; {
		case c == '"':
			text = data[start:i:i]
			s.pos = i + 1
			return text, !escaped && (ascii || utf8.Valid(text)), nil
		case c == '\\':
			s.pos = i
			if err := s.escape(); err != nil {
				return nil, false, err
			}
			i, escaped = s.pos, true
		case c < 0x20:
			s.pos = i
			return nil, false, s.fail("control character in a string")
		default: // the start of a UTF-8 sequence, or invalid UTF-8
			i, ascii = i+1, false
		}
	}
}

// stringASCII holds the bytes a string may hold that rawString can step
// over without a look: ASCII from space up, but for quote and backslash.
var stringASCII = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// escape checks the escape sequence at pos and steps over it.
func (s *Scanner) escape() error {
	s.pos++ // the backslash
	switch {
	case s.at(`"\/bfnrt`):
		s.pos++
		return nil
	case s.at("u"):
		if _, ok := hex4(s.data[s.pos+1:]); ok {
			s.pos += 5
			return nil
		}
	}
	return s.fail("invalid escape in a string")
}

// hex4 reads the four hex digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// unquoteText decodes the inside of a checked string literal as
// encoding/json does: escapes resolved, a \uXXXX surrogate pair joined, a
// lone surrogate and every byte of invalid UTF-8 replaced by U+FFFD.
func unquoteText(s []byte) []byte {
	b := make([]byte, 0, len(s)+utf8.UTFMax)
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '\\' && s[i+1] == 'u':
			r, _ := hex4(s[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				r2, ok := uEscape(s[i:])
				if pair := utf16.DecodeRune(r, r2); ok && pair != utf8.RuneError {
					b = utf8.AppendRune(b, pair)
					i += 6
					continue
				}
				r = utf8.RuneError
			}
			b = utf8.AppendRune(b, r)
		case c == '\\':
			b = append(b, unescape(s[i+1]))
			i += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			b = utf8.AppendRune(b, r)
			i += size
		}
	}
	return b
}

// uEscape reads a \uXXXX escape at the start of s.
func uEscape(s []byte) (rune, bool) {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return 0, false
	}
	return hex4(s[2:])
}

// unescape returns the byte a one-letter escape (\n, \", ...) stands for.
func unescape(c byte) byte {
	switch c {
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return c // " \ /
}
