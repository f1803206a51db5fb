package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

func okUser() *domain.User {
	return &domain.User{ID: "zusr1", Username: "alice", ApprovalStatus: domain.ApprovalApproved,
		SignUpStatus: domain.SignupFinal, PasswordExpiry: t1.Add(time.Hour)}
}

func TestUser_CheckState(t *testing.T) {
	inform := domain.StateChecks{InformIfLocked: true, InformIfNotConfirmed: true, InformIfNotApproved: true, InformIfExpired: true}
	tests := []struct {
		name   string
		change func(u *domain.User)
		checks domain.StateChecks
		want   error
	}{
		{"ok", func(*domain.User) {}, inform, nil},
		{"locked", func(u *domain.User) { u.IsLocked = true }, inform, domain.ErrLocked},
		{"locked, hidden", func(u *domain.User) { u.IsLocked = true }, domain.StateChecks{}, domain.ErrNotAllowed},
		{"not confirmed", func(u *domain.User) { u.SignUpStatus = domain.SignupBeforeConfirmation }, inform, domain.ErrNotConfirmed},
		{"before decision", func(u *domain.User) { u.ApprovalStatus = domain.ApprovalBeforeDecision }, inform, domain.ErrNotApproved},
		{"rejected", func(u *domain.User) { u.ApprovalStatus = domain.ApprovalRejected }, inform, domain.ErrNotApproved},
		{"rejected, hidden", func(u *domain.User) { u.ApprovalStatus = domain.ApprovalRejected }, domain.StateChecks{}, domain.ErrNotAllowed},
		{"password expired", func(u *domain.User) { u.PasswordExpiry = t1.Add(-time.Second) }, inform, domain.ErrPasswordExpired},
		{"password expired, hidden", func(u *domain.User) { u.PasswordExpiry = t1.Add(-time.Second) }, domain.StateChecks{}, domain.ErrNotAllowed},
		{"password expired, check skipped", func(u *domain.User) { u.PasswordExpiry = t1.Add(-time.Second) },
			domain.StateChecks{InformIfExpired: true, SkipPasswordExpiry: true}, nil},
		{"password expires exactly now", func(u *domain.User) { u.PasswordExpiry = t1 }, inform, nil},
		{"locked wins over unapproved", func(u *domain.User) {
			u.IsLocked, u.ApprovalStatus = true, domain.ApprovalRejected
		}, inform, domain.ErrLocked},
		{"unconfirmed wins over unapproved", func(u *domain.User) {
			u.SignUpStatus, u.ApprovalStatus = domain.SignupBeforeConfirmation, domain.ApprovalRejected
		}, inform, domain.ErrNotConfirmed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := okUser()
			tt.change(u)
			if err := u.CheckState(t1, tt.checks); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("CheckState = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestValidSignupAndApprovalStatus(t *testing.T) {
	for _, s := range []string{domain.SignupBeforeConfirmation, domain.SignupFinal} {
		if !domain.ValidSignupStatus(s) {
			t.Errorf("ValidSignupStatus(%q) = false, want true", s)
		}
	}
	for _, s := range []string{domain.ApprovalBeforeDecision, domain.ApprovalApproved, domain.ApprovalRejected} {
		if !domain.ValidApprovalStatus(s) {
			t.Errorf("ValidApprovalStatus(%q) = false, want true", s)
		}
	}
	for _, s := range []string{"", "done", "Final", "final ", domain.ApprovalApproved} {
		if domain.ValidSignupStatus(s) {
			t.Errorf("ValidSignupStatus(%q) = true, want false", s)
		}
	}
	for _, s := range []string{"", "yes", "Approved", domain.SignupFinal} {
		if domain.ValidApprovalStatus(s) {
			t.Errorf("ValidApprovalStatus(%q) = true, want false", s)
		}
	}
}

func TestValidTOTPKey(t *testing.T) {
	for _, c := range []struct {
		key  string
		want bool
	}{
		{"JBSWY3DPEHPK3PXP", true},
		{"jbswy3dpehpk3pxp", true}, // either case
		{"JBSWY3DPEHPK3PX", false}, // 15 characters
		{"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", true},
		{"JBSWY3DPEHPK3PX1", false}, // 1 is not base32
		{"JBSWY3DPEHPK3PX=", false}, // no padding
		{"JBSWY3DPEHPK3PX ", false},
		{"", false},
	} {
		if got := domain.ValidTOTPKey(c.key); got != c.want {
			t.Errorf("ValidTOTPKey(%q) = %v, want %v", c.key, got, c.want)
		}
	}
}

func TestUser_CloneIsDeep(t *testing.T) {
	u := okUser()
	email, by, at := "a@example.com", "zusr2", t0
	u.Email, u.LockedBy, u.LockedTime = &email, &by, &at
	c := u.Clone()
	*c.Email, *c.LockedBy, *c.LockedTime = "b@example.com", "zusr3", t1
	c.Username = "bob"
	if *u.Email != "a@example.com" || *u.LockedBy != "zusr2" || !u.LockedTime.Equal(t0) || u.Username != "alice" {
		t.Fatalf("changing the clone changed the original: %+v", u)
	}
}

func TestHide(t *testing.T) {
	if got := domain.Hide(domain.ErrLocked, true); got != domain.ErrLocked {
		t.Errorf("Hide(ErrLocked, true) = %v, want ErrLocked", got)
	}
	if got := domain.Hide(domain.ErrLocked, false); got != domain.ErrNotAllowed {
		t.Errorf("Hide(ErrLocked, false) = %v, want ErrNotAllowed", got)
	}
}

func TestCodeError_IsMatchedByErrorsAs(t *testing.T) {
	err := error(domain.ErrAttrExists)
	wrapped := errors.Join(errors.New("context"), err)
	var ce *domain.CodeError
	if !errors.As(wrapped, &ce) || ce.Code != "E009001" {
		t.Fatalf("errors.As(wrapped ErrAttrExists) code = %v, want E009001", ce)
	}
}

func TestValidUsername(t *testing.T) {
	for _, c := range []struct {
		name string
		want bool
	}{
		{"alice", true},
		{strings.Repeat("é", 100), true}, // 200 bytes
		{strings.Repeat("é", domain.MaxUsernameLen), true},
		{strings.Repeat("a", domain.MaxUsernameLen+1), false},
		{strings.Repeat("é", domain.MaxUsernameLen+1), false},
		{"", false},
		{"   ", false},
		{"al\x00ice", false},
		{"al\nice", false},
	} {
		if got := domain.ValidUsername(c.name); got != c.want {
			t.Errorf("ValidUsername(%q) = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestSignupRules(t *testing.T) {
	r := domain.SignupRules{MaxUsername: 8, MaxEmail: 12, RejectUsername: []string{"admin"},
		RejectEmail: []string{"root"}, EmailRequired: true}
	for _, c := range []struct {
		name string
		want error
	}{
		{"alice", nil},
		{"éééééééé", nil}, // 8 characters, 16 bytes
		{"ééééééééé", domain.ErrUsernameTooLong},
		{"al ice", domain.ErrUsernameWhitespace},
		{"al\tice", domain.ErrUsernameWhitespace},
		{"toolong x", domain.ErrUsernameTooLong}, // length comes first
		{"", domain.ErrUsernameInvalid},
		{"al\x00ice", domain.ErrUsernameInvalid},
		{"MyAdmin", domain.ErrUsernameInvalid}, // a case-insensitive substring
	} {
		if got := r.CheckUsername(c.name); got != c.want {
			t.Errorf("CheckUsername(%q) = %v, want %v", c.name, got, c.want)
		}
	}
	for _, c := range []struct {
		email string
		want  error
	}{
		{"a@example.eu", nil},
		{"", domain.ErrEmailMissing},
		{"ab@example.eu", domain.ErrEmailTooLong},
		{"é@é.é", nil}, // characters, not bytes
		{"a b@x.eu", domain.ErrEmailWhitespace},
		{"ROOT@x.eu", domain.ErrEmailInvalid},
		{"no-at-sign", nil}, // the form is not checked
	} {
		if got := r.CheckEmail(c.email); got != c.want {
			t.Errorf("CheckEmail(%q) = %v, want %v", c.email, got, c.want)
		}
	}
	r.EmailRequired = false
	if got := r.CheckEmail(""); got != nil {
		t.Errorf("CheckEmail(\"\") without EmailRequired = %v, want nil", got)
	}
}
