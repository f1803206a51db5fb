package httpapi

// The request decoder as it was before it scanned bodies in one pass
// (commit 3f0517e), kept as the oracle of FuzzRequestBody: the decoder in
// input.go must give the same result or the same error for any request.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/sso"
)

// oldInput is input as it was: the body unmarshalled into raw messages.
type oldInput struct {
	body  map[string]json.RawMessage
	query url.Values
}

func oldParseInput(r *http.Request) (*oldInput, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errBadRequest // a query string that does not parse is refused
	}
	in := &oldInput{query: q}
	if r.Body == nil {
		return in, nil
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil || len(data) > MaxBodyBytes {
		return nil, errBadRequest
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return in, nil
	}
	if data[0] != '{' {
		return nil, errBadRequest
	}
	if err := json.Unmarshal(data, &in.body); err != nil {
		return nil, errBadRequest
	}
	return in, nil
}

// has reports whether the key was sent at all (null included): the presence
// check for required keys (docs/API.md#processing-order step 3).
func (in *oldInput) has(key string) bool {
	if _, ok := in.query[key]; ok {
		return true
	}
	_, ok := in.body[key]
	return ok
}

// require returns errMissing unless every key is present.
func (in *oldInput) require(keys ...string) error {
	for _, k := range keys {
		if !in.has(k) {
			return errMissing
		}
	}
	return nil
}

// lookup returns the field: from the query string (fromQuery, as text) or
// the body (raw JSON). ok is false when it is absent or JSON null.
func (in *oldInput) lookup(key string) (raw json.RawMessage, text string, fromQuery, ok bool) {
	if vs, found := in.query[key]; found && len(vs) > 0 {
		return nil, vs[len(vs)-1], true, true
	}
	raw, found := in.body[key]
	if !found || string(raw) == "null" {
		return nil, "", false, false
	}
	return raw, "", false, true
}

// str returns a string field. A non-string JSON value is E008002.
func (in *oldInput) str(key string) (string, bool, error) {
	raw, text, q, ok := in.lookup(key)
	if !ok {
		return "", false, nil
	}
	if q {
		return text, true, nil
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false, domain.ErrInvalidInput
	}
	return s, true, nil
}

// strPtr is str for fields where absence matters: nil when not sent.
func (in *oldInput) strPtr(key string) (*string, error) {
	s, ok, err := in.str(key)
	if !ok || err != nil {
		return nil, err
	}
	return &s, nil
}

// id returns an identifier field (user_id, target_ust): an empty string
// counts as absent (docs/API.md#input).
func (in *oldInput) id(key string) (string, error) {
	s, _, err := in.str(key)
	return s, err
}

// boolean returns a bool field converted as docs/API.md#input says; an empty string
// counts as absent.
func (in *oldInput) boolean(key string, def bool) (bool, error) {
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
		if raw[0] != '"' || json.Unmarshal(raw, &text) != nil {
			return false, domain.ErrInvalidInput
		}
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
func (in *oldInput) integer(key string) (int64, bool, error) {
	raw, text, q, ok := in.lookup(key)
	if !ok {
		return 0, false, nil
	}
	if !q {
		if raw[0] == '"' {
			if json.Unmarshal(raw, &text) != nil {
				return 0, false, domain.ErrInvalidInput
			}
		} else {
			return oldParseJSONInt(raw)
		}
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

func oldParseJSONInt(raw json.RawMessage) (int64, bool, error) {
	var num json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&num) != nil {
		return 0, false, domain.ErrInvalidInput
	}
	if n, err := num.Int64(); err == nil {
		return n, true, nil
	}
	// 5.0 is integral; 5.5 is not.
	if f, err := num.Float64(); err == nil && f == float64(int64(f)) {
		return int64(f), true, nil
	}
	return 0, false, domain.ErrInvalidInput
}

// list returns a list field: a JSON array, or in the query string a JSON
// array as text. ok is false when absent, null or "".
func (in *oldInput) list(key string) ([]json.RawMessage, bool, error) {
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
	var out []json.RawMessage
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &out) != nil {
		return nil, false, domain.ErrInvalidInput
	}
	return out, true, nil
}

// value returns an attribute value: any JSON value except null, compacted.
// A value in the query string is a string.
func (in *oldInput) value(key string) (json.RawMessage, bool) {
	raw, text, q, ok := in.lookup(key)
	if !ok {
		return nil, false
	}
	if q {
		raw, _ = json.Marshal(text)
		return raw, true
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw, true // already valid: it came out of a parsed body
	}
	return b.Bytes(), true
}

// datetime returns a date-time field (docs/API.md#time-format).
func (in *oldInput) datetime(key string) (time.Time, bool, error) {
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
func (in *oldInput) callerToken() (string, error) {
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

// The attribute and sign-up readers as they were, over oldInput.

func oldExpiration(in *oldInput) (*int64, error) {
	n, ok, err := in.integer("expiration")
	if err != nil || !ok {
		return nil, err
	}
	return &n, nil
}

func oldWriteItem(in *oldInput, op domain.AttrOp, def writeOpts, session bool) (sso.AttrItem, error) {
	var it sso.AttrItem
	name, ok, err := in.str("name")
	if err != nil || !ok {
		return it, domain.ErrInvalidInput
	}
	it.Name = name
	if value, ok := in.value("value"); ok {
		it.Value = value
	}
	if it.Expiration, err = oldExpiration(in); err != nil {
		return it, err
	}
	if it.Encrypt, err = in.boolean("encrypt", def.encrypt); err != nil {
		return it, err
	}
	if !session {
		if it.UserID, err = in.id("user_id"); err != nil {
			return it, err
		}
	}
	return it, nil
}

func oldIsNull(in *oldInput, key string) bool {
	_, _, _, ok := in.lookup(key)
	return !ok
}

func oldObject(raw json.RawMessage) (*oldInput, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, domain.ErrInvalidInput
	}
	in := &oldInput{}
	if err := json.Unmarshal(raw, &in.body); err != nil {
		return nil, domain.ErrInvalidInput
	}
	return in, nil
}

func oldReadNames(in *oldInput) (names []string, many bool, err error) {
	if name, ok, err := in.str("name"); err != nil {
		return nil, false, err
	} else if ok {
		return []string{name}, false, nil
	}
	list, ok, err := in.list("data")
	if err != nil {
		return nil, false, err
	}
	if !ok {
		return nil, false, domain.ErrInvalidInput
	}
	names = make([]string, len(list))
	for i, raw := range list {
		if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &names[i]) != nil {
			return nil, false, domain.ErrInvalidInput
		}
	}
	return names, true, nil
}

func (in *oldInput) emptyString(key string) bool {
	raw, text, q, ok := in.lookup(key)
	if !ok {
		return false
	}
	if !q {
		if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &text) != nil {
			return false
		}
	}
	return strings.TrimSpace(text) == ""
}

// oldAppList is the app_list loop of signup as it was.
func oldAppList(in *oldInput) ([]string, error) {
	apps, _, err := in.list("app_list")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, raw := range apps {
		var a string
		if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &a) != nil {
			return nil, domain.ErrInvalidInput
		}
		out = append(out, a)
	}
	return out, nil
}
