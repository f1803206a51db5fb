package eventstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssoattr/ssoattr/domain"
)

// Handler receives the stream's messages in order. err is non-nil (wrapping
// ErrMalformed) for a message that is not an ssoattr event; the handler must
// still account for its sequence.
type Handler = func(seq uint64, e domain.Event, err error)

// Follow delivers every message from sequence from (1 or 0: the beginning)
// to h, in stream order, then keeps delivering new ones until ctx ends. It
// uses an ordered consumer, which the client recreates after gaps or
// reconnects, so nothing is skipped or delivered twice. It returns ctx's
// error, or the error that stopped it.
func (s *Store) Follow(ctx context.Context, from uint64, h Handler) error {
	return s.follow(ctx, from, nil, h)
}

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

func (s *Store) follow(ctx context.Context, from uint64, filters []string, h Handler) error {
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: filters, DeliverPolicy: jetstream.DeliverAllPolicy}
	if from > 1 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from
	}
	cons, err := s.js.OrderedConsumer(ctx, s.cfg.Stream, cfg)
	if err != nil {
		return fmt.Errorf("ordered consumer: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(2048))
	if err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return err
			}
			continue // heartbeats missed, reconnects: the ordered consumer recovers
		}
		meta, err := msg.Metadata()
		if err != nil {
			continue
		}
		e, err := Decode(msg.Data())
		h(meta.Sequence.Stream, e, err)
	}
}
