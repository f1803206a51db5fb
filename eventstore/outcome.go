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

// What an append's error says about its event (docs/API.md#error-codes):
//
//   - domain.ErrConflict: not stored; another event got there first,
//     whether the stream said so or the event was looked for (settle) and
//     another event holds its place on the subject. The caller decides
//     again.
//   - domain.ErrUnavailable: not stored and never will be. Either nothing
//     was sent (the connection was down: the client buffers nothing while
//     it reconnects, see internal/node), or every copy sent was refused
//     (no responders).
//   - domain.ErrOutcomeUnknown: a copy was sent and never answered, and
//     looking for the event did not settle it in time. It may be stored,
//     now or later (a leader without quorum keeps the proposal, and commits
//     it when quorum returns).
//
// Every copy of an event is sent with the same expected last sequence of
// its subject, so at most one copy is ever stored: re-sending is safe, and
// the event, if stored, is the first one on its subject after that
// sequence.

// unavailableError is a failure to reach the stream; it matches
// domain.ErrUnavailable and its cause.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string   { return "event store unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() []error { return []error{domain.ErrUnavailable, e.err} }

// unknownError is a write whose outcome is unknown; it matches
// domain.ErrOutcomeUnknown and its cause.
type unknownError struct{ err error }

func (e *unknownError) Error() string   { return "write outcome unknown: " + e.err.Error() }
func (e *unknownError) Unwrap() []error { return []error{domain.ErrOutcomeUnknown, e.err} }

// Unavailable returns err marked as a failure to reach the stream
// (matching domain.ErrUnavailable) when it is one: a timeout, no
// responders, a connection down or closed, JetStream refusing for want of a
// leader or quorum. Other errors come back as they are.
func Unavailable(err error) error {
	if err == nil || errors.Is(err, domain.ErrUnavailable) || errors.Is(err, domain.ErrOutcomeUnknown) {
		return err
	}
	if transient(err) || notSent(err) || errors.Is(err, nats.ErrConnectionClosed) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) {
		return &unavailableError{err}
	}
	return err
}

// transient reports whether err is a refusal that a moment may cure: no
// stream leader to answer yet, or JetStream saying it is unavailable.
func transient(err error) bool {
	if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, jetstream.ErrNoHeartbeat) {
		return true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case errClusterNotAvail, errClusterNotLeader, errStreamOffline:
			return true
		}
		return apiErr.Code == 503
	}
	return false
}

// JetStream's error codes for a stream that cannot answer for now.
const (
	errClusterNotAvail  jetstream.ErrorCode = 10008
	errClusterNotLeader jetstream.ErrorCode = 10009
	errStreamOffline    jetstream.ErrorCode = 10118
)

// notSent reports whether err, from a request, means the message never
// left this process: the connection is down and the client holds nothing
// back for later. Not nats.ErrDisconnected: a request gets it when the
// connection drops while it waits for the answer, after sending.
func notSent(err error) bool {
	return errors.Is(err, nats.ErrReconnectBufExceeded) || errors.Is(err, nats.ErrConnectionReconnecting) ||
		errors.Is(err, nats.ErrConnectionDraining) || errors.Is(err, nats.ErrInvalidConnection)
}

// attemptTimeout bounds one copy of a publish: a stream that elects a new
// leader drops what reaches it meanwhile without a word, so a copy not
// answered in this time is sent again (under the same expectation, so at
// most one copy is stored) rather than waited for until the deadline.
const attemptTimeout = time.Second

// refusedPause is the pause before sending again after a refusal (no
// responders, no leader) or while the connection is down.
const refusedPause = 100 * time.Millisecond

// settleReserve is the part of an append's time kept for looking for its
// event when a copy went unanswered: a fifth of the time, at most 1 s.
func settleReserve(budget time.Duration) time.Duration {
	return min(budget/5, time.Second)
}

// stored is a message as the stream's leader returns it.
type stored struct {
	Subject string `json:"subject"`
	Seq     uint64 `json:"seq"`
	Hdrs    []byte `json:"hdrs"`
	Data    []byte `json:"data"`
}

// event returns the stored message's event, its signature checked as a
// reader checks it.
func (s *Store) event(m *stored) (domain.Event, error) {
	var hdr nats.Header
	if len(m.Hdrs) > 0 {
		var err error
		if hdr, err = nats.DecodeHeadersMsg(m.Hdrs); err != nil {
			return domain.Event{}, fmt.Errorf("headers of %d: %w", m.Seq, err)
		}
	}
	return s.check(m.Seq, m.Subject, hdr, m.Data)
}

// firstAfter returns the first message stored on subject (a filter) after
// sequence after, or nil when there is none. The stream's leader answers
// (not a direct get, which a lagging replica may answer), so without a
// leader it fails.
func (s *Store) firstAfter(ctx context.Context, subject string, after uint64) (*stored, error) {
	req := strconv.AppendUint([]byte(`{"seq":`), after+1, 10)
	req = append(req, `,"next_by_subj":`...)
	req = strconv.AppendQuote(req, subject)
	req = append(req, '}')
	msg, err := s.askLeader(ctx, s.apiPrefix()+"STREAM.MSG.GET."+s.cfg.Stream, req)
	if err != nil {
		return nil, fmt.Errorf("first event of %s after %d: %w", subject, after, err)
	}
	var resp struct {
		Message *stored             `json:"message"`
		Error   *jetstream.APIError `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return nil, fmt.Errorf("first event of %s after %d: %w", subject, after, err)
	}
	switch {
	case resp.Error != nil && resp.Error.ErrorCode == jetstream.JSErrCodeMessageNotFound:
		return nil, nil
	case resp.Error != nil:
		return nil, fmt.Errorf("first event of %s after %d: %w", subject, after, resp.Error)
	case resp.Message == nil:
		return nil, fmt.Errorf("first event of %s after %d: empty answer", subject, after)
	}
	return resp.Message, nil
}

// settle looks for an event sent with expectation expected on subject,
// whose copies went unanswered, until ctx ends. It returns the event's
// sequence if it is stored, domain.ErrConflict if another event holds its
// place (it never will be stored), or an unknownError.
func (s *Store) settle(ctx context.Context, subject string, expected uint64, id string, cause error) (uint64, error) {
	for {
		m, err := s.firstAfter(ctx, subject, expected)
		switch {
		case err == nil && m != nil:
			if e, derr := s.event(m); derr == nil && e.ID == id {
				return m.Seq, nil
			}
			return 0, domain.ErrConflict
		case err == nil:
			err = errors.New("not stored yet")
		}
		// Not found, or no answer: ask again while there is time.
		if ctx.Err() != nil || errors.Is(err, nats.ErrConnectionClosed) || ctxtime.Sleep(ctx, refusedPause) != nil {
			return 0, &unknownError{fmt.Errorf("%w (looking for the event: %v)", cause, err)}
		}
	}
}

// clusterState is the part of a stream-info reply that says whether the
// stream can take writes.
type clusterState struct {
	Config struct {
		Replicas int `json:"num_replicas"`
	} `json:"config"`
	State struct {
		LastSeq uint64 `json:"last_seq"`
	} `json:"state"`
	Cluster *struct {
		Leader   string `json:"leader"`
		Replicas []struct {
			Current bool `json:"current"`
			Offline bool `json:"offline"`
		} `json:"replicas"`
	} `json:"cluster"`
	Error *jetstream.APIError `json:"error"`
}

// Writable asks the stream's leader for the stream's state and returns its
// last sequence if the stream can take writes now: it has a leader, and
// the leader and the replicas that are current make a quorum. Otherwise it
// returns an error that matches domain.ErrUnavailable. It is readiness's
// check (internal/node), not a request's.
func (s *Store) Writable(ctx context.Context) (uint64, error) {
	msg, err := s.js.Conn().RequestWithContext(ctx, s.apiPrefix()+"STREAM.INFO."+s.cfg.Stream, nil)
	if err != nil {
		return 0, &unavailableError{fmt.Errorf("stream info: %w", err)}
	}
	var st clusterState
	if err := json.Unmarshal(msg.Data, &st); err != nil {
		return 0, fmt.Errorf("stream info: %w", err)
	}
	if st.Error != nil {
		return 0, Unavailable(fmt.Errorf("stream info: %w", st.Error))
	}
	if c := st.Cluster; c != nil && st.Config.Replicas > 1 {
		if c.Leader == "" {
			return 0, &unavailableError{errors.New("stream has no leader")}
		}
		current := 1 // the leader
		for _, r := range c.Replicas {
			if r.Current && !r.Offline {
				current++
			}
		}
		if current < st.Config.Replicas/2+1 {
			return 0, &unavailableError{fmt.Errorf("stream has %d of %d replicas current, no quorum", current, st.Config.Replicas)}
		}
	}
	return st.State.LastSeq, nil
}
