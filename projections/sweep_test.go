package projections_test

import (
	"encoding/json"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/projections"
)

// TestSweepKeepsLastSeq is STYLE.md's example: an expired attribute is
// invisible at once, freed by the sweeper later, and its owner keeps the
// sequence of its last event.
func TestSweepKeepsLastSeq(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := projections.NewView(time.Now) // inside the bubble, time.Now is the fake clock
		v.Apply(domain.Event{ID: "u", Kind: domain.KindUserCreated, Owner: domain.UserOwner("zusr1"),
			Data: domain.EventData{User: &domain.User{ID: "zusr1", Username: "alice"}}}, 3)
		owner := domain.UserAttrsOwner("zusr1")
		now := time.Now()
		v.Apply(domain.Event{ID: "a", Kind: domain.KindAttrSet, Owner: owner, Data: domain.EventData{
			Attrs: []domain.Attr{{Name: "otp", Value: json.RawMessage(`"123"`), Created: now, Modified: now,
				Expires: now.Add(time.Minute)}}}}, 7)
		const interval = 10 * time.Second
		go v.RunSweeper(t.Context(), interval)

		time.Sleep(time.Minute) // returns at once; the fake clock jumps
		if _, err := v.Get(owner, "otp"); !errors.Is(err, domain.ErrNoSuchAttr) {
			t.Fatalf("Get after expiry: err = %v, want ErrNoSuchAttr", err)
		}
		// The sweeper frees what no expired event removed once the grace has passed.
		time.Sleep(projections.GraceIntervals*interval + interval)
		synctest.Wait() // the sweeper has run and is blocked again
		if got := v.Len(); got != 0 {
			t.Fatalf("Len after sweep = %d, want 0", got)
		}
		if got := v.OwnerSeq(owner); got != 7 {
			t.Fatalf("OwnerSeq after sweep = %d, want 7", got)
		}
	})
}

func TestSweepAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := projections.NewView(time.Now)
		v.Apply(domain.Event{ID: "u", Kind: domain.KindUserCreated, Owner: domain.UserOwner("zusr1"),
			Data: domain.EventData{User: &domain.User{ID: "zusr1", Username: "alice"}}}, 1)
		now := time.Now()
		v.Apply(domain.Event{ID: "s", Kind: domain.KindSessionCreated, Owner: domain.SessionOwner("zusr1", "zust1"),
			Data: domain.EventData{Session: &domain.Session{ID: "zust1", UserID: "zusr1", Created: now, Expires: now.Add(time.Hour)}}}, 2)
		attr := func(name string, expires time.Time) domain.Attr {
			return domain.Attr{Name: name, Value: json.RawMessage(`1`), Created: now, Modified: now, Expires: expires}
		}
		ua, sa := domain.UserAttrsOwner("zusr1"), domain.SessionAttrsOwner("zusr1", "zust1")
		v.Apply(domain.Event{ID: "a", Kind: domain.KindAttrSet, Owner: ua, Data: domain.EventData{
			Attrs: []domain.Attr{attr("short", now.Add(time.Second)), attr("forever", domain.Never)}}}, 3)
		v.Apply(domain.Event{ID: "b", Kind: domain.KindAttrSet, Owner: sa, Data: domain.EventData{
			Attrs: []domain.Attr{attr("step", domain.Never)}}}, 4)

		time.Sleep(2 * time.Second)
		if a, s := v.SweepAfter(0); a != 1 || s != 0 {
			t.Fatalf("SweepAfter(0) freed %d attributes, %d sessions; want 1, 0", a, s)
		}
		if !v.Exists(ua, "forever") || v.OwnerSeq(ua) != 3 {
			t.Fatalf("after the sweep: forever exists %v, OwnerSeq %d; want true, 3", v.Exists(ua, "forever"), v.OwnerSeq(ua))
		}

		// A session is freed, with its attributes, only a while after it expired.
		time.Sleep(time.Hour)
		if _, _, ok := v.Session("zust1"); ok {
			t.Fatal("Session after its expiry found")
		}
		if a, s := v.SweepAfter(0); a != 0 || s != 0 {
			t.Fatalf("SweepAfter(0) right after the session expired freed %d, %d; want nothing (grace)", a, s)
		}
		time.Sleep(time.Minute + time.Second)
		if a, s := v.SweepAfter(0); a != 1 || s != 1 {
			t.Fatalf("SweepAfter(0) a minute after the session expired freed %d attributes, %d sessions; want 1, 1", a, s)
		}
		if got := v.Len(); got != 1 {
			t.Fatalf("Len = %d, want 1 (forever)", got)
		}
	})
}
