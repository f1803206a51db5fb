// Package eventstore keeps ssoattr's events in one NATS JetStream stream.
//
// Every owner (an account, a username claim, a session, a user's or a
// session's attribute set) is one subject, so the stream's last sequence on
// that subject is the owner's version. Append publishes one event with
// Nats-Expected-Last-Subject-Sequence set to the version the writer decided
// against; a writer that lost the race gets domain.ErrConflict and decides
// again. Events are CloudEvents 1.0 structured JSON (see docs/events.md),
// written and read by internal/jsontext; this package adds the subject.
package eventstore
