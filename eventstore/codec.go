package eventstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

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

// envelope is the CloudEvents 1.0 structured-mode JSON form of an event.
// Extension attributes: actoruserid, currentapp, remoteaddr, cid.
type envelope struct {
	SpecVersion     string           `json:"specversion"`
	ID              string           `json:"id"`
	Source          string           `json:"source"`
	Type            string           `json:"type"`
	Subject         string           `json:"subject"`
	Time            time.Time        `json:"time"`
	DataContentType string           `json:"datacontenttype"`
	Actor           string           `json:"actoruserid,omitempty"`
	App             string           `json:"currentapp,omitempty"`
	RemoteAddr      string           `json:"remoteaddr,omitempty"`
	CID             string           `json:"cid,omitempty"`
	Data            domain.EventData `json:"data"`
}

// Type returns the CloudEvents type of a kind: io.ssoattr.<kind>.v1.
func Type(kind string) string { return TypePrefix + kind + TypeVersion }

// Encode returns the stored form of e.
func Encode(e domain.Event) ([]byte, error) {
	if e.ID == "" || e.Kind == "" {
		return nil, errors.New("event without id or kind")
	}
	return json.Marshal(envelope{
		SpecVersion: SpecVersion, ID: e.ID, Source: Source, Type: Type(e.Kind),
		Subject: Subject(e.Owner), Time: e.Time.UTC(), DataContentType: ContentType,
		Actor: e.Actor, App: e.App, RemoteAddr: e.RemoteAddr, CID: e.CID, Data: e.Data,
	})
}

// ErrMalformed reports a stored message that is not an ssoattr event.
var ErrMalformed = errors.New("malformed event")

// Decode reads a stored event. It returns ErrMalformed (wrapped) for anything
// that is not a version-1 ssoattr CloudEvent.
func Decode(data []byte) (domain.Event, error) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return domain.Event{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if env.SpecVersion != SpecVersion || env.ID == "" ||
		!strings.HasPrefix(env.Type, TypePrefix) || !strings.HasSuffix(env.Type, TypeVersion) ||
		len(env.Type) <= len(TypePrefix)+len(TypeVersion) {
		return domain.Event{}, fmt.Errorf("%w: type %q, specversion %q", ErrMalformed, env.Type, env.SpecVersion)
	}
	// Encode writes the time in UTC, where JSON can only hold years 0 to
	// 9999: a time outside them could be read but never written again.
	if y := env.Time.UTC().Year(); y < 0 || y > 9999 {
		return domain.Event{}, fmt.Errorf("%w: time %s", ErrMalformed, env.Time)
	}
	owner, err := ParseSubject(env.Subject)
	if err != nil {
		return domain.Event{}, fmt.Errorf("%w: subject %q", ErrMalformed, env.Subject)
	}
	return domain.Event{
		ID: env.ID, Kind: env.Type[len(TypePrefix) : len(env.Type)-len(TypeVersion)],
		Owner: owner, Time: env.Time, Actor: env.Actor, App: env.App,
		RemoteAddr: env.RemoteAddr, CID: env.CID, Data: env.Data,
	}, nil
}
