package eventstore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

// counts are what the store counts for the metrics internal/node exposes:
// plain atomic counters, read at scrape time, so that appending pays one
// atomic add per event.
type counts struct {
	appended  map[string]*atomic.Uint64 // by kind; built once, then only read
	other     atomic.Uint64             // events of a kind not in domain.Kinds
	conflicts atomic.Uint64
}

func newCounts() *counts {
	c := &counts{appended: make(map[string]*atomic.Uint64, len(domain.Kinds))}
	for _, k := range domain.Kinds {
		c.appended[k] = new(atomic.Uint64)
	}
	return c
}

func (c *counts) append(kind string) {
	if n, ok := c.appended[kind]; ok {
		n.Add(1)
		return
	}
	c.other.Add(1)
}

// conflict counts err if it is a conflict, and returns it.
func (c *counts) conflict(err error) error {
	if errors.Is(err, domain.ErrConflict) {
		c.conflicts.Add(1)
	}
	return err
}

// Appended calls fn with the number of events of each kind this store has
// appended (stored and acknowledged), every kind of domain.Kinds, then "other"
// for any kind not listed there.
func (s *Store) Appended(fn func(kind string, n uint64)) {
	for _, k := range domain.Kinds {
		fn(k, s.counts.appended[k].Load())
	}
	fn("other", s.counts.other.Load())
}

// Conflicts returns how many appends the stream refused because their
// owner had moved on since the writer read it (domain.ErrConflict).
func (s *Store) Conflicts() uint64 { return s.counts.conflicts.Load() }

// StoredAt returns when the stream stored the message at sequence seq: the
// metrics' measure of how far behind the stream a view is, in time.
func (s *Store) StoredAt(ctx context.Context, seq uint64) (time.Time, error) {
	msg, err := s.stream.GetMsg(ctx, seq)
	if err != nil {
		return time.Time{}, fmt.Errorf("message %d: %w", seq, err)
	}
	return msg.Time, nil
}
