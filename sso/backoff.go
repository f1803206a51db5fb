package sso

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

// AttemptStore keeps the login back-off records, shared by every replica
// on the stream; eventstore.Attempts satisfies it. Get reads a record it
// cannot trust as rule.Untrusted (fail closed). Put replaces revision
// rev (0: none) or returns domain.ErrConflict.
type AttemptStore interface {
	Get(ctx context.Context, key string, rule domain.Backoff) (domain.Attempts, uint64, error)
	Put(ctx context.Context, key string, a domain.Attempts, rev uint64) error
	Delete(ctx context.Context, key string) error
}

// UseAttempts gives the service the store of back-off records; without
// one (some tests) there is no back-off. Call it before serving.
func (s *Service) UseAttempts(a AttemptStore) { s.attempts = a }

// Keys of the back-off records: a kind and the SHA-256 of what is
// counted, so no username or address appears in the bucket's keys
// (usernames may hold any character; keys may not).
func attemptKey(kind, what string) string {
	h := sha256.Sum256([]byte(what))
	return kind + "." + hex.EncodeToString(h[:])
}

const (
	keyLoginUser = "user" // logins, per username
	keyLoginAddr = "addr" // logins, per client address
	keyConfirm   = "confirm"
)

// counted is one back-off record an attempt counts in.
type counted struct {
	key   string
	rule  domain.Backoff
	reset bool // success clears the record (a username's); an address's is left as it is
}

// loginCounts are the records a login attempt counts in.
func (s *Service) loginCounts(username, addr string) []counted {
	return []counted{
		{key: attemptKey(keyLoginUser, username), rule: s.cfg.UserBackoff, reset: true},
		{key: attemptKey(keyLoginAddr, addr), rule: s.cfg.AddrBackoff},
	}
}

// confirmCounts are the records a sign-up confirmation counts in.
func (s *Service) confirmCounts(addr string) []counted {
	return []counted{{key: attemptKey(keyConfirm, addr), rule: s.cfg.AddrBackoff}}
}

// maxAttemptRetries bounds the rounds of read-and-replace of one record
// lost to other replicas counting at once.
const maxAttemptRetries = 20

// errRefused is an attempt refused by the back-off; callers answer it as
// they answer a wrong credential.
var errRefused = errors.New("in back-off")

// refused returns errRefused if one of the records is in its back-off
// window at now. Without a store it returns nil.
func (s *Service) refused(ctx context.Context, cs []counted, now time.Time) error {
	if s.attempts == nil {
		return nil
	}
	for _, c := range cs {
		a, _, err := s.attempts.Get(ctx, c.key, c.rule)
		if err != nil {
			return err
		}
		if a.Refused(now) {
			s.counts.refused.Add(1)
			return errRefused
		}
	}
	return nil
}

// guess checks password, a guess at u's password, under the back-off of
// cs and the hash gate: nil when it is right; domain.ErrNotAllowed when it
// is wrong or refused in a window, the same answer for both;
// domain.ErrBusy when no slot freed in time (nothing checked or counted).
// An unknown user (u nil) or a hash that does not decrypt is checked
// against the dummy hash, for the same time, and cannot match.
//
// A guess is refused unchecked during a window, looked at twice: before
// waiting for a hash slot, so that a refused attempt costs no place in the
// queue, and again once it has one, when the attempts ahead of it have
// been counted. A wrong password is counted before the slot is freed, so
// the next check in line sees it: with one slot no attempt gets past the
// threshold, with n at most n-1 more.
func (s *Service) guess(ctx context.Context, cs []counted, u *domain.User, password string) error {
	hash, found := s.dummyHash, false
	if u != nil {
		if h, err := s.keys.DecryptString(u.PasswordHash); err == nil {
			hash, found = h, true
		}
	}
	if err := s.refused(ctx, cs, s.clock()); err != nil {
		return refusal(err)
	}
	if err := s.gate.enter(ctx); err != nil {
		return err
	}
	defer s.gate.leave()
	if err := s.refused(ctx, cs, s.clock()); err != nil {
		return refusal(err)
	}
	if checkPassword(hash, password) && found {
		return nil
	}
	s.failed(ctx, cs)
	return domain.ErrNotAllowed
}

// refusal is the answer to an attempt refused by the back-off: the answer
// a wrong password gets. Other errors (reading the records) pass.
func refusal(err error) error {
	if errors.Is(err, errRefused) {
		return domain.ErrNotAllowed
	}
	return err
}

// failed counts a failed attempt in each record. A failure to write is
// logged: the answer (a refusal) does not depend on it.
func (s *Service) failed(ctx context.Context, cs []counted) {
	if s.attempts == nil {
		return
	}
	// Counted even if the client has gone.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	for _, c := range cs {
		err := s.updateAttempts(ctx, c.key, c.rule, func(a domain.Attempts) (domain.Attempts, error) {
			return c.rule.Fail(a, s.clock()), nil
		})
		if err != nil {
			s.log.WarnContext(ctx, "back-off record not updated", "err", err)
		}
	}
}

// succeeded clears the records that a success resets (a username's), if
// they hold any failure.
func (s *Service) succeeded(ctx context.Context, cs []counted) {
	if s.attempts == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	for _, c := range cs {
		if !c.reset {
			continue
		}
		a, _, err := s.attempts.Get(ctx, c.key, c.rule)
		if err == nil && a.Failures > 0 {
			err = s.attempts.Delete(ctx, c.key)
		}
		if err != nil {
			s.log.WarnContext(ctx, "back-off record not reset", "err", err)
		}
	}
}

// updateAttempts replaces the record under key by f's answer, reading it
// again whenever another writer got there first.
func (s *Service) updateAttempts(ctx context.Context, key string, rule domain.Backoff, f func(domain.Attempts) (domain.Attempts, error)) error {
	for range maxAttemptRetries {
		a, rev, err := s.attempts.Get(ctx, key, rule)
		if err != nil {
			return err
		}
		next, err := f(a)
		if err != nil {
			return err
		}
		if next == a {
			return nil
		}
		err = s.attempts.Put(ctx, key, next, rev)
		if !errors.Is(err, domain.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("back-off record %s: %w after %d attempts", key, domain.ErrConflict, maxAttemptRetries)
}

// LoginBackoff is what a super-user sees of a username's back-off: the
// consecutive failed logins and, while it lasts, the end of the window.
type LoginBackoff struct {
	Failures     int
	RefusedUntil time.Time // zero when attempts are not refused
}

// loginBackoff reads a username's back-off at now.
func (s *Service) loginBackoff(ctx context.Context, username string, now time.Time) (LoginBackoff, error) {
	if s.attempts == nil {
		return LoginBackoff{}, nil
	}
	a, _, err := s.attempts.Get(ctx, attemptKey(keyLoginUser, username), s.cfg.UserBackoff)
	if err != nil {
		return LoginBackoff{}, err
	}
	b := LoginBackoff{Failures: a.Failures}
	if a.Refused(now) {
		b.RefusedUntil = a.Until
	}
	return b, nil
}
