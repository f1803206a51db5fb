package domain

import (
	"crypto/rand"
	"math/big"
)

const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// Prefixes of generated identifiers (docs/API.md#identifiers-and-tokens).
const (
	UserIDPrefix    = "zusr"
	SessionIDPrefix = "zust"
)

// NewUserID returns a fresh user id: "zusr" + the lowercase Crockford base32
// form of a random UUIDv4's 128-bit integer, without leading zeros.
func NewUserID() string { return UserIDPrefix + randomUUIDBase32() }

// NewSessionID returns a fresh internal session id ("zust" + the same
// encoding). It is never shown to clients; they get a sealed UST instead.
func NewSessionID() string { return SessionIDPrefix + randomUUIDBase32() }

func randomUUIDBase32() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails (Go 1.24+)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	n := new(big.Int).SetBytes(u[:])
	var buf [26]byte
	i := len(buf)
	base := big.NewInt(32)
	mod := new(big.Int)
	for n.Sign() > 0 {
		n.DivMod(n, base, mod)
		i--
		buf[i] = crockford[mod.Int64()]
	}
	return string(buf[i:])
}

// IsToken reports whether s can be used as a subject token: the ids the
// service generates are lowercase base32 after a fixed prefix, so only
// those characters are allowed. Anything else (user input in a user_id field)
// is rejected before it reaches a subject.
func IsToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}
