package jsontext_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/jsontext"
)

// The codec as it was before the hand-written one, on encoding/json and
// reflection: the oracle the differential and fuzz tests compare with.
// Every stored event was written by encodeStd and read by decodeStd (with
// the subject then mapped to the owner, now eventstore's part).

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

func encodeStd(m message) ([]byte, error) {
	e := m.Event
	if e.ID == "" || e.Kind == "" {
		return nil, errors.New("event without id or kind")
	}
	return json.Marshal(stdEnvelope{
		SpecVersion: jsontext.EventSpecVersion, ID: e.ID, Source: jsontext.EventSource, Type: jsontext.EventType(e.Kind),
		Subject: m.Subject, Time: e.Time.UTC(), DataContentType: jsontext.EventContentType,
		Actor: e.Actor, App: e.App, RemoteAddr: e.RemoteAddr, CID: e.CID, Data: e.Data,
	})
}

func decodeStd(data []byte) (message, error) {
	var env stdEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		return message{}, fmt.Errorf("%w: %v", jsontext.ErrMalformed, err)
	}
	prefix, version := jsontext.EventTypePrefix, jsontext.EventTypeVersion
	if env.SpecVersion != jsontext.EventSpecVersion || env.ID == "" ||
		!strings.HasPrefix(env.Type, prefix) || !strings.HasSuffix(env.Type, version) ||
		len(env.Type) <= len(prefix)+len(version) {
		return message{}, fmt.Errorf("%w: type %q, specversion %q", jsontext.ErrMalformed, env.Type, env.SpecVersion)
	}
	if y := env.Time.UTC().Year(); y < 0 || y > 9999 {
		return message{}, fmt.Errorf("%w: time %s", jsontext.ErrMalformed, env.Time)
	}
	return message{Subject: env.Subject, Event: domain.Event{
		ID: env.ID, Kind: env.Type[len(prefix) : len(env.Type)-len(version)],
		Time: env.Time, Actor: env.Actor, App: env.App,
		RemoteAddr: env.RemoteAddr, CID: env.CID, Data: env.Data,
	}}, nil
}
