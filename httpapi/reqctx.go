package httpapi

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// reqCtx is a request's context: its parent's values and cancellation,
// the correlation id, and a deadline. It behaves as
// context.WithDeadline(context.WithValue(parent, ctxKey{}, cid), deadline),
// except that the deadline's timer is made by the first call that could
// wait on it, not up front: a request answered from memory (a local read,
// a refused input) never asks, and a timer per request cost ~0.5 µs.
//
// Done, Err and any value other than the cid start the timer. Value must
// too: a context derived from this one looks up its parent's cancellation
// through Value, and must find the timer's context to hook onto it rather
// than start a goroutine to watch it.
type reqCtx struct {
	parent   context.Context
	cid      string
	cidValue any       // cid, boxed once: Value is asked for it several times a request
	header   [1]string // cid, as the X-Zato-CID header's value list
	deadline time.Time

	once    sync.Once
	timed   context.Context // set by once
	cancel  context.CancelFunc
	started atomic.Bool // timed is set
	ended   atomic.Bool // the request is over: timed is to be cancelled
}

func newReqCtx(parent context.Context, cid string, timeout time.Duration) *reqCtx {
	return &reqCtx{parent: parent, cid: cid, cidValue: cid, header: [1]string{cid}, deadline: time.Now().Add(timeout)}
}

// start makes the timer's context, once.
func (c *reqCtx) start() context.Context {
	c.once.Do(func() {
		c.timed, c.cancel = context.WithDeadline(c.parent, c.deadline)
		c.started.Store(true)
		if c.ended.Load() { // end ran first, or concurrently: see end
			c.cancel()
		}
	})
	return c.timed
}

// end cancels the context when the request is over, as the cancel func of
// context.WithDeadline would; a context that never started is cancelled
// when something starts it. Of end and start, each stores its flag before
// reading the other's, so at least one of them sees both and cancels.
func (c *reqCtx) end() {
	c.ended.Store(true)
	if c.started.Load() {
		c.cancel()
	}
}

// Deadline is the earlier of the parent's and the request's, as for
// context.WithDeadline, without starting the timer.
func (c *reqCtx) Deadline() (time.Time, bool) {
	if d, ok := c.parent.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

func (c *reqCtx) Done() <-chan struct{} { return c.start().Done() }

func (c *reqCtx) Err() error { return c.start().Err() }

func (c *reqCtx) Value(key any) any {
	if key == (ctxKey{}) {
		return c.cidValue
	}
	return c.start().Value(key)
}

func (c *reqCtx) String() string { return "httpapi.reqCtx(" + c.cid + ")" }
