package domain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ssoattr/ssoattr/domain"
)

func TestPasswordPolicy_Check(t *testing.T) {
	policy := domain.PasswordPolicy{MinLength: 8, MaxLength: 16, RejectList: []string{"secret", ""}, Inform: true}
	complex := policy
	complex.MinComplexity = 2
	hidden := complex
	hidden.Inform = false
	for _, c := range []struct {
		what     string
		policy   domain.PasswordPolicy
		password string
		want     error
	}{
		{"ok", policy, "correct horse", nil},
		{"the shortest", policy, "abcdefgh", nil},
		{"too short", policy, "abcdefg", domain.ErrPasswordTooShort},
		{"the longest", policy, strings.Repeat("a", 16), nil},
		{"too long", policy, strings.Repeat("a", 17), domain.ErrPasswordTooLong},
		{"length in characters, not bytes", policy, strings.Repeat("é", 16), nil},
		{"too short in characters", policy, strings.Repeat("é", 7), domain.ErrPasswordTooShort},
		{"rejected word", policy, "my-secret-1", domain.ErrPasswordInvalid},
		{"rejected word, other case", policy, "My-SeCrEt-1", domain.ErrPasswordInvalid},
		{"the empty word rejects nothing", policy, "anything-goes", nil},
		{"complexity not checked at 0", policy, "aaaaaaaa", nil},
		{"not complex enough", complex, "aaaaaaaa", domain.ErrPasswordNotComplex},
		{"complex enough", complex, "aaaaAAA1", nil},
		// The order of docs/API.md#change-password: complexity, length, reject list.
		{"complexity before length", complex, "aaa", domain.ErrPasswordNotComplex},
		{"length before the reject list", complex, "Secret1", domain.ErrPasswordTooShort},
		{"hidden", hidden, "aaa", domain.ErrNotAllowed},
		{"hidden, too long", hidden, strings.Repeat("aA1", 6), domain.ErrNotAllowed},
		{"hidden, ok", hidden, "aaaaAAA1", nil},
	} {
		if err := c.policy.Check(c.password); !errors.Is(err, c.want) || (err == nil) != (c.want == nil) {
			t.Errorf("%s: Check(%q) = %v, want %v", c.what, c.password, err, c.want)
		}
	}
}

func TestPasswordComplexity(t *testing.T) {
	for _, c := range []struct {
		password string
		want     int
	}{
		{"", 0},
		{"aaaa", 0},
		{"aaAA", 1},
		{"aA1", 2},
		{"aA1!", 3},
		{"aA1é", 3}, // a non-ASCII letter counts as "anything else"
		{"aaaaaaaaaaaa", 1},
		{"aA1!aA1!aA1!", 4},
		{"éééééééééééé", 1}, // 12 characters, 24 bytes
	} {
		if got := domain.PasswordComplexity(c.password); got != c.want {
			t.Errorf("PasswordComplexity(%q) = %d, want %d", c.password, got, c.want)
		}
	}
}

func TestRejectListed(t *testing.T) {
	words := []string{"Admin", ""}
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"admin", true}, {"SUPERADMIN", true}, {"adm1n", false}, {"", false},
	} {
		if got := domain.RejectListed(c.s, words); got != c.want {
			t.Errorf("RejectListed(%q, %q) = %v, want %v", c.s, words, got, c.want)
		}
	}
	if domain.RejectListed("anything", nil) {
		t.Error("RejectListed with no words = true, want false")
	}
}
