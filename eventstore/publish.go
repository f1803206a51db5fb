package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/ctxtime"
)

// publish sends data to subject with the subject's expected last sequence
// and returns the stored message's sequence, as jetstream.Publish with
// WithExpectLastSequencePerSubject does, with the signature header and the
// resending below, which the library's publish does not do.
//
// It keeps trying until ctx's deadline (publishTimeout without one), less
// the reserve it keeps for settling: a copy refused (no responders, no
// leader) or not sent (connection down) is sent again after a pause, and a
// copy not answered within attemptTimeout is sent again at once, which is
// how a write gets through a leader election. All copies carry the same
// expectation, so at most one is stored. If a copy went unanswered and
// none was acknowledged, it looks for the event in the time kept (settle).
// id is the event's id, to recognise it. The errors are described in
// outcome.go.
func (s *Store) publish(ctx context.Context, subject string, data []byte, sig string, expected uint64, id string) (uint64, error) {
	s.appending.Add(1)
	defer s.appending.Add(-1)
	m := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{
		jetstream.ExpectedLastSubjSeqHeader: {strconv.FormatUint(expected, 10)},
		SignatureHeader:                     {sig}}}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(publishTimeout)
	}
	reserve := settleReserve(time.Until(deadline))
	nc := s.js.Conn()
	var (
		unanswered error // the last copy sent and not answered, if any
		lastErr    error
	)
	for {
		left := time.Until(deadline) - reserve
		if left <= 0 || ctx.Err() != nil {
			break
		}
		if nc.IsClosed() {
			lastErr = nats.ErrConnectionClosed
			break // nothing more can be sent
		}
		resp, err := nc.RequestMsg(m, min(left, attemptTimeout))
		if err == nil {
			seq, err := parseAck(resp.Data)
			if errors.Is(mapErr(err), domain.ErrConflict) && (unanswered != nil || s.replicated()) {
				// Perhaps a copy was stored all the same: an earlier one
				// unanswered, or this one, on a replicated stream, whose
				// leader changed while it was in flight: every replica
				// receives a publish, and a new leader refuses a copy that
				// the old one's proposal stored. Is it ours holding the
				// place? Asked of the leader.
				fctx, cancel := context.WithDeadline(context.Background(), deadline)
				m, ferr := s.firstAfter(fctx, subject, expected)
				cancel()
				switch {
				case ferr == nil && m != nil:
					if e, derr := s.event(m); derr == nil && e.ID == id {
						return m.Seq, nil
					}
					return 0, err // another event holds it: a conflict
				case ferr == nil && unanswered == nil && !s.replicated():
					return 0, err
				}
				// Nothing there yet, or no answer: the refusal came from
				// a replica behind; ours may still be stored. Send again.
				unanswered, lastErr = err, err
				continue
			}
			if err != nil && transient(err) {
				lastErr = err
				_ = ctxtime.Sleep(ctx, min(refusedPause, left))
				continue
			}
			return seq, err
		}
		lastErr = err
		switch {
		case errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) ||
			errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrDisconnected) ||
			errors.Is(err, nats.ErrStaleConnection):
			// No answer, or the connection closed or dropped while
			// waiting: the copy may have gone out before.
			unanswered = err
		case transient(err) || notSent(err):
			_ = ctxtime.Sleep(ctx, min(refusedPause, left))
		default:
			return 0, err
		}
	}
	if unanswered != nil {
		return s.settleBy(deadline, subject, expected, id, unanswered)
	}
	if lastErr == nil {
		lastErr = ctx.Err()
	}
	if lastErr == nil {
		lastErr = context.DeadlineExceeded
	}
	return 0, &unavailableError{lastErr}
}

// settleBy runs settle until deadline, on a context of its own: the
// caller's may be what ended.
func (s *Store) settleBy(deadline time.Time, subject string, expected uint64, id string, cause error) (uint64, error) {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	return s.settle(ctx, subject, expected, id, cause)
}

// publishTimeout bounds a publish whose context has no deadline, as
// jetstream.Publish does.
const publishTimeout = 5 * time.Second

// parseAck reads a publish acknowledgement as jetstream.Publish does: an
// error reply ({"error":{...}}) comes back as its *jetstream.APIError,
// anything else that does not name a stream as jetstream.ErrInvalidJSAck.
func parseAck(data []byte) (uint64, error) {
	var reply struct {
		Error  *jetstream.APIError `json:"error"`
		Stream string              `json:"stream"`
		Seq    uint64              `json:"seq"`
	}
	switch {
	case json.Unmarshal(data, &reply) != nil:
		return 0, jetstream.ErrInvalidJSAck
	case reply.Error != nil:
		return 0, fmt.Errorf("nats: %w", reply.Error)
	case reply.Stream == "":
		return 0, jetstream.ErrInvalidJSAck
	}
	return reply.Seq, nil
}

var errUnusualAck = errors.New("not the usual acknowledgement")
