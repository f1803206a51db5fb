package eventstore_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/eventstore"
)

// The codec as it was before the hand-written one, on encoding/json and
// reflection: the oracle the differential and fuzz tests compare with.
// Every stored event was written by encodeStd and read by decodeStd.

// stdEnvelope is the CloudEvents 1.0 structured-mode JSON form of an event.
type stdEnvelope struct {
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

func encodeStd(e domain.Event) ([]byte, error) {
	if e.ID == "" || e.Kind == "" {
		return nil, errors.New("event without id or kind")
	}
	return json.Marshal(stdEnvelope{
		SpecVersion: eventstore.SpecVersion, ID: e.ID, Source: eventstore.Source, Type: eventstore.Type(e.Kind),
		Subject: eventstore.Subject(e.Owner), Time: e.Time.UTC(), DataContentType: eventstore.ContentType,
		Actor: e.Actor, App: e.App, RemoteAddr: e.RemoteAddr, CID: e.CID, Data: e.Data,
	})
}

func decodeStd(data []byte) (domain.Event, error) {
	var env stdEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		return domain.Event{}, fmt.Errorf("%w: %v", eventstore.ErrMalformed, err)
	}
	prefix, version := eventstore.TypePrefix, eventstore.TypeVersion
	if env.SpecVersion != eventstore.SpecVersion || env.ID == "" ||
		!strings.HasPrefix(env.Type, prefix) || !strings.HasSuffix(env.Type, version) ||
		len(env.Type) <= len(prefix)+len(version) {
		return domain.Event{}, fmt.Errorf("%w: type %q, specversion %q", eventstore.ErrMalformed, env.Type, env.SpecVersion)
	}
	if y := env.Time.UTC().Year(); y < 0 || y > 9999 {
		return domain.Event{}, fmt.Errorf("%w: time %s", eventstore.ErrMalformed, env.Time)
	}
	owner, err := eventstore.ParseSubject(env.Subject)
	if err != nil {
		return domain.Event{}, fmt.Errorf("%w: subject %q", eventstore.ErrMalformed, env.Subject)
	}
	return domain.Event{
		ID: env.ID, Kind: env.Type[len(prefix) : len(env.Type)-len(version)],
		Owner: owner, Time: env.Time, Actor: env.Actor, App: env.App,
		RemoteAddr: env.RemoteAddr, CID: env.CID, Data: env.Data,
	}, nil
}
