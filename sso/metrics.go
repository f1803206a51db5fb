package sso

import "sync/atomic"

// counts are what the service counts for the metrics internal/node
// exposes: atomic counters, read at scrape time.
type counts struct {
	retries, refused                        atomic.Uint64
	expiryRounds, expiryFailed              atomic.Uint64
	expiredAttrs, endedSessions, expiryLost atomic.Uint64
}

// Retries returns how many times a write lost a race for its owner
// (domain.ErrConflict), caught up and decided again.
func (s *Service) Retries() uint64 { return s.counts.retries.Load() }

// BackoffRefusals returns how many logins and sign-up confirmations the
// login back-off refused unchecked (a record in its back-off window).
func (s *Service) BackoffRefusals() uint64 { return s.counts.refused.Load() }

// ExpiryStats counts what RunExpirer has done since the service started.
type ExpiryStats struct {
	Rounds    uint64 // expiry rounds run
	Failed    uint64 // rounds that ended in an error (logged)
	Attrs     uint64 // attr.expired events appended
	Sessions  uint64 // session.ended events appended for expired sessions
	Conflicts uint64 // expiries another replica recorded first, or whose owner changed
}

// ExpiryStats returns what RunExpirer has done so far.
func (s *Service) ExpiryStats() ExpiryStats {
	c := &s.counts
	return ExpiryStats{Rounds: c.expiryRounds.Load(), Failed: c.expiryFailed.Load(),
		Attrs: c.expiredAttrs.Load(), Sessions: c.endedSessions.Load(), Conflicts: c.expiryLost.Load()}
}

// countExpiry adds one round's result.
func (c *counts) countExpiry(res ExpiryResult, err error) {
	c.expiryRounds.Add(1)
	if err != nil {
		c.expiryFailed.Add(1)
	}
	c.expiredAttrs.Add(uint64(res.Attrs))
	c.endedSessions.Add(uint64(res.Sessions))
	c.expiryLost.Add(uint64(res.Conflicts))
}
