package projections

import (
	"sync/atomic"
)

// maxKinds bounds the kinds the view counts by name; the stream is written
// by the service alone, which knows about 20, so more are counted as "other".
const maxKinds = 64

// countKind counts an applied event of that kind; v.mu is held.
func (v *View) countKind(kind string) {
	if _, ok := v.kinds[kind]; !ok && len(v.kinds) >= maxKinds {
		kind = "other"
	}
	v.kinds[kind]++
}

// AppliedKinds calls fn with how many events of each kind the view has
// applied, for metrics.
func (v *View) AppliedKinds(fn func(kind string, n uint64)) {
	v.mu.RLock()
	counts := make(map[string]uint64, len(v.kinds))
	for k, n := range v.kinds {
		counts[k] = n
	}
	v.mu.RUnlock()
	for k, n := range counts {
		fn(k, n)
	}
}

// sweepCounts are what RunSweeper has done, for metrics.
type sweepCounts struct {
	rounds, attrs, sessions atomic.Uint64
}

// SweepStats returns how many sweeps RunSweeper has made and how many
// attributes and sessions they freed (each held past its grace without an
// event recording its end: see GraceIntervals).
func (v *View) SweepStats() (sweeps, attrs, sessions uint64) {
	return v.sweeps.rounds.Load(), v.sweeps.attrs.Load(), v.sweeps.sessions.Load()
}
