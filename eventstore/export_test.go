package eventstore

import (
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssoattr/ssoattr/domain"
)

// Stream is the store's stream, for tests that read or change it directly.
func (s *Store) Stream() jetstream.Stream { return s.stream }

// BarrierUsesDirectGet reports whether the read barrier's rounds, as of the
// last one, may be answered by direct gets. Read it only after a LastSeq
// call has returned: that orders it after the round that set it.
func (s *Store) BarrierUsesDirectGet() bool { return s.probe.direct }

// SetBarrierRecheck changes how often the barrier checks that direct gets
// are exact. Call it before the first LastSeq.
func (s *Store) SetBarrierRecheck(d time.Duration) { s.probe.recheck = d }

// ParseAck is parseAck, for the tests of publish acknowledgements.
var ParseAck = parseAck

// OwnEventsTaken is how many of its own events the follower has taken
// from their writers instead of decoding them.
func (s *Store) OwnEventsTaken() int64 { return s.own.taken.Load() }

// OwnEventsKept is how many events are waiting for the follower.
func (s *Store) OwnEventsKept() int {
	s.own.mu.Lock()
	defer s.own.mu.Unlock()
	return len(s.own.bySubject)
}

// RoundTrips is roundTrips, for its fuzz test.
var RoundTrips = roundTrips

// DirectGetRequest is directGetRequest, for the test of what the server
// makes of it.
var DirectGetRequest = directGetRequest

// AckPosition is ackPosition, for its test.
var AckPosition = ackPosition

// Checker returns a store with keys that only checks messages, for the
// benchmark of the readers' path (Store.check: verify, then decode).
func Checker(keys *Keys) *Store { return &Store{keys: keys, signedFrom: 1} }

// Check is Store.check.
func (s *Store) Check(seq uint64, subject string, hdr nats.Header, data []byte) (domain.Event, error) {
	return s.check(seq, subject, hdr, data)
}
