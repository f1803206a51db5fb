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
		if _, err := js.PublishMsgAsync(signed(eventstore.Subject(owner), data)); err != nil {
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

// TestAckPosition: a delivered message's sequence and pending count are
// read from both forms of reply subject, as jetstream.Msg.Metadata reads
// them; anything else is refused.
func TestAckPosition(t *testing.T) {
	for _, c := range []struct {
		reply       string
		seq, behind uint64
		ok          bool
	}{
		{"$JS.ACK.SSO.cons.1.42.7.1764600000000000000.3", 42, 3, true},
		{"$JS.ACK.hub.ACCHASH.SSO.cons.1.42.7.1764600000000000000.0.tok", 42, 0, true},
		{"$JS.ACK.hub.ACCHASH.SSO.cons.1.42.7.1764600000000000000.9", 42, 9, true},
		{"$JS.ACK._.ACCHASH.SSO.cons.1.5.7.1764600000000000000.9.tok.more", 5, 9, true},
		{"$JS.ACK.SSO.cons.1.42.7.1764600000000000000", 0, 0, false}, // 8 tokens
		{"$JS.ACK.hub.ACCHASH.SSO.cons.1.42.7.176460", 0, 0, false},  // 10 tokens
		{"$JS.ACK.SSO.cons.1.x.7.1764600000000000000.3", 0, 0, false},
		{"$JS.ACK.SSO.cons.1.0.7.1764600000000000000.3", 0, 0, false},
		{"_INBOX.abc.def", 0, 0, false},
		{"", 0, 0, false},
	} {
		seq, pending, ok := eventstore.AckPosition(c.reply)
		if seq != c.seq || pending != c.behind || ok != c.ok {
			t.Errorf("ackPosition(%q) = %d, %d, %v; want %d, %d, %v", c.reply, seq, pending, ok, c.seq, c.behind, c.ok)
		}
	}
}

// TestFollow_EndsWhenConnectionCloses: a follower whose connection is
// closed returns an error instead of waiting for ever, and its handler is
// not called after it has returned.
func TestFollow_EndsWhenConnectionCloses(t *testing.T) {
	s, js := openStore(t)
	owner := domain.UserAttrsOwner("zusrclose")
	publishBacklog(t, js, owner, 3)
	var seen, after atomic.Int64
	var returned atomic.Bool
	done := make(chan error, 1)
	go func() {
		done <- s.Follow(t.Context(), 1, func(seq uint64, e domain.Event, err error) {
			if returned.Load() {
				after.Add(1)
			}
			seen.Add(1)
		})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for seen.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if seen.Load() != 3 {
		t.Fatalf("handled %d of 3 events", seen.Load())
	}
	js.Conn().Close()
	select {
	case err := <-done:
		returned.Store(true)
		if err == nil || errors.Is(err, context.Canceled) {
			t.Fatalf("Follow = %v, want the consumer's end", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Follow still running 10s after its connection closed")
	}
	// Nothing to poll for: a late call would come within this window, if at all.
	time.Sleep(50 * time.Millisecond)
	if n := after.Load(); n != 0 {
		t.Fatalf("handler called %d times after Follow returned", n)
	}
}
