package domain_test

import (
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

func TestSession_Live(t *testing.T) {
	s := domain.Session{Expires: t1}
	if !s.Live(t1.Add(-time.Microsecond)) || s.Live(t1) {
		t.Fatal("Live must be now < expiration_time (docs/API.md#sessions)")
	}
}

func TestSession_AddHistoryKeepsLast100(t *testing.T) {
	var s domain.Session
	for i := range 150 {
		s.AddHistory(domain.HistoryEntry{Source: "renew", Timestamp: t0.Add(time.Duration(i) * time.Second)})
	}
	if len(s.History) != domain.MaxHistory {
		t.Fatalf("len(History) = %d, want %d", len(s.History), domain.MaxHistory)
	}
	if first, last := s.History[0].Idx, s.History[len(s.History)-1].Idx; first != 51 || last != 150 {
		t.Fatalf("History idx runs %d..%d, want 51..150 (oldest dropped first)", first, last)
	}
}

func TestOwner_String(t *testing.T) {
	for o, want := range map[domain.Owner]string{
		domain.UserOwner("zusr1"):                  "user/zusr1",
		domain.UserAttrsOwner("zusr1"):             "uattr/zusr1",
		domain.SessionOwner("zusr1", "zust2"):      "session/zusr1/zust2",
		domain.SessionAttrsOwner("zusr1", "zust2"): "sattr/zusr1/zust2",
	} {
		if got := o.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", o, got, want)
		}
	}
}

func TestUsernameOwner_IsASubjectToken(t *testing.T) {
	for _, name := range []string{"alice", "a.b", "a*b>", "with space", "名前", ""} {
		o := domain.UsernameOwner(name)
		if o.Kind != domain.OwnerUsername || !domain.IsToken(o.User) {
			t.Errorf("UsernameOwner(%q) = %+v, want a username owner with a token", name, o)
		}
	}
	if domain.UsernameOwner("alice") == domain.UsernameOwner("bob") {
		t.Error("UsernameOwner(alice) = UsernameOwner(bob), want distinct owners")
	}
}
