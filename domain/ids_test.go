package domain_test

import (
	"math/big"
	"regexp"
	"strings"
	"testing"

	"github.com/ssoattr/ssoattr/domain"
)

var (
	userIDPattern    = regexp.MustCompile(`^zusr[0-9a-hjkmnp-tv-z]{1,26}$`)
	sessionIDPattern = regexp.MustCompile(`^zust[0-9a-hjkmnp-tv-z]{1,26}$`)
)

func TestNewUserID_Format(t *testing.T) {
	seen := make(map[string]bool)
	for range 2000 {
		id := domain.NewUserID()
		if !userIDPattern.MatchString(id) {
			t.Fatalf("NewUserID() = %q, want a match for %s", id, userIDPattern)
		}
		if seen[id] {
			t.Fatalf("NewUserID() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestNewSessionID_Format(t *testing.T) {
	for range 200 {
		if id := domain.NewSessionID(); !sessionIDPattern.MatchString(id) {
			t.Fatalf("NewSessionID() = %q, want a match for %s", id, sessionIDPattern)
		}
	}
}

// TestNewUserID_IsUUIDv4 decodes the Crockford base32 back to 128 bits and
// checks the version and variant bits of a random UUID (docs/API.md#identifiers-and-tokens).
func TestNewUserID_IsUUIDv4(t *testing.T) {
	const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	for range 200 {
		id := domain.NewUserID()
		digits := strings.TrimPrefix(id, "zusr")
		if digits[0] == '0' {
			t.Fatalf("NewUserID() = %q has a leading zero", id)
		}
		n := new(big.Int)
		for _, c := range digits {
			n.Lsh(n, 5)
			n.Or(n, big.NewInt(int64(strings.IndexRune(alphabet, c))))
		}
		if n.BitLen() > 128 {
			t.Fatalf("NewUserID() = %q holds %d bits, want at most 128", id, n.BitLen())
		}
		var u [16]byte
		n.FillBytes(u[:])
		if u[6]>>4 != 4 || u[8]>>6 != 2 {
			t.Fatalf("NewUserID() = %q: version %d, variant %b, want 4 and 10", id, u[6]>>4, u[8]>>6)
		}
	}
}

func TestIsToken(t *testing.T) {
	for s, want := range map[string]bool{
		domain.NewUserID():      true,
		domain.NewSessionID():   true,
		"":                      false,
		"zusr.abc":              false,
		"zusr*":                 false,
		"zusr>":                 false,
		"ZUSR1":                 false,
		"zusr abc":              false,
		strings.Repeat("a", 65): false,
	} {
		if got := domain.IsToken(s); got != want {
			t.Errorf("IsToken(%q) = %v, want %v", s, got, want)
		}
	}
}
