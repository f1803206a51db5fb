package eventstore

import (
	"context"
	"sync"
	"time"
)

// barrier coalesces concurrent LastSeq calls. At most one fetch is in flight;
// callers arriving meanwhile join the next round, which starts when the
// running one ends. A caller never reuses a round that began before it did.
//
// A caller waits for its round without watching its own context: a round
// ends within its own deadline (timeout), so a caller waits at most two of
// them. Under load most requests wait here, and a select on the
// caller's context would cost each a timer and a contended select.
type barrier struct {
	fetch   func(context.Context) (uint64, error)
	timeout time.Duration // of one round: Config.BarrierTimeout

	mu      sync.Mutex
	running bool
	next    *round
}

type round struct {
	done chan struct{}
	seq  uint64
	err  error
}

func (b *barrier) wait() (uint64, error) {
	b.mu.Lock()
	if b.next == nil {
		b.next = &round{done: make(chan struct{})}
	}
	r := b.next
	if !b.running {
		b.running = true
		b.next = nil
		go b.run(r)
	}
	b.mu.Unlock()
	<-r.done
	return r.seq, r.err
}

func (b *barrier) run(r *round) {
	for r != nil {
		// The round serves many callers, so it must not die with any one
		// caller's context; it has its own deadline instead.
		ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
		r.seq, r.err = b.fetch(ctx)
		cancel()
		close(r.done)

		b.mu.Lock()
		r, b.next = b.next, nil
		if r == nil {
			b.running = false
		}
		b.mu.Unlock()
	}
}
