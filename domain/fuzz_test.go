package domain_test

import (
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

// FuzzParseTime feeds date-time input (docs/API.md#time-format) to ParseTime. Property: it
// rejects the input or returns a UTC time at microsecond precision that
// FormatTime writes and ParseTime reads back unchanged. It never panics.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"2030-01-02", "2030-01-02T03:04:05", "2030-01-02T03:04:05.5", "2030-01-02T03:04:05.123456",
		"2030-01-02T03:04:05.1234567", "2030-01-02T03:04:05Z", "2030-01-02T03:04:05+05:30",
		"2030-01-02T03:04:05.000001-11:00", "9999-12-31T00:00:00", "0001-01-01T00:00:00",
		"9999-12-31T23:59:59-01:00", "0000-01-01T00:30:00+01:00", "0000-01-01",
		"2030-02-30", "2030-01-02T24:00:00", "2030-01-02 03:04:05", "2030-01-02T03:04:05+05:60", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := domain.ParseTime(s)
		if err != nil {
			return
		}
		if got.Location() != time.UTC || got.Nanosecond()%1000 != 0 {
			t.Fatalf("ParseTime(%q) = %v: not UTC at microsecond precision", s, got)
		}
		out := domain.FormatTime(got)
		again, err := domain.ParseTime(out)
		if err != nil || !again.Equal(got) {
			t.Fatalf("ParseTime(%q) = %v, written %q, read back as %v, %v", s, got, out, again, err)
		}
	})
}
