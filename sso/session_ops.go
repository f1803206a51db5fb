package sso

import (
	"context"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

// History sources of docs/API.md#interaction-history.
const (
	sourceLogin = "login"
	sourceRenew = "renew"
)

// cloneSession returns a deep copy of a session, so a decision can change it
// without touching the view's copy (its history is shared otherwise).
func cloneSession(s *domain.Session) *domain.Session {
	c := *s
	c.History = append([]domain.HistoryEntry(nil), s.History...)
	if s.ExtSessionID != nil {
		v := *s.ExtSessionID
		c.ExtSessionID = &v
	}
	return &c
}

// beginSuper authenticates a super-user caller of the session endpoints
// (docs/API.md#session), whose target token is required: absent is
// domain.ErrNoSuchSession.
func (s *Service) beginSuper(ctx context.Context, m Meta, ust, targetUST string) error {
	c, err := s.begin(ctx, ust, m)
	if err != nil {
		return err
	}
	if err := requireSuper(c); err != nil {
		return err
	}
	if targetUST == "" {
		return domain.ErrNoSuchSession
	}
	return nil
}

// VerifySession is POST /zato/sso/user/session (docs/API.md#session): it reports
// whether targetUST names a live session whose user passes checks 2 to 5 of
// docs/API.md#account-checks (no IP check, docs/API.md#d33), without renewing it. The caller must be a
// super-user (domain.ErrNotAllowed); an absent target is
// domain.ErrNoSuchSession, any other failure on the target's side is false.
func (s *Service) VerifySession(ctx context.Context, m Meta, ust, targetUST string) (bool, error) {
	if err := s.beginSuper(ctx, m, ust, targetUST); err != nil {
		return false, err
	}
	sess, _, err := s.session(targetUST)
	if err != nil {
		return false, nil
	}
	u, _, ok := s.view.User(sess.UserID)
	if !ok {
		return false, nil
	}
	return u.CheckState(s.clock(), s.stateChecks()) == nil, nil
}

// SessionDetails is GET /zato/sso/user/session (docs/API.md#session): the target
// session, which must be live (domain.ErrNoSuchSession); its user's account
// state is not checked (docs/API.md#d33). The caller must be a super-user.
func (s *Service) SessionDetails(ctx context.Context, m Meta, ust, targetUST string) (*domain.Session, error) {
	if err := s.beginSuper(ctx, m, ust, targetUST); err != nil {
		return nil, err
	}
	sess, _, err := s.session(targetUST)
	return sess, err
}

// RenewSession is PATCH /zato/sso/user/session (docs/API.md#session): the caller's own
// session expires session.expiry from now, with a "renew" history entry. It
// appends session.renewed with the whole new session and returns the new
// expiration time.
func (s *Service) RenewSession(ctx context.Context, m Meta, ust string) (time.Time, error) {
	c, err := s.begin(ctx, ust, m)
	if err != nil {
		return time.Time{}, err
	}
	var expires time.Time
	err = s.commit(ctx, func(now time.Time) ([]domain.Pending, error) {
		cur, seq, ok := s.view.Session(c.Session.ID)
		if !ok {
			return nil, domain.ErrNoSuchSession // ended or expired meanwhile
		}
		sess := cloneSession(cur)
		sess.Expires = domain.AddClamped(now, s.cfg.SessionExpiry)
		sess.AddHistory(domain.HistoryEntry{RemoteAddr: m.RemoteAddr, UserAgent: m.UserAgent,
			Timestamp: now, Source: sourceRenew})
		expires = sess.Expires
		return []domain.Pending{{Expected: seq, Event: s.event(m, c.User.ID, domain.KindSessionRenewed,
			domain.SessionOwner(sess.UserID, sess.ID), now, domain.EventData{Session: sess})}}, nil
	})
	return expires, err
}

// ListSessions is GET /zato/sso/user/session/list (docs/API.md#session-list): the live
// sessions of the caller, or with targetUST of that session's user, oldest
// first. A regular caller naming another user's session gets
// domain.ErrNotAllowed; a target that does not resolve,
// domain.ErrNoSuchSession. The sessions returned are shared with the view
// and must not be changed.
func (s *Service) ListSessions(ctx context.Context, m Meta, ust, targetUST string) ([]*domain.Session, error) {
	c, err := s.begin(ctx, ust, m)
	if err != nil {
		return nil, err
	}
	userID := c.User.ID
	if targetUST != "" {
		sess, _, err := s.session(targetUST)
		if err != nil {
			return nil, err
		}
		if sess.UserID != userID {
			if err := requireSuper(c); err != nil {
				return nil, err
			}
			userID = sess.UserID
		}
	}
	return s.view.UserSessions(userID), nil
}
