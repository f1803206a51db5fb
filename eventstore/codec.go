package eventstore

import (
	"fmt"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/jsontext"
)

// The stored form of an event is its JSON form (jsontext.EncodeEvent,
// jsontext.DecodeEvent) with its owner's subject (subject.go) as its
// CloudEvents subject. The JSON takes the subject as text, so that the
// rule of a subject's form stays here, with the stream's filters that
// depend on it.

// Encode returns the stored form of e. Append encodes with the subject it
// publishes on; this is for writers of messages outside a Store.
func Encode(e domain.Event) ([]byte, error) { return jsontext.EncodeEvent(e, Subject(e.Owner)) }

// Decode reads a stored event. It returns jsontext.ErrMalformed (wrapped)
// for anything that is not a version-1 ssoattr CloudEvent on an ssoattr
// subject; see jsontext.DecodeEvent for what it accepts and what the
// event shares with data.
func Decode(data []byte) (domain.Event, error) { return decodeOn("", data) }

// decodeOn is Decode of a message stored on subject: unless subject is "",
// the event's own subject must be subject, or it returns ErrOffSubject.
func decodeOn(subject string, data []byte) (domain.Event, error) {
	e, own, err := jsontext.DecodeEvent(data)
	if err != nil {
		return domain.Event{}, err
	}
	owner, err := ParseSubject(own)
	if err != nil {
		return domain.Event{}, fmt.Errorf("%w: subject %q", jsontext.ErrMalformed, own)
	}
	if subject != "" && own != subject {
		return domain.Event{}, ErrOffSubject
	}
	e.Owner = owner
	return e, nil
}
