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
// on the stream; eventstore.Attempts satisfies it. Put replaces revision
// rev (0: none) or returns domain.ErrConflict.
type AttemptStore interface {
	Get(ctx context.Context, key string) (domain.Attempts, uint64, error)
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

// counted is one back-off record an admitted attempt counts in.
type counted struct {
	key   string
	rule  domain.Backoff
	reset bool // success clears the record (a username's) rather than taking back one failure
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

// admit lets an attempt through unless one of its records is in its
// back-off window at now (errRefused), and counts it as a failure in
// each. The records are updated in order; if a later one refuses, the
// earlier ones get their failure back. Without a store it does nothing.
func (s *Service) admit(ctx context.Context, cs []counted, now time.Time) error {
	if s.attempts == nil {
		return nil
	}
	for i, c := range cs {
		err := s.updateAttempts(ctx, c.key, func(a domain.Attempts) (domain.Attempts, error) {
			if a.Refused(now) {
				return a, errRefused
			}
			return c.rule.Admit(a, now), nil
		})
		if err != nil {
			if errors.Is(err, errRefused) {
				s.counts.refused.Add(1)
			}
			s.release(ctx, cs[:i], false)
			return err
		}
	}
	return nil
}

// errRefused is an attempt refused by the back-off; callers answer it as
// they answer a wrong credential.
var errRefused = errors.New("in back-off")

// release settles an admitted attempt: on success a username's record is
// cleared and an address's gets its failure back; an attempt that was not
// made after all (ok false: the password check found the service busy)
// gets its failure back everywhere. A failure to write is logged: the
// answer does not depend on it.
func (s *Service) release(ctx context.Context, cs []counted, ok bool) {
	if s.attempts == nil {
		return
	}
	// Settled even if the client has gone: the count must not stay wrong.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	for _, c := range cs {
		var err error
		if ok && c.reset {
			err = s.attempts.Delete(ctx, c.key)
		} else {
			err = s.updateAttempts(ctx, c.key, func(a domain.Attempts) (domain.Attempts, error) {
				return c.rule.Succeeded(a), nil
			})
		}
		if err != nil {
			s.log.WarnContext(ctx, "back-off record not updated", "err", err)
		}
	}
}

// updateAttempts replaces the record under key by f's answer, reading it
// again whenever another writer got there first.
func (s *Service) updateAttempts(ctx context.Context, key string, f func(domain.Attempts) (domain.Attempts, error)) error {
	for range maxAttemptRetries {
		a, rev, err := s.attempts.Get(ctx, key)
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
	a, _, err := s.attempts.Get(ctx, attemptKey(keyLoginUser, username))
	if err != nil {
		return LoginBackoff{}, err
	}
	b := LoginBackoff{Failures: a.Failures}
	if a.Refused(now) {
		b.RefusedUntil = a.Until
	}
	return b, nil
}
