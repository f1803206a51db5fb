package domain

import (
	"strings"
	"unicode/utf8"
)

// PasswordPolicy is the rule every password set must pass: at creation,
// sign-up, a change, a change due at login and by the CLI
// (docs/API.md#change-password). The sso package configures it from its
// Config; hashing the password is sso's.
type PasswordPolicy struct {
	// MinLength and MaxLength bound the length in characters, not bytes.
	MinLength, MaxLength int
	// MinComplexity is the least PasswordComplexity score; 0 checks none.
	MinComplexity int
	// RejectList holds words no password may contain, case-insensitively.
	RejectList []string
	// Inform discloses which rule failed (password.inform_if_invalid);
	// otherwise each failure is ErrNotAllowed.
	Inform bool
}

// Check applies the policy in the order of docs/API.md#change-password:
// complexity (ErrPasswordNotComplex), then length (ErrPasswordTooShort,
// ErrPasswordTooLong), then the reject list (ErrPasswordInvalid). The
// failure is ErrNotAllowed unless Inform.
func (p PasswordPolicy) Check(password string) error {
	n := utf8.RuneCountInString(password)
	var err error
	switch {
	case p.MinComplexity > 0 && PasswordComplexity(password) < p.MinComplexity:
		err = ErrPasswordNotComplex
	case n < p.MinLength:
		err = ErrPasswordTooShort
	case n > p.MaxLength:
		err = ErrPasswordTooLong
	case RejectListed(password, p.RejectList):
		err = ErrPasswordInvalid
	default:
		return nil
	}
	return Hide(err, p.Inform)
}

// PasswordComplexity is a rough 0-4 strength score in the spirit of
// zxcvbn: one point per character class used beyond the first (lower
// case, upper case and digits of ASCII, anything else), plus one for a
// length of 12 characters or more.
func PasswordComplexity(p string) int {
	var lower, upper, digit, other bool
	for _, r := range p {
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		default:
			other = true
		}
	}
	score := -1
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			score++
		}
	}
	if utf8.RuneCountInString(p) >= 12 {
		score++
	}
	return max(score, 0)
}

// RejectListed reports whether s contains any of words, case-insensitively;
// an empty word matches nothing. It is how the reject lists of passwords,
// usernames and e-mails apply (docs/API.md#d29).
func RejectListed(s string, words []string) bool {
	s = strings.ToLower(s)
	for _, w := range words {
		if w != "" && strings.Contains(s, strings.ToLower(w)) {
			return true
		}
	}
	return false
}
