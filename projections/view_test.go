package projections_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/projections"
)

// clock is a settable clock for views outside a synctest bubble.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

var viewT0 = time.Date(2031, 5, 4, 9, 0, 0, 0, time.UTC)

// viewFixture is a view with a few owners and the sequences it applied.
type viewFixture struct {
	v   *projections.View
	clk *clock
	seq uint64
}

func newFixture() *viewFixture {
	clk := &clock{t: viewT0}
	return &viewFixture{v: projections.NewView(clk.now), clk: clk}
}

func (f *viewFixture) apply(e domain.Event) uint64 {
	f.seq++
	if e.ID == "" {
		e.ID = fmt.Sprintf("ev%d", f.seq)
	}
	f.v.Apply(e, f.seq)
	return f.seq
}

func (f *viewFixture) user(id, username string) uint64 {
	return f.apply(domain.Event{Kind: domain.KindUserCreated, Owner: domain.UserOwner(id),
		Data: domain.EventData{User: &domain.User{ID: id, Username: username}}})
}

func (f *viewFixture) session(uid, sid string, expires time.Time) uint64 {
	return f.apply(domain.Event{Kind: domain.KindSessionCreated, Owner: domain.SessionOwner(uid, sid),
		Data: domain.EventData{Session: &domain.Session{ID: sid, UserID: uid, Created: f.clk.t, Expires: expires}}})
}

func (f *viewFixture) set(o domain.Owner, name, value string, expires time.Time) uint64 {
	return f.apply(domain.Event{Kind: domain.KindAttrSet, Owner: o, Data: domain.EventData{Attrs: []domain.Attr{
		{Name: name, Value: json.RawMessage(value), Created: f.clk.t, Modified: f.clk.t, Expires: expires}}}})
}

func TestView_Get(t *testing.T) {
	f := newFixture()
	f.user("zusr1", "alice")
	o := domain.UserAttrsOwner("zusr1")
	f.set(o, "live", `{"a":1}`, domain.Never)
	f.set(o, "soon", `"x"`, viewT0.Add(time.Minute))

	a, err := f.v.Get(o, "live")
	if err != nil || string(a.Value) != `{"a":1}` || a.Name != "live" || !a.Expires.Equal(domain.Never) || !a.Created.Equal(viewT0) {
		t.Fatalf("Get(live) = %+v, %v; want the stored attribute", a, err)
	}
	if _, err := f.v.Get(o, "missing"); !errors.Is(err, domain.ErrNoSuchAttr) {
		t.Fatalf("Get(missing) = %v, want ErrNoSuchAttr", err)
	}
	if _, err := f.v.Get(domain.UserAttrsOwner("zusr2"), "live"); !errors.Is(err, domain.ErrNoSuchAttr) {
		t.Fatalf("Get of another user's attribute = %v, want ErrNoSuchAttr", err)
	}

	t.Run("expired is invisible before sweep", func(t *testing.T) {
		f.clk.t = viewT0.Add(time.Minute) // expiration_time > now no longer holds
		if _, err := f.v.Get(o, "soon"); !errors.Is(err, domain.ErrNoSuchAttr) {
			t.Fatalf("Get(expired) = %v, want ErrNoSuchAttr", err)
		}
		if f.v.Exists(o, "soon") {
			t.Fatal("Exists(expired) = true, want false")
		}
		if got := f.v.Names(o); !slices.Equal(got, []string{"live"}) {
			t.Fatalf("Names = %q, want [live]", got)
		}
		if got := f.v.Len(); got != 2 {
			t.Fatalf("Len = %d, want 2 (nothing swept yet)", got)
		}
		// A write still decides against it: Snapshot returns it, expired.
		seq, snap := f.v.Snapshot(o, []string{"soon", "live", "missing"})
		soon, found := domain.LookupIn(snap)("soon")
		if seq != f.seq || len(snap) != 2 || !found || soon.Live(f.clk.t) {
			t.Fatalf("Snapshot = %d, %+v; want seq %d and both stored attributes, soon not live", seq, snap, f.seq)
		}
	})
}

func TestView_NamesSortedByBytes(t *testing.T) {
	f := newFixture()
	f.user("zusr1", "alice")
	o := domain.UserAttrsOwner("zusr1")
	if got := f.v.Names(o); got == nil || len(got) != 0 {
		t.Fatalf("Names with no attributes = %#v, want an empty, non-nil list", got)
	}
	for _, n := range []string{"b", "a.b", "Z", "é", "a", "a*", "a>", " "} {
		f.set(o, n, `1`, domain.Never)
	}
	want := []string{" ", "Z", "a", "a*", "a.b", "a>", "b", "é"}
	if got := f.v.Names(o); !slices.Equal(got, want) {
		t.Fatalf("Names = %q, want %q", got, want)
	}
}

func TestView_AttrEvents(t *testing.T) {
	f := newFixture()
	f.user("zusr1", "alice")
	o := domain.UserAttrsOwner("zusr1")
	f.set(o, "a", `1`, domain.Never)
	f.set(o, "b", `2`, domain.Never)
	f.apply(domain.Event{Kind: domain.KindAttrUpdated, Owner: o, Data: domain.EventData{Attrs: []domain.Attr{
		{Name: "a", Value: json.RawMessage(`"gAAAAA"`), Encrypted: true, Created: viewT0, Modified: viewT0.Add(time.Second), Expires: domain.Never}}}})
	a, _ := f.v.Get(o, "a")
	if string(a.Value) != `"gAAAAA"` || !a.Encrypted || !a.Modified.Equal(viewT0.Add(time.Second)) {
		t.Fatalf("after attr.updated Get(a) = %+v, want the new value, encrypted", a)
	}
	del := f.apply(domain.Event{Kind: domain.KindAttrDeleted, Owner: o, Data: domain.EventData{Names: []string{"a", "never-existed"}}})
	if f.v.Exists(o, "a") || !f.v.Exists(o, "b") {
		t.Fatal("after attr.deleted of a: a exists or b is gone")
	}
	if got := f.v.OwnerSeq(o); got != del {
		t.Fatalf("OwnerSeq after a delete = %d, want %d (the delete's sequence)", got, del)
	}
	last := f.apply(domain.Event{Kind: domain.KindAttrDeleted, Owner: o, Data: domain.EventData{Names: []string{"b"}}})
	if got := f.v.OwnerSeq(o); got != last {
		t.Fatalf("OwnerSeq after deleting every attribute = %d, want %d", got, last)
	}
}

func TestView_LastSeqPerOwner(t *testing.T) {
	f := newFixture()
	u1 := f.user("zusr1", "alice")
	u2 := f.user("zusr2", "bob")
	s1 := f.session("zusr1", "zust1", viewT0.Add(time.Hour))
	a1 := f.set(domain.UserAttrsOwner("zusr1"), "x", `1`, domain.Never)
	sa1 := f.set(domain.SessionAttrsOwner("zusr1", "zust1"), "x", `1`, domain.Never)
	claim := f.apply(domain.Event{Kind: domain.KindUsernameClaimed, Owner: domain.UsernameOwner("alice"),
		Data: domain.EventData{Username: "alice", UserID: "zusr1"}})
	for o, want := range map[domain.Owner]uint64{
		domain.UserOwner("zusr1"):                  u1,
		domain.UserOwner("zusr2"):                  u2,
		domain.UserOwner("zusr3"):                  0,
		domain.SessionOwner("zusr1", "zust1"):      s1,
		domain.UserAttrsOwner("zusr1"):             a1,
		domain.UserAttrsOwner("zusr2"):             0,
		domain.SessionAttrsOwner("zusr1", "zust1"): sa1,
		domain.UsernameOwner("alice"):              claim,
		domain.UsernameOwner("bob"):                0,
	} {
		if got := f.v.OwnerSeq(o); got != want {
			t.Errorf("OwnerSeq(%s) = %d, want %d", o, got, want)
		}
	}
	if got := f.v.Applied(); got != claim {
		t.Errorf("Applied = %d, want %d", got, claim)
	}
	if holder, seq := f.v.UsernameClaim("alice"); holder != "zusr1" || seq != claim {
		t.Errorf("UsernameClaim(alice) = %q, %d; want zusr1, %d", holder, seq, claim)
	}
	released := f.apply(domain.Event{Kind: domain.KindUsernameReleased, Owner: domain.UsernameOwner("alice")})
	if holder, seq := f.v.UsernameClaim("alice"); holder != "" || seq != released {
		t.Errorf("UsernameClaim(alice) after release = %q, %d; want free at %d", holder, seq, released)
	}
}

func TestView_Users(t *testing.T) {
	f := newFixture()
	f.user("zusr1", "alice")
	if u, ok := f.v.UserByName("alice"); !ok || u.ID != "zusr1" {
		t.Fatalf("UserByName(alice) = %+v, %v", u, ok)
	}
	if f.v.HasSuperUser() {
		t.Fatal("HasSuperUser with no super-user = true")
	}
	// Events carry the full snapshot: applying one replaces the account.
	f.apply(domain.Event{Kind: domain.KindUserUpdated, Owner: domain.UserOwner("zusr1"),
		Data: domain.EventData{User: &domain.User{ID: "zusr1", Username: "alice2", IsSuperUser: true}}})
	if _, ok := f.v.UserByName("alice"); ok {
		t.Fatal("UserByName(old name) after a rename found a user")
	}
	if u, ok := f.v.UserByName("alice2"); !ok || !u.IsSuperUser {
		t.Fatalf("UserByName(new name) = %+v, %v; want the renamed super-user", u, ok)
	}
	if !f.v.HasSuperUser() {
		t.Fatal("HasSuperUser = false, want true")
	}
}

func TestView_Sessions(t *testing.T) {
	f := newFixture()
	f.user("zusr1", "alice")
	f.session("zusr1", "zustb", viewT0.Add(time.Hour))
	f.clk.t = viewT0.Add(time.Second)
	f.session("zusr1", "zusta", viewT0.Add(time.Minute))
	f.session("zusr1", "zustc", viewT0.Add(2*time.Hour))
	// A login that raced the user's deletion is ignored.
	f.session("zusr9", "zustz", viewT0.Add(time.Hour))
	if _, _, ok := f.v.Session("zustz"); ok {
		t.Fatal("Session of an unknown user was kept")
	}

	ids := func() []string {
		var out []string
		for _, s := range f.v.UserSessions("zusr1") {
			out = append(out, s.ID)
		}
		return out
	}
	if got := ids(); !slices.Equal(got, []string{"zustb", "zusta", "zustc"}) {
		t.Fatalf("UserSessions = %q, want oldest first [zustb zusta zustc]", got)
	}
	f.clk.t = viewT0.Add(time.Minute) // zusta expires (now < expiration_time fails)
	if _, _, ok := f.v.Session("zusta"); ok {
		t.Fatal("Session(expired) found")
	}
	if got := ids(); !slices.Equal(got, []string{"zustb", "zustc"}) {
		t.Fatalf("UserSessions after one expired = %q, want [zustb zustc]", got)
	}
}

func TestView_CascadeOnSessionEnded(t *testing.T) {
	f := newFixture()
	f.user("zusr1", "alice")
	f.session("zusr1", "zust1", domain.Never)
	f.session("zusr1", "zust2", domain.Never)
	s1, s2 := domain.SessionAttrsOwner("zusr1", "zust1"), domain.SessionAttrsOwner("zusr1", "zust2")
	ua := domain.UserAttrsOwner("zusr1")
	f.set(s1, "step", `1`, domain.Never)
	f.set(s2, "step", `2`, domain.Never)
	f.set(ua, "theme", `"dark"`, domain.Never)

	f.apply(domain.Event{Kind: domain.KindSessionEnded, Owner: domain.SessionOwner("zusr1", "zust1"),
		Data: domain.EventData{Reason: domain.ReasonLogout}})
	if _, _, ok := f.v.Session("zust1"); ok {
		t.Fatal("Session after session.ended found")
	}
	if f.v.Exists(s1, "step") || len(f.v.Names(s1)) != 0 {
		t.Fatal("the ended session's attributes are still visible")
	}
	if !f.v.Exists(s2, "step") || !f.v.Exists(ua, "theme") {
		t.Fatal("ending one session removed another session's or the user's attributes")
	}
	if got := f.v.Len(); got != 2 {
		t.Fatalf("Len = %d, want 2 (the ended session's attribute freed)", got)
	}
	// A late attribute event for the ended session is not resurrected.
	f.set(s1, "late", `1`, domain.Never)
	if f.v.Exists(s1, "late") {
		t.Fatal("an attribute event after session.ended was applied")
	}
}

func TestView_CascadeOnUserDeleted(t *testing.T) {
	f := newFixture()
	f.user("zusr1", "alice")
	f.user("zusr2", "bob")
	f.session("zusr1", "zust1", domain.Never)
	f.session("zusr2", "zust2", domain.Never)
	f.set(domain.UserAttrsOwner("zusr1"), "a", `1`, domain.Never)
	f.set(domain.SessionAttrsOwner("zusr1", "zust1"), "b", `1`, domain.Never)
	f.set(domain.UserAttrsOwner("zusr2"), "a", `1`, domain.Never)
	f.set(domain.SessionAttrsOwner("zusr2", "zust2"), "b", `1`, domain.Never)

	f.apply(domain.Event{Kind: domain.KindUserDeleted, Owner: domain.UserOwner("zusr1")})
	if _, _, ok := f.v.User("zusr1"); ok {
		t.Fatal("User after user.deleted found")
	}
	if _, ok := f.v.UserByName("alice"); ok {
		t.Fatal("UserByName after user.deleted found")
	}
	if _, _, ok := f.v.Session("zust1"); ok || len(f.v.UserSessions("zusr1")) != 0 {
		t.Fatal("the deleted user's session is still there")
	}
	if f.v.Exists(domain.UserAttrsOwner("zusr1"), "a") || f.v.Exists(domain.SessionAttrsOwner("zusr1", "zust1"), "b") {
		t.Fatal("the deleted user's attributes are still visible")
	}
	if got := f.v.Len(); got != 2 {
		t.Fatalf("Len = %d, want 2 (only bob's attributes)", got)
	}
	if _, _, ok := f.v.Session("zust2"); !ok || !f.v.Exists(domain.UserAttrsOwner("zusr2"), "a") ||
		!f.v.Exists(domain.SessionAttrsOwner("zusr2", "zust2"), "b") {
		t.Fatal("deleting alice touched bob's session or attributes")
	}
	f.set(domain.UserAttrsOwner("zusr1"), "late", `1`, domain.Never)
	if f.v.Exists(domain.UserAttrsOwner("zusr1"), "late") {
		t.Fatal("an attribute event after user.deleted was applied")
	}
}

func TestView_HandleSkipsMalformed(t *testing.T) {
	f := newFixture()
	f.v.Handle(1, domain.Event{}, errors.New("malformed event"))
	if f.v.Skipped() != 1 || f.v.Applied() != 1 {
		t.Fatalf("after a malformed message: Skipped = %d, Applied = %d; want 1, 1", f.v.Skipped(), f.v.Applied())
	}
	f.v.Handle(2, domain.Event{ID: "x", Kind: domain.KindUserCreated, Owner: domain.UserOwner("zusr1"),
		Data: domain.EventData{User: &domain.User{ID: "zusr1", Username: "a"}}}, nil)
	if _, _, ok := f.v.User("zusr1"); !ok || f.v.Applied() != 2 {
		t.Fatalf("after an event: Applied = %d, user found %v; want 2, true", f.v.Applied(), ok)
	}
}

// A refused message (forged, off-subject, undecodable) changes no state,
// but its subject's owner takes its sequence: the stream counts it for the
// next append's expected sequence, so the owner stays writable.
func TestView_HandleRefusedKeepsOwnerWritable(t *testing.T) {
	f := newFixture()
	f.user("zusr1", "alice")
	f.session("zusr1", "zust1", domain.Never)
	f.set(domain.UserAttrsOwner("zusr1"), "a", `1`, domain.Never)
	refused := errors.New("event signature does not verify")
	owners := []domain.Owner{
		domain.UserAttrsOwner("zusr1"), domain.UserOwner("zusr1"), domain.SessionOwner("zusr1", "zust1"),
		domain.SessionAttrsOwner("zusr1", "zust1"), domain.UsernameOwner("alice"),
	}
	for _, o := range owners {
		f.seq++
		f.v.Handle(f.seq, domain.Event{Owner: o}, refused)
		if got := f.v.OwnerSeq(o); got != f.seq {
			t.Errorf("OwnerSeq(%v) after a refused message at %d = %d, want %d", o, f.seq, got, f.seq)
		}
	}
	if f.v.Skipped() != uint64(len(owners)) || f.v.Applied() != f.seq {
		t.Fatalf("Skipped = %d, Applied = %d; want %d, %d", f.v.Skipped(), f.v.Applied(), len(owners), f.seq)
	}
	if a, err := f.v.Get(domain.UserAttrsOwner("zusr1"), "a"); err != nil || string(a.Value) != "1" {
		t.Fatalf("the attribute after refused messages: %v %v, want 1", a, err)
	}
	if u, _, ok := f.v.User("zusr1"); !ok || u.Username != "alice" {
		t.Fatal("the account changed after a refused message")
	}
	if id, _ := f.v.UsernameClaim("alice"); id != "" {
		t.Fatalf("a refused message on a free claim gave it to %q", id)
	}
	// An owner the view holds nothing of stays so.
	f.seq++
	f.v.Handle(f.seq, domain.Event{Owner: domain.UserAttrsOwner("zusr9")}, refused)
	if got := f.v.OwnerSeq(domain.UserAttrsOwner("zusr9")); got != 0 {
		t.Fatalf("OwnerSeq of a user that does not exist = %d, want 0", got)
	}
}

func TestView_WaitApplied(t *testing.T) {
	f := newFixture()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.v.WaitApplied(ctx, 3) }()
	f.user("zusr1", "a")
	f.user("zusr2", "b")
	select {
	case err := <-done:
		t.Fatalf("WaitApplied(3) returned %v at sequence 2", err)
	default:
	}
	f.user("zusr3", "c")
	if err := <-done; err != nil {
		t.Fatalf("WaitApplied(3) at sequence 3 = %v, want nil", err)
	}
	if err := f.v.WaitApplied(ctx, 1); err != nil {
		t.Fatalf("WaitApplied of a past sequence = %v, want nil", err)
	}
	short, cancelShort := context.WithCancel(ctx)
	cancelShort()
	if err := f.v.WaitApplied(short, 99); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitApplied with a cancelled context = %v, want context.Canceled", err)
	}
}

// Waiters for many different sequences, registered in any order and while
// events are being applied, each return once their own sequence is applied
// (never before), and a waiter whose context ends returns its error
// without disturbing the others.
func TestView_WaitApplied_ManyWaiters(t *testing.T) {
	f := newFixture()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	const n = 200
	var wg sync.WaitGroup
	early := make(chan string, 2*n)
	for i := range n {
		seq := uint64(n - i) // the highest first
		wg.Go(func() {
			if err := f.v.WaitApplied(ctx, seq); err != nil {
				early <- fmt.Sprintf("WaitApplied(%d) = %v", seq, err)
			} else if at := f.v.Applied(); at < seq {
				early <- fmt.Sprintf("WaitApplied(%d) returned at sequence %d", seq, at)
			}
		})
	}
	gone, stop := context.WithCancel(ctx)
	defer stop()
	cancelled := make(chan error, 1)
	go func() { cancelled <- f.v.WaitApplied(gone, n/2) }()
	for i := range n {
		if i == n/4 {
			stop()
			if err := <-cancelled; !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled waiter: %v, want context.Canceled", err)
			}
		}
		f.user(fmt.Sprintf("zusr%d", i), fmt.Sprintf("u%d", i))
	}
	wg.Wait()
	close(early)
	for msg := range early {
		t.Error(msg)
	}
}
