package eventstore

import (
	"context"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

var DebugRounds, DebugWaiters, DebugRoundNanos atomic.Int64
var DebugGap time.Duration
var DebugK = func() int64 { k, _ := strconv.Atoi(os.Getenv("BARRIER_K")); return int64(k) }()

// barrier coalesces concurrent LastSeq calls. At most one fetch is in flight;
// callers arriving meanwhile join the next round, which starts as soon as the
// running one ends. A caller never reuses a round that began before it did.
type barrier struct {
	fetch func(context.Context) (uint64, error)

	mu        sync.Mutex
	running   bool
	next      *round
	lastStart time.Time
	gap       time.Duration
}

type round struct {
	done chan struct{}
	seq  uint64
	err  error
}

func (b *barrier) wait(ctx context.Context) (uint64, error) {
	DebugWaiters.Add(1)
	b.mu.Lock()
	if b.next == nil {
		b.next = &round{done: make(chan struct{})}
	}
	r := b.next
	if !b.running {
		b.running = true
		go b.run()
	}
	b.mu.Unlock()
	select {
	case <-r.done:
		return r.seq, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (b *barrier) run() {
	for {
		b.mu.Lock()
		pause := time.Until(b.lastStart.Add(b.gap))
		b.mu.Unlock()
		if pause > 20*time.Microsecond {
			time.Sleep(pause)
		}
		b.mu.Lock()
		r := b.next
		b.next = nil
		if r == nil {
			b.running = false
			b.mu.Unlock()
			return
		}
		start := time.Now()
		b.lastStart = start
		b.mu.Unlock()
		// The round serves many callers, so it must not die with any one
		// caller's context; it has its own deadline instead.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r.seq, r.err = b.fetch(ctx)
		cancel()
		took := time.Since(start)
		DebugRounds.Add(1)
		DebugRoundNanos.Add(int64(took))
		b.mu.Lock()
		b.gap = time.Duration(DebugK) * took
		if DebugGap > 0 {
			b.gap = DebugGap
		}
		b.mu.Unlock()
		close(r.done)
	}
}
