package eventstore

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/nats-io/nats.go"

	"github.com/ssoattr/ssoattr/domain"
)

// Handler receives the stream's messages in order. err is non-nil (wrapping
// jsontext.ErrMalformed) for a message that is not an ssoattr event; the
// handler must still account for its sequence.
type Handler = func(seq uint64, e domain.Event, err error)

// Follow delivers every message from sequence from (1 or 0: the beginning)
// to h, in stream order, then keeps delivering new ones until ctx ends. It
// uses an ordered consumer, which the client recreates after gaps or
// reconnects, so nothing is skipped or delivered twice. It returns ctx's
// error, or the error that stopped it.
//
// While there is a backlog (the start-up rebuild, a burst of writes), h
// runs on a goroutine of its own, a batch of decoded messages behind the
// receiving and decoding of the next ones, so the two use both cores
// instead of taking turns. A message that arrives with nothing queued
// before it is handed to h at once, on the receiving goroutine: a live
// event waits for no hand-over. h is never called concurrently.
func (s *Store) Follow(ctx context.Context, from uint64, h Handler) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		full   = make(chan []Msg, followDepth) // batches for the handler goroutine
		empty  = make(chan []Msg, followDepth) // handled batches, for reuse
		queued atomic.Int64                    // batches sent to full and not yet handled
		done   = make(chan struct{})
	)
	go func() {
		defer close(done)
		for b := range full {
			for i := range b {
				h(b[i].Seq, b[i].Event, b[i].Err)
			}
			queued.Add(-1)
			clear(b) // let the events go; only the array is reused
			select {
			case empty <- b[:0]:
			default:
			}
		}
	}()
	// This process's own attribute events come from the writers that
	// appended them (see ownEvents), the others are decoded.
	defer s.own.follow()()
	decode := func(seq uint64, subject string, hdr nats.Header, data []byte) (domain.Event, error) {
		if e, ok := s.own.take(subject, data, hdr.Get(SignatureHeader)); ok {
			return e, nil
		}
		e, err := s.check(seq, subject, hdr, data)
		if err != nil {
			s.rejected.Add(1)
			s.cfg.Log.Error("event refused", slog.Uint64("seq", seq), slog.String("subject", subject),
				slog.String("reason", Reason(err)))
		}
		return e, err
	}
	var batch []Msg
	err := s.tail(ctx, nil, max(from, 1), decode, func(m Msg) error {
		if len(batch) == 0 && m.Pending == 0 && queued.Load() == 0 {
			// Every earlier message has been handled: no need to queue.
			h(m.Seq, m.Event, m.Err)
			return nil
		}
		if batch == nil {
			select {
			case batch = <-empty:
			default:
				// Small at first: live, a batch is a few messages, and
				// append grows it (to followBatch at most) during a rebuild.
				batch = make([]Msg, 0, 4)
			}
		}
		batch = append(batch, m)
		if m.Pending > 0 && len(batch) < followBatch {
			return nil // more are on their way: fill the batch
		}
		queued.Add(1)
		select {
		case full <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
		batch = nil
		return nil
	})
	cancel()
	close(full)
	<-done
	return err
}

// The follower's hand-over: batches of up to followBatch messages, at most
// followDepth of them waiting. Enough to keep both goroutines busy during a
// rebuild; small enough (a few hundred kilobytes) not to matter.
const (
	followBatch = 128
	followDepth = 8
)

// Read delivers the messages whose subjects match one of filters (every
// message when filters is empty) from sequence from up to the stream's last
// sequence at the time of the call, then returns. It is Scan bounded by
// that sequence: a filtered read ends with the last matching message, which
// is usually well before the stream's end.
func (s *Store) Read(ctx context.Context, filters []string, from uint64, h Handler) error {
	last, err := s.fetchLastSeq(ctx)
	if err != nil {
		return err
	}
	if last == 0 || last < from {
		return nil
	}
	return s.Scan(ctx, filters, from, last, func(m Msg) bool {
		h(m.Seq, m.Event, m.Err)
		return true
	})
}
