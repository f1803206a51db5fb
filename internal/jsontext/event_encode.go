package jsontext

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

// This file writes an event exactly as json.Marshal wrote the envelope
// struct before: the same keys in the same order, the same omitempty rules
// and the same escaping (Marshal), byte for byte. The tests compare the
// two.

// appendEvent writes the JSON form of e with subject.
func appendEvent(b []byte, e *domain.Event, subject string) ([]byte, error) {
	b = append(b, `{"specversion":`...)
	b = AppendString(b, EventSpecVersion, Marshal)
	b = append(b, `,"id":`...)
	b = AppendString(b, e.ID, Marshal)
	b = append(b, `,"source":`...)
	b = AppendString(b, EventSource, Marshal)
	// EventType(e.Kind) written in place. Escaping the three parts one by
	// one is the same as escaping the whole: the fixed parts are plain ASCII.
	b = append(b, `,"type":"`...)
	b = AppendEscaped(b, EventTypePrefix, Marshal)
	b = AppendEscaped(b, e.Kind, Marshal)
	b = AppendEscaped(b, EventTypeVersion, Marshal)
	b = append(b, `","subject":`...)
	b = AppendString(b, subject, Marshal)
	b = append(b, `,"time":`...)
	b, err := appendTime(b, e.Time.UTC())
	if err != nil {
		return nil, err
	}
	b = append(b, `,"datacontenttype":`...)
	b = AppendString(b, EventContentType, Marshal)
	b = appendOptString(b, `,"actoruserid":`, e.Actor)
	b = appendOptString(b, `,"currentapp":`, e.App)
	b = appendOptString(b, `,"remoteaddr":`, e.RemoteAddr)
	b = appendOptString(b, `,"cid":`, e.CID)
	b = append(b, `,"data":`...)
	if b, err = appendData(b, &e.Data); err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// sizeHint is a generous guess at the length of e's JSON form with
// subject, so that EncodeEvent allocates once. Escapes or a large account
// payload may need more.
func sizeHint(e *domain.Event, subject string) int {
	n := 320 + len(e.ID) + len(e.Kind) + len(subject) +
		len(e.Actor) + len(e.App) + len(e.RemoteAddr) + len(e.CID)
	for i := range e.Data.Attrs {
		n += 192 + len(e.Data.Attrs[i].Name) + len(e.Data.Attrs[i].Value)
	}
	for _, s := range e.Data.Names {
		n += 3 + len(s)
	}
	for _, s := range e.Data.Changed {
		n += 3 + len(s)
	}
	if e.Data.User != nil {
		n += 1024
	}
	if e.Data.Session != nil {
		n += 512 + 128*len(e.Data.Session.History)
	}
	return n + len(e.Data.Reason) + len(e.Data.Username) + len(e.Data.UserID)
}

// appendData writes domain.EventData as its struct tags say: every field
// omitted when empty, in declaration order.
func appendData(b []byte, d *domain.EventData) ([]byte, error) {
	b = append(b, '{')
	start := len(b)
	var err error
	if len(d.Attrs) > 0 {
		b = appendKey(b, start, `"attrs":[`)
		for i := range d.Attrs {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendAttr(b, &d.Attrs[i]); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	if len(d.Names) > 0 {
		b = AppendStrings(appendKey(b, start, `"names":`), d.Names, Marshal)
	}
	if d.User != nil {
		if b, err = appendJSON(appendKey(b, start, `"user":`), d.User); err != nil {
			return nil, err
		}
	}
	if len(d.Changed) > 0 {
		b = AppendStrings(appendKey(b, start, `"changed":`), d.Changed, Marshal)
	}
	if d.Session != nil {
		if b, err = appendJSON(appendKey(b, start, `"session":`), d.Session); err != nil {
			return nil, err
		}
	}
	if d.Reason != "" {
		b = AppendString(appendKey(b, start, `"reason":`), d.Reason, Marshal)
	}
	if d.Username != "" {
		b = AppendString(appendKey(b, start, `"username":`), d.Username, Marshal)
	}
	if d.UserID != "" {
		b = AppendString(appendKey(b, start, `"user_id":`), d.UserID, Marshal)
	}
	return append(b, '}'), nil
}

// appendKey writes an object key (given with its quotes and colon), after
// a comma unless it is the first member, which would start at start.
func appendKey(b []byte, start int, key string) []byte {
	if len(b) > start {
		b = append(b, ',')
	}
	return append(b, key...)
}

// appendAttr writes domain.Attr as its struct tags say.
func appendAttr(b []byte, a *domain.Attr) ([]byte, error) {
	b = append(b, `{"name":`...)
	b = AppendString(b, a.Name, Marshal)
	var err error
	if len(a.Value) > 0 {
		b = append(b, `,"value":`...)
		if b, err = appendRaw(b, a.Value); err != nil {
			return nil, fmt.Errorf("attribute %q: %w", a.Name, err)
		}
	}
	if a.Encrypted {
		b = append(b, `,"is_encrypted":true`...)
	}
	b, err = appendTime(append(b, `,"creation_time":`...), a.Created)
	if err == nil {
		b, err = appendTime(append(b, `,"last_modified":`...), a.Modified)
	}
	if err == nil {
		b, err = appendTime(append(b, `,"expiration_time":`...), a.Expires)
	}
	if err != nil {
		return nil, fmt.Errorf("attribute %q: %w", a.Name, err)
	}
	return append(b, '}'), nil
}

// appendJSON writes v with encoding/json: the account and session payloads
// are rare, and json.Marshal writes them exactly as it did inside the
// envelope struct.
func appendJSON(b []byte, v any) ([]byte, error) {
	out, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, out...), nil
}

// appendTime writes t as time.Time.MarshalJSON does (RFC 3339 with
// nanoseconds), with its errors for a year outside 0 to 9999 or a zone
// offset of a day or more.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	b = append(b, '"')
	b, err := t.AppendText(b)
	if err != nil {
		return nil, err
	}
	return append(b, '"'), nil
}

// appendRaw writes the JSON text v as json.Marshal writes a
// json.RawMessage: checked, compacted, and with <, >, &, U+2028 and U+2029
// escaped inside strings. The values our API stores are in that form
// already and are copied as they are; anything else goes through
// encoding/json, so that the result is the same. An invalid v is an error
// rather than a broken message.
func appendRaw(b, v []byte) ([]byte, error) {
	if err := Check(v); err != nil {
		return nil, fmt.Errorf("value is not valid JSON: %w", err)
	}
	// The API accepts no deeper value; an event holding one could nest past
	// what the decoder reads (domain.MaxJSONDepth).
	if d := domain.ValueDepth(v); d > domain.MaxValueDepth {
		return nil, fmt.Errorf("value nested %d deep, max %d: %w", d, domain.MaxValueDepth, domain.ErrInvalidInput)
	}
	if IsCompact(v) {
		return append(b, v...), nil
	}
	return appendJSON(b, json.RawMessage(v))
}

// appendOptString writes key and s unless s is empty (omitempty).
func appendOptString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return AppendString(append(b, key...), s, Marshal)
}
