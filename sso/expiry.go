package sso

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/ssoattr/ssoattr/domain"
)

// ExpirySource lists what has expired but is still held, as of now;
// projections.View satisfies it. The callbacks run under the source's lock:
// they only collect.
type ExpirySource interface {
	// ExpiredAttrs reports each owner holding expired attributes, with the
	// owner's last sequence and the expired names.
	ExpiredAttrs(now time.Time, fn func(o domain.Owner, seq uint64, names []string) bool)
	// ExpiredSessions reports each expired session, with its last sequence,
	// its attributes' last sequence and the names of the attributes that end
	// with it.
	ExpiredSessions(now time.Time, fn func(s *domain.Session, seq, attrsSeq uint64, names []string) bool)
}

// ExpiryResult counts what one expiry round appended.
type ExpiryResult struct {
	Attrs     int // attr.expired events
	Sessions  int // session.ended events (each followed by attr.removed when it had attributes)
	Conflicts int // appends that lost a race: another replica recorded it first, or the owner changed
}

// expiryBatch bounds the owners one round handles; the rest wait a round.
const expiryBatch = 1000

// Expire records what has expired: attr.expired (Names) for the expired
// attributes of each owner, and for each expired session session.ended
// (reason "expired") then attr.removed for the attributes it still had,
// as Logout does. Every instance runs it. Each append expects the owner's
// last sequence as the view saw it, so of several replicas deciding the
// same expiry exactly one succeeds: the others get domain.ErrConflict,
// which only means "someone else did it, or the owner changed"; the next
// round decides again on a fresher view. The expected sequence is what
// makes it exactly-once.
func (s *Service) Expire(ctx context.Context, src ExpirySource) (ExpiryResult, error) {
	var res ExpiryResult
	if err := s.Sync(ctx); err != nil {
		return res, err
	}
	now := s.clock()
	m := Meta{App: "ssoattr", CID: "expiry-" + ulid.Make().String()}
	type dueAttrs struct {
		owner domain.Owner
		seq   uint64
		names []string
	}
	var attrs []dueAttrs
	src.ExpiredAttrs(now, func(o domain.Owner, seq uint64, names []string) bool {
		attrs = append(attrs, dueAttrs{o, seq, names})
		return len(attrs) < expiryBatch
	})
	var last uint64
	for _, d := range attrs {
		ev := s.event(m, ActorSystem, domain.KindAttrExpired, d.owner, now, domain.EventData{Names: d.names})
		seq, err := s.store.AppendAll(ctx, []domain.Pending{{Event: ev, Expected: d.seq}})
		switch {
		case errors.Is(err, domain.ErrConflict):
			res.Conflicts++
		case err != nil:
			return res, err
		default:
			res.Attrs++
			last = seq
		}
	}
	// A session is listed only once its early-expired attributes are
	// recorded; wait for those events so it ends in this round.
	if last > 0 {
		if err := s.view.WaitApplied(ctx, last); err != nil {
			return res, err
		}
	}
	type dueSession struct {
		sess          *domain.Session
		seq, attrsSeq uint64
		names         []string
	}
	var sessions []dueSession
	src.ExpiredSessions(now, func(sess *domain.Session, seq, attrsSeq uint64, names []string) bool {
		sessions = append(sessions, dueSession{sess, seq, attrsSeq, names})
		return len(sessions) < expiryBatch
	})
	for _, d := range sessions {
		uid, sid := d.sess.UserID, d.sess.ID
		ev := s.event(m, ActorSystem, domain.KindSessionEnded, domain.SessionOwner(uid, sid), now,
			domain.EventData{Reason: domain.ReasonExpired})
		seq, err := s.store.AppendAll(ctx, []domain.Pending{{Event: ev, Expected: d.seq}})
		switch {
		case errors.Is(err, domain.ErrConflict):
			res.Conflicts++
			continue
		case err != nil:
			return res, err
		}
		res.Sessions++
		last = seq
		if len(d.names) == 0 {
			continue
		}
		// Only the replica whose session.ended won gets here, so this is
		// written once. Like Logout's, it is the record for subscribers;
		// the view drops the attributes with the session either way.
		owner := domain.SessionAttrsOwner(uid, sid)
		ev = s.event(m, ActorSystem, domain.KindAttrRemoved, owner, now,
			domain.EventData{Names: d.names, Reason: domain.ReasonExpired})
		if seq, err = s.store.AppendAll(ctx, []domain.Pending{{Event: ev, Expected: d.attrsSeq}}); err != nil {
			s.log.WarnContext(ctx, "session attributes removal event not written",
				slog.String("owner", owner.String()), slog.Any("err", err))
			continue
		}
		last = seq
	}
	if last > 0 {
		return res, s.view.WaitApplied(ctx, last)
	}
	return res, nil
}

// RunExpirer calls Expire every interval until ctx ends. Failures are
// logged and retried at the next tick.
func (s *Service) RunExpirer(ctx context.Context, src ExpirySource, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, max(interval, 30*time.Second))
		res, err := s.Expire(rctx, src)
		cancel()
		if ctx.Err() == nil {
			s.counts.countExpiry(res, err)
		}
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("expiry round failed", slog.Any("err", err))
		case res.Attrs+res.Sessions+res.Conflicts > 0:
			s.log.Debug("expiry recorded", slog.Int("attrs", res.Attrs),
				slog.Int("sessions", res.Sessions), slog.Int("conflicts", res.Conflicts))
		}
	}
}
