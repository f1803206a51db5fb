package projections_test

import (
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/projections"
)

const uid, sid = "zusr1", "zust1"

// newUserView returns a view on the fake clock holding user uid (seq 1).
func newUserView() *projections.View {
	v := projections.NewView(time.Now) // inside a bubble, time.Now is the fake clock
	v.Apply(domain.Event{ID: "e1", Kind: domain.KindUserCreated, Owner: domain.UserOwner(uid),
		Data: domain.EventData{User: &domain.User{ID: uid, Username: "u"}}}, 1)
	return v
}

func setAttr(v *projections.View, o domain.Owner, name string, expires time.Time, seq uint64) {
	now := time.Now()
	v.Apply(domain.Event{ID: "s", Kind: domain.KindAttrSet, Owner: o, Time: now, Data: domain.EventData{
		Attrs: []domain.Attr{{Name: name, Value: []byte(`"x"`), Created: now, Modified: now, Expires: expires}}}}, seq)
}

type due struct {
	owner domain.Owner
	seq   uint64
	names []string
}

func expiredAttrs(v *projections.View) []due {
	var out []due
	v.ExpiredAttrs(time.Now(), func(o domain.Owner, seq uint64, names []string) bool {
		out = append(out, due{o, seq, names})
		return true
	})
	return out
}

func TestExpiry_ExpiredAttrIsKeptUntilItsEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newUserView()
		owner := domain.UserAttrsOwner(uid)
		setAttr(v, owner, "otp", time.Now().Add(time.Minute), 7)
		go v.RunSweeper(t.Context(), 10*time.Second)

		time.Sleep(time.Minute + 10*time.Second)
		synctest.Wait() // the sweeper has run and is blocked again
		if _, err := v.Get(owner, "otp"); !errors.Is(err, domain.ErrNoSuchAttr) {
			t.Fatalf("Get after expiry: err = %v, want ErrNoSuchAttr", err)
		}
		if got := v.Len(); got != 1 {
			t.Fatalf("Len after expiry, before any expired event = %d, want 1 (kept for the expirer)", got)
		}
		got := expiredAttrs(v)
		if len(got) != 1 || got[0].owner != owner || got[0].seq != 7 || !slices.Equal(got[0].names, []string{"otp"}) {
			t.Fatalf("ExpiredAttrs = %+v, want one entry for %s at seq 7 naming otp", got, owner)
		}

		v.Apply(domain.Event{ID: "x", Kind: domain.KindAttrExpired, Owner: owner,
			Data: domain.EventData{Names: []string{"otp"}}}, 8)
		if got := v.Len(); got != 0 {
			t.Fatalf("Len after the expired event = %d, want 0", got)
		}
		if got := v.OwnerSeq(owner); got != 8 {
			t.Fatalf("OwnerSeq after the expired event = %d, want 8", got)
		}
		if got := expiredAttrs(v); len(got) != 0 {
			t.Fatalf("ExpiredAttrs after the expired event = %+v, want none", got)
		}
	})
}

func TestExpiry_SweepDropsAfterGraceAndKeepsLastSeq(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newUserView()
		owner := domain.UserAttrsOwner(uid)
		setAttr(v, owner, "otp", time.Now().Add(time.Minute), 7)
		const interval = 10 * time.Second
		go v.RunSweeper(t.Context(), interval)

		time.Sleep(time.Minute + (projections.GraceIntervals-1)*interval)
		synctest.Wait()
		if got := v.Len(); got != 1 {
			t.Fatalf("Len within the grace = %d, want 1", got)
		}
		time.Sleep(2 * interval)
		synctest.Wait()
		if got := v.Len(); got != 0 {
			t.Fatalf("Len after the grace = %d, want 0 (the safety net)", got)
		}
		if got := v.OwnerSeq(owner); got != 7 {
			t.Fatalf("OwnerSeq after the sweep = %d, want 7", got)
		}
	})
}

func TestExpiry_SessionEndsAfterItsEarlierExpiredAttrs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newUserView()
		start := time.Now()
		sess := &domain.Session{ID: sid, UserID: uid, Created: start, Expires: start.Add(30 * time.Minute)}
		v.Apply(domain.Event{ID: "c", Kind: domain.KindSessionCreated, Owner: domain.SessionOwner(uid, sid),
			Data: domain.EventData{Session: sess}}, 2)
		attrs := domain.SessionAttrsOwner(uid, sid)
		setAttr(v, attrs, "early", start.Add(10*time.Minute), 3) // expires before the session
		setAttr(v, attrs, "late", start.Add(time.Hour), 4)       // would outlive it
		sessions := func() (out []string) {
			v.ExpiredSessions(time.Now(), func(s *domain.Session, seq, attrsSeq uint64, names []string) bool {
				out = append(out, s.ID)
				if seq != 2 || attrsSeq != 5 || !slices.Equal(names, []string{"late"}) {
					t.Errorf("ExpiredSessions gave seq %d, attrsSeq %d, names %q; want 2, 5, [late]", seq, attrsSeq, names)
				}
				return true
			})
			return out
		}

		time.Sleep(20 * time.Minute) // "early" has expired, the session is live
		if got := expiredAttrs(v); len(got) != 1 || !slices.Equal(got[0].names, []string{"early"}) {
			t.Fatalf("ExpiredAttrs at +20m = %+v, want [early] only", got)
		}
		if got := sessions(); len(got) != 0 {
			t.Fatalf("ExpiredSessions at +20m = %q, want none", got)
		}

		time.Sleep(40 * time.Minute) // the session has expired, and "late" is past its own expiry too
		got := expiredAttrs(v)
		if len(got) != 1 || got[0].owner != attrs || !slices.Equal(got[0].names, []string{"early"}) {
			t.Fatalf("ExpiredAttrs at +60m = %+v, want [early] only: late ends with the session", got)
		}
		if got := sessions(); len(got) != 0 {
			t.Fatalf("ExpiredSessions before early's expired event = %q, want none", got)
		}
		v.Apply(domain.Event{ID: "x", Kind: domain.KindAttrExpired, Owner: attrs,
			Data: domain.EventData{Names: []string{"early"}}}, 5)
		if got := sessions(); !slices.Equal(got, []string{sid}) {
			t.Fatalf("ExpiredSessions after early's expired event = %q, want [%s]", got, sid)
		}
		if got := expiredAttrs(v); len(got) != 0 {
			t.Fatalf("ExpiredAttrs after early's expired event = %+v, want none", got)
		}
		v.Apply(domain.Event{ID: "e", Kind: domain.KindSessionEnded, Owner: domain.SessionOwner(uid, sid),
			Data: domain.EventData{Reason: domain.ReasonExpired}}, 6)
		if got := sessions(); len(got) != 0 || v.Len() != 0 {
			t.Fatalf("after session.ended: sessions %q, Len %d; want none, 0", got, v.Len())
		}
	})
}
