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

func TestBackoff_AdmitAndSucceed(t *testing.T) {
	b := domain.Backoff{Threshold: 2, First: time.Second, Max: time.Minute}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	a := b.Admit(domain.Attempts{}, now)
	if a.Failures != 1 || a.Refused(now) {
		t.Fatalf("after one attempt: %+v refused %v, want 1 failure, not refused", a, a.Refused(now))
	}
	a = b.Admit(a, now)
	if a.Failures != 2 || !a.Refused(now) || a.Refused(now.Add(time.Second)) {
		t.Fatalf("at the threshold: %+v, want refused for exactly 1 s", a)
	}
	if s := b.Succeeded(a); s.Failures != 1 || s.Refused(now) {
		t.Fatalf("Succeeded at the threshold = %+v, want 1 failure and no window", s)
	}
	a = b.Admit(a, now.Add(time.Second))
	if !a.Refused(now.Add(2*time.Second)) || a.Refused(now.Add(3*time.Second)) {
		t.Fatalf("one past the threshold: %+v, want a 2 s window", a)
	}
	if s := b.Succeeded(a); s.Failures != 2 || s.Until != a.Until {
		t.Fatalf("Succeeded past the threshold = %+v, want 2 failures and the window kept", s)
	}
}
