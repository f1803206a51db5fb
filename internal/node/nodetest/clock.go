package nodetest

import (
	"sync/atomic"
	"time"
)

// OffsetClock is the real clock shifted by an offset that a test moves
// forward, so expiry can be tested without waiting: pass its Now to WithNow.
// Time keeps flowing, so NATS timers and deadlines behave as usual.
type OffsetClock struct{ off atomic.Int64 }

// Now returns the real time plus the offset.
func (c *OffsetClock) Now() time.Time { return time.Now().Add(time.Duration(c.off.Load())) }

// Advance moves the clock forward by d.
func (c *OffsetClock) Advance(d time.Duration) { c.off.Add(int64(d)) }
