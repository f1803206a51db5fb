package jsontext

import (
	"strconv"
	"strings"

	"github.com/ssoattr/ssoattr/domain"
)

// MaxDepth is how deeply encoding/json lets arrays and objects nest. A text
// nested deeper is rejected there, so it is here. It is the service's one
// limit for request bodies and stored events alike (domain.MaxJSONDepth).
const MaxDepth = domain.MaxJSONDepth

// SyntaxError is a text that is not JSON, or not JSON of the kind the
// caller asked for.
type SyntaxError struct {
	Offset int    // where in the text the scanner stopped
	Msg    string // what it wanted there
}

func (e *SyntaxError) Error() string {
	return "offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// tooDeep is the message of a text nested more than MaxDepth deep.
var tooDeep = "nested more than " + strconv.Itoa(MaxDepth) + " deep"

// Scanner reads one JSON text. A method that reads a value starts at the
// value (skipping whitespace before it) and leaves the scanner just after
// it, so a caller reads the text value by value, choosing a reader for
// each. Errors are *SyntaxError.
type Scanner struct {
	data  []byte
	pos   int
	depth int // arrays and objects open at pos
}

// New returns a Scanner at the start of data. The spans it returns are
// slices of data: data must not change while they are in use.
func New(data []byte) Scanner { return Scanner{data: data} }

// Pos returns the offset in the text where the scanner is.
func (s *Scanner) Pos() int { return s.pos }

func (s *Scanner) fail(msg string) error { return &SyntaxError{Offset: s.pos, Msg: msg} }

func (s *Scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r': // JSON's whitespace, narrower than Unicode's
			s.pos++
		default:
			return
		}
	}
}

// Peek skips whitespace and returns the next byte, or 0 at the end (0 is
// valid nowhere a value may start), so a caller can choose a reader.
func (s *Scanner) Peek() byte {
	s.skipSpace()
	if s.pos == len(s.data) {
		return 0
	}
	return s.data[s.pos]
}

// End checks that only whitespace follows the value just read.
func (s *Scanner) End() error {
	if s.skipSpace(); s.pos != len(s.data) {
		return s.fail("data after the top-level value")
	}
	return nil
}

// Check returns nil if data is one JSON value with optional whitespace
// around it, which is what json.Valid accepts, and a *SyntaxError if not.
func Check(data []byte) error {
	s := New(data)
	if _, err := s.Skip(); err != nil {
		return err
	}
	return s.End()
}

// open steps into the '{' or '[' at pos, one level deeper.
func (s *Scanner) open() error {
	if s.depth++; s.depth > MaxDepth {
		return s.fail(tooDeep)
	}
	s.pos++
	return nil
}

// close steps out of the '}' or ']' at pos.
func (s *Scanner) close() {
	s.depth--
	s.pos++
}

// Object reads the object that is next, calling member for each member in
// order with its key, unquoted as Text does. member must read the member's
// value, with Skip or any other reader; an error from it ends the scan and
// is returned. A repeated key is handed over each time it appears.
func (s *Scanner) Object(member func(key []byte) error) error {
	if s.Peek() != '{' {
		return s.fail("want an object")
	}
	return s.object(true, member)
}

// object reads the object at pos. With unquote false the keys are handed
// over as they are between their quotes: Skip has no use for them, and
// unquoting one with an escape would allocate.
func (s *Scanner) object(unquote bool, member func(key []byte) error) error {
	if err := s.open(); err != nil {
		return err
	}
	if s.Peek() == '}' {
		s.close()
		return nil
	}
	for {
		key, err := s.key(unquote)
		if err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		switch s.Peek() {
		case ',':
			s.pos++
		case '}':
			s.close()
			return nil
		default:
			return s.fail("want ',' or '}' in an object")
		}
	}
}

// key reads an object key and the ':' after it, up to the value.
func (s *Scanner) key(unquote bool) ([]byte, error) {
	if s.Peek() != '"' {
		return nil, s.fail("want an object key")
	}
	key, plain, err := s.rawString()
	if err != nil {
		return nil, err
	}
	if s.Peek() != ':' {
		return nil, s.fail("want ':' after an object key")
	}
	s.pos++
	s.skipSpace()
	if unquote && !plain {
		key = unquoteText(key)
	}
	return key, nil
}

// Array reads the array that is next, calling elem to read each element,
// with Skip or any other reader; an error from it ends the scan and is
// returned.
func (s *Scanner) Array(elem func() error) error {
	if s.Peek() != '[' {
		return s.fail("want an array")
	}
	return s.array(elem)
}

// array reads the array at pos.
func (s *Scanner) array(elem func() error) error {
	if err := s.open(); err != nil {
		return err
	}
	if s.Peek() == ']' {
		s.close()
		return nil
	}
	for {
		s.skipSpace()
		if err := elem(); err != nil {
			return err
		}
		switch s.Peek() {
		case ',':
			s.pos++
		case ']':
			s.close()
			return nil
		default:
			return s.fail("want ',' or ']' in an array")
		}
	}
}

// Skip reads any value, checking it, and returns its text. The text is a
// span of the data with its capacity cut at its end, so that appending to
// it cannot write over the rest of the data.
func (s *Scanner) Skip() ([]byte, error) {
	c := s.Peek()
	start := s.pos
	var err error
	switch {
	case c == '{':
		err = s.object(false, func([]byte) error { _, err := s.Skip(); return err })
	case c == '[':
		err = s.array(func() error { _, err := s.Skip(); return err })
	case c == '"':
		_, _, err = s.rawString()
	case c == 't':
		err = s.Literal("true")
	case c == 'f':
		err = s.Literal("false")
	case c == 'n':
		err = s.Literal("null")
	case c == '-' || isDigit(c):
		err = s.number()
	default:
		err = s.fail("want a value")
	}
	if err != nil {
		return nil, err
	}
	return s.data[start:s.pos:s.pos], nil
}

// Null reads a null if one is next and reports whether it did.
func (s *Scanner) Null() (bool, error) {
	if s.Peek() != 'n' {
		return false, nil
	}
	return true, s.Literal("null")
}

// Literal reads lit (true, false or null), which must be next.
func (s *Scanner) Literal(lit string) error {
	s.skipSpace()
	if rest := s.data[s.pos:]; len(rest) < len(lit) || string(rest[:len(lit)]) != lit {
		return s.fail("want " + lit)
	}
	s.pos += len(lit)
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func (s *Scanner) digits() {
	for s.pos < len(s.data) && isDigit(s.data[s.pos]) {
		s.pos++
	}
}

// at reports whether the byte at pos is one of set.
func (s *Scanner) at(set string) bool {
	return s.pos < len(s.data) && strings.IndexByte(set, s.data[s.pos]) >= 0
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *Scanner) number() error {
	if s.at("-") {
		s.pos++
	}
	switch {
	case s.at("0"):
		s.pos++
	case s.at("123456789"):
		s.digits()
	default:
		return s.fail("want a digit")
	}
	if s.at(".") {
		s.pos++
		if !s.at("0123456789") {
			return s.fail("want a digit after '.'")
		}
		s.digits()
	}
	if s.at("eE") {
		s.pos++
		if s.at("+-") {
			s.pos++
		}
		if !s.at("0123456789") {
			return s.fail("want a digit in the exponent")
		}
		s.digits()
	}
	return nil
}
