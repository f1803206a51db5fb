package sso

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

// TestHashGate_BusyLeavesTheReserve checks that a hash waiting for a slot
// gives up while hashReserve of its request's deadline is left (a definite
// busy answer), and that without a deadline it waits the gate's own wait.
func TestHashGate_BusyLeavesTheReserve(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newHashGate(1, 8, 10*time.Second)
		if err := g.enter(t.Context()); err != nil {
			t.Fatalf("first enter: %v", err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		start := time.Now()
		err := g.enter(ctx)
		if !errors.Is(err, domain.ErrBusy) {
			t.Fatalf("enter with a 3s deadline = %v, want ErrBusy", err)
		}
		if waited, want := time.Since(start), 3*time.Second-hashReserve; waited != want {
			t.Fatalf("waited %v, want %v (the deadline less the reserve)", waited, want)
		}

		short, cancel2 := context.WithTimeout(t.Context(), hashReserve/2)
		defer cancel2()
		start = time.Now()
		if err := g.enter(short); !errors.Is(err, domain.ErrBusy) || time.Since(start) != 0 {
			t.Fatalf("enter with less than the reserve left = %v after %v, want ErrBusy at once", err, time.Since(start))
		}

		start = time.Now()
		if err := g.enter(t.Context()); !errors.Is(err, domain.ErrBusy) || time.Since(start) != 10*time.Second {
			t.Fatalf("enter without a deadline = %v after %v, want ErrBusy after the gate's 10s", err, time.Since(start))
		}

		done := make(chan error, 1)
		go func() { done <- g.enter(t.Context()) }()
		synctest.Wait()
		g.leave() // the slot frees while the second one waits
		if err := <-done; err != nil {
			t.Fatalf("enter when a slot frees: %v", err)
		}
	})
}
