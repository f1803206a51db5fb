package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/oklog/ulid/v2"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/ctxtime"
	"github.com/ssoattr/ssoattr/internal/jsontext"
)

// Config describes the stream. The zero value is completed with defaults.
type Config struct {
	Stream   string // default "SSO"
	Replicas int    // default 1
	// MaxMsgSize bounds one event; the HTTP layer bounds requests well below it.
	MaxMsgSize int32 // default 1 MiB
	// LocalLastSeq, when set, reads the named stream's last sequence from
	// the nats-server that holds the stream, running in this process
	// (internal/node sets it for its embedded server). LastSeq then calls
	// it instead of asking over the connection: the server's own state is
	// as exact as its answer to a request, and reading it costs no round
	// trip and no wait.
	LocalLastSeq func(stream string) (uint64, error)
	// Keys sign every event appended and verify every event read
	// (required; see sign.go). The first key signs.
	Keys *Keys
	// Log receives the follower's note of each message it refuses (its
	// sequence and the reason, nothing of its content) and a forged
	// high-water mark. Default: discarded.
	Log *slog.Logger
	// BarrierTimeout bounds one round of the read barrier's shared
	// request (default 2 s). A caller may wait for two rounds (the one
	// running when it came, then its own), so internal/node keeps two well
	// within the request deadline: a stream that does not answer is
	// reported as unavailable before the deadline, not after it.
	BarrierTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.Stream == "" {
		c.Stream = "SSO"
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.MaxMsgSize <= 0 {
		c.MaxMsgSize = 1 << 20
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.BarrierTimeout <= 0 {
		c.BarrierTimeout = 2 * time.Second
	}
	return c
}

// StreamConfig returns the explicit configuration the stream is created or
// updated with: file storage, everything kept forever (no age, count or size
// limits; deletes and purges denied), and atomic batches allowed for the
// rare writes that must touch two owners at once.
//
// The service sends no Nats-Msg-Id (see Append). The window for those who
// do (another tool publishing to the stream) is ten seconds rather than
// NATS's two minutes: the server keeps every id of the window in memory,
// 2.4 million of them at 20,000 writes a second, and the embedded server's
// process must garbage-collect them too (in the benchmark's reads, just
// after its writes, the collector's mark work per cycle fell from ~124 ms
// to 40-70 ms of CPU with the shorter window; GODEBUG=gctrace=1).
func StreamConfig(c Config) jetstream.StreamConfig {
	c = c.withDefaults()
	return jetstream.StreamConfig{
		Name:               c.Stream,
		Description:        "ssoattr events: users, sessions and attributes (CloudEvents 1.0 JSON)",
		Subjects:           []string{Prefix + ".>"},
		Storage:            jetstream.FileStorage,
		Replicas:           c.Replicas,
		Retention:          jetstream.LimitsPolicy,
		Discard:            jetstream.DiscardNew,
		MaxAge:             0,
		MaxMsgs:            -1,
		MaxBytes:           -1,
		MaxMsgsPerSubject:  -1,
		MaxMsgSize:         c.MaxMsgSize,
		Duplicates:         10 * time.Second,
		DenyDelete:         true,
		DenyPurge:          true,
		AllowDirect:        true,
		AllowAtomicPublish: true,
	}
}

// Store appends events to the stream and reads them back.
type Store struct {
	js      jetstream.JetStream
	stream  jetstream.Stream
	cfg     Config
	barrier barrier
	probe   *lastSeqProbe // the barrier's fetch

	batchSlots chan struct{} // atomic batches being sent (see AppendAll)
	own        ownEvents     // events being appended, for this process's follower
	appending  atomic.Int64  // appends awaiting their acknowledgement (see LastSeq)

	keys       *Keys
	signedFrom uint64        // the high-water mark: from here on every event is signed
	rejected   atomic.Uint64 // messages the follower refused (see Rejected)
	counts     *counts       // for metrics (see Appended)
}

// Open returns a Store on the stream, creating it, or updating it to
// StreamConfig(c), only when it is missing, configured otherwise, or has no
// signing high-water mark yet. A NATS user that may read the stream's
// configuration but not change it (the service role) can so open a stream
// someone else set up.
//
// The mark is recorded in the stream's metadata by the first store that
// opens the stream with signing: the stream's next sequence (1 for a new
// stream), below which unsigned events, written before signing existed,
// are still accepted. Later opens keep it. A store that may not record it
// on a stream that has none treats every event as one that must be signed.
// It returns an error without c.Keys.
func Open(ctx context.Context, js jetstream.JetStream, c Config) (*Store, error) {
	c = c.withDefaults()
	if c.Keys == nil {
		return nil, errors.New("open stream: no event signing keys")
	}
	want := StreamConfig(c)
	st, err := js.Stream(ctx, c.Stream)
	if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("stream %s: %w", c.Stream, err)
	}
	marked := false
	if err == nil {
		info := st.CachedInfo()
		_, marked, _ = c.Keys.readMark(c.Stream, info.Config.Metadata)
		if marked && ConfigMatches(info.Config, want) {
			return newStore(js, st, c), nil
		}
		want.Metadata = maps.Clone(info.Config.Metadata)
		if want.Metadata == nil {
			want.Metadata = map[string]string{}
		}
		if !marked {
			maps.Copy(want.Metadata, c.Keys.signedMark(c.Stream, info.State.LastSeq+1))
		}
		if !marked && ConfigMatches(info.Config, want) {
			// Only the mark is missing: record it if allowed to.
			updated, uerr := js.UpdateStream(ctx, want)
			if uerr != nil {
				c.Log.Warn("cannot record the stream's signing high-water mark: every event must be signed",
					slog.String("stream", c.Stream), slog.Any("err", uerr))
				return newStore(js, st, c), nil
			}
			return newStore(js, updated, c), nil
		}
	} else {
		want.Metadata = c.Keys.signedMark(c.Stream, 1)
	}
	st, err = js.CreateOrUpdateStream(ctx, want)
	if err != nil {
		return nil, fmt.Errorf("create or update stream %s: %w", c.Stream, err)
	}
	return newStore(js, st, c), nil
}

// ConfigMatches reports whether a stream configured as got (as the server
// reports it) is configured as want, in every setting StreamConfig makes.
func ConfigMatches(got, want jetstream.StreamConfig) bool {
	return got.Name == want.Name && got.Description == want.Description &&
		slices.Equal(got.Subjects, want.Subjects) && got.Storage == want.Storage &&
		got.Replicas == want.Replicas && got.Retention == want.Retention && got.Discard == want.Discard &&
		got.MaxAge == want.MaxAge && got.MaxMsgs == want.MaxMsgs && got.MaxBytes == want.MaxBytes &&
		got.MaxMsgsPerSubject == want.MaxMsgsPerSubject && got.MaxMsgSize == want.MaxMsgSize &&
		got.Duplicates == want.Duplicates && got.DenyDelete == want.DenyDelete &&
		got.DenyPurge == want.DenyPurge && got.AllowDirect == want.AllowDirect &&
		got.AllowAtomicPublish == want.AllowAtomicPublish && got.AllowRollup == want.AllowRollup &&
		got.AllowMsgTTL == want.AllowMsgTTL && got.Sealed == want.Sealed
}

// Rejected returns how many stored messages this store's followers have
// refused to deliver as events: unsigned above the high-water mark, with a
// signature that does not verify, stored on another owner's subject, or
// not decodable. Each was logged once, with its sequence.
func (s *Store) Rejected() uint64 { return s.rejected.Load() }

// SignedFrom returns the high-water mark: the first stream sequence from
// which every event must be signed.
func (s *Store) SignedFrom() uint64 { return s.signedFrom }

// StreamName returns the name of the stream the store writes to.
func (s *Store) StreamName() string { return s.cfg.Stream }

// NewID returns a fresh event id (a ULID).
func NewID() string { return ulid.Make().String() }

// Append publishes e on its owner's subject, provided the last event on that
// subject has sequence expected (0: no event yet). It returns the event's
// stream sequence, domain.ErrConflict when another writer got there first,
// or the publish error: one that matches domain.ErrUnavailable (not stored,
// and never will be) or domain.ErrOutcomeUnknown (see outcome.go).
//
// The expectation is also what keeps a retried publish from storing an
// event twice: once the first copy is stored the subject has moved on. So
// no Nats-Msg-Id is sent (the event's id is in the event): deduplicating
// by id would cost the server a map entry per write for its window and
// every reader a header to parse per event, for nothing.
func (s *Store) Append(ctx context.Context, e domain.Event, expected uint64) (uint64, error) {
	subject := Subject(e.Owner)
	data, err := s.encode(e, subject)
	if err != nil {
		return 0, err
	}
	sig := s.keys.Sign(subject, data)
	offered := s.own.offer(subject, data, sig, e)
	seq, err := s.publish(ctx, subject, data, sig, expected, e.ID)
	if err != nil {
		if offered {
			// Perhaps stored all the same (outcome unknown): the follower
			// then decodes it.
			s.own.withdraw(subject, data)
		}
		return 0, fmt.Errorf("append to %s: %w", e.Owner, s.counts.conflict(mapErr(err)))
	}
	s.counts.append(e.Kind)
	return seq, nil
}

// AppendAll appends every event or none. One event is a plain Append; more
// become one JetStream atomic batch, which is slow (a few hundred commits a
// second) and slows other publishes while it commits, so it is kept for
// rare administrative writes: a new user with its username claim, a rename,
// a super-user's write to several users' attributes. It returns the sequence
// of the last event.
//
// The server holds at most 50 open batches per stream and drops the first
// message of any more; the commit then fails as "incomplete" and nothing is
// stored. So a process sends at most maxOpenBatches at once, and a batch
// that other processes crowded out is sent again after a random pause.
func (s *Store) AppendAll(ctx context.Context, ps []domain.Pending) (uint64, error) {
	switch len(ps) {
	case 0:
		return 0, nil
	case 1:
		return s.Append(ctx, ps[0].Event, ps[0].Expected)
	}
	for attempt := 1; ; attempt++ {
		select {
		case s.batchSlots <- struct{}{}:
		case <-ctx.Done():
			return 0, fmt.Errorf("batch: %w", ctx.Err())
		}
		seq, err := s.appendBatch(ctx, ps)
		<-s.batchSlots
		var apiErr *jetstream.APIError
		if !errors.As(err, &apiErr) || attempt == batchAttempts ||
			apiErr.ErrorCode != errBatchIncomplete && apiErr.ErrorCode != errBatchTooManyOpen {
			return seq, err
		}
		if err := ctxtime.Sleep(ctx, rand.N(time.Millisecond<<attempt)); err != nil {
			return 0, fmt.Errorf("batch: %w", err)
		}
	}
}

// Atomic batches: how many one process sends at once (the server's limit
// is 50 per stream), how often one is tried, and the server's error codes
// for a batch that was not stored because too many were open.
const (
	maxOpenBatches                          = 16
	batchAttempts                           = 8
	errBatchIncomplete  jetstream.ErrorCode = 10176
	errBatchTooManyOpen jetstream.ErrorCode = 10210
)

// appendBatch sends ps as one atomic batch.
func (s *Store) appendBatch(ctx context.Context, ps []domain.Pending) (uint64, error) {
	s.appending.Add(1)
	defer s.appending.Add(-1)
	nc := s.js.Conn()
	batch := NewID()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(publishTimeout)
	}
	commitBy := deadline.Add(-settleReserve(time.Until(deadline)))
	for i, p := range ps {
		subject := Subject(p.Event.Owner)
		data, err := s.encode(p.Event, subject)
		if err != nil {
			return 0, err
		}
		m := nats.NewMsg(subject)
		m.Data = data
		m.Header.Set(SignatureHeader, s.keys.Sign(m.Subject, data))
		m.Header.Set("Nats-Batch-Id", batch)
		m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
		m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(p.Expected, 10))
		if i < len(ps)-1 {
			if err := nc.PublishMsg(m); err != nil {
				// Nothing is stored without the commit.
				return 0, Unavailable(fmt.Errorf("batch publish: %w", err))
			}
			continue
		}
		m.Header.Set("Nats-Batch-Commit", "1")
		cctx, cancel := context.WithDeadline(ctx, commitBy)
		resp, err := nc.RequestMsgWithContext(cctx, m)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
			errors.Is(err, nats.ErrDisconnected) || errors.Is(err, nats.ErrConnectionClosed) ||
			errors.Is(err, nats.ErrStaleConnection) {
			// Sent, and no answer (see publish).
			// A batch is stored whole or not at all: its last event tells.
			last := ps[len(ps)-1]
			return s.settleBy(deadline, Subject(last.Event.Owner), last.Expected, last.Event.ID, err)
		}
		if err != nil {
			return 0, Unavailable(fmt.Errorf("batch commit: %w", err))
		}
		var ack struct {
			Seq   uint64              `json:"seq"`
			Count int                 `json:"count"`
			Error *jetstream.APIError `json:"error"`
		}
		if err := json.Unmarshal(resp.Data, &ack); err != nil {
			return 0, fmt.Errorf("batch commit reply: %w", err)
		}
		if ack.Error != nil {
			err := mapErr(ack.Error)
			if errors.Is(err, domain.ErrConflict) && s.replicated() {
				// As for one event (see publish): a new leader may refuse
				// a batch the old one stored. Its last event tells.
				last := ps[len(ps)-1]
				return s.settleBy(deadline, Subject(last.Event.Owner), last.Expected, last.Event.ID, fmt.Errorf("batch commit: %w", err))
			}
			return 0, fmt.Errorf("batch commit: %w", Unavailable(s.counts.conflict(err)))
		}
		if ack.Count != len(ps) {
			return 0, fmt.Errorf("batch commit stored %d of %d events", ack.Count, len(ps))
		}
		for _, p := range ps {
			s.counts.append(p.Event.Kind)
		}
		return ack.Seq, nil
	}
	panic("unreachable")
}

// encode encodes e, to be published on subject, and checks it fits the
// stream's message size, leaving room for headers.
func (s *Store) encode(e domain.Event, subject string) ([]byte, error) {
	data, err := jsontext.EncodeEvent(e, subject)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", e.Kind, err)
	}
	if len(data) > int(s.cfg.MaxMsgSize)-4096 {
		return nil, fmt.Errorf("%s event of %d bytes: %w", e.Kind, len(data), domain.ErrEventTooLarge)
	}
	return data, nil
}

// mapErr turns a refusal for a wrong expected sequence into
// domain.ErrConflict. An error already judged unavailable or of unknown
// outcome stays so, whatever refusal it wraps: a copy refused while an
// earlier one may still be stored is no conflict.
func mapErr(err error) error {
	if errors.Is(err, domain.ErrOutcomeUnknown) || errors.Is(err, domain.ErrUnavailable) {
		return err
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case jetstream.JSErrCodeStreamWrongLastSequence, jetstream.JSErrCodeStreamWrongLastSequenceConstant:
			return domain.ErrConflict
		}
	}
	return err
}

func newStore(js jetstream.JetStream, st jetstream.Stream, c Config) *Store {
	s := &Store{js: js, stream: st, cfg: c, batchSlots: make(chan struct{}, maxOpenBatches), keys: c.Keys, signedFrom: 1,
		counts: newCounts()}
	if info := st.CachedInfo(); info != nil {
		mark, ok, forged := c.Keys.readMark(c.Stream, info.Config.Metadata)
		if forged {
			c.Log.Error("stream's signing high-water mark does not verify: every event must be signed",
				slog.String("stream", c.Stream))
		}
		if ok {
			s.signedFrom = mark
		}
	}
	s.probe = &lastSeqProbe{s: s, recheck: probeRecheck}
	s.barrier.fetch, s.barrier.timeout = s.probe.lastSeq, c.BarrierTimeout
	return s
}

// LastSeq returns the stream's last sequence as of some moment after the
// call began, so the answer covers every event acknowledged before the
// call. This is the read-your-writes barrier.
//
// With Config.LocalLastSeq it reads the state of the server in this
// process, unless this process has appends awaiting their acknowledgement.
// Otherwise concurrent callers share one request to the server (see
// lastSeqProbe): a caller joins the next request to be sent, never one
// already in flight, and it costs one round trip per wave of readers, not
// one per reader. It does not watch the context: the shared request has its
// own deadline, Config.BarrierTimeout (see barrier).
//
// Why the shared request while appends are in flight: the server's state
// is then ahead of this process's view by those appends at least, so a
// caller would wait for the follower to apply them, and reading that state
// takes locks the server's store loop holds while it stores; shared, one
// request serves a wave of writers. With nothing in flight, reading the
// state costs no round trip and no wait. Either source alone costs a
// target case more than 5 % (docs/PERFORMANCE.md, "The read barrier").
func (s *Store) LastSeq(context.Context) (uint64, error) {
	if s.cfg.LocalLastSeq != nil && s.appending.Load() == 0 {
		return s.cfg.LocalLastSeq(s.cfg.Stream)
	}
	seq, err := s.barrier.wait()
	return seq, Unavailable(err)
}

// fetchLastSeq asks the stream's leader for the stream's last sequence.
func (s *Store) fetchLastSeq(ctx context.Context) (uint64, error) {
	var st streamState
	if err := s.streamInfo(ctx, &st); err != nil {
		return 0, err
	}
	return st.State.LastSeq, nil
}

// Landed reports whether e, appended expecting its owner's last sequence
// to be expected, is stored, and at which sequence: at most one event is
// stored under an expectation, and it is the first on the owner's subject
// after that sequence. The stream's leader answers.
func (s *Store) Landed(ctx context.Context, e domain.Event, expected uint64) (uint64, bool, error) {
	m, err := s.firstAfter(ctx, Subject(e.Owner), expected)
	if err != nil || m == nil {
		return 0, false, Unavailable(err)
	}
	got, err := s.event(m)
	if err != nil || got.ID != e.ID {
		return 0, false, nil
	}
	return m.Seq, true, nil
}
