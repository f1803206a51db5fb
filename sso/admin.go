package sso

import (
	"context"
	"log/slog"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

// The operations below back the admin CLI (Zato's "zato sso" commands).
// They name users by username, act as ActorCLI, and skip the caller checks:
// whoever can reach the admin subject on NATS can already write the stream.

// userByName returns the account with that username after the read
// barrier, or domain.ErrNoSuchUser.
func (s *Service) userByName(ctx context.Context, username string) (*domain.User, error) {
	if err := s.Sync(ctx); err != nil {
		return nil, err
	}
	u, ok := s.view.UserByName(username)
	if !ok {
		return nil, domain.ErrNoSuchUser
	}
	return u, nil
}

// CreateUserByAdmin creates an approved regular user (CLI create-user). When
// in.Password is nil a random password is set and returned; otherwise the
// returned password is empty. It returns domain.ErrUsernameExists, the
// policy codes, or domain.ErrUsernameInvalid.
func (s *Service) CreateUserByAdmin(ctx context.Context, m Meta, in NewUser) (*domain.User, string, error) {
	if err := s.Sync(ctx); err != nil {
		return nil, "", err
	}
	in.AutoApprove = true
	u, password, err := s.buildUser(ctx, in, s.clock(), domain.ModByAuto, m)
	if err != nil {
		return nil, "", err
	}
	if err := s.insertUser(ctx, m, ActorCLI, u); err != nil {
		return nil, "", err
	}
	s.log.InfoContext(ctx, "user created", slog.String("user_id", u.ID), slog.String("by", ActorCLI))
	if in.Password != nil {
		password = ""
	}
	return u, password, nil
}

// DeleteUserByName deletes the user with its sessions and attributes (CLI
// delete-user), super-users included. domain.ErrNoSuchUser if unknown.
func (s *Service) DeleteUserByName(ctx context.Context, m Meta, username string) error {
	u, err := s.userByName(ctx, username)
	if err != nil {
		return err
	}
	return s.deleteUser(ctx, m, ActorCLI, u.ID)
}

// SetLockedByName locks or unlocks an account (CLI lock-user, unlock-user).
func (s *Service) SetLockedByName(ctx context.Context, m Meta, username string, locked bool) error {
	u, err := s.userByName(ctx, username)
	if err != nil {
		return err
	}
	return s.setLocked(ctx, m, ActorCLI, u.ID, locked)
}

// SetPasswordByName sets a password that must pass the policy (CLI
// change-user-password). expiryDays ≤ 0 means password.expiry; a nil
// mustChange leaves the flag as it is.
func (s *Service) SetPasswordByName(ctx context.Context, m Meta, username, password string, expiryDays int64, mustChange *bool) error {
	if err := s.passwordPolicy().Check(password); err != nil {
		return err
	}
	u, err := s.userByName(ctx, username)
	if err != nil {
		return err
	}
	return s.setPassword(ctx, m, ActorCLI, u.ID, password, mustChange, s.passwordExpiry(&expiryDays))
}

// ResetPasswordByName sets a random password and returns it (CLI
// reset-user-password).
func (s *Service) ResetPasswordByName(ctx context.Context, m Meta, username string, expiryDays int64, mustChange *bool) (string, error) {
	u, err := s.userByName(ctx, username)
	if err != nil {
		return "", err
	}
	password := randomPassword()
	if err := s.setPassword(ctx, m, ActorCLI, u.ID, password, mustChange, s.passwordExpiry(&expiryDays)); err != nil {
		return "", err
	}
	return password, nil
}

// LoginAs opens a session for the user without credentials (CLI login) and
// returns its UST. The account must still pass checks 2 to 5 of docs/API.md#account-checks.
func (s *Service) LoginAs(ctx context.Context, m Meta, username string) (string, error) {
	u, err := s.userByName(ctx, username)
	if err != nil {
		return "", err
	}
	now := s.clock()
	if err := u.CheckState(now, s.stateChecks()); err != nil {
		return "", err
	}
	sess := s.newSession(u, m, now)
	err = s.commit(ctx, func(at time.Time) ([]domain.Pending, error) {
		return []domain.Pending{{Event: s.event(m, ActorCLI, domain.KindSessionCreated,
			domain.SessionOwner(u.ID, sess.ID), at, domain.EventData{Session: sess})}}, nil
	})
	if err != nil {
		return "", err
	}
	s.log.InfoContext(ctx, "user logged in by the CLI", slog.String("user_id", u.ID))
	return s.keys.SealUST(sess.ID), nil
}
