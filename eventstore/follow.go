package eventstore

import (
	"context"

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
	return s.Tail(ctx, nil, max(from, 1), func(m Msg) error {
		h(m.Seq, m.Event, m.Err)
		return nil
	})
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
