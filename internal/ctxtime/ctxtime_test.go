package ctxtime_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/internal/ctxtime"
)

func TestSleep(t *testing.T) {
	start := time.Now()
	if err := ctxtime.Sleep(t.Context(), 20*time.Millisecond); err != nil || time.Since(start) < 20*time.Millisecond {
		t.Fatalf("Sleep(20ms) = %v after %v", err, time.Since(start))
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start = time.Now()
	if err := ctxtime.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Fatalf("Sleep with an ended context = %v after %v, want context.Canceled at once", err, time.Since(start))
	}
}
