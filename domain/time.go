package domain

import (
	"errors"
	"strings"
	"time"
)

// Never is the expiration time of something that never expires (docs/API.md#time-format).
var Never = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// Truncate brings t to UTC with microsecond precision, the resolution the
// service stores (docs/API.md#time-format).
func Truncate(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// FormatTime writes t as Python's datetime.isoformat() of a naive UTC value:
// YYYY-MM-DDTHH:MM:SS, plus .ffffff only when the microseconds are non-zero
// (docs/API.md#time-format).
func FormatTime(t time.Time) string {
	var buf [32]byte
	return string(AppendTime(buf[:0], t))
}

// AppendTime appends t as FormatTime writes it. A JSON reply holds several
// times, so it writes the digits itself rather than have time.Format
// interpret a layout each time; TestAppendTime compares the two.
func AppendTime(b []byte, t time.Time) []byte {
	t = Truncate(t)
	year, month, day := t.Date()
	if year < 0 || year > 9999 { // not four digits: time.Format writes them as it does
		if t.Nanosecond() == 0 {
			return t.AppendFormat(b, "2006-01-02T15:04:05")
		}
		return t.AppendFormat(b, "2006-01-02T15:04:05.000000")
	}
	hour, minute, sec := t.Clock()
	d := [...]byte{'Y', 'Y', 'Y', 'Y', '-', 'M', 'M', '-', 'D', 'D', 'T',
		'h', 'h', ':', 'm', 'm', ':', 's', 's', '.', 'f', 'f', 'f', 'f', 'f', 'f'}
	putDigits(d[0:4], year)
	putDigits(d[5:7], int(month))
	putDigits(d[8:10], day)
	putDigits(d[11:13], hour)
	putDigits(d[14:16], minute)
	putDigits(d[17:19], sec)
	us := t.Nanosecond() / 1000
	if us == 0 {
		return append(b, d[:19]...)
	}
	putDigits(d[20:], us)
	return append(b, d[:]...)
}

// putDigits writes n, which is not negative, as len(dst) decimal digits.
func putDigits(dst []byte, n int) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + n%10)
		n /= 10
	}
}

// AddClamped returns t+d, clamped to Never.
func AddClamped(t time.Time, d time.Duration) time.Time {
	if d < 0 || d > Never.Sub(t) {
		return Never
	}
	return t.Add(d)
}

// ExpiresAfter returns the expiry for "seconds from now" (docs/API.md#expiration-and-encryption): 0 means
// never, anything later than Never is clamped to it.
func ExpiresAfter(now time.Time, seconds int64) time.Time {
	// Work in whole seconds: a time.Duration saturates at about 292 years,
	// which is well short of Never.
	if seconds <= 0 || seconds >= Never.Unix()-now.Unix() {
		return Never
	}
	return time.Unix(now.Unix()+seconds, int64(now.Nanosecond())).UTC()
}

var errBadTime = errors.New("not a date-time (docs/API.md#time-format)")

// ParseTime reads the input forms of docs/API.md#time-format: YYYY-MM-DD, or
// YYYY-MM-DDTHH:MM:SS[.f{1,6}], optionally followed by Z or ±HH:MM.
// The result is in UTC with microsecond precision.
func ParseTime(s string) (time.Time, error) {
	if len(s) == 10 {
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return time.Time{}, errBadTime
		}
		return t, nil
	}
	if len(s) < 19 || s[10] != 'T' {
		return time.Time{}, errBadTime
	}
	rest := s[19:]
	frac := ""
	if strings.HasPrefix(rest, ".") {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		frac, rest = rest[:n], rest[n:]
		if len(frac) < 2 || len(frac) > 7 {
			return time.Time{}, errBadTime
		}
	}
	zone := "Z"
	switch {
	case rest == "" || rest == "Z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' && rest[4] < '6':
		// time.Parse checks the hours of an offset but takes "+05:60" as +06:00.
		zone = rest
	default:
		return time.Time{}, errBadTime
	}
	t, err := time.Parse(time.RFC3339Nano, s[:19]+frac+zone)
	if err != nil {
		return time.Time{}, errBadTime
	}
	// An offset can carry 9999-12-31 into year 10000 (or 0000-01-01 into
	// year -1), which FormatTime cannot write as output (docs/API.md#time-format).
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return time.Time{}, errBadTime
	}
	return Truncate(t), nil
}
