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

	"github.com/ssoattr/ssoattr/internal/ctxtime"
)

// The read barrier asks for the stream's last sequence continuously under
// load, so the question must be cheap as well as exact.
//
// A stream-info request is always exact: the stream's leader answers it.
// But it goes through JetStream's API queue and carries the whole
// configuration and state. A direct get is answered inline by a server that
// holds the stream, at a fraction of that cost. Asked for a batch of one
// starting just after the last sequence the previous round found, it
// answers "404: nothing there" (nothing new) or that message followed by an
// end-of-batch status with the number of messages after it: the last
// sequence is then that message's sequence plus the count.
//
// That answer is exact only where three things hold, and the probe uses it
// only while they do:
//   - the stream has one replica: of several, a lagging follower may answer;
//   - nothing mirrors it: a mirror of a stream that allows direct gets
//     answers them too, possibly behind;
//   - its sequences have no gaps, so a count of messages is a distance. The
//     stream denies deletes and purges and has no limits, so none appear.
//
// Every probeRecheck the probe asks stream info instead and checks all three
// again (the stream list shows mirrors, wherever they are); a round that
// finds one broken, or a direct get that fails, falls back to stream info.
// A mirror created while the service runs can thus serve a few reads behind
// until the next check: the README says not to mirror the stream.
const probeRecheck = 2 * time.Second

// lastSeqProbe is the barrier's fetch. Its methods run one at a time: the
// barrier has at most one fetch in flight.
type lastSeqProbe struct {
	s       *Store
	recheck time.Duration // probeRecheck; tests shorten it
	direct  bool          // direct gets are exact for this stream, as of checked
	checked time.Time     // zero: never checked
	known   uint64        // the last sequence the previous round found

	inbox   string // replies to direct gets come to inbox.<n>
	n       uint64
	replies chan *nats.Msg
}

func (p *lastSeqProbe) lastSeq(ctx context.Context) (uint64, error) {
	if p.direct && time.Since(p.checked) < p.recheck {
		if seq, err := p.directLastSeq(ctx); err == nil {
			p.known = max(p.known, seq)
			return seq, nil
		}
		// A direct get that fails (a timeout, a server that does not
		// answer them) says nothing about the stream: ask its leader, and
		// check again before the next direct get.
		p.direct = false
	}
	return p.check(ctx)
}

// streamState is the part of a stream-info reply the probe checks.
type streamState struct {
	Config struct {
		Replicas    int  `json:"num_replicas"`
		AllowDirect bool `json:"allow_direct"`
	} `json:"config"`
	State struct {
		Msgs     uint64 `json:"messages"`
		FirstSeq uint64 `json:"first_seq"`
		LastSeq  uint64 `json:"last_seq"`
	} `json:"state"`
	Error *jetstream.APIError `json:"error"`
}

// check asks the stream's leader for the stream's state, which is the
// round's answer, and decides whether direct gets may answer the rounds
// until the next check.
func (p *lastSeqProbe) check(ctx context.Context) (uint64, error) {
	var st streamState
	if err := p.s.streamInfo(ctx, &st); err != nil {
		return 0, err
	}
	seq := st.State.LastSeq
	p.known = max(p.known, seq)
	gapless := st.State.Msgs == 0 || st.State.LastSeq-st.State.FirstSeq+1 == st.State.Msgs
	p.direct = st.Config.Replicas == 1 && st.Config.AllowDirect && gapless && !p.mirrored(ctx)
	p.checked = time.Now()
	return seq, nil
}

// mirrored reports whether any stream mirrors ours (true when the list
// cannot be read: then direct gets are not to be trusted either).
func (p *lastSeqProbe) mirrored(ctx context.Context) bool {
	streams := p.s.js.ListStreams(ctx)
	for info := range streams.Info() {
		if m := info.Config.Mirror; m != nil && m.Name == p.s.cfg.Stream {
			return true
		}
	}
	return streams.Err() != nil
}

// directLastSeq asks for a batch of one message from the sequence after
// the last one known.
func (p *lastSeqProbe) directLastSeq(ctx context.Context) (uint64, error) {
	nc := p.s.js.Conn()
	if p.replies == nil {
		p.inbox = nc.NewRespInbox()
		replies := make(chan *nats.Msg, 64)
		if _, err := nc.ChanSubscribe(p.inbox+".*", replies); err != nil {
			return 0, fmt.Errorf("direct get replies: %w", err)
		}
		p.replies = replies
	}
	p.n++
	reply := p.inbox + "." + strconv.FormatUint(p.n, 10)
	if err := nc.PublishRequest(p.s.apiPrefix()+"DIRECT.GET."+p.s.cfg.Stream, reply, directGetRequest(p.known+1)); err != nil {
		return 0, fmt.Errorf("direct get: %w", err)
	}
	for { // ctx is the barrier round's, which has its deadline (Config.BarrierTimeout)
		select {
		case m := <-p.replies:
			if m.Subject != reply {
				continue // a late answer to a round that gave up
			}
			switch status := m.Header.Get("Status"); status {
			case "":
				continue // the message itself; the count follows
			case "404":
				return p.known, nil // nothing after the last sequence known
			case "204":
				return endOfBatch(m)
			default:
				return 0, fmt.Errorf("direct get: status %s %s", status, m.Header.Get("Description"))
			}
		case <-ctx.Done():
			return 0, fmt.Errorf("direct get: %w", ctx.Err())
		}
	}
}

// directGetRequest asks for a batch of one message from sequence seq. The
// round needs only the end-of-batch status after the message, but it asks
// for the message with its headers: with "no_hdr" the server (v2.15)
// leaves the sent message in the status's pending count unless the stream
// grew meanwhile, so the count would be off by one or not, and nothing in
// the answer says which.
func directGetRequest(seq uint64) []byte {
	req := strconv.AppendUint([]byte(`{"batch":1,"seq":`), seq, 10)
	return append(req, '}')
}

// endOfBatch reads the last sequence from the status that ends a direct-get
// batch: the batch's last message plus the messages after it.
func endOfBatch(m *nats.Msg) (uint64, error) {
	last, err1 := strconv.ParseUint(m.Header.Get("Nats-Last-Sequence"), 10, 64)
	pending, err2 := strconv.ParseUint(m.Header.Get("Nats-Num-Pending"), 10, 64)
	if err := errors.Join(err1, err2); err != nil || last == 0 {
		return 0, fmt.Errorf("direct get: end of batch %v: %v", m.Header, err)
	}
	return last + pending, nil
}

func (s *Store) apiPrefix() string {
	if prefix := s.js.Options().APIPrefix; prefix != "" {
		return prefix
	}
	return jetstream.DefaultAPIPrefix
}

// streamInfo sends a stream-info request to the stream's leader and
// decodes the parts of the reply the store uses.
func (s *Store) streamInfo(ctx context.Context, v *streamState) error {
	if _, hasDeadline := ctx.Deadline(); !hasDeadline {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	msg, err := s.askLeader(ctx, s.apiPrefix()+"STREAM.INFO."+s.cfg.Stream, nil)
	if err != nil {
		return fmt.Errorf("stream info: %w", err)
	}
	if err := json.Unmarshal(msg.Data, v); err != nil {
		return fmt.Errorf("stream info: %w", err)
	}
	if v.Error != nil {
		return fmt.Errorf("stream info: %w", v.Error)
	}
	return nil
}

// askLeader sends a request that the stream's leader answers, and sends it
// again when no answer came within leaderAttempt, then twice that, and so
// on until ctx ends: a stream whose leader has gone answers nothing until
// another is elected, and a request sent before that would wait out the
// whole deadline after the new leader could have answered. The growing
// wait lets a leader that is only slow answer.
func (s *Store) askLeader(ctx context.Context, subject string, data []byte) (*nats.Msg, error) {
	for wait := leaderAttempt; ; wait *= 2 {
		actx, cancel := context.WithTimeout(ctx, wait)
		msg, err := s.js.Conn().RequestWithContext(actx, subject, data)
		cancel()
		if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) && !transient(err) {
			return msg, err
		}
		if errors.Is(err, nats.ErrNoResponders) {
			if err := ctxtime.Sleep(ctx, refusedPause); err != nil {
				return nil, err
			}
		}
	}
}

// leaderAttempt bounds the first request of askLeader.
const leaderAttempt = 500 * time.Millisecond
