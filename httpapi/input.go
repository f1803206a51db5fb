package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/jsontext"
	"github.com/ssoattr/ssoattr/sso"
)

// MaxBodyBytes bounds a request body; larger bodies are refused with 400
// E008002 before anything is parsed.
const MaxBodyBytes = 1 << 20

var (
	// errBadRequest is a body or query string that cannot be parsed: 400 E008002.
	errBadRequest = errors.New("bad request")
	// errMissing is a required key that is absent: 400 E008003.
	errMissing = errors.New("required key missing")
)

// input is a request's fields: the JSON body's top-level keys, overridden
// by the query string's (docs/API.md#input). Body values keep their JSON type; query
// values are strings, converted by the field's declared type.
type input struct {
	// body holds the body's members in order; when a key is repeated the
	// last one counts, as with encoding/json. Values are spans of the body.
	body  []member
	query url.Values
	// small backs body: most requests send a handful of keys.
	small [6]member
}

// parseInput reads the body as a JSON object whatever its Content-Type
// (real clients send JSON with none, or as a form), and the query string.
// A query string that does not parse (an invalid escape, a ';', more
// parameters than net/url accepts) is errBadRequest like a bad body:
// URL.Query would drop it silently and let the body's values apply.
func parseInput(r *http.Request) (*input, error) {
	in := &input{}
	if r.URL.RawQuery != "" {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, errBadRequest
		}
		in.query = q
	}
	if r.Body == nil {
		return in, nil
	}
	data, err := readBody(r)
	if err != nil {
		return nil, errBadRequest
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return in, nil
	}
	if data[0] != '{' {
		return nil, errBadRequest
	}
	if in.body, err = splitObject(data, in.small[:0]); err != nil {
		return nil, errBadRequest
	}
	return in, nil
}

// A body is checked and split into its members in one pass by a
// jsontext.Scanner, instead of being unmarshalled into raw messages whose
// fields are then unmarshalled again. The Scanner accepts exactly what
// encoding/json accepts; FuzzRequestBody holds these readers to the
// encoding/json decoder they replaced.

// member is one key of a JSON object: its text and its value's raw span.
type member struct {
	key []byte
	raw json.RawMessage
}

// splitObject checks that data is one JSON object, with nothing but
// whitespace around it, and appends its members to dst in order. Keys are
// unquoted as encoding/json does; values are spans of data.
func splitObject(data []byte, dst []member) ([]member, error) {
	s := jsontext.New(data)
	err := s.Object(func(key []byte) error {
		val, err := s.Skip()
		if err != nil {
			return err
		}
		dst = append(dst, member{key: key, raw: val})
		return nil
	})
	if err == nil {
		err = s.End()
	}
	return dst, err
}

// splitArray checks that data is one JSON array, with nothing but
// whitespace around it, and returns its elements as spans of data.
func splitArray(data []byte) ([]json.RawMessage, error) {
	s := jsontext.New(data)
	out := make([]json.RawMessage, 0, 8)
	err := s.Array(func() error {
		val, err := s.Skip()
		out = append(out, val)
		return err
	})
	if err == nil {
		err = s.End()
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// unquote returns the text of raw, a string literal the scanner checked,
// exactly as json.Unmarshal would.
func unquote(raw []byte) string { return string(jsontext.Unquote(raw)) }

// readBody reads at most MaxBodyBytes, sizing its buffer from the
// Content-Length when the client sent one; a longer body is an error.
func readBody(r *http.Request) ([]byte, error) {
	size := 512
	if n := r.ContentLength; n > 0 && n <= MaxBodyBytes {
		size = int(n) + 1 // room to read EOF without growing
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > MaxBodyBytes {
			return nil, errBadRequest
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// field returns the raw value of a body key: the last one sent.
func (in *input) field(key string) (json.RawMessage, bool) {
	for i := len(in.body) - 1; i >= 0; i-- {
		if string(in.body[i].key) == key {
			return in.body[i].raw, true
		}
	}
	return nil, false
}

// has reports whether the key was sent at all (null included): the presence
// check for required keys (docs/API.md#processing-order step 3).
func (in *input) has(key string) bool {
	if _, ok := in.query[key]; ok {
		return true
	}
	_, ok := in.field(key)
	return ok
}

// require returns errMissing unless every key is present.
func (in *input) require(keys ...string) error {
	for _, k := range keys {
		if !in.has(k) {
			return errMissing
		}
	}
	return nil
}

// lookup returns the field: from the query string (fromQuery, as text) or
// the body (raw JSON). ok is false when it is absent or JSON null.
func (in *input) lookup(key string) (raw json.RawMessage, text string, fromQuery, ok bool) {
	if vs, found := in.query[key]; found && len(vs) > 0 {
		return nil, vs[len(vs)-1], true, true
	}
	raw, found := in.field(key)
	if !found || string(raw) == "null" {
		return nil, "", false, false
	}
	return raw, "", false, true
}

// str returns a string field. A non-string JSON value is E008002.
func (in *input) str(key string) (string, bool, error) {
	raw, text, q, ok := in.lookup(key)
	if !ok {
		return "", false, nil
	}
	if q {
		return text, true, nil
	}
	if raw[0] != '"' {
		return "", false, domain.ErrInvalidInput
	}
	return unquote(raw), true, nil
}

// strPtr is str for fields where absence matters: nil when not sent.
func (in *input) strPtr(key string) (*string, error) {
	s, ok, err := in.str(key)
	if !ok || err != nil {
		return nil, err
	}
	return &s, nil
}

// id returns an identifier field (user_id, target_ust): an empty string
// counts as absent (docs/API.md#input).
func (in *input) id(key string) (string, error) {
	s, _, err := in.str(key)
	return s, err
}

// boolean returns a bool field converted as docs/API.md#input says; an empty string
// counts as absent.
func (in *input) boolean(key string, def bool) (bool, error) {
	raw, text, q, ok := in.lookup(key)
	if !ok {
		return def, nil
	}
	if !q {
		switch string(raw) {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		}
		if raw[0] != '"' {
			return false, domain.ErrInvalidInput
		}
		text = unquote(raw)
	}
	switch strings.ToLower(strings.TrimSpace(text)) {
	case "":
		return def, nil
	case "true", "t", "yes", "y", "on", "1":
		return true, nil
	case "false", "f", "no", "n", "off", "0":
		return false, nil
	}
	return false, domain.ErrInvalidInput
}

// integer returns an int field: a JSON integral number or a string of an
// optional sign and digits. ok is false when absent, null or "".
func (in *input) integer(key string) (int64, bool, error) {
	raw, text, q, ok := in.lookup(key)
	if !ok {
		return 0, false, nil
	}
	if !q {
		if raw[0] != '"' {
			return parseJSONInt(raw)
		}
		text = unquote(raw)
	}
	if text == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, false, domain.ErrInvalidInput
	}
	return n, true, nil
}

// parseJSONInt converts a raw body value, which is valid JSON, as
// json.Number's Int64 and then Float64 would.
func parseJSONInt(raw json.RawMessage) (int64, bool, error) {
	if c := raw[0]; c != '-' && (c < '0' || c > '9') {
		return 0, false, domain.ErrInvalidInput // not a number
	}
	num := string(raw)
	if n, err := strconv.ParseInt(num, 10, 64); err == nil {
		return n, true, nil
	}
	// 5.0 is integral; 5.5 is not.
	if f, err := strconv.ParseFloat(num, 64); err == nil && f == float64(int64(f)) {
		return int64(f), true, nil
	}
	return 0, false, domain.ErrInvalidInput
}

// list returns a list field: a JSON array, or in the query string a JSON
// array as text. ok is false when absent, null or "".
func (in *input) list(key string) ([]json.RawMessage, bool, error) {
	raw, text, q, ok := in.lookup(key)
	if !ok {
		return nil, false, nil
	}
	if q {
		if text == "" {
			return nil, false, nil
		}
		raw = json.RawMessage(text)
	} else if raw[0] == '"' && string(raw) == `""` {
		return nil, false, nil
	}
	if len(raw) == 0 || raw[0] != '[' {
		return nil, false, domain.ErrInvalidInput
	}
	// A body value is checked already, but a query string's is not: one
	// scan does both.
	out, err := splitArray(raw)
	if err != nil {
		return nil, false, domain.ErrInvalidInput
	}
	return out, true, nil
}

// value returns an attribute value: any JSON value except null, compacted,
// in a buffer of its own (it may outlive the request body). A value in the
// query string is a string.
func (in *input) value(key string) (json.RawMessage, bool) {
	raw, text, q, ok := in.lookup(key)
	if !ok {
		return nil, false
	}
	if q {
		raw, _ = json.Marshal(text)
		return raw, true
	}
	if !spaced(raw) {
		return bytes.Clone(raw), true
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return bytes.Clone(raw), true // already valid: it came out of a parsed body
	}
	return b.Bytes(), true
}

// spaced reports whether raw, a valid JSON value, may hold whitespace that
// compacting removes. Strings, numbers and literals never do.
func spaced(raw json.RawMessage) bool {
	return (raw[0] == '{' || raw[0] == '[') && bytes.ContainsAny(raw, " \t\n\r")
}

// datetime returns a date-time field (docs/API.md#time-format).
func (in *input) datetime(key string) (time.Time, bool, error) {
	s, ok, err := in.str(key)
	if !ok || err != nil || s == "" {
		return time.Time{}, false, err
	}
	t, err := domain.ParseTime(s)
	if err != nil {
		return time.Time{}, false, domain.ErrInvalidInput
	}
	return t, true, nil
}

// callerToken returns the caller's token from ust or current_ust (docs/API.md#common-fields):
// errMissing if neither key is sent, E008002 if both are sent and differ.
// An empty or null token is returned as "" (authentication then fails).
func (in *input) callerToken() (string, error) {
	if !in.has("ust") && !in.has("current_ust") {
		return "", errMissing
	}
	a, _, err1 := in.str("ust")
	b, _, err2 := in.str("current_ust")
	if err1 != nil || err2 != nil {
		return "", domain.ErrInvalidInput
	}
	if a != "" && b != "" && a != b {
		return "", domain.ErrInvalidInput
	}
	if a == "" {
		a = b
	}
	return a, nil
}

// meta describes the request for the audit trail and the IP allow-list.
func meta(c echo.Context, app string) sso.Meta {
	return sso.Meta{CID: cid(c), App: app, RemoteAddr: c.RealIP(), UserAgent: c.Request().UserAgent()}
}

// admit runs steps 2 to 4 of docs/API.md#processing-order common to every endpoint: parse,
// check that current_app, the endpoint's other required keys and (when
// token is set) the caller token are present, then check the app.
func (s *Server) admit(c echo.Context, token bool, required ...string) (*input, string, error) {
	in, err := parseInput(c.Request())
	if err != nil {
		return nil, "", err
	}
	if err := in.require("current_app"); err != nil {
		return nil, "", err
	}
	if err := in.require(required...); err != nil {
		return nil, "", err
	}
	if token && !in.has("ust") && !in.has("current_ust") {
		return nil, "", errMissing
	}
	app, _, err := in.str("current_app")
	if err != nil {
		return nil, "", err
	}
	if err := s.svc.CheckApp(app); err != nil {
		return nil, "", err
	}
	return in, app, nil
}

// authed parses an authenticated request: the common steps (with the
// endpoint's required keys), then the caller token.
func (s *Server) authed(c echo.Context, required ...string) (*input, string, sso.Meta, error) {
	in, app, err := s.admit(c, true, required...)
	if err != nil {
		return nil, "", sso.Meta{}, err
	}
	ust, err := in.callerToken()
	if err != nil {
		return nil, "", sso.Meta{}, err
	}
	return in, ust, meta(c, app), nil
}
