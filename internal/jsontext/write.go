package jsontext

import "unicode/utf8"

// Escaping is how a string's characters are written: the two ways the
// service writes JSON strings.
//
// Both escape what JSON requires (quote, backslash and control characters:
// \n, \r, \t, and others as \u00XX), U+2028 and U+2029 (\u2028, \u2029),
// and write each byte of invalid UTF-8 as \ufffd; every other character is
// written as it is.
type Escaping uint8

const (
	// Marshal is json.Marshal's escaping, byte for byte: \b and \f as
	// such, and <, > and & as \u003c, \u003e and \u0026. Stored events are
	// written so: their bytes are signed and never change.
	Marshal Escaping = iota
	// NoHTML writes <, > and & as they are, as Zato's JSON does, so that
	// names round-trip byte for byte; \b and \f as \u0008 and \u000c. The
	// API's replies are written so.
	NoHTML
)

// escapes holds, for each Escaping, what each ASCII byte is written as:
// "" for the byte itself.
var escapes = [...][utf8.RuneSelf]string{
	Marshal: asciiEscapes(Marshal),
	NoHTML:  asciiEscapes(NoHTML),
}

func asciiEscapes(e Escaping) (t [utf8.RuneSelf]string) {
	const hex = "0123456789abcdef"
	for c := range byte(utf8.RuneSelf) {
		switch {
		case c == '"' || c == '\\':
			t[c] = `\` + string(c)
		case c == '\n':
			t[c] = `\n`
		case c == '\r':
			t[c] = `\r`
		case c == '\t':
			t[c] = `\t`
		case e == Marshal && c == '\b':
			t[c] = `\b`
		case e == Marshal && c == '\f':
			t[c] = `\f`
		case c < 0x20, e == Marshal && (c == '<' || c == '>' || c == '&'):
			t[c] = `\u00` + string(hex[c>>4]) + string(hex[c&0xF])
		}
	}
	return t
}

// AppendString appends s as a JSON string, in quotes, escaped as e says.
func AppendString(b []byte, s string, e Escaping) []byte {
	b = append(b, '"')
	b = AppendEscaped(b, s, e)
	return append(b, '"')
}

// AppendStrings appends list as a JSON array of strings, escaped as e
// says; an empty or nil list is [].
func AppendStrings(b []byte, list []string, e Escaping) []byte {
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, s, e)
	}
	return append(b, ']')
}

// AppendEscaped appends s as the inside of a JSON string, escaped as e
// says, without the quotes: a caller can write one string in parts.
func AppendEscaped(b []byte, s string, e Escaping) []byte {
	esc := &escapes[e]
	start := 0 // s[start:i] is still to be copied
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			if esc[c] != "" {
				b = append(b, s[start:i-1]...)
				b = append(b, esc[c]...)
				start = i
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		var with string
		switch {
		case r == utf8.RuneError && size == 1:
			with = `\ufffd`
		case r == '\u2028':
			with = `\u2028`
		case r == '\u2029':
			with = `\u2029`
		}
		if with != "" {
			b = append(b, s[start:i]...)
			b = append(b, with...)
			start = i + size
		}
		i += size
	}
	return append(b, s[start:]...)
}

// IsCompact reports whether json.Marshal writes the valid JSON text v as
// it is (as a json.RawMessage): no whitespace outside strings, and none of
// what Marshal escapes but JSON does not require: <, >, &, U+2028, U+2029.
func IsCompact(v []byte) bool {
	inString := false
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"':
			inString = !inString
		case '\\': // only inside a string: step over the escaped byte, which may be a quote
			i++
		case ' ', '\t', '\n', '\r':
			if !inString {
				return false
			}
		case '<', '>', '&':
			return false
		case 0xE2: // U+2028 is E2 80 A8, U+2029 is E2 80 A9
			if i+2 < len(v) && v[i+1] == 0x80 && v[i+2]&^1 == 0xA8 {
				return false
			}
		}
	}
	return true
}
