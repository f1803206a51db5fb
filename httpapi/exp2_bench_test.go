//go:build exp

package httpapi_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/eventstore"
)

func TestMain(m *testing.M) {
	code := m.Run()
	n, w, ns := eventstore.DebugRounds.Load(), eventstore.DebugWaiters.Load(), eventstore.DebugRoundNanos.Load()
	if n > 0 {
		fmt.Printf("DEBUG rounds %d waiters %d per-round %.1f mean-round %.0fus\n", n, w, float64(w)/float64(n), float64(ns)/float64(n)/1000)
	}
	_ = code
}

func init() {
	if os.Getenv("EXP_ONLY") == "strict" {
		expGaps = []time.Duration{0}
	}
	if os.Getenv("EXP_ONLY") == "local" {
		expGaps = []time.Duration{-1}
	}
}
