package httpapi

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
)

type otherKey struct{}

// TestReqCtx holds reqCtx to what it stands for:
// context.WithDeadline(context.WithValue(parent, ctxKey{}, cid), deadline).
func TestReqCtx(t *testing.T) {
	t.Run("the cid and the deadline do not start the timer", func(t *testing.T) {
		c := newReqCtx(context.Background(), "abc", time.Minute)
		if got := c.Value(ctxKey{}); got != "abc" {
			t.Fatalf("Value(ctxKey{}) = %v, want abc", got)
		}
		if d, ok := c.Deadline(); !ok || time.Until(d) > time.Minute || time.Until(d) < 59*time.Second {
			t.Fatalf("Deadline() = %v, %v; want about a minute from now", d, ok)
		}
		if c.started.Load() {
			t.Fatal("the timer started")
		}
		c.end()
	})
	t.Run("a parent's earlier deadline wins", func(t *testing.T) {
		parent, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		want, _ := parent.Deadline()
		if d, _ := newReqCtx(parent, "", time.Minute).Deadline(); !d.Equal(want) {
			t.Fatalf("Deadline() = %v, want the parent's %v", d, want)
		}
	})
	t.Run("the deadline ends it", func(t *testing.T) {
		c := newReqCtx(context.Background(), "", 10*time.Millisecond)
		defer c.end()
		if c.Err() != nil {
			t.Fatalf("Err() before the deadline = %v", c.Err())
		}
		select {
		case <-c.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("Done not closed 10s after a 10ms deadline")
		}
		if !errors.Is(c.Err(), context.DeadlineExceeded) || !errors.Is(context.Cause(c), context.DeadlineExceeded) {
			t.Fatalf("Err() = %v, Cause = %v; want DeadlineExceeded", c.Err(), context.Cause(c))
		}
	})
	t.Run("a deadline already passed ends it at once", func(t *testing.T) {
		c := newReqCtx(context.Background(), "", -time.Second)
		defer c.end()
		if !errors.Is(c.Err(), context.DeadlineExceeded) {
			t.Fatalf("Err() = %v, want DeadlineExceeded", c.Err())
		}
	})
	t.Run("the parent's cancellation and values come through", func(t *testing.T) {
		parent, cancel := context.WithCancel(context.WithValue(context.Background(), otherKey{}, 7))
		c := newReqCtx(parent, "abc", time.Minute)
		defer c.end()
		if got := c.Value(otherKey{}); got != 7 {
			t.Fatalf("Value(otherKey{}) = %v, want 7", got)
		}
		cancel()
		<-c.Done()
		if !errors.Is(c.Err(), context.Canceled) {
			t.Fatalf("Err() after the parent's cancel = %v, want Canceled", c.Err())
		}
	})
	t.Run("end cancels it, started or not", func(t *testing.T) {
		for _, startFirst := range []bool{true, false} {
			c := newReqCtx(context.Background(), "", time.Minute)
			if startFirst {
				_ = c.Done()
			}
			c.end()
			select {
			case <-c.Done():
			default:
				t.Fatalf("started first %v: Done open after end", startFirst)
			}
			if !errors.Is(c.Err(), context.Canceled) {
				t.Fatalf("started first %v: Err() after end = %v, want Canceled", startFirst, c.Err())
			}
		}
	})
	t.Run("end racing start cancels it", func(t *testing.T) {
		for range 1000 {
			c := newReqCtx(context.Background(), "", time.Minute)
			done := make(chan struct{})
			go func() { _ = c.Done(); close(done) }()
			c.end()
			<-done
			if c.Err() == nil {
				t.Fatal("Err() = nil after end and a concurrent start")
			}
		}
	})
	t.Run("derived contexts hook on without a goroutine", func(t *testing.T) {
		c := newReqCtx(context.Background(), "", time.Minute)
		before := runtime.NumGoroutine()
		var cancels []context.CancelFunc
		for range 100 {
			d, cancel := context.WithCancel(c)
			cancels = append(cancels, cancel)
			_ = d
		}
		if n := runtime.NumGoroutine() - before; n > 10 {
			t.Fatalf("100 derived contexts started %d goroutines", n)
		}
		d, cancel := context.WithTimeout(c, time.Minute)
		defer cancel()
		c.end()
		<-d.Done() // cancelling c reaches d
		for _, cancel := range cancels {
			cancel()
		}
	})
}
