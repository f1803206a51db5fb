package jsontext

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

// This file maps the JSON of a stored event onto domain.Event, with the
// rules encoding/json applied when events were unmarshalled into a struct
// (event_std_test.go), so that every stored message still decodes to the
// same event:
//
//   - keys match field names exactly or, failing that, ignoring case
//     (Unicode folding: "ID", "ſpecversion"); other keys are skipped;
//   - a repeated key decodes again into what the earlier one left: a
//     string or time is replaced, an object is merged into, an array is
//     decoded element by element into the old slice (see listInto);
//   - null leaves a string, bool, time or struct as it was, and sets a
//     slice or pointer to nil; a value of the wrong type is an error;
//   - times go through time.Time.UnmarshalJSON with the raw JSON text,
//     as encoding/json does (so escapes in a time are not resolved).

// Keys of the envelope, of its data and of an attribute.
var (
	envelopeKeys = []string{"specversion", "id", "source", "type", "subject", "time",
		"datacontenttype", "actoruserid", "currentapp", "remoteaddr", "cid", "data"}
	dataKeys = []string{"attrs", "names", "user", "changed", "session", "reason", "username", "user_id"}
	attrKeys = []string{"name", "value", "is_encrypted", "creation_time", "last_modified", "expiration_time"}
)

// fieldName returns the name of names that key selects, or "" for none.
// Like encoding/json it tries an exact match first, then one ignoring case.
func fieldName(key []byte, names []string) string {
	for _, n := range names {
		if string(key) == n {
			return n
		}
	}
	for _, n := range names {
		if bytes.EqualFold(key, []byte(n)) {
			return n
		}
	}
	return ""
}

// decoder reads a stored event with a Scanner, which checks the JSON as
// encoding/json does; its methods below give each value its meaning. A
// value of the wrong kind is reported as the scanner reports what is not
// JSON (Scanner.fail).
type decoder struct{ Scanner }

// rawEnvelope is a decoded envelope before DecodeEvent checks it. The checked
// attributes stay bytes, so that reading them costs no allocation.
type rawEnvelope struct {
	specVersion, typ, subject []byte
	event                     domain.Event // ID, Time, audit fields and Data
}

// read decodes the message data into env.
func (env *rawEnvelope) read(data []byte) error {
	d := &decoder{New(data)}
	if err := d.Object(func(key []byte) error { return env.field(d, key) }); err != nil {
		return err
	}
	return d.End()
}

func (env *rawEnvelope) field(d *decoder, key []byte) error {
	e := &env.event
	switch fieldName(key, envelopeKeys) {
	case "specversion":
		return d.bytesInto(&env.specVersion)
	case "type":
		return d.bytesInto(&env.typ)
	case "subject":
		return d.bytesInto(&env.subject)
	case "source", "datacontenttype":
		var ignored []byte // not checked, but it had to be a string
		return d.bytesInto(&ignored)
	case "id":
		return d.stringInto(&e.ID)
	case "time":
		return d.timeInto(&e.Time)
	case "actoruserid":
		return d.stringInto(&e.Actor)
	case "currentapp":
		return d.stringInto(&e.App)
	case "remoteaddr":
		return d.stringInto(&e.RemoteAddr)
	case "cid":
		return d.stringInto(&e.CID)
	case "data":
		return d.eventData(&e.Data)
	}
	_, err := d.Skip()
	return err
}

// eventData reads an event's data object. Attributes, names and the short
// strings are read by hand; the account and session payloads are rare and
// large, so encoding/json reads those.
func (d *decoder) eventData(data *domain.EventData) error {
	if isNull, err := d.Null(); isNull || err != nil {
		return err
	}
	if d.Peek() != '{' {
		return d.fail("data: want an object")
	}
	return d.Object(func(key []byte) error {
		switch fieldName(key, dataKeys) {
		case "attrs":
			return listInto(d, &data.Attrs, d.attr)
		case "names":
			return listInto(d, &data.Names, d.stringInto)
		case "changed":
			return listInto(d, &data.Changed, d.stringInto)
		case "reason":
			return d.stringInto(&data.Reason)
		case "username":
			return d.stringInto(&data.Username)
		case "user_id":
			return d.stringInto(&data.UserID)
		case "user":
			// Through a copy of the pointer: json.Unmarshal makes what it
			// is given escape, and data should stay on the caller's stack.
			u := data.User
			err := d.viaJSON(&u)
			data.User = u
			return err
		case "session":
			s := data.Session
			err := d.viaJSON(&s)
			data.Session = s
			return err
		}
		_, err := d.Skip()
		return err
	})
}

// viaJSON reads the next value with encoding/json into v.
func (d *decoder) viaJSON(v any) error {
	raw, err := d.Skip()
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

func (d *decoder) attr(a *domain.Attr) error {
	if isNull, err := d.Null(); isNull || err != nil {
		return err
	}
	if d.Peek() != '{' {
		return d.fail("attribute: want an object")
	}
	return d.Object(func(key []byte) error {
		switch fieldName(key, attrKeys) {
		case "name":
			return d.stringInto(&a.Name)
		case "value":
			v, err := d.Skip() // any JSON value, kept as its text
			if err == nil {
				a.Value = v
			}
			return err
		case "is_encrypted":
			return d.boolInto(&a.Encrypted)
		case "creation_time":
			return d.timeInto(&a.Created)
		case "last_modified":
			return d.timeInto(&a.Modified)
		case "expiration_time":
			return d.timeInto(&a.Expires)
		}
		_, err := d.Skip()
		return err
	})
}

// listInto reads an array into *dst as encoding/json decodes into a slice:
// null sets it to nil and [] to an empty slice, not nil. Elements are read
// by elem into the old slice from its start, so an element that was there
// (also beyond len, up to cap) is decoded into, not replaced; only a
// repeated key can show that.
func listInto[T any](d *decoder, dst *[]T, elem func(*T) error) error {
	if isNull, err := d.Null(); isNull || err != nil {
		if isNull {
			*dst = nil
		}
		return err
	}
	list := (*dst)[:0]
	err := d.Array(func() error {
		if len(list) < cap(list) {
			list = list[:len(list)+1]
		} else {
			var zero T
			list = append(list, zero)
		}
		return elem(&list[len(list)-1])
	})
	if len(list) == 0 {
		list = []T{}
	}
	*dst = list
	return err
}

// textOrNull reads a string, or a null (ok false).
func (d *decoder) textOrNull() (s []byte, ok bool, err error) {
	switch d.Peek() {
	case '"':
		s, err = d.Text()
		return s, err == nil, err
	case 'n':
		return nil, false, d.Literal("null")
	}
	return nil, false, d.fail("want a string")
}

// bytesInto reads a string into *dst without copying it when it needs no
// unquoting: *dst then aliases the message. A null leaves *dst as it was.
func (d *decoder) bytesInto(dst *[]byte) error {
	s, ok, err := d.textOrNull()
	if ok {
		*dst = s
	}
	return err
}

// stringInto reads a string into *dst (a copy). A null leaves *dst as it was.
func (d *decoder) stringInto(dst *string) error {
	s, ok, err := d.textOrNull()
	if ok {
		*dst = string(s)
	}
	return err
}

// boolInto reads a bool into *dst. A null leaves *dst as it was.
func (d *decoder) boolInto(dst *bool) error {
	switch d.Peek() {
	case 't':
		*dst = true
		return d.Literal("true")
	case 'f':
		*dst = false
		return d.Literal("false")
	case 'n':
		return d.Literal("null")
	}
	return d.fail("want a bool")
}

// timeInto reads a time into *dst exactly as encoding/json does: through
// time.Time.UnmarshalJSON with the raw text, which leaves *dst as it was
// for null and rejects anything but a quoted RFC 3339 time.
func (d *decoder) timeInto(dst *time.Time) error {
	raw, err := d.Skip()
	if err != nil {
		return err
	}
	return dst.UnmarshalJSON(raw)
}
