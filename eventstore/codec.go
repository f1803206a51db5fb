package eventstore

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ssoattr/ssoattr/domain"
)

// CloudEvents attributes of every stored event.
const (
	SpecVersion = "1.0"
	TypePrefix  = "io.ssoattr."
	TypeVersion = ".v1"
	ContentType = "application/json"
	Source      = "ssoattr"
)

// Type returns the CloudEvents type of a kind: io.ssoattr.<kind>.v1.
func Type(kind string) string { return TypePrefix + kind + TypeVersion }

// Encode returns the stored form of e: a CloudEvents 1.0 structured-mode
// JSON message with the extension attributes actoruserid, currentapp,
// remoteaddr and cid. The bytes are exactly those json.Marshal wrote for
// the envelope struct this codec used to use (see codec_encode.go). It
// returns an error for an event without id or kind, an attribute value
// that is not valid JSON, or a time json.Marshal cannot write (a year
// outside 0 to 9999, in UTC for the event's own time).
func Encode(e domain.Event) ([]byte, error) {
	if e.ID == "" || e.Kind == "" {
		return nil, errors.New("event without id or kind")
	}
	return appendEvent(make([]byte, 0, sizeHint(&e)), &e)
}

// ErrMalformed reports a stored message that is not an ssoattr event.
var ErrMalformed = errors.New("malformed event")

// Decode reads a stored event. It returns ErrMalformed (wrapped) for anything
// that is not a version-1 ssoattr CloudEvent.
//
// It accepts what encoding/json accepted when it unmarshalled the message
// into the envelope struct, with the same result, down to the odd corners:
// keys in any order and of any case, unknown keys skipped, a repeated key
// decoded again over the earlier one (see codec_decode.go), null leaving a
// field as it was.
//
// The Value of each attribute is a span of data (any JSON value, as
// written), not a copy: keeping it keeps data alive, and data must not be
// changed while the event is in use. Its capacity ends with it, so
// appending to it copies. Every string of the event is a copy.
func Decode(data []byte) (domain.Event, error) { return decodeOn("", data) }

// decodeOn is Decode of a message stored on subject: unless subject is "",
// the event's own subject must be subject, or it returns ErrOffSubject
// (wrapped).
func decodeOn(subject string, data []byte) (domain.Event, error) {
	var env rawEnvelope
	if err := env.read(data); err != nil {
		return domain.Event{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	typ := env.typ
	if string(env.specVersion) != SpecVersion || env.event.ID == "" ||
		!bytes.HasPrefix(typ, []byte(TypePrefix)) || !bytes.HasSuffix(typ, []byte(TypeVersion)) ||
		len(typ) <= len(TypePrefix)+len(TypeVersion) {
		return domain.Event{}, fmt.Errorf("%w: type %q, specversion %q", ErrMalformed, typ, env.specVersion)
	}
	e := env.event
	// Encode writes the time in UTC, where JSON can only hold years 0 to
	// 9999: a time outside them could be read but never written again.
	if y := e.Time.UTC().Year(); y < 0 || y > 9999 {
		return domain.Event{}, fmt.Errorf("%w: time %s", ErrMalformed, e.Time)
	}
	owner, err := ParseSubject(string(env.subject))
	if err != nil {
		return domain.Event{}, fmt.Errorf("%w: subject %q", ErrMalformed, env.subject)
	}
	if subject != "" && string(env.subject) != subject {
		return domain.Event{}, ErrOffSubject
	}
	e.Kind = kindString(typ[len(TypePrefix) : len(typ)-len(TypeVersion)])
	e.Owner = owner
	return e, nil
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
