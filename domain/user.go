package domain

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Approval and sign-up states (docs/API.md#user-fields).
const (
	ApprovalBeforeDecision = "before_decision"
	ApprovalApproved       = "approved"
	ApprovalRejected       = "rejected"

	SignupBeforeConfirmation = "before_confirmation"
	SignupFinal              = "final"

	// ModByAuto is approval_status_mod_by for accounts nobody approved by hand.
	ModByAuto = "auto"
)

// MaxUsernameLen is the longest username, in characters (not bytes), that
// a super-user or the account's owner may set (docs/API.md#create-user).
const MaxUsernameLen = 191

// ValidUsername is the rule for a username set at creation or by a rename:
// 1 to MaxUsernameLen characters, not only spaces, no control characters.
// Sign-up applies it too, after its own stricter, configured checks.
func ValidUsername(name string) bool {
	return strings.TrimSpace(name) != "" && utf8.RuneCountInString(name) <= MaxUsernameLen &&
		strings.IndexFunc(name, unicode.IsControl) < 0
}

// SignupRules are sign-up's own, configured rules for the username and
// e-mail address a visitor chooses (docs/API.md#signup), stricter than an
// account's. Lengths count characters; reject lists match case-insensitive
// substrings.
type SignupRules struct {
	MaxUsername, MaxEmail       int
	RejectUsername, RejectEmail []string
	EmailRequired               bool
}

// CheckUsername is sign-up's rule for a username, in this order: at most
// MaxUsername characters (ErrUsernameTooLong), no whitespace
// (ErrUsernameWhitespace), then ValidUsername and no RejectUsername entry
// (ErrUsernameInvalid).
func (r SignupRules) CheckUsername(name string) error {
	switch {
	case utf8.RuneCountInString(name) > r.MaxUsername:
		return ErrUsernameTooLong
	case hasSpace(name):
		return ErrUsernameWhitespace
	case !ValidUsername(name) || RejectListed(name, r.RejectUsername):
		return ErrUsernameInvalid
	}
	return nil
}

// CheckEmail is sign-up's rule for an e-mail address ("" when not sent),
// in this order: present if EmailRequired (ErrEmailMissing), at most
// MaxEmail characters (ErrEmailTooLong), no whitespace
// (ErrEmailWhitespace), no RejectEmail entry (ErrEmailInvalid). The
// address's form is not checked.
func (r SignupRules) CheckEmail(email string) error {
	switch {
	case email == "" && r.EmailRequired:
		return ErrEmailMissing
	case utf8.RuneCountInString(email) > r.MaxEmail:
		return ErrEmailTooLong
	case hasSpace(email):
		return ErrEmailWhitespace
	case RejectListed(email, r.RejectEmail):
		return ErrEmailInvalid
	}
	return nil
}

func hasSpace(s string) bool { return strings.IndexFunc(s, unicode.IsSpace) >= 0 }

// ValidSignupStatus reports whether s is a sign-up status
// (docs/API.md#user-fields): SignupBeforeConfirmation or SignupFinal.
func ValidSignupStatus(s string) bool { return s == SignupBeforeConfirmation || s == SignupFinal }

// ValidApprovalStatus reports whether s is an approval status
// (docs/API.md#user-fields): ApprovalBeforeDecision, ApprovalApproved or
// ApprovalRejected.
func ValidApprovalStatus(s string) bool {
	return s == ApprovalBeforeDecision || s == ApprovalApproved || s == ApprovalRejected
}

// ValidTOTPKey is the format rule of a TOTP key a client sets
// (docs/API.md#totp): at least 16 base32 characters, in either case, no
// padding.
func ValidTOTPKey(k string) bool {
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

// User is an SSO account (docs/API.md#user-fields). Secret fields hold ciphertext
// everywhere outside the service's memory: PasswordHash, TOTPKey, TOTPLabel,
// and Email when e-mail encryption is on.
type User struct {
	ID       string  `json:"user_id"`
	Username string  `json:"username"`
	Email    *string `json:"email,omitempty"`

	DisplayName *string `json:"display_name,omitempty"`
	FirstName   *string `json:"first_name,omitempty"`
	MiddleName  *string `json:"middle_name,omitempty"`
	LastName    *string `json:"last_name,omitempty"`

	IsSuperUser bool       `json:"is_super_user,omitempty"`
	IsLocked    bool       `json:"is_locked,omitempty"`
	LockedTime  *time.Time `json:"locked_time,omitempty"`
	LockedBy    *string    `json:"locked_by,omitempty"`

	ApprovalStatus        string    `json:"approval_status"`
	ApprovalStatusModTime time.Time `json:"approval_status_mod_time"`
	ApprovalStatusModBy   string    `json:"approval_status_mod_by"`

	PasswordHash       string    `json:"password_hash"` // Fernet ciphertext of the hash
	PasswordIsSet      bool      `json:"password_is_set,omitempty"`
	PasswordMustChange bool      `json:"password_must_change,omitempty"`
	PasswordLastSet    time.Time `json:"password_last_set"`
	PasswordExpiry     time.Time `json:"password_expiry"`

	SignUpStatus      string     `json:"sign_up_status"`
	SignUpTime        time.Time  `json:"sign_up_time"`
	SignUpConfirmTime *time.Time `json:"sign_up_confirm_time,omitempty"`
	// SignUpTokenHash is the SHA-256 of the confirmation token, never the token.
	SignUpTokenHash string `json:"sign_up_token_hash,omitempty"`

	IsTOTPEnabled bool   `json:"is_totp_enabled,omitempty"`
	TOTPKey       string `json:"totp_key,omitempty"`   // ciphertext
	TOTPLabel     string `json:"totp_label,omitempty"` // ciphertext; empty = the default label

	CreationCtx       string  `json:"creation_ctx,omitempty"`
	IsRateLimitActive bool    `json:"is_rate_limit_active,omitempty"`
	RateLimitDef      *string `json:"rate_limit_def,omitempty"`
}

// StateChecks configures the account-state checks of docs/API.md#account-checks.
type StateChecks struct {
	InformIfLocked       bool
	InformIfNotConfirmed bool
	InformIfNotApproved  bool
	InformIfExpired      bool
	// SkipPasswordExpiry leaves out check 5 (PATCH /user/password, docs/API.md#d25).
	SkipPasswordExpiry bool
}

// CheckState runs checks 2 to 5 of docs/API.md#account-checks (the IP allow-list, check 1, needs
// configuration the domain does not hold). It returns the first failure, as
// the code the configuration allows to disclose.
func (u *User) CheckState(now time.Time, c StateChecks) error {
	switch {
	case u.IsLocked:
		return Hide(ErrLocked, c.InformIfLocked)
	case u.SignUpStatus != SignupFinal:
		return Hide(ErrNotConfirmed, c.InformIfNotConfirmed)
	case u.ApprovalStatus != ApprovalApproved:
		return Hide(ErrNotApproved, c.InformIfNotApproved)
	case !c.SkipPasswordExpiry && now.After(u.PasswordExpiry):
		return Hide(ErrPasswordExpired, c.InformIfExpired)
	}
	return nil
}

// Clone returns a deep copy, so a decision can change it without touching
// the view's copy.
func (u *User) Clone() *User {
	c := *u
	for _, p := range []**string{&c.Email, &c.DisplayName, &c.FirstName, &c.MiddleName, &c.LastName, &c.LockedBy, &c.RateLimitDef} {
		if *p != nil {
			v := **p
			*p = &v
		}
	}
	for _, p := range []**time.Time{&c.LockedTime, &c.SignUpConfirmTime} {
		if *p != nil {
			v := **p
			*p = &v
		}
	}
	return &c
}
