package sso

import (
	"log/slog"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/projections"
)

// benchService is a Service over a view holding a regular user and a
// super-user, each with a live session. It needs no store: the permission
// checks only read.
func benchService(b *testing.B) (s *Service, regular, super *Caller, otherUST string) {
	return benchServiceWith(b, func(*Config) {})
}

func benchServiceWith(b *testing.B, change func(*Config)) (s *Service, regular, super *Caller, otherUST string) {
	b.Helper()
	keys, err := ParseKeyring(NewKey())
	if err != nil {
		b.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.PasswordRounds = 1000 // only the dummy hash New makes
	change(&cfg)
	view := projections.NewView(time.Now)
	s = New(cfg, view, nil, keys, time.Now, slog.New(slog.DiscardHandler))
	now := domain.Truncate(time.Now())
	seq := uint64(0)
	caller := func(name string, isSuper bool) *Caller {
		u := &domain.User{ID: domain.NewUserID(), Username: name, IsSuperUser: isSuper,
			ApprovalStatus: domain.ApprovalApproved, SignUpStatus: domain.SignupFinal,
			PasswordExpiry: now.Add(time.Hour)}
		sess := &domain.Session{ID: domain.NewSessionID(), UserID: u.ID, Created: now, Expires: now.Add(time.Hour)}
		seq++
		view.Apply(domain.Event{Kind: domain.KindUserCreated, Owner: domain.UserOwner(u.ID), Data: domain.EventData{User: u}}, seq)
		seq++
		view.Apply(domain.Event{Kind: domain.KindSessionCreated, Owner: domain.SessionOwner(u.ID, sess.ID), Data: domain.EventData{Session: sess}}, seq)
		return &Caller{User: u, Session: sess}
	}
	regular, super = caller("regular", false), caller("super", true)
	return s, regular, super, keys.SealUST(regular.Session.ID)
}

// BenchmarkTargetUser is target-user resolution (docs/API.md#target-user): the caller
// itself, and a super-user naming another user.
func BenchmarkTargetUser(b *testing.B) {
	s, regular, super, _ := benchService(b)
	b.Run("self", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.targetUser(regular, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("super_other", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.targetUser(super, regular.User.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("regular_other_denied", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.targetUser(regular, super.User.ID); err != domain.ErrNotAllowed {
				b.Fatalf("err = %v, want ErrNotAllowed", err)
			}
		}
	})
}

// BenchmarkAttrOwner is the permission check of every attribute request.
func BenchmarkAttrOwner(b *testing.B) {
	s, regular, super, otherUST := benchService(b)
	cases := []struct {
		name   string
		c      *Caller
		scope  AttrScope
		itemID string
	}{
		{"user_self", regular, AttrScope{}, ""},
		{"user_super_item", super, AttrScope{}, regular.User.ID},
		{"session_own", regular, AttrScope{Session: true}, ""},
		{"session_super_target_ust", super, AttrScope{Session: true, TargetUST: otherUST}, ""},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.attrOwner(c.c, c.scope, c.itemID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAuthenticate is docs/API.md#caller-authentication/docs/API.md#account-checks for a token already opened once
// (the cache) and for one never seen (the Fernet work).
func BenchmarkAuthenticate(b *testing.B) {
	s, regular, _, ust := benchService(b)
	m := Meta{App: "CRM", RemoteAddr: "127.0.0.1"}
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if c, err := s.Authenticate(ust, m); err != nil || c.User.ID != regular.User.ID {
				b.Fatalf("Authenticate = %v, %v", c, err)
			}
		}
	})
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.keys.ustMu.Lock()
			clear(s.keys.ustCache)
			s.keys.ustMu.Unlock()
			if _, err := s.Authenticate(ust, m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGetAttrs is the service's side of GET of one attribute, read
// locally (the barrier is eventstore's to measure): authenticate, resolve
// the owner, read.
func BenchmarkGetAttrs(b *testing.B) {
	s, regular, _, ust := benchServiceWith(b, func(c *Config) { c.LocalReads = true })
	now := domain.Truncate(time.Now())
	s.view.(*projections.View).Apply(domain.Event{Kind: domain.KindAttrSet, Owner: domain.UserAttrsOwner(regular.User.ID),
		Data: domain.EventData{Attrs: []domain.Attr{{Name: "bench-attr-00001", Value: []byte(`"0123456789abcdef0123456789abcdef"`),
			Created: now, Modified: now, Expires: domain.Never}}}}, 100)
	m := Meta{App: "CRM", RemoteAddr: "127.0.0.1"}
	names := []string{"bench-attr-00001"}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		rs, err := s.GetAttrs(ctx, m, ust, AttrScope{}, names, true)
		if err != nil || len(rs) != 1 || rs[0].Attr == nil {
			b.Fatalf("GetAttrs = %v, %v", rs, err)
		}
	}
}
