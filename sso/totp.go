package sso

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/ssoattr/ssoattr/domain"
)

// newTOTPKey returns 32 random base32 characters (docs/API.md#totp).
func newTOTPKey() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return base32.StdEncoding.EncodeToString(b)
}

// checkTOTP validates an RFC 6238 code (SHA-1, 6 digits, 30 s), accepting
// one step either side of now.
func (s *Service) checkTOTP(u *domain.User, code string, now time.Time) bool {
	key, err := s.keys.DecryptString(u.TOTPKey)
	if err != nil {
		return false
	}
	ok, err := totp.ValidateCustom(code, key, now, totp.ValidateOpts{
		Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	return err == nil && ok
}

// SetTOTP is PATCH /zato/sso/user/totp (docs/API.md#totp, docs/API.md#d26): it sets the target
// user's TOTP key, generating one when key is empty, and its label (empty:
// the default label), both stored encrypted. is_totp_enabled is not changed.
// It returns the key now in force; domain.ErrInvalidInput for a key that is
// not at least 16 base32 characters; the TUR errors of docs/API.md#target-user.
func (s *Service) SetTOTP(ctx context.Context, m Meta, ust, userID, key, label string) (string, error) {
	if key != "" && !domain.ValidTOTPKey(key) {
		return "", domain.ErrInvalidInput
	}
	c, err := s.begin(ctx, ust, m)
	if err != nil {
		return "", err
	}
	target, err := s.targetUser(c, userID)
	if err != nil {
		return "", err
	}
	return s.setTOTP(ctx, m, c.User.ID, target.ID, key, label)
}

func (s *Service) setTOTP(ctx context.Context, m Meta, actor, id, key, label string) (string, error) {
	if key == "" {
		key = newTOTPKey()
	}
	key = strings.ToUpper(key)
	sealedKey, sealedLabel := s.keys.EncryptString(key), ""
	if label != "" {
		sealedLabel = s.keys.EncryptString(label)
	}
	err := s.changeUser(ctx, m, actor, id, domain.KindUserTOTPChanged, func(u *domain.User, _ time.Time) error {
		u.TOTPKey, u.TOTPLabel = sealedKey, sealedLabel
		return nil
	})
	if err != nil {
		return "", err
	}
	return key, nil
}

// ResetTOTPKey sets the TOTP key of the user with that username (CLI
// reset-totp-key). An empty key means "generate one". It returns the key now
// in force.
func (s *Service) ResetTOTPKey(ctx context.Context, m Meta, username, key string) (string, error) {
	if err := s.Sync(ctx); err != nil {
		return "", err
	}
	u, ok := s.view.UserByName(username)
	if !ok {
		return "", domain.ErrNoSuchUser
	}
	if key == "" {
		key = newTOTPKey()
	} else if !domain.ValidTOTPKey(key) {
		return "", domain.ErrInvalidInput
	}
	key = strings.ToUpper(key)
	err := s.changeUser(ctx, m, ActorCLI, u.ID, domain.KindUserTOTPChanged, func(u *domain.User, _ time.Time) error {
		u.TOTPKey = s.keys.EncryptString(key)
		return nil
	})
	return key, err
}
