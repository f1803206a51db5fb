package sso

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

// Password hashes use passlib's pbkdf2_sha512 format, as Zato does:
// $pbkdf2-sha512$<rounds>$<salt>$<checksum>, salt and checksum in passlib's
// adapted base64 ("." for "+", no padding).
const hashPrefix = "$pbkdf2-sha512$"

func ab64Encode(b []byte) string {
	return strings.ReplaceAll(base64.RawStdEncoding.EncodeToString(b), "+", ".")
}

func ab64Decode(s string) ([]byte, error) {
	return base64.RawStdEncoding.DecodeString(strings.ReplaceAll(s, ".", "+"))
}

// hashPassword returns a new salted PBKDF2-SHA512 hash of password.
func hashPassword(password string, rounds int) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	sum, err := pbkdf2.Key(sha512.New, password, salt, rounds, 64)
	if err != nil {
		panic(err) // only for FIPS-restricted parameters, which these are not
	}
	return hashPrefix + strconv.Itoa(rounds) + "$" + ab64Encode(salt) + "$" + ab64Encode(sum)
}

// HashPassword returns a new salted hash of password in the format the
// service stores (passlib's pbkdf2_sha512), for NewUser.PasswordHash.
func HashPassword(password string, rounds int) (string, error) {
	if rounds < 1 || rounds > maxRounds {
		return "", fmt.Errorf("password rounds %d: want 1 to %d", rounds, maxRounds)
	}
	return hashPassword(password, rounds), nil
}

// maxRounds bounds the rounds a stored hash may ask for: a login must not
// be made to take hours.
const maxRounds = 10_000_000

// parseHash splits a stored hash into its rounds, salt and checksum.
func parseHash(hash string) (rounds int, salt, sum []byte, ok bool) {
	rest, ok := strings.CutPrefix(hash, hashPrefix)
	if !ok {
		return 0, nil, nil, false
	}
	parts := strings.Split(rest, "$")
	if len(parts) != 3 {
		return 0, nil, nil, false
	}
	rounds, err := strconv.Atoi(parts[0])
	if err != nil || rounds < 1 || rounds > maxRounds {
		return 0, nil, nil, false
	}
	salt, err1 := ab64Decode(parts[1])
	sum, err2 := ab64Decode(parts[2])
	if err1 != nil || err2 != nil || len(sum) == 0 {
		return 0, nil, nil, false
	}
	return rounds, salt, sum, true
}

// checkPassword reports whether password matches hash, in time that does not
// depend on where they differ.
func checkPassword(hash, password string) bool {
	rounds, salt, want, ok := parseHash(hash)
	if !ok {
		return false
	}
	got, err := pbkdf2.Key(sha512.New, password, salt, rounds, len(want))
	return err == nil && hmac.Equal(got, want)
}

// hashGate bounds the password hash computations running at once (each
// is about 75 ms of one core at the default rounds): at most slots run,
// at most queue more wait for a slot, each for at most wait. Without it
// a burst of logins took every core, and every other request waited
// behind them.
type hashGate struct {
	slots   chan struct{}
	waiting atomic.Int64
	queue   int64
	wait    time.Duration
}

func newHashGate(slots, queue int, wait time.Duration) *hashGate {
	return &hashGate{slots: make(chan struct{}, slots), queue: int64(queue), wait: wait}
}

// hashReserve is the part of a request's deadline a hash may not wait
// into: what follows the hash (a write to the stream and, if its answer
// is lost, the look for its event) needs that time to end in a definite
// answer. A request that would get its slot later is told busy at once,
// a definite "not done, retry", rather than running out of time after an
// irreversible step (docs/API.md#password-checks-under-load).
const hashReserve = time.Second

// enter returns once a slot is free, or domain.ErrBusy when the queue is
// full or no slot freed within the wait (shortened to leave hashReserve of
// ctx's deadline), or ctx's error. The caller calls leave when its
// computation is done.
func (g *hashGate) enter(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
		return nil
	default:
	}
	wait := g.wait
	if d, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(d)-hashReserve)
	}
	if wait <= 0 {
		return domain.ErrBusy
	}
	if g.waiting.Add(1) > g.queue {
		g.waiting.Add(-1)
		return domain.ErrBusy
	}
	defer g.waiting.Add(-1)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-t.C:
		return domain.ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *hashGate) leave() { <-g.slots }

// hashPassword is hashPassword through the service's gate: domain.ErrBusy
// when no slot freed in time.
func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	if err := s.gate.enter(ctx); err != nil {
		return "", err
	}
	defer s.gate.leave()
	return hashPassword(password, s.cfg.PasswordRounds), nil
}

// passwordPolicy is the password policy of the configuration
// (docs/API.md#change-password); the rule is domain.PasswordPolicy.Check.
func (s *Service) passwordPolicy() domain.PasswordPolicy {
	return domain.PasswordPolicy{
		MinLength:     s.cfg.PasswordMinLength,
		MaxLength:     s.cfg.PasswordMaxLength,
		MinComplexity: s.cfg.PasswordMinComplexity,
		RejectList:    s.cfg.PasswordRejectList,
		Inform:        s.cfg.InformIfPasswordInvalid,
	}
}

// randomPassword returns a strong random password for accounts created
// without one.
func randomPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// PasswordChange is the input of PATCH /zato/sso/user/password (docs/API.md#change-password).
// Nil pointers are fields that were not sent.
type PasswordChange struct {
	UserID      string
	NewPassword string
	OldPassword *string
	MustChange  *bool
	ExpiryDays  *int64
}

// maxExpiryDays keeps days*24h inside a time.Duration; anything longer is
// clamped to "never" anyway.
const maxExpiryDays = 100_000

func (s *Service) passwordExpiry(days *int64) time.Duration {
	if days == nil || *days <= 0 {
		return s.cfg.PasswordExpiry
	}
	return time.Duration(min(*days, maxExpiryDays)) * 24 * time.Hour
}

// ChangePassword is PATCH /zato/sso/user/password (docs/API.md#change-password,
// docs/API.md#d25). The caller is authenticated without the password-expiry
// check. Changing one's own password needs the old one (domain.ErrNotAllowed
// when missing, wrong or refused by the login back-off); a super-user may
// change anyone's, and alone may set must_change and the expiry. The new
// password must pass the policy (its codes).
func (s *Service) ChangePassword(ctx context.Context, m Meta, ust string, in PasswordChange) error {
	if err := s.Sync(ctx); err != nil {
		return err
	}
	c, err := s.authenticate(ust, m, true)
	if err != nil {
		return err
	}
	target, err := s.targetUser(c, in.UserID)
	if err != nil {
		return err
	}
	own := target.ID == c.User.ID
	if own {
		if in.OldPassword == nil || *in.OldPassword == "" {
			return domain.ErrNotAllowed
		}
		// The old password is a password guess like a login's: checked
		// under the username's and the address's back-off, and counted in
		// them when wrong (docs/API.md#login-back-off). Else a stolen
		// session would allow guessing the password at the hash rate.
		counts := s.loginCounts(target.Username, m.RemoteAddr)
		if err := s.guess(ctx, counts, target, *in.OldPassword); err != nil {
			return err
		}
		s.succeeded(ctx, counts)
	}
	if err := s.passwordPolicy().Check(in.NewPassword); err != nil {
		return err
	}
	var mustChange *bool // nil: leave the flag as it is
	expiry := s.cfg.PasswordExpiry
	switch {
	case !c.User.IsSuperUser: // own password: the flag is cleared (docs/API.md#d25)
		mustChange = new(bool)
	case own:
		mustChange = new(bool)
		if in.MustChange != nil {
			mustChange = in.MustChange
		}
		expiry = s.passwordExpiry(in.ExpiryDays)
	default:
		mustChange = in.MustChange
		expiry = s.passwordExpiry(in.ExpiryDays)
	}
	return s.setPassword(ctx, m, c.User.ID, target.ID, in.NewPassword, mustChange, expiry)
}

// setPassword stores a new password hash for the user with that id.
func (s *Service) setPassword(ctx context.Context, m Meta, actor, id, password string, mustChange *bool, expiry time.Duration) error {
	plain, err := s.hashPassword(ctx, password) // once, outside a retried decision
	if err != nil {
		return err
	}
	hash := s.keys.EncryptString(plain)
	return s.changeUser(ctx, m, actor, id, domain.KindUserPasswordChanged, func(u *domain.User, now time.Time) error {
		u.PasswordHash, u.PasswordIsSet = hash, true
		u.PasswordLastSet, u.PasswordExpiry = now, domain.AddClamped(now, expiry)
		if mustChange != nil {
			u.PasswordMustChange = *mustChange
		}
		return nil
	})
}
