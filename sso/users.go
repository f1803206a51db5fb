package sso

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/ssoattr/ssoattr/domain"
)

// Actors recorded on events that no user caused.
const (
	ActorCLI    = "cli"
	ActorSystem = "system"
)

// NewUser is the input of a user creation (docs/API.md#create-user). Nil pointers are
// fields that were not sent.
type NewUser struct {
	Username string
	Password *string
	// PasswordHash, when set, is the account's password as an existing
	// hash (see HashPassword), stored as it is; Password must then be nil.
	// It is for accounts made by the Go API (a migration, the benchmark's
	// users): no HTTP request can set it.
	PasswordHash       string
	PasswordMustChange bool
	Email              *string
	DisplayName        *string
	FirstName          *string
	MiddleName         *string
	LastName           *string
	IsLocked           bool
	SignUpStatus       string // "" means final
	IsTOTPEnabled      bool
	TOTPKey            *string
	TOTPLabel          *string
	IsRateLimitActive  bool
	RateLimitDef       *string
	AutoApprove        bool
}

func trimmedOrNil(p *string) *string {
	if p == nil {
		return nil
	}
	t := strings.TrimSpace(*p)
	if t == "" {
		return nil
	}
	return &t
}

// newTOTPKey returns 32 random base32 characters (docs/API.md#totp).
func newTOTPKey() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return base32.StdEncoding.EncodeToString(b)
}

// validTOTPKey is the key format rule of docs/API.md#totp: at least 16 base32
// characters, case-insensitive, no padding.
func validTOTPKey(k string) bool {
	if len(k) < 16 {
		return false
	}
	for _, r := range strings.ToUpper(k) {
		if !(r >= 'A' && r <= 'Z' || r >= '2' && r <= '7') {
			return false
		}
	}
	return true
}

// buildUser turns the input into a new account, validated, with its secrets
// encrypted. approvedBy is approval_status_mod_by.
func (s *Service) buildUser(ctx context.Context, in NewUser, now time.Time, approvedBy string, m Meta) (*domain.User, string, error) {
	if !domain.ValidUsername(in.Username) {
		return nil, "", domain.ErrUsernameInvalid
	}
	switch in.SignUpStatus {
	case "":
		in.SignUpStatus = domain.SignupFinal
	case domain.SignupFinal, domain.SignupBeforeConfirmation:
	default:
		return nil, "", domain.ErrInvalidInput
	}
	password := ""
	hash := in.PasswordHash
	if hash != "" {
		if _, _, _, ok := parseHash(hash); !ok || in.Password != nil {
			return nil, "", domain.ErrInvalidInput
		}
	} else if in.Password != nil {
		password = *in.Password
		if err := s.checkPolicy(password); err != nil {
			return nil, "", err
		}
	} else {
		password = randomPassword()
	}
	if hash == "" {
		var err error
		if hash, err = s.hashPassword(ctx, password); err != nil {
			return nil, "", err
		}
	}
	key := newTOTPKey()
	if in.TOTPKey != nil && *in.TOTPKey != "" {
		if !validTOTPKey(*in.TOTPKey) {
			return nil, "", domain.ErrInvalidInput
		}
		key = strings.ToUpper(*in.TOTPKey)
	}
	u := &domain.User{
		ID: domain.NewUserID(), Username: in.Username,
		DisplayName: trimmedOrNil(in.DisplayName), FirstName: trimmedOrNil(in.FirstName),
		MiddleName: trimmedOrNil(in.MiddleName), LastName: trimmedOrNil(in.LastName),
		IsLocked:       in.IsLocked,
		ApprovalStatus: domain.ApprovalApproved, ApprovalStatusModTime: now, ApprovalStatusModBy: approvedBy,
		PasswordHash:  s.keys.EncryptString(hash),
		PasswordIsSet: true, PasswordMustChange: in.PasswordMustChange,
		PasswordLastSet: now, PasswordExpiry: domain.AddClamped(now, s.cfg.PasswordExpiry),
		SignUpStatus: in.SignUpStatus, SignUpTime: now,
		IsTOTPEnabled: in.IsTOTPEnabled, TOTPKey: s.keys.EncryptString(key),
		IsRateLimitActive: in.IsRateLimitActive, RateLimitDef: in.RateLimitDef,
	}
	if in.IsLocked {
		u.LockedTime, u.LockedBy = &now, &approvedBy
	}
	if !in.AutoApprove && s.cfg.SignupApprovalNeeded {
		u.ApprovalStatus = domain.ApprovalBeforeDecision
	}
	if u.DisplayName == nil {
		var parts []string
		for _, p := range []*string{u.FirstName, u.MiddleName, u.LastName} {
			if p != nil {
				parts = append(parts, *p)
			}
		}
		if len(parts) > 0 {
			dn := strings.Join(parts, " ")
			u.DisplayName = &dn
		}
	}
	if in.Email != nil {
		e := s.storeEmail(*in.Email)
		u.Email = &e
	}
	if in.TOTPLabel != nil && *in.TOTPLabel != "" {
		u.TOTPLabel = s.keys.EncryptString(*in.TOTPLabel)
	}
	ctxJSON, _ := json.Marshal(map[string]string{"current_app": m.App, "remote_addr": m.RemoteAddr})
	u.CreationCtx = string(ctxJSON)
	return u, password, nil
}

func (s *Service) storeEmail(e string) string {
	if s.cfg.EncryptEmail {
		return s.keys.EncryptString(e)
	}
	return e
}

// insertUser appends the new account together with its username claim, as
// one atomic batch, so two writers can never both take a username.
func (s *Service) insertUser(ctx context.Context, m Meta, actor string, u *domain.User) error {
	return s.commit(ctx, func(now time.Time) ([]domain.Pending, error) {
		holder, claimSeq := s.view.UsernameClaim(u.Username)
		if holder != "" {
			return nil, domain.ErrUsernameExists
		}
		return []domain.Pending{
			{Expected: claimSeq, Event: s.event(m, actor, domain.KindUsernameClaimed,
				domain.UsernameOwner(u.Username), now, domain.EventData{Username: u.Username, UserID: u.ID})},
			{Expected: 0, Event: s.event(m, actor, domain.KindUserCreated,
				domain.UserOwner(u.ID), now, domain.EventData{User: u})},
		}, nil
	})
}

// CreateUser creates a regular user (POST /zato/sso/user, docs/API.md#create-user). The
// caller must be a super-user. It returns the new account as a super-user
// sees it.
func (s *Service) CreateUser(ctx context.Context, m Meta, ust string, in NewUser) (map[string]any, error) {
	c, err := s.begin(ctx, ust, m)
	if err != nil {
		return nil, err
	}
	if err := requireSuper(c); err != nil {
		return nil, err
	}
	u, _, err := s.buildUser(ctx, in, s.clock(), c.User.ID, m)
	if err != nil {
		return nil, err
	}
	if err := s.insertUser(ctx, m, c.User.ID, u); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "user created", slog.String("user_id", u.ID), slog.String("by", c.User.ID))
	return s.UserFields(u, true)
}

// CreateSuperUser creates an approved, confirmed super-user, as the CLI
// does. It returns domain.ErrUsernameExists if the username is taken.
func (s *Service) CreateSuperUser(ctx context.Context, m Meta, username, password string, email *string) (*domain.User, error) {
	if err := s.Sync(ctx); err != nil {
		return nil, err
	}
	u, _, err := s.buildUser(ctx, NewUser{Username: username, Password: &password, Email: email, AutoApprove: true}, s.clock(), domain.ModByAuto, m)
	if err != nil {
		return nil, err
	}
	u.IsSuperUser = true
	if err := s.insertUser(ctx, m, ActorCLI, u); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "super-user created", slog.String("user_id", u.ID), slog.String("username", username))
	return u, nil
}

// Bootstrap creates the super-user "admin" when the stream holds no
// super-user at all. It returns the password it set and true when it created
// the account. password may be empty for a random one.
func (s *Service) Bootstrap(ctx context.Context, password string) (string, bool, error) {
	if err := s.Sync(ctx); err != nil {
		return "", false, err
	}
	if s.view.HasSuperUser() {
		return "", false, nil
	}
	if password == "" {
		password = randomPassword()
	}
	_, err := s.CreateSuperUser(ctx, Meta{App: "ssoattr", CID: "bootstrap"}, "admin", password, nil)
	if errors.Is(err, domain.ErrUsernameExists) {
		return "", false, nil // another replica bootstrapped first, or admin exists as a regular user
	}
	if err != nil {
		return "", false, err
	}
	return password, true, nil
}

// changeUser appends a new state of the user with that id, decided by
// change on a clone of the current state.
func (s *Service) changeUser(ctx context.Context, m Meta, actor, id, kind string, change func(u *domain.User, now time.Time) error) error {
	return s.commit(ctx, func(now time.Time) ([]domain.Pending, error) {
		cur, seq, ok := s.view.User(id)
		if !ok {
			return nil, domain.ErrNoSuchUser
		}
		u := cur.Clone()
		if err := change(u, now); err != nil {
			return nil, err
		}
		return []domain.Pending{{Expected: seq,
			Event: s.event(m, actor, kind, domain.UserOwner(id), now, domain.EventData{User: u})}}, nil
	})
}

// superTarget authenticates a super-user and resolves a required user_id
// (approve, reject, lock, delete: docs/API.md#target-user).
func (s *Service) superTarget(ctx context.Context, m Meta, ust, userID string) (*Caller, *domain.User, error) {
	c, err := s.begin(ctx, ust, m)
	if err != nil {
		return nil, nil, err
	}
	if err := requireSuper(c); err != nil {
		return nil, nil, err
	}
	u, _, ok := s.view.User(userID)
	if !ok || userID == "" {
		return nil, nil, domain.ErrNoSuchUser
	}
	return c, u, nil
}

// SetApproval approves (true) or rejects (false) an account (docs/API.md#approve-and-reject).
func (s *Service) SetApproval(ctx context.Context, m Meta, ust, userID string, approve bool) error {
	c, u, err := s.superTarget(ctx, m, ust, userID)
	if err != nil {
		return err
	}
	kind, status := domain.KindUserRejected, domain.ApprovalRejected
	if approve {
		kind, status = domain.KindUserApproved, domain.ApprovalApproved
	}
	return s.changeUser(ctx, m, c.User.ID, u.ID, kind, func(u *domain.User, now time.Time) error {
		u.ApprovalStatus, u.ApprovalStatusModBy, u.ApprovalStatusModTime = status, c.User.ID, now
		return nil
	})
}

// GetUser returns the target user's fields as the caller may see them (docs/API.md#get-user).
func (s *Service) GetUser(ctx context.Context, m Meta, ust, userID string) (map[string]any, error) {
	c, err := s.begin(ctx, ust, m)
	if err != nil {
		return nil, err
	}
	u, err := s.targetUser(c, userID)
	if err != nil {
		return nil, err
	}
	f, err := s.UserFields(u, c.User.IsSuperUser)
	if err != nil || !c.User.IsSuperUser {
		return f, err
	}
	// A super-user also sees the username's login back-off.
	now := s.clock()
	b, err := s.loginBackoff(ctx, u.Username, now)
	if err != nil {
		return nil, err
	}
	f["login_failures"] = b.Failures
	if !b.RefusedUntil.IsZero() {
		f["login_refused_until"] = b.RefusedUntil
	}
	return f, nil
}

// UserFields returns the fields of u that a super-user (super) or the owner
// sees (docs/API.md#user-fields), secrets decrypted, nulls left out.
func (s *Service) UserFields(u *domain.User, super bool) (map[string]any, error) {
	f := map[string]any{
		"user_id": u.ID, "username": u.Username, "is_totp_enabled": u.IsTOTPEnabled, "totp_label": "",
	}
	if u.Email != nil {
		e := *u.Email
		if s.cfg.EncryptEmail {
			var err error
			if e, err = s.keys.DecryptString(e); err != nil {
				return nil, errors.New("decrypt e-mail: " + err.Error())
			}
		}
		f["email"] = e
	}
	if u.TOTPLabel != "" {
		l, err := s.keys.DecryptString(u.TOTPLabel)
		if err != nil {
			return nil, errors.New("decrypt TOTP label: " + err.Error())
		}
		f["totp_label"] = l
	}
	for k, p := range map[string]*string{"display_name": u.DisplayName, "first_name": u.FirstName,
		"middle_name": u.MiddleName, "last_name": u.LastName} {
		if p != nil {
			f[k] = *p
		}
	}
	if !super {
		return f, nil
	}
	f["is_active"], f["is_internal"], f["is_super_user"] = true, false, u.IsSuperUser
	f["is_approval_needed"] = u.ApprovalStatus != domain.ApprovalApproved
	f["approval_status"] = u.ApprovalStatus
	f["approval_status_mod_time"] = domain.FormatTime(u.ApprovalStatusModTime)
	f["approval_status_mod_by"] = u.ApprovalStatusModBy
	f["is_locked"] = u.IsLocked
	if u.LockedTime != nil {
		f["locked_time"] = domain.FormatTime(*u.LockedTime)
	}
	if u.LockedBy != nil {
		f["locked_by"] = *u.LockedBy
	}
	f["creation_ctx"] = "null"
	if u.CreationCtx != "" {
		f["creation_ctx"] = u.CreationCtx
	}
	f["password_expiry"] = domain.FormatTime(u.PasswordExpiry)
	f["password_last_set"] = domain.FormatTime(u.PasswordLastSet)
	f["password_is_set"], f["password_must_change"] = u.PasswordIsSet, u.PasswordMustChange
	f["sign_up_status"] = u.SignUpStatus
	f["sign_up_time"] = domain.FormatTime(u.SignUpTime)
	return f, nil
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
	} else if !validTOTPKey(key) {
		return "", domain.ErrInvalidInput
	}
	key = strings.ToUpper(key)
	err := s.changeUser(ctx, m, ActorCLI, u.ID, domain.KindUserTOTPChanged, func(u *domain.User, _ time.Time) error {
		u.TOTPKey = s.keys.EncryptString(key)
		return nil
	})
	return key, err
}

// tokenHash returns the hex SHA-256 of a secret token (sign-up tokens are
// kept only in this form).
func tokenHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
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
