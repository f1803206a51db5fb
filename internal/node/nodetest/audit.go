package nodetest

import (
	"sync"
	"time"

	"github.com/ssoattr/ssoattr/internal/node"
)

// ManualClock is a clock that only moves when told to, for WithNow: every
// event an instance appends carries exactly the time the test set. It is
// safe for concurrent use.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a clock standing at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d and returns the new time.
func (c *ManualClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// WithExpiryInterval sets how often the instance's expirer records what has
// expired. A test that runs rounds itself (Instance.SSO.Expire) sets it
// long, so that no background round interferes.
func WithExpiryInterval(d time.Duration) Option {
	return func(o *node.Options) { o.ExpiryInterval = d }
}
