package sso

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/ctxtime"
)

// View is the current state the service reads; projections.View satisfies it.
type View interface {
	WaitApplied(ctx context.Context, seq uint64) error
	User(id string) (*domain.User, uint64, bool)
	UserByName(username string) (*domain.User, bool)
	UserBySignupToken(hash string) (*domain.User, uint64, bool)
	Users(fn func(*domain.User) bool)
	HasSuperUser() bool
	UsernameClaim(username string) (userID string, seq uint64)
	Session(id string) (*domain.Session, uint64, bool)
	UserSessions(userID string) []*domain.Session
	OwnerSeq(o domain.Owner) uint64
	Snapshot(o domain.Owner, names []string) (uint64, []domain.Attr)
	Get(o domain.Owner, name string) (domain.Attr, error)
	Exists(o domain.Owner, name string) bool
	Names(o domain.Owner) []string
}

// Store appends events; eventstore.Store satisfies it.
type Store interface {
	AppendAll(ctx context.Context, ps []domain.Pending) (uint64, error)
	LastSeq(ctx context.Context) (uint64, error)
}

// Service carries out SSO operations. It is safe for concurrent use.
type Service struct {
	cfg   Config
	view  View
	store Store
	keys  *Keyring
	now   func() time.Time
	log   *slog.Logger

	dummyHash string    // checked against when a username is unknown, for even timing
	gate      *hashGate // bounds the password hash computations at once
	attempts  AttemptStore
	counts    counts // for metrics (see Retries)
}

// New returns a Service. now is the clock (time.Now in production).
// Zero hashing bounds in cfg take their defaults (see Config.HashConcurrency).
func New(cfg Config, view View, store Store, keys *Keyring, now func() time.Time, log *slog.Logger) *Service {
	if cfg.HashConcurrency <= 0 {
		cfg.HashConcurrency = DefaultHashConcurrency()
	}
	if cfg.HashQueue <= 0 {
		cfg.HashQueue = DefaultHashQueue
	}
	if cfg.HashWait <= 0 {
		cfg.HashWait = DefaultHashWait
	}
	return &Service{cfg: cfg, view: view, store: store, keys: keys, now: now, log: log,
		dummyHash: hashPassword(randomPassword(), cfg.PasswordRounds),
		gate:      newHashGate(cfg.HashConcurrency, cfg.HashQueue, cfg.HashWait)}
}

// Config returns the service's configuration.
func (s *Service) Config() Config { return s.cfg }

// Keys returns the service's keyring.
func (s *Service) Keys() *Keyring { return s.keys }

// Meta describes the request a command comes from, for the audit trail and
// the IP allow-list.
type Meta struct {
	CID        string
	App        string
	RemoteAddr string
	UserAgent  string
}

func (s *Service) clock() time.Time { return domain.Truncate(s.now()) }

func (s *Service) event(m Meta, actor, kind string, owner domain.Owner, now time.Time, data domain.EventData) domain.Event {
	return domain.Event{ID: ulid.Make().String(), Kind: kind, Owner: owner, Time: now,
		Actor: actor, App: m.App, RemoteAddr: m.RemoteAddr, CID: m.CID, Data: data}
}

// Sync is the read-your-writes barrier: it returns once the view holds every
// event the stream had acknowledged when Sync was called, whichever process
// wrote it. Concurrent callers share one stream-state request. With
// LocalReads it returns at once.
func (s *Service) Sync(ctx context.Context) error {
	if s.cfg.LocalReads {
		return nil
	}
	if err := s.Barrier(ctx); err != nil {
		return fmt.Errorf("read barrier: %w", err)
	}
	return nil
}

// Barrier returns once this process's view holds every event the stream
// had acknowledged when Barrier was called, whatever the read consistency:
// Sync's barrier without its LocalReads shortcut, and what a write does
// after losing a conflict.
func (s *Service) Barrier(ctx context.Context) error {
	last, err := s.store.LastSeq(ctx)
	if err != nil {
		return fmt.Errorf("stream's last sequence: %w", err)
	}
	return s.view.WaitApplied(ctx, last)
}

// commit runs decide and appends what it returns, expecting each owner's
// sequence as decided. If another writer got there first it catches the view
// up and decides again, up to MaxConflictRetries times. On success it
// settles the write (see settle). decide may return no events (nothing to
// do).
//
// An append that cannot complete returns the store's error, which says
// what became of the events (docs/API.md#error-codes): domain.ErrUnavailable
// (not stored, and never will be) or domain.ErrOutcomeUnknown (sent, never
// acknowledged, and not found in the time left: perhaps stored). The store
// has already looked for the events of an unacknowledged append before
// answering either.
func (s *Service) commit(ctx context.Context, decide func(now time.Time) ([]domain.Pending, error)) error {
	for attempt := 0; ; attempt++ {
		ps, err := decide(s.clock())
		if err != nil || len(ps) == 0 {
			return err
		}
		seq, err := s.store.AppendAll(ctx, ps)
		if errors.Is(err, domain.ErrConflict) && attempt < s.cfg.MaxConflictRetries {
			s.counts.retries.Add(1)
			s.log.DebugContext(ctx, "write conflict, deciding again",
				slog.String("owner", ps[0].Event.Owner.String()), slog.Int("attempt", attempt+1))
			// The writers that lost this round would all collide again on
			// the next one: a random pause, growing with each loss, spreads
			// them out so that a busy owner does not run out of attempts.
			if err := ctxtime.Sleep(ctx, conflictBackoff(attempt)); err != nil {
				return fmt.Errorf("catch up after conflict: %w", err)
			}
			if err := s.Barrier(ctx); err != nil {
				return fmt.Errorf("catch up after conflict: %w", err)
			}
			continue
		}
		if errors.Is(err, domain.ErrEventTooLarge) {
			return domain.ErrInvalidInput
		}
		if errors.Is(err, domain.ErrConflict) {
			// Out of attempts: nothing was stored.
			return fmt.Errorf("%d conflicts in a row: %w", attempt+1, domain.ErrUnavailable)
		}
		if err != nil {
			return err
		}
		return s.settle(ctx, seq)
	}
}

// settle makes sure that the caller's next request sees a write stored at
// seq. With strict reads that request's own barrier does: it asks for the
// stream's last sequence after this write was acknowledged, and waits for
// the view to apply it, whichever process serves it. So settle returns at
// once, and the wait for the follower is paid once, by the next request
// that needs it, not by every write, which saves every writer a park and a
// wake-up. With local reads only this process's view answers: settle waits
// until it has applied seq.
func (s *Service) settle(ctx context.Context, seq uint64) error {
	if !s.cfg.LocalReads {
		return nil
	}
	return s.view.WaitApplied(ctx, seq)
}

// conflictBackoff returns a random pause after the attempt-th lost race:
// up to 1 ms after the first, doubling to at most 256 ms, so that writers
// crowding one owner spread out rather than collide again (40 writers on
// one user all succeed within MaxConflictRetries; see httpapi's
// TestReplicas_ConcurrentWritesToOneUser).
func conflictBackoff(attempt int) time.Duration {
	return rand.N(time.Millisecond << min(attempt, 8))
}

// Caller is an authenticated caller: the account and the session its token
// names.
type Caller struct {
	User    *domain.User
	Session *domain.Session
}

func (s *Service) stateChecks() domain.StateChecks {
	return domain.StateChecks{
		InformIfLocked:       s.cfg.InformIfLocked,
		InformIfNotConfirmed: s.cfg.InformIfNotConfirmed,
		InformIfNotApproved:  s.cfg.InformIfNotApproved,
		InformIfExpired:      s.cfg.InformIfPasswordExpired,
	}
}

// session resolves a UST to its live session, or domain.ErrNoSuchSession.
func (s *Service) session(ust string) (*domain.Session, uint64, error) {
	sid, err := s.keys.OpenUST(ust)
	if err != nil {
		return nil, 0, err
	}
	sess, seq, ok := s.view.Session(sid)
	if !ok {
		return nil, 0, domain.ErrNoSuchSession
	}
	return sess, seq, nil
}

// Authenticate is docs/API.md#caller-authentication: the caller token must name a live session of an
// existing user who passes the account-state checks of 3.4.
func (s *Service) Authenticate(ust string, m Meta) (*Caller, error) {
	return s.authenticate(ust, m, false)
}

func (s *Service) authenticate(ust string, m Meta, skipPasswordExpiry bool) (*Caller, error) {
	sess, _, err := s.session(ust)
	if err != nil {
		return nil, err
	}
	u, _, ok := s.view.User(sess.UserID)
	if !ok {
		return nil, domain.ErrNoSuchSession
	}
	if err := s.checkAddress(u.Username, m.RemoteAddr); err != nil {
		return nil, err
	}
	checks := s.stateChecks()
	checks.SkipPasswordExpiry = skipPasswordExpiry
	if err := u.CheckState(s.clock(), checks); err != nil {
		return nil, err
	}
	return &Caller{User: u, Session: sess}, nil
}

// checkAddress is check 1 of docs/API.md#account-checks, the IP allow-list.
func (s *Service) checkAddress(username, remoteAddr string) error {
	if s.cfg.UserAddressAllowAll[username] {
		return nil
	}
	prefixes, listed := s.cfg.UserAddressList[username]
	if !listed {
		if s.cfg.LoginRejectIfNotListed {
			return domain.ErrNotAllowed
		}
		return nil
	}
	addr, err := netip.ParseAddr(remoteAddr)
	if err != nil {
		return domain.ErrNotAllowed
	}
	for _, p := range prefixes {
		if p.Contains(addr.Unmap()) {
			return nil
		}
	}
	return domain.ErrNotAllowed
}

// targetUser is target-user resolution (docs/API.md#target-user).
func (s *Service) targetUser(c *Caller, userID string) (*domain.User, error) {
	if userID == "" || userID == c.User.ID {
		return c.User, nil
	}
	if !c.User.IsSuperUser {
		return nil, domain.ErrNotAllowed
	}
	u, _, ok := s.view.User(userID)
	if !ok {
		return nil, domain.ErrNoSuchUser
	}
	return u, nil
}

// requireSuper returns domain.ErrNotAllowed unless the caller is a super-user.
func requireSuper(c *Caller) error {
	if !c.User.IsSuperUser {
		return domain.ErrNotAllowed
	}
	return nil
}
