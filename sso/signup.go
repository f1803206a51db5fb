package sso

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

// SignupInput is the input of POST /zato/sso/user/signup (docs/API.md#signup).
type SignupInput struct {
	Username string
	Password string
	Email    *string
	AppList  []string
}

// CodesError is a refusal that carries several codes (a sign-up whose
// username and e-mail are both taken, docs/API.md#signup step 2). errors.As finds
// its first code as a *domain.CodeError, so a handler that knows only one
// code still answers correctly.
type CodesError struct{ Errs []*domain.CodeError }

// Error lists the codes.
func (e *CodesError) Error() string {
	codes := make([]string, len(e.Errs))
	for i, c := range e.Errs {
		codes[i] = c.Code
	}
	return "sso: " + strings.Join(codes, ",")
}

// Unwrap returns the codes as errors.
func (e *CodesError) Unwrap() []error {
	out := make([]error, len(e.Errs))
	for i, c := range e.Errs {
		out[i] = c
	}
	return out
}

// Codes returns the codes, in order.
func (e *CodesError) Codes() []string {
	out := make([]string, len(e.Errs))
	for i, c := range e.Errs {
		out[i] = c.Code
	}
	return out
}

// disclose keeps the codes whose inform flag is on. None left is
// domain.ErrNotAllowed; one is that code; more is a *CodesError.
func disclose(errs []*domain.CodeError, inform []bool) error {
	var shown []*domain.CodeError
	for i, e := range errs {
		if inform[i] {
			shown = append(shown, e)
		}
	}
	switch len(shown) {
	case 0:
		if len(errs) == 0 {
			return nil
		}
		return domain.ErrNotAllowed
	case 1:
		return shown[0]
	}
	return &CodesError{Errs: shown}
}

// emailTaken reports whether an account holds the e-mail address (only
// meaningful when e-mails are stored in plaintext).
func (s *Service) emailTaken(email string) bool {
	taken := false
	s.view.Users(func(u *domain.User) bool {
		taken = u.Email != nil && *u.Email == email
		return !taken
	})
	return taken
}

// checkSignup runs steps 1 to 5 of docs/API.md#signup in order, each code disclosed
// according to its configuration switch.
func (s *Service) checkSignup(app string, in SignupInput) error {
	// 1. Apps (docs/API.md#d29).
	for _, a := range in.AppList {
		if !contains(s.cfg.AppsAll, a) {
			return domain.Hide(domain.ErrAppInvalid, s.cfg.AppsInformIfAppInvalid)
		}
	}
	if !contains(s.cfg.AppsSignupAllowed, app) {
		return domain.Hide(domain.ErrAppNoSignup, s.cfg.AppsInformIfAppInvalid)
	}
	email := ""
	if in.Email != nil {
		email = *in.Email
	}
	checkEmail := !s.cfg.EncryptEmail // uniqueness cannot be checked on ciphertext
	// 2. Taken, each reported (docs/API.md#d29).
	var taken []*domain.CodeError
	var inform []bool
	if holder, _ := s.view.UsernameClaim(in.Username); holder != "" {
		taken, inform = append(taken, domain.ErrUsernameExists), append(inform, s.cfg.InformIfUserExists)
	}
	if checkEmail && email != "" && s.emailTaken(email) {
		taken, inform = append(taken, domain.ErrEmailExists), append(inform, s.cfg.InformIfEmailExists)
	}
	if err := disclose(taken, inform); err != nil {
		return err
	}
	// 3. Username.
	rules := s.signupRules()
	if err := rules.CheckUsername(in.Username); err != nil {
		return domain.Hide(err, s.cfg.InformIfUserInvalid)
	}
	// 4. Password.
	if err := s.passwordPolicy().Check(in.Password); err != nil {
		return err
	}
	// 5. E-mail.
	if !checkEmail {
		return nil
	}
	if err := rules.CheckEmail(email); err != nil {
		return domain.Hide(err, s.cfg.InformIfEmailInvalid)
	}
	return nil
}

// signupRules are the configuration's sign-up rules; the rules themselves
// are domain.SignupRules'.
func (s *Service) signupRules() domain.SignupRules {
	return domain.SignupRules{
		MaxUsername: s.cfg.SignupMaxUsername, MaxEmail: s.cfg.SignupMaxEmail,
		RejectUsername: s.cfg.RejectUsername, RejectEmail: s.cfg.RejectEmail,
		EmailRequired: s.cfg.SignupEmailRequired,
	}
}

// newConfirmToken returns a sign-up confirmation token: 256 random bits,
// URL-safe base64.
func newConfirmToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Signup is POST /zato/sso/user/signup (docs/API.md#signup): it creates an account
// waiting for confirmation (and, if configured, approval) and returns the
// confirmation token. Only the token's SHA-256 is stored. Errors are the
// codes of docs/API.md#signup, or domain.ErrNotAllowed where they are not disclosed;
// a sign-up whose username and e-mail are both taken is a *CodesError.
func (s *Service) Signup(ctx context.Context, m Meta, in SignupInput) (string, error) {
	if err := s.Sync(ctx); err != nil {
		return "", err
	}
	if err := s.checkSignup(m.App, in); err != nil {
		return "", err
	}
	nu := NewUser{Username: in.Username, Password: &in.Password, SignUpStatus: domain.SignupBeforeConfirmation}
	if in.Email != nil && *in.Email != "" {
		nu.Email = in.Email
	}
	u, _, err := s.buildUser(ctx, nu, s.clock(), domain.ModByAuto, m)
	if errors.Is(err, domain.ErrUsernameInvalid) {
		return "", domain.Hide(err, s.cfg.InformIfUserInvalid)
	}
	if err != nil {
		return "", err
	}
	token := newConfirmToken()
	u.SignUpTokenHash = tokenHash(token)
	err = s.insertUser(ctx, m, domain.ModByAuto, u)
	if errors.Is(err, domain.ErrUsernameExists) { // taken since the check
		return "", domain.Hide(err, s.cfg.InformIfUserExists)
	}
	if err != nil {
		return "", err
	}
	s.log.InfoContext(ctx, "user signed up", slog.String("user_id", u.ID))
	return token, nil
}

// ConfirmSignup is PATCH /zato/sso/user/signup (docs/API.md#signup, docs/API.md#d30): the account
// whose token this is becomes confirmed. It returns
// domain.ErrNoSuchSignupToken for an unknown token and
// domain.ErrSignupConfirmed when the account is already confirmed.
func (s *Service) ConfirmSignup(ctx context.Context, m Meta, token string) error {
	if err := s.Sync(ctx); err != nil {
		return err
	}
	if token == "" {
		return domain.ErrNoSuchSignupToken
	}
	// Guessing tokens from one address meets the address back-off
	// (docs/API.md#login-back-off), answered as an unknown token.
	counts := s.confirmCounts(m.RemoteAddr)
	if err := s.refused(ctx, counts, s.clock()); err != nil {
		if errors.Is(err, errRefused) {
			return domain.ErrNoSuchSignupToken
		}
		return err
	}
	h := tokenHash(token)
	u, _, ok := s.view.UserBySignupToken(h)
	if !ok {
		s.failed(ctx, counts)
		return domain.ErrNoSuchSignupToken
	}
	err := s.changeUser(ctx, m, domain.ModByAuto, u.ID, domain.KindUserSignupConfirmed, func(u *domain.User, now time.Time) error {
		switch {
		case u.SignUpTokenHash != h:
			return domain.ErrNoSuchSignupToken
		case u.SignUpStatus == domain.SignupFinal || u.SignUpConfirmTime != nil:
			return domain.ErrSignupConfirmed
		}
		u.SignUpStatus, u.SignUpConfirmTime = domain.SignupFinal, &now
		return nil
	})
	if errors.Is(err, domain.ErrNoSuchUser) { // deleted meanwhile
		return domain.ErrNoSuchSignupToken
	}
	return err
}

// tokenHash returns the hex SHA-256 of a secret token (sign-up tokens are
// kept only in this form).
func tokenHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}
