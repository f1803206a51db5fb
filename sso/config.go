package sso

import (
	"net/netip"
	"runtime"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

// Config holds the SSO settings of docs/API.md#configuration. DefaultConfig returns Zato's
// defaults; the zero value is not usable.
type Config struct {
	AppsAll                 []string
	AppsLoginAllowed        []string
	AppsSignupAllowed       []string
	AppsLoginMetadata       []string
	AppsInformIfAppInvalid  bool
	LoginRejectIfNotListed  bool
	InformIfLocked          bool
	InformIfNotConfirmed    bool
	InformIfNotApproved     bool
	InformIfTOTPMissing     bool
	SessionExpiry           time.Duration
	PasswordExpiry          time.Duration
	PasswordAboutToExpire   time.Duration
	InformIfPasswordExpired bool
	InformIfAboutToExpire   bool
	LogInIfAboutToExpire    bool
	InformIfMustBeChanged   bool
	InformIfPasswordInvalid bool
	PasswordMinLength       int
	PasswordMaxLength       int
	PasswordMinComplexity   int
	PasswordRejectList      []string
	// PasswordRounds is the PBKDF2-SHA512 iteration count for new hashes.
	PasswordRounds int
	// HashConcurrency bounds the password hash computations (checks and new
	// hashes) running at once (0: DefaultHashConcurrency). HashQueue bounds
	// the requests waiting for one (0: DefaultHashQueue), and HashWait how
	// long each waits (0: DefaultHashWait); past either the request is
	// domain.ErrBusy.
	HashConcurrency int
	HashQueue       int
	HashWait        time.Duration
	// UserBackoff and AddrBackoff are the login back-off rules per username
	// and per client address (domain.UserBackoff, domain.AddrBackoff).
	UserBackoff, AddrBackoff domain.Backoff

	SignupApprovalNeeded  bool
	SignupEmailRequired   bool
	SignupMaxUsername     int
	SignupMaxEmail        int
	InformIfUserExists    bool
	InformIfUserInvalid   bool
	InformIfEmailExists   bool
	InformIfEmailInvalid  bool
	RejectUsername        []string
	RejectEmail           []string
	SearchDefaultPageSize int
	SearchMaxPageSize     int
	EncryptEmail          bool
	UserAddressList       map[string][]netip.Prefix // nil entry list: nothing allowed; see AllowAll
	UserAddressAllowAll   map[string]bool           // usernames listed with "*"
	DefaultTOTPLabel      string

	// MaxItems bounds the items or names of one many-mode request, read or
	// write (default domain.MaxItems); MaxWriteBytes the bytes of a write's
	// values as stored.
	MaxItems      int
	MaxWriteBytes int
	// MaxConflictRetries bounds how often a command is decided again after
	// losing a race with another writer. Each loss costs a random pause,
	// doubling up to 256 ms, so the request deadline bounds the total as well. A
	// command out of attempts is answered as unavailable (503 E008005,
	// nothing stored); a small budget keeps a busy owner, or a cluster in
	// trouble, from turning each write into a storm of retries.
	MaxConflictRetries int
	// LocalReads skips the read-your-writes barrier: a request sees what this
	// process has applied, which may miss a change another replica has just
	// acknowledged. Off by default.
	LocalReads bool
}

// DefaultHashConcurrency is the default of Config.HashConcurrency: one
// fewer than the cores the process may use (runtime.GOMAXPROCS), at least
// one. A hash computation runs until the scheduler preempts it (a 10 ms
// time slice), so with one on every core any other request waits for a
// slice to end: in the login_flood benchmark on 2 cores, two at once made
// a GET's median 40 ms during the flood against 0.2 ms with one
// (docs/PERFORMANCE.md).
func DefaultHashConcurrency() int { return max(1, runtime.GOMAXPROCS(0)-1) }

// Defaults of the password hashing bounds (Config.HashQueue, HashWait):
// 64 logins at once queue (each waits about 64 × 75 ms / cores) rather
// than being refused; a wait over 5 s, or a longer queue, is refused.
const (
	DefaultHashQueue = 256
	DefaultHashWait  = 5 * time.Second
)

// DefaultConfig returns the defaults of docs/API.md#configuration (Zato's generated sso.conf).
func DefaultConfig() Config {
	return Config{
		AppsAll:                 []string{"CRM"},
		AppsLoginAllowed:        []string{"CRM"},
		AppsSignupAllowed:       []string{"CRM"},
		AppsInformIfAppInvalid:  true,
		InformIfLocked:          true,
		InformIfNotConfirmed:    true,
		InformIfNotApproved:     true,
		InformIfTOTPMissing:     true,
		SessionExpiry:           60 * time.Minute,
		PasswordExpiry:          730 * 24 * time.Hour,
		PasswordAboutToExpire:   30 * 24 * time.Hour,
		InformIfAboutToExpire:   true,
		LogInIfAboutToExpire:    true,
		InformIfMustBeChanged:   true,
		InformIfPasswordInvalid: true,
		PasswordMinLength:       8,
		PasswordMaxLength:       256,
		PasswordRejectList: []string{"111111", "123123", "123321", "123456", "123qwe", "1q2w3e",
			"1q2w3e4r", "1q2w3e4r5t", "222222", "333333", "444444", "555555", "654321", "666666",
			"777777", "888888", "999999", "987654321", "abc123", "abcdef", "admin", "dragon",
			"iloveyou", "letmein", "monkey", "password", "qwerty", "sunshine", "welcome"},
		PasswordRounds:        120000,
		UserBackoff:           domain.UserBackoff,
		AddrBackoff:           domain.AddrBackoff,
		SignupApprovalNeeded:  true,
		SignupEmailRequired:   true,
		SignupMaxUsername:     128,
		SignupMaxEmail:        128,
		RejectUsername:        []string{"zato", "admin", "root", "system", "sso"},
		RejectEmail:           []string{"zato", "admin", "root", "system", "sso"},
		SearchDefaultPageSize: 50,
		SearchMaxPageSize:     100,
		EncryptEmail:          true,
		DefaultTOTPLabel:      "Zato SSO",
		MaxItems:              domain.MaxItems,
		MaxWriteBytes:         512 << 10,
		MaxConflictRetries:    24,
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// CheckApp is step 4 of docs/API.md#processing-order: current_app must be one of apps.all.
func (s *Service) CheckApp(app string) error {
	if contains(s.cfg.AppsAll, app) {
		return nil
	}
	return domain.Hide(domain.ErrAppInvalid, s.cfg.AppsInformIfAppInvalid)
}
