package eventstore_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/eventstore"
)

// publishBacklog stores n events straight to the stream, fast (asynchronous
// publishes), as a history for a follower to catch up with.
func publishBacklog(t *testing.T, js jetstream.JetStream, owner domain.Owner, n int) {
	t.Helper()
	for range n {
		data, err := eventstore.Encode(attrEvent(owner, "n"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.PublishAsync(eventstore.Subject(owner), data); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(10 * time.Second):
		t.Fatal("backlog not stored after 10s")
	}
}

// A follower that starts behind a backlog hands batches to a second
// goroutine; what the handler sees must not change: every sequence once, in
// order, never two calls at once, whether events were stored before Follow
// began, while it was catching up, or after. The handler is slow, as a
// view's apply under load can be, so batches are still queued when the
// receiving side reaches the end of the stream and new events come one by
// one: the moment a wrong shortcut would deliver out of order.
func TestFollow_BacklogInOrderOneCallAtATime(t *testing.T) {
	s, js := openStore(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	owner := domain.UserAttrsOwner("zusr1")
	const before, during = 3000, 100
	publishBacklog(t, js, owner, before)

	var (
		next    = uint64(1)
		inside  atomic.Int32
		errs    atomic.Int32
		reached = make(chan struct{})
		live    = make(chan uint64, 1)
		target  atomic.Uint64
	)
	target.Store(before + during)
	done := make(chan error, 1)
	go func() {
		done <- s.Follow(ctx, 0, func(seq uint64, e domain.Event, err error) {
			if inside.Add(1) != 1 {
				errs.Add(1)
				t.Errorf("handler called concurrently at %d", seq)
			}
			if err != nil || e.Owner != owner {
				t.Errorf("message %d: %v, owner %v", seq, err, e.Owner)
			}
			if seq != next {
				errs.Add(1)
				t.Errorf("delivered %d, want %d", seq, next)
			}
			next = seq + 1
			for spin := time.Now(); time.Since(spin) < 50*time.Microsecond; {
			}
			switch {
			case seq == target.Load():
				close(reached)
			case seq > before+during:
				live <- seq
			}
			inside.Add(-1)
		})
	}()
	// Stored one at a time while the follower catches up.
	last := uint64(before)
	for range during {
		seq, err := s.Append(ctx, attrEvent(owner, "n"), last)
		if err != nil {
			t.Fatal(err)
		}
		last = seq
	}
	select {
	case <-reached:
	case err := <-done:
		t.Fatalf("Follow returned early: %v", err)
	case <-ctx.Done():
		t.Fatalf("follower at %d after 30s, want %d", next-1, before+during)
	}
	if errs.Load() > 0 {
		t.FailNow()
	}
	// Caught up: a new event arrives alone and is delivered at once.
	seq, err := s.Append(ctx, attrEvent(owner, "late"), before+during)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-live:
		if got != seq {
			t.Fatalf("live event delivered as %d, want %d", got, seq)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("live event not delivered after 5s")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Follow after cancel = %v, want context.Canceled", err)
	}
}
