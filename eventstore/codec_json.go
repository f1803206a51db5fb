package eventstore

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is the small JSON reader under Decode. It accepts exactly the
// texts encoding/json accepts (RFC 8259 grammar, nesting at most 10000 deep,
// any bytes of 0x20 and up inside strings, even invalid UTF-8) and reads
// strings the way encoding/json unquotes them. What each value means is up
// to the caller (codec_decode.go): the reader only hands out spans.

// maxDepth is how deeply encoding/json lets arrays and objects nest. A
// message nested deeper was rejected before and still is.
const maxDepth = 10000

// decoder reads one JSON text from data. Value readers start at the value
// (after any whitespace) and leave pos just after it.
type decoder struct {
	data  []byte
	pos   int
	depth int // arrays and objects open at pos
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: "+format, append([]any{d.pos}, args...)...)
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (d *decoder) peek() byte {
	d.skipSpace()
	if d.pos == len(d.data) {
		return 0
	}
	return d.data[d.pos]
}

// end checks that only whitespace follows the top-level value.
func (d *decoder) end() error {
	if d.skipSpace(); d.pos != len(d.data) {
		return d.errorf("data after the top-level value")
	}
	return nil
}

// open consumes the '{' or '[' at pos.
func (d *decoder) open() error {
	if d.depth++; d.depth > maxDepth {
		return d.errorf("nested more than %d deep", maxDepth)
	}
	d.pos++
	return nil
}

// close consumes the '}' or ']' at pos.
func (d *decoder) close() {
	d.depth--
	d.pos++
}

// object reads the object at pos, calling field for each member with its
// unquoted key; field must read the member's value.
func (d *decoder) object(field func(key []byte) error) error {
	if err := d.open(); err != nil {
		return err
	}
	if d.peek() == '}' {
		d.close()
		return nil
	}
	for {
		if d.peek() != '"' {
			return d.errorf("want an object key")
		}
		key, err := d.text()
		if err != nil {
			return err
		}
		if d.peek() != ':' {
			return d.errorf("want ':' after an object key")
		}
		d.pos++
		d.skipSpace()
		if err := field(key); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.close()
			return nil
		default:
			return d.errorf("want ',' or '}' in an object")
		}
	}
}

// array reads the array at pos, calling elem to read each element.
func (d *decoder) array(elem func() error) error {
	if err := d.open(); err != nil {
		return err
	}
	if d.peek() == ']' {
		d.close()
		return nil
	}
	for {
		d.skipSpace()
		if err := elem(); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case ']':
			d.close()
			return nil
		default:
			return d.errorf("want ',' or ']' in an array")
		}
	}
}

// skip reads any value, checking it, and returns its text. The text is a
// span of data with its capacity cut at its end, so that appending to it
// cannot write over the rest of data.
func (d *decoder) skip() ([]byte, error) {
	c := d.peek()
	start := d.pos
	var err error
	switch {
	case c == '{':
		err = d.object(func([]byte) error { _, err := d.skip(); return err })
	case c == '[':
		err = d.array(func() error { _, err := d.skip(); return err })
	case c == '"':
		_, _, err = d.rawString()
	case c == 't':
		err = d.literal("true")
	case c == 'f':
		err = d.literal("false")
	case c == 'n':
		err = d.literal("null")
	case c == '-' || isDigit(c):
		err = d.number()
	default:
		err = d.errorf("want a value")
	}
	if err != nil {
		return nil, err
	}
	return d.data[start:d.pos:d.pos], nil
}

// text reads a string and returns its unquoted contents. They are a span
// of data unless the string holds an escape or invalid UTF-8.
func (d *decoder) text() ([]byte, error) {
	s, plain, err := d.rawString()
	if err != nil || plain {
		return s, err
	}
	return unquote(s), nil
}

// null reads a null if one is next and reports whether it did.
func (d *decoder) null() (bool, error) {
	if d.peek() != 'n' {
		return false, nil
	}
	return true, d.literal("null")
}

func (d *decoder) literal(lit string) error {
	if rest := d.data[d.pos:]; len(rest) < len(lit) || string(rest[:len(lit)]) != lit {
		return d.errorf("want %s", lit)
	}
	d.pos += len(lit)
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func (d *decoder) digits() {
	for d.pos < len(d.data) && isDigit(d.data[d.pos]) {
		d.pos++
	}
}

// at reports whether the byte at pos is one of set.
func (d *decoder) at(set string) bool {
	return d.pos < len(d.data) && strings.IndexByte(set, d.data[d.pos]) >= 0
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func (d *decoder) number() error {
	if d.at("-") {
		d.pos++
	}
	switch {
	case d.at("0"):
		d.pos++
	case d.at("123456789"):
		d.digits()
	default:
		return d.errorf("want a digit")
	}
	if d.at(".") {
		d.pos++
		if !d.at("0123456789") {
			return d.errorf("want a digit after '.'")
		}
		d.digits()
	}
	if d.at("eE") {
		d.pos++
		if d.at("+-") {
			d.pos++
		}
		if !d.at("0123456789") {
			return d.errorf("want a digit in the exponent")
		}
		d.digits()
	}
	return nil
}

// rawString reads the string at pos and returns what is between its
// quotes, checked but not unquoted. plain reports that it needs no
// unquoting: no escapes and valid UTF-8.
func (d *decoder) rawString() (s []byte, plain bool, err error) {
	data := d.data
	start := d.pos + 1 // after the opening quote
	ascii, escaped := true, false
	for i := start; ; {
		// Most bytes are printable ASCII: step over them in a tight loop.
		for i < len(data) && stringASCII[data[i]] {
			i++
		}
		if i == len(data) {
			d.pos = i
			return nil, false, d.errorf("unterminated string")
		}
		switch c := data[i]; {
		case c == '"':
			s = data[start:i:i]
			d.pos = i + 1
			return s, !escaped && (ascii || utf8.Valid(s)), nil
		case c == '\\':
			d.pos = i
			if err := d.escape(); err != nil {
				return nil, false, err
			}
			i, escaped = d.pos, true
		case c < 0x20:
			d.pos = i
			return nil, false, d.errorf("control character in a string")
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
func (d *decoder) escape() error {
	d.pos++ // the backslash
	switch {
	case d.at(`"\/bfnrt`):
		d.pos++
		return nil
	case d.at("u"):
		if _, ok := hex4(d.data[d.pos+1:]); ok {
			d.pos += 5
			return nil
		}
	}
	return d.errorf("invalid escape in a string")
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

// unquote decodes the contents of a checked JSON string as encoding/json
// does: escapes resolved, a \uXXXX surrogate pair joined, a lone surrogate
// and every byte of invalid UTF-8 replaced by U+FFFD.
func unquote(s []byte) []byte {
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

// validJSON checks that v is one JSON value, with optional whitespace
// around it: what json.Valid accepts.
func validJSON(v []byte) error {
	d := decoder{data: v}
	if _, err := d.skip(); err != nil {
		return err
	}
	return d.end()
}
