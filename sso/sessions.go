package sso

import (
	"context"
	"log/slog"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

// LoginInput is the input of POST /zato/sso/user/login (docs/API.md#login). Nil
// pointers are fields that were not sent.
type LoginInput struct {
	Username    string
	Password    string
	TOTPCode    *string
	NewPassword *string
	RemoteAddr  *string // body-supplied; only for apps in login_metadata_allowed
	UserAgent   *string
}

// LoginResult is a successful login: the UST, and the warning code when the
// password is about to expire.
type LoginResult struct {
	UST     string
	Warning string
}

// Login checks the credentials and account (docs/API.md#login) and opens a session.
func (s *Service) Login(ctx context.Context, m Meta, in LoginInput) (LoginResult, error) {
	if err := s.Sync(ctx); err != nil {
		return LoginResult{}, err
	}
	now := s.clock()
	// 1. Username and password; an unknown user costs the same hash check.
	u, _ := s.view.UserByName(in.Username) // nil when unknown
	if in.Username == "" || in.Password == "" {
		return LoginResult{}, domain.ErrNotAllowed
	}
	// The back-off of the username and the client address
	// (docs/API.md#login-back-off): refused unchecked during a window, the
	// same answer as a wrong password; a wrong password or TOTP code is
	// counted in both.
	counts := s.loginCounts(in.Username, s.loginAddr(m, in))
	if err := s.guess(ctx, counts, u, in.Password); err != nil {
		return LoginResult{}, err
	}
	// 2. TOTP.
	if u.IsTOTPEnabled {
		if in.TOTPCode == nil || *in.TOTPCode == "" {
			return LoginResult{}, domain.Hide(domain.ErrTOTPMissing, s.cfg.InformIfTOTPMissing)
		}
		if !s.checkTOTP(u, *in.TOTPCode, now) {
			s.failed(ctx, counts)
			return LoginResult{}, domain.ErrNotAllowed
		}
	}
	s.succeeded(ctx, counts) // the credentials are right
	// 3. The app may log in.
	if !contains(s.cfg.AppsLoginAllowed, m.App) {
		return LoginResult{}, domain.Hide(domain.ErrAppInvalid, s.cfg.AppsInformIfAppInvalid)
	}
	// 4. Metadata from the body only for trusted apps (docs/API.md#d16).
	if in.RemoteAddr != nil || in.UserAgent != nil {
		if !contains(s.cfg.AppsLoginMetadata, m.App) {
			return LoginResult{}, domain.ErrMetadataNotAllowed
		}
		if in.RemoteAddr != nil {
			m.RemoteAddr = *in.RemoteAddr
		}
		if in.UserAgent != nil {
			m.UserAgent = *in.UserAgent
		}
	}
	// 5. Account state.
	if err := s.checkAddress(u.Username, m.RemoteAddr); err != nil {
		return LoginResult{}, err
	}
	if err := u.CheckState(now, s.stateChecks()); err != nil {
		return LoginResult{}, err
	}
	// 6. A password change that is due.
	var newHash string
	expiry := u.PasswordExpiry
	if u.PasswordMustChange {
		if in.NewPassword == nil || *in.NewPassword == "" {
			return LoginResult{}, domain.Hide(domain.ErrPasswordMustSendNew, s.cfg.InformIfMustBeChanged)
		}
		if err := s.passwordPolicy().Check(*in.NewPassword); err != nil {
			return LoginResult{}, err
		}
		plain, err := s.hashPassword(ctx, *in.NewPassword)
		if err != nil {
			return LoginResult{}, err
		}
		newHash = s.keys.EncryptString(plain)
		expiry = domain.AddClamped(now, s.cfg.PasswordExpiry)
	}
	// 7. The about-to-expire threshold, against the expiry now in force (docs/API.md#d18).
	var res LoginResult
	if now.After(expiry.Add(-s.cfg.PasswordAboutToExpire)) {
		switch {
		case s.cfg.LogInIfAboutToExpire && s.cfg.InformIfAboutToExpire:
			res.Warning = domain.WarnPasswordAboutToExpire
		case s.cfg.LogInIfAboutToExpire:
		case s.cfg.InformIfAboutToExpire:
			return LoginResult{}, domain.ErrPasswordAboutToExp
		default:
			return LoginResult{}, domain.ErrNotAllowed
		}
	}
	// 8. The session.
	sess := s.newSession(u, m, now)
	err := s.commit(ctx, func(at time.Time) ([]domain.Pending, error) {
		ps := []domain.Pending{{Expected: 0, Event: s.event(m, u.ID, domain.KindSessionCreated,
			domain.SessionOwner(u.ID, sess.ID), at, domain.EventData{Session: sess})}}
		if newHash == "" {
			return ps, nil
		}
		cur, seq, ok := s.view.User(u.ID)
		if !ok {
			return nil, domain.ErrNotAllowed
		}
		nu := cur.Clone()
		nu.PasswordHash, nu.PasswordMustChange, nu.PasswordIsSet = newHash, false, true
		nu.PasswordLastSet, nu.PasswordExpiry = now, expiry
		return append(ps, domain.Pending{Expected: seq, Event: s.event(m, u.ID,
			domain.KindUserPasswordChanged, domain.UserOwner(u.ID), at, domain.EventData{User: nu})}), nil
	})
	if err != nil {
		return LoginResult{}, err
	}
	s.log.InfoContext(ctx, "user logged in", slog.String("user_id", u.ID), slog.String("cid", m.CID))
	res.UST = s.keys.SealUST(sess.ID)
	return res, nil
}

// loginAddr is the client address a login counts against: the one the
// body gives, for apps trusted to send it (step 4 of Login), else the
// request's (its peer, or X-Forwarded-For behind a trusted proxy).
func (s *Service) loginAddr(m Meta, in LoginInput) string {
	if in.RemoteAddr != nil && contains(s.cfg.AppsLoginMetadata, m.App) {
		return *in.RemoteAddr
	}
	return m.RemoteAddr
}

// newSession returns a new session of u opened at now, with its first
// history entry (docs/API.md#sessions, docs/API.md#interaction-history).
func (s *Service) newSession(u *domain.User, m Meta, now time.Time) *domain.Session {
	sess := &domain.Session{ID: domain.NewSessionID(), UserID: u.ID, Created: now,
		Expires: domain.AddClamped(now, s.cfg.SessionExpiry), RemoteAddr: m.RemoteAddr,
		UserAgent: m.UserAgent, AuthType: "default", AuthPrincipal: u.Username}
	sess.AddHistory(domain.HistoryEntry{RemoteAddr: m.RemoteAddr, UserAgent: m.UserAgent, Timestamp: now, Source: sourceLogin})
	return sess
}

// Logout ends the session the token names, with its attributes (docs/API.md#logout).
// It answers nil whether or not the token was valid, so it cannot be used to
// probe tokens; only a failure to reach the stream is an error.
func (s *Service) Logout(ctx context.Context, m Meta, ust string) error {
	if err := s.Sync(ctx); err != nil {
		return err
	}
	sess, _, err := s.session(ust)
	if err != nil {
		return nil
	}
	return s.endSession(ctx, m, sess.UserID, sess, domain.ReasonLogout)
}

// endSession appends session.ended and then, if the session had attributes,
// attr.removed on its attribute subject. The view drops the attributes with
// the session, so the second event is the record subscribers see; it is not
// needed for correctness.
func (s *Service) endSession(ctx context.Context, m Meta, actor string, sess *domain.Session, reason string) error {
	attrsOwner := domain.SessionAttrsOwner(sess.UserID, sess.ID)
	attrsSeq := s.view.OwnerSeq(attrsOwner)
	names := s.view.Names(attrsOwner)
	err := s.commit(ctx, func(now time.Time) ([]domain.Pending, error) {
		_, seq, ok := s.view.Session(sess.ID)
		if !ok {
			return nil, nil // ended meanwhile: nothing left to do
		}
		return []domain.Pending{{Expected: seq, Event: s.event(m, actor, domain.KindSessionEnded,
			domain.SessionOwner(sess.UserID, sess.ID), now, domain.EventData{Reason: reason})}}, nil
	})
	if err != nil || len(names) == 0 {
		return err
	}
	ev := s.event(m, actor, domain.KindAttrRemoved, attrsOwner, s.clock(), domain.EventData{Names: names, Reason: reason})
	if _, err := s.store.AppendAll(ctx, []domain.Pending{{Event: ev, Expected: attrsSeq}}); err != nil {
		s.log.WarnContext(ctx, "session attributes removal event not written",
			slog.String("owner", attrsOwner.String()), slog.Any("err", err))
	}
	return nil
}

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
