package eventstore_test

import (
	"reflect"
	"testing"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/eventstore"
)

func TestSubject_RoundTrip(t *testing.T) {
	for _, o := range []domain.Owner{
		domain.UserOwner("zusr1"),
		domain.UserAttrsOwner("zusr1"),
		domain.SessionOwner("zusr1", "zust2"),
		domain.SessionAttrsOwner("zusr1", "zust2"),
		domain.UsernameOwner("a.b*c> d"),
	} {
		s := eventstore.Subject(o)
		got, err := eventstore.ParseSubject(s)
		if err != nil || !reflect.DeepEqual(got, o) {
			t.Errorf("ParseSubject(Subject(%+v) = %q) = %+v, %v; want the owner back", o, s, got, err)
		}
	}
	if got := eventstore.Subject(domain.SessionAttrsOwner("zusr1", "zust2")); got != "sso.sattr.zusr1.zust2" {
		t.Errorf("Subject(session attrs) = %q, want sso.sattr.zusr1.zust2", got)
	}
}

func TestParseSubject_RejectsOthers(t *testing.T) {
	for _, s := range []string{"", "sso", "sso.user", "other.user.zusr1", "sso.user.zusr1.zust2",
		"sso.session.zusr1", "sso.uattr.zusr1.x", "sso.nope.zusr1", "sso.user.a.b.c", "sso.user.zusr1.",
		"sso.sattr.zusr1.zust2.x", "sso.session.zusr1."} {
		if o, err := eventstore.ParseSubject(s); err == nil {
			t.Errorf("ParseSubject(%q) = %+v, want an error", s, o)
		}
	}
}

func BenchmarkSubject(b *testing.B) {
	o := domain.SessionAttrsOwner("zusr3lq5v2c4mrbhbe2xvl3e7blq6e", "zust6mrbhbe2xvl3e7blq6e3lq5v2c4")
	b.ReportAllocs()
	for b.Loop() {
		_ = eventstore.Subject(o)
	}
}

func BenchmarkParseSubject(b *testing.B) {
	s := eventstore.Subject(domain.SessionAttrsOwner("zusr3lq5v2c4mrbhbe2xvl3e7blq6e", "zust6mrbhbe2xvl3e7blq6e3lq5v2c4"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eventstore.ParseSubject(s); err != nil {
			b.Fatal(err)
		}
	}
}
