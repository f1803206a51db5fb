package jsontext

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ssoattr/ssoattr/domain"
)

// The JSON form of a stored event (docs/events.md): a CloudEvents 1.0
// structured-mode message. Its subject attribute is the subject of the
// event's owner, whose form is eventstore's (eventstore.Subject): here it is
// any string, given to EncodeEvent and returned by DecodeEvent.

// CloudEvents attributes of every stored event.
const (
	EventSpecVersion = "1.0"
	EventTypePrefix  = "io.ssoattr."
	EventTypeVersion = ".v1"
	EventContentType = "application/json"
	EventSource      = "ssoattr"
)

// EventType returns the CloudEvents type of a kind: io.ssoattr.<kind>.v1.
func EventType(kind string) string { return EventTypePrefix + kind + EventTypeVersion }

// EncodeEvent returns the JSON form of e, with subject as its subject
// (e.Owner is not read): a CloudEvents 1.0 structured-mode JSON message
// with the extension attributes actoruserid, currentapp, remoteaddr and
// cid. The bytes are exactly those json.Marshal wrote for the envelope
// struct this codec used to use (see event_encode.go). It returns an error
// for an event without id or kind, an attribute value that is not valid
// JSON, or a time json.Marshal cannot write (a year outside 0 to 9999, in
// UTC for the event's own time).
func EncodeEvent(e domain.Event, subject string) ([]byte, error) {
	if e.ID == "" || e.Kind == "" {
		return nil, errors.New("event without id or kind")
	}
	return appendEvent(make([]byte, 0, sizeHint(&e, subject)), &e, subject)
}

// ErrMalformed reports a stored message that is not an ssoattr event.
var ErrMalformed = errors.New("malformed event")

// DecodeEvent reads the JSON form of an event: the event, without its
// Owner, and its subject, which the caller checks and maps to the owner
// (eventstore.ParseSubject). It returns ErrMalformed (wrapped) for
// anything that is not a version-1 ssoattr CloudEvent.
//
// It accepts what encoding/json accepted when it unmarshalled the message
// into the envelope struct, with the same result, down to the odd corners:
// keys in any order and of any case, unknown keys skipped, a repeated key
// decoded again over the earlier one (see event_decode.go), null leaving a
// field as it was.
//
// The Value of each attribute is a span of data (any JSON value, as
// written), not a copy: keeping it keeps data alive, and data must not be
// changed while the event is in use. Its capacity ends with it, so
// appending to it copies. Every string of the event, and the subject, is a
// copy.
func DecodeEvent(data []byte) (e domain.Event, subject string, err error) {
	var env rawEnvelope
	if err := env.read(data); err != nil {
		return domain.Event{}, "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	typ := env.typ
	if string(env.specVersion) != EventSpecVersion || env.event.ID == "" ||
		!bytes.HasPrefix(typ, []byte(EventTypePrefix)) || !bytes.HasSuffix(typ, []byte(EventTypeVersion)) ||
		len(typ) <= len(EventTypePrefix)+len(EventTypeVersion) {
		return domain.Event{}, "", fmt.Errorf("%w: type %q, specversion %q", ErrMalformed, typ, env.specVersion)
	}
	e = env.event
	// EncodeEvent writes the time in UTC, where JSON can only hold years 0
	// to 9999: a time outside them could be read but never written again.
	if y := e.Time.UTC().Year(); y < 0 || y > 9999 {
		return domain.Event{}, "", fmt.Errorf("%w: time %s", ErrMalformed, e.Time)
	}
	e.Kind = kindString(typ[len(EventTypePrefix) : len(typ)-len(EventTypeVersion)])
	return e, string(env.subject), nil
}

// knownKinds holds domain.Kinds, so that decoding one of
// them does not allocate a new string. Any other kind is copied.
var knownKinds = func() map[string]string {
	m := make(map[string]string, len(domain.Kinds))
	for _, k := range domain.Kinds {
		m[k] = k
	}
	return m
}()

func kindString(b []byte) string {
	if k, ok := knownKinds[string(b)]; ok {
		return k
	}
	return string(b)
}
