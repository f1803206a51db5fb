package domain

import "time"

// Login back-off (docs/API.md#login-back-off): after Threshold
// consecutive failed attempts for one username, or one client address,
// further attempts are refused without being checked for a window that
// starts at First and doubles with each further failure, up to Max.
const (
	// UserFailThreshold is the failed logins for one username that start
	// its back-off.
	UserFailThreshold = 5
	// AddrFailThreshold is the failed attempts (logins, sign-up
	// confirmations) from one client address that start its back-off:
	// higher, since many users may share an address, but low enough that
	// one address cannot spray passwords over many usernames.
	AddrFailThreshold = 50
	// BackoffFirst is the first window; each further failure doubles it.
	BackoffFirst = time.Second
	// BackoffMax caps the window.
	BackoffMax = 15 * time.Minute
	// BackoffMemory is how long a record of failures is kept after the
	// last attempt it counts: a day without attempts forgets them.
	BackoffMemory = 24 * time.Hour
)

// Backoff is a back-off rule: the failures that start it and its windows.
type Backoff struct {
	Threshold  int
	First, Max time.Duration
}

// UserBackoff and AddrBackoff are the rules for usernames and addresses.
var (
	UserBackoff = Backoff{Threshold: UserFailThreshold, First: BackoffFirst, Max: BackoffMax}
	AddrBackoff = Backoff{Threshold: AddrFailThreshold, First: BackoffFirst, Max: BackoffMax}
)

// Attempts is the record of one username's or one address's consecutive
// failed attempts, shared by every replica. It holds no secret.
type Attempts struct {
	Failures int       `json:"failures"`
	Until    time.Time `json:"until,omitzero"` // attempts before it are refused
}

// Refused reports whether an attempt at now is refused unchecked.
func (a Attempts) Refused(now time.Time) bool { return now.Before(a.Until) }

// Fail returns the record after one more failed attempt at now. The
// failure that reaches the threshold, and each one after it, opens a
// window: First, doubled for each failure past the threshold, at most Max.
func (b Backoff) Fail(a Attempts, now time.Time) Attempts {
	a.Failures++
	if a.Failures >= b.Threshold {
		a.Until = now.Add(b.Window(a.Failures))
	}
	return a
}

// Window is the back-off after the given number of consecutive failures
// (0 below the threshold).
func (b Backoff) Window(failures int) time.Duration {
	if failures < b.Threshold {
		return 0
	}
	d := b.First
	for i := b.Threshold; i < failures && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Untrusted is the record that stands for one that cannot be trusted
// (its signature does not verify, or it does not decode), written at
// written: failing closed, it counts as the threshold reached then, so
// attempts are refused for the first window after it was written and
// the next failure or success replaces it with a record of the service's
// own. Read as "no failures" it would let anyone who can write to the
// bucket reset the back-off.
func (b Backoff) Untrusted(written time.Time) Attempts {
	return Attempts{Failures: b.Threshold, Until: written.Add(b.First)}
}
