package domain_test

import (
	mathrand "math/rand/v2"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

func TestFormatTime(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
		want string
	}{
		{"whole seconds", time.Date(2031, 5, 4, 9, 10, 11, 0, time.UTC), "2031-05-04T09:10:11"},
		{"microseconds", time.Date(2031, 5, 4, 9, 10, 11, 250000000, time.UTC), "2031-05-04T09:10:11.250000"},
		{"one microsecond", time.Date(2031, 5, 4, 9, 10, 11, 1000, time.UTC), "2031-05-04T09:10:11.000001"},
		{"nanoseconds truncated", time.Date(2031, 5, 4, 9, 10, 11, 999, time.UTC), "2031-05-04T09:10:11"},
		{"nanoseconds truncated, not rounded", time.Date(2031, 5, 4, 9, 10, 11, 1999, time.UTC), "2031-05-04T09:10:11.000001"},
		{"other zone to UTC", time.Date(2031, 5, 4, 11, 10, 11, 0, time.FixedZone("CEST", 2*3600)), "2031-05-04T09:10:11"},
		{"never", domain.Never, "9999-12-31T00:00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := domain.FormatTime(tt.in); got != tt.want {
				t.Fatalf("FormatTime(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestAppendTime: AppendTime writes what time.Format writes with the
// format's layouts (with or without microseconds), for times in and out of
// four-digit years, in any zone.
func TestAppendTime(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	times := []time.Time{
		{}, domain.Never, time.Unix(0, 0), time.Unix(1, 999),
		time.Date(2031, 5, 4, 9, 10, 11, 250000000, time.UTC),
		time.Date(2031, 5, 4, 9, 10, 11, 999999999, time.UTC),
		time.Date(2031, 12, 31, 23, 59, 59, 1000, paris),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, paris),
	}
	r := mathrand.New(mathrand.NewPCG(1, 2))
	for range 10000 {
		times = append(times, time.Unix(r.Int64N(400_000_000_000)-62_000_000_000, r.Int64N(1e9)))
	}
	for _, tm := range times {
		u := tm.UTC().Truncate(time.Microsecond)
		want := u.Format("2006-01-02T15:04:05.000000")
		if u.Nanosecond() == 0 {
			want = u.Format("2006-01-02T15:04:05")
		}
		if got := string(domain.AppendTime([]byte("x"), tm)); got != "x"+want {
			t.Fatalf("AppendTime(x, %v) = %s, want x%s", tm, got, want)
		}
		if got := domain.FormatTime(tm); got != want {
			t.Fatalf("FormatTime(%v) = %s, want %s", tm, got, want)
		}
	}
}

func TestParseTime(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2031-05-04", utc(2031, 5, 4, 0, 0, 0, 0)},
		{"2031-05-04T09:10:11", utc(2031, 5, 4, 9, 10, 11, 0)},
		{"2031-05-04T09:10:11Z", utc(2031, 5, 4, 9, 10, 11, 0)},
		{"2031-05-04T09:10:11.2", utc(2031, 5, 4, 9, 10, 11, 200000000)},
		{"2031-05-04T09:10:11.250000", utc(2031, 5, 4, 9, 10, 11, 250000000)},
		{"2031-05-04T09:10:11.000001Z", utc(2031, 5, 4, 9, 10, 11, 1000)},
		{"2031-05-04T09:10:11+02:00", utc(2031, 5, 4, 7, 10, 11, 0)},
		{"2031-05-04T09:10:11.5-05:30", utc(2031, 5, 4, 14, 40, 11, 500000000)},
		{"2031-05-04T23:30:00-01:00", utc(2031, 5, 5, 0, 30, 0, 0)},
		{"9999-12-31T00:00:00", domain.Never},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := domain.ParseTime(tt.in)
			if err != nil {
				t.Fatalf("ParseTime(%q): %v, want %v", tt.in, err, tt.want)
			}
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Fatalf("ParseTime(%q) = %v, want %v (UTC)", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseTime_RejectsBadInput(t *testing.T) {
	for _, in := range []string{
		"",
		"2031",
		"2031-5-4",
		"2031-05-4",
		"2031/05/04",
		"2031-13-01",
		"2031-02-30",
		"2031-05-04 09:10:11",  // space separator
		"2031-05-04t09:10:11",  // lower-case separator
		"2031-05-04T09:10",     // no seconds
		"2031-05-04T24:00:00",  // hour out of range
		"2031-05-04T09:10:11.", // dot without digits
		"2031-05-04T09:10:11.1234567",
		"2031-05-04T09:10:11.12a",
		"2031-05-04T09:10:11z",
		"2031-05-04T09:10:11+0200",
		"2031-05-04T09:10:11+02",
		"2031-05-04T09:10:11+25:00",
		"2031-05-04T09:10:11+05:60",
		"2031-05-04T09:10:11 UTC",
		"2031-05-04Textra",
		"tomorrow",
	} {
		t.Run(in, func(t *testing.T) {
			if got, err := domain.ParseTime(in); err == nil {
				t.Fatalf("ParseTime(%q) = %v, want an error", in, got)
			}
		})
	}
}

func TestFormatParseRoundTrip(t *testing.T) {
	for _, in := range []time.Time{
		time.Date(2031, 5, 4, 9, 10, 11, 0, time.UTC),
		time.Date(2031, 5, 4, 9, 10, 11, 123456000, time.UTC),
		time.Date(2000, 1, 1, 0, 0, 0, 1000, time.UTC),
		domain.Never,
	} {
		s := domain.FormatTime(in)
		got, err := domain.ParseTime(s)
		if err != nil || !got.Equal(in) {
			t.Errorf("ParseTime(FormatTime(%v) = %q) = %v, %v; want %v", in, s, got, err, in)
		}
	}
}

func TestExpiresAfter(t *testing.T) {
	now := time.Date(2031, 5, 4, 9, 10, 11, 250000000, time.UTC)
	const year = 365 * 24 * 3600
	tests := []struct {
		name    string
		seconds int64
		want    time.Time
	}{
		{"zero is never", 0, domain.Never},
		{"negative is never", -5, domain.Never},
		{"one second", 1, now.Add(time.Second)},
		{"two hours", 7200, now.Add(2 * time.Hour)},
		// Beyond what a time.Duration holds (about 292 years), short of Never.
		{"400 years", 400 * year, time.Unix(now.Unix()+400*year, 250000000).UTC()},
		{"past Never is clamped", 8000 * year, domain.Never},
		{"huge is clamped", 1<<63 - 1, domain.Never},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := domain.ExpiresAfter(now, tt.seconds); !got.Equal(tt.want) {
				t.Fatalf("ExpiresAfter(now, %d) = %v, want %v", tt.seconds, got, tt.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	in := time.Date(2031, 5, 4, 11, 10, 11, 123456789, time.FixedZone("X", 2*3600))
	got := domain.Truncate(in)
	want := time.Date(2031, 5, 4, 9, 10, 11, 123456000, time.UTC)
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("Truncate(%v) = %v, want %v", in, got, want)
	}
}
