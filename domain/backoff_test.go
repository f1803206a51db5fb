package domain_test

import (
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

func TestBackoff_Window(t *testing.T) {
	b := domain.UserBackoff
	for failures, want := range map[int]time.Duration{
		0: 0, 4: 0, 5: time.Second, 6: 2 * time.Second, 7: 4 * time.Second,
		14: 512 * time.Second, 15: 15 * time.Minute, 100: 15 * time.Minute,
	} {
		if got := b.Window(failures); got != want {
			t.Errorf("Window(%d) = %s, want %s", failures, got, want)
		}
	}
}

func TestBackoff_Fail(t *testing.T) {
	b := domain.Backoff{Threshold: 2, First: time.Second, Max: time.Minute}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	a := b.Fail(domain.Attempts{}, now)
	if a.Failures != 1 || a.Refused(now) {
		t.Fatalf("after one failure: %+v refused %v, want 1 failure, not refused", a, a.Refused(now))
	}
	a = b.Fail(a, now)
	if a.Failures != 2 || !a.Refused(now) || a.Refused(now.Add(time.Second)) {
		t.Fatalf("at the threshold: %+v, want refused for exactly 1 s", a)
	}
	a = b.Fail(a, now.Add(time.Second))
	if !a.Refused(now.Add(2*time.Second)) || a.Refused(now.Add(3*time.Second)) {
		t.Fatalf("one past the threshold: %+v, want a 2 s window", a)
	}
}

func TestBackoff_Untrusted(t *testing.T) {
	b := domain.Backoff{Threshold: 3, First: time.Minute, Max: time.Hour}
	written := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	a := b.Untrusted(written)
	if a.Failures != b.Threshold || !a.Refused(written.Add(time.Minute-time.Nanosecond)) || a.Refused(written.Add(time.Minute)) {
		t.Fatalf("untrusted record %+v: want the threshold's failures, refused for exactly the first window", a)
	}
	if next := b.Fail(a, written.Add(time.Minute)); b.Window(next.Failures) != 2*time.Minute {
		t.Fatalf("a failure after the window: %+v, want the doubled window", next)
	}
}
