package projections

import (
	"context"
	"time"
)

// sessionGrace is how long an expired session is kept before a sweep frees
// it. Nothing can use it (reads check expiry), but a renewal decided just
// before it expired may still be in flight, and must find the session's
// attributes where they were.
const sessionGrace = time.Minute

// Sweep frees the attributes that have expired and the sessions (with their
// attributes) that expired more than a minute ago. Owners keep their last
// sequence. It returns how many attributes and sessions it freed.
func (v *View) Sweep() (attrs, sessions int) {
	now := v.now()
	nowMicro := now.UnixMicro()
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, sets := range []map[string]*attrSet{v.uattrs, v.sattrs} {
		for _, s := range sets {
			for n, a := range s.attrs {
				if a.expiry <= nowMicro {
					delete(s.attrs, n)
					attrs++
				}
			}
		}
	}
	for sid, se := range v.sessions {
		if se.sess.Expires.Add(sessionGrace).Before(now) {
			if s := v.sattrs[sid]; s != nil {
				attrs += len(s.attrs)
			}
			v.dropSession(sid)
			sessions++
		}
	}
	return attrs, sessions
}

// RunSweeper calls Sweep every interval until ctx ends.
func (v *View) RunSweeper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			v.Sweep()
		}
	}
}
