package projections

import (
	"context"
	"slices"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

// Expired attributes and sessions stay in the view, invisible to readers,
// until the expirer (sso.Service.RunExpirer, on every instance) has appended
// the attr.expired or session.ended event that records their end and the
// follower has applied it. The expirer finds them here. The local sweep only
// frees what is still held long after it expired: the safety net of an
// instance whose expirer cannot write.
const (
	// GraceIntervals is how many sweep intervals RunSweeper keeps an expired
	// entry that no event has removed.
	GraceIntervals = 10
	// DefaultGrace is the grace of Sweep: GraceIntervals default sweep
	// intervals (10 s).
	DefaultGrace = GraceIntervals * 10 * time.Second
	// sessionGrace is the least an expired session is kept: a renewal
	// decided just before it expired may still be in flight, and must find
	// the session's attributes where they were.
	sessionGrace = time.Minute
)

// Sweep is SweepAfter(DefaultGrace).
func (v *View) Sweep() (attrs, sessions int) { return v.SweepAfter(DefaultGrace) }

// SweepAfter frees the attributes, and the sessions with their attributes,
// that expired more than grace ago (sessions: at least a minute) and are
// still held because no expired or ended event has been applied for them.
// Owners keep their last sequence. It returns how many attributes and
// sessions it freed.
func (v *View) SweepAfter(grace time.Duration) (attrs, sessions int) {
	now := v.now()
	cutoff := now.Add(-grace).UnixMicro()
	sessCutoff := now.Add(-max(grace, sessionGrace))
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, sets := range []map[string]*attrSet{v.uattrs, v.sattrs} {
		for _, s := range sets {
			for n, a := range s.attrs {
				if !domain.LiveAt(a.expiry, cutoff) {
					delete(s.attrs, n)
					attrs++
				}
			}
		}
	}
	for sid, se := range v.sessions {
		if !se.sess.Live(sessCutoff) {
			if s := v.sattrs[sid]; s != nil {
				attrs += len(s.attrs)
			}
			v.dropSession(sid)
			sessions++
		}
	}
	return attrs, sessions
}

// RunSweeper calls SweepAfter(GraceIntervals × interval) every interval
// until ctx ends.
func (v *View) RunSweeper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			attrs, sessions := v.SweepAfter(GraceIntervals * interval)
			v.sweeps.rounds.Add(1)
			v.sweeps.attrs.Add(uint64(attrs))
			v.sweeps.sessions.Add(uint64(sessions))
		}
	}
}

// expiredNames returns the sorted names of s's attributes that are no
// longer live at cut (Unix microseconds).
func expiredNames(s *attrSet, cut int64) []string {
	var out []string
	for n, a := range s.attrs {
		if !domain.LiveAt(a.expiry, cut) {
			out = append(out, n.Value())
		}
	}
	slices.Sort(out)
	return out
}

// ExpiredAttrs calls fn for every owner that holds attributes expired at
// now, with the owner's last sequence and those names, sorted. For a
// session's attributes only those that expired no later than the session
// itself count: the others end with the session (ExpiredSessions). fn runs
// under the view's read lock, must not block, and returns false to stop.
func (v *View) ExpiredAttrs(now time.Time, fn func(o domain.Owner, seq uint64, names []string) bool) {
	nowMicro := now.UnixMicro()
	v.mu.RLock()
	defer v.mu.RUnlock()
	for uid, s := range v.uattrs {
		if names := expiredNames(s, nowMicro); len(names) > 0 && !fn(domain.UserAttrsOwner(uid), s.seq, names) {
			return
		}
	}
	for sid, s := range v.sattrs {
		se, ok := v.sessions[sid]
		if !ok {
			continue
		}
		cut := min(nowMicro, se.sess.Expires.UnixMicro())
		if names := expiredNames(s, cut); len(names) > 0 &&
			!fn(domain.SessionAttrsOwner(se.sess.UserID, sid), s.seq, names) {
			return
		}
	}
}

// ExpiredSessions calls fn for every session that has expired at now and
// is still held, with its last sequence, the last sequence of its
// attributes (0 if it never had any) and the sorted names of the attributes
// it still holds, which end with it. A session holding an attribute that
// expired before the session did is left out until that attribute's
// expired event has been applied, so the record tells the two apart. fn runs
// under the view's read lock, must not block, and returns false to stop.
func (v *View) ExpiredSessions(now time.Time, fn func(s *domain.Session, seq, attrsSeq uint64, names []string) bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	for sid, se := range v.sessions {
		if se.sess.Live(now) {
			continue
		}
		var attrsSeq uint64
		var names []string
		if s := v.sattrs[sid]; s != nil {
			if len(expiredNames(s, se.sess.Expires.UnixMicro())) > 0 {
				continue
			}
			attrsSeq = s.seq
			names = make([]string, 0, len(s.attrs))
			for n := range s.attrs {
				names = append(names, n.Value())
			}
			slices.Sort(names)
		}
		if !fn(se.sess, se.seq, attrsSeq, names) {
			return
		}
	}
}
