package sso_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
	"github.com/ssoattr/ssoattr/sso"
)

// meta is the request every test operation comes from: the default
// configured application, which may log in.
var meta = sso.Meta{App: "CRM", CID: "sso-test", RemoteAddr: "127.0.0.1"}

// account is a user the tests made, with a live session.
type account struct {
	user *domain.User
	ust  string
}

// newAccount creates an approved user (a super-user if super) through svc
// and logs it in.
func newAccount(t *testing.T, svc *sso.Service, username string, super bool) account {
	t.Helper()
	ctx := t.Context()
	password := nodetest.Password
	var u *domain.User
	var err error
	if super {
		u, err = svc.CreateSuperUser(ctx, meta, username, password, nil)
	} else {
		u, _, err = svc.CreateUserByAdmin(ctx, meta, sso.NewUser{Username: username, Password: &password})
	}
	if err != nil {
		t.Fatalf("create %s: %v", username, err)
	}
	res, err := svc.Login(ctx, meta, sso.LoginInput{Username: username, Password: password})
	if err != nil {
		t.Fatalf("log in %s: %v", username, err)
	}
	return account{user: u, ust: res.UST}
}

// value is v as the JSON text of an attribute value.
func value(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// set writes one user attribute of the caller's (or userID's) with op.
func set(ctx context.Context, svc *sso.Service, ust, userID string, op domain.AttrOp, name string, v any) error {
	return svc.WriteAttrs(ctx, meta, ust, sso.AttrScope{UserID: userID}, op,
		sso.AttrWrites{Items: []sso.AttrItem{{AttrWrite: domain.AttrWrite{Name: name, Value: value(v)}}}})
}

// TestCommit_ConcurrentWriters has writers on one owner, in one process and
// in two (two Services, each with its own view, on one stream): every write
// that was acknowledged is in the stream exactly once, the losers of a race
// decided again (the services counted retries), and of the writers creating
// one name exactly one won while the others were told it exists.
func TestCommit_ConcurrentWriters(t *testing.T) {
	url, _ := nodetest.StartNATS(t)
	a := nodetest.Start(t, nodetest.WithNATS(url))
	b := nodetest.Start(t, nodetest.WithNATS(url))
	owner := newAccount(t, a.SSO, "owner", false)
	// Owner's session is known to b once b's view has caught up.
	if err := b.SSO.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	const writers, each = 6, 4 // per service
	services := []*sso.Service{a.SSO, b.SSO}

	var wg sync.WaitGroup
	var wins atomic.Int32
	errs := make(chan error, 2*writers*(each+1))
	for si, svc := range services {
		for w := range writers {
			wg.Go(func() {
				for k := range each {
					name := fmt.Sprintf("s%d-w%d-%d", si, w, k)
					if err := set(t.Context(), svc, owner.ust, "", domain.OpCreate, name, k); err != nil {
						errs <- fmt.Errorf("create %s: %w", name, err)
					}
				}
				switch err := set(t.Context(), svc, owner.ust, "", domain.OpCreate, "contested", w); {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, domain.ErrAttrExists):
					errs <- fmt.Errorf("create contested: %w, want nil or ErrAttrExists", err)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := wins.Load(); n != 1 {
		t.Errorf("%d writers created the contested attribute, want exactly 1", n)
	}
	if a.SSO.Retries()+b.SSO.Retries() == 0 {
		t.Error("no write was decided again: the writers never raced, the test proves nothing")
	}

	created := map[string]int{}
	for _, e := range a.OwnerEvents(domain.UserAttrsOwner(owner.user.ID)) {
		if e.Kind != domain.KindAttrCreated {
			t.Errorf("unexpected event %s", e.Kind)
		}
		for _, at := range e.Data.Attrs {
			created[at.Name]++
		}
	}
	if len(created) != 2*writers*each+1 {
		t.Errorf("the stream holds %d names, want %d", len(created), 2*writers*each+1)
	}
	for si := range services {
		for w := range writers {
			for k := range each {
				if name := fmt.Sprintf("s%d-w%d-%d", si, w, k); created[name] != 1 {
					t.Errorf("%s is in the stream %d times, want once", name, created[name])
				}
			}
		}
	}
	if created["contested"] != 1 {
		t.Errorf("contested is in the stream %d times, want once", created["contested"])
	}
}

// interloper is the real store, with another writer that appends to the
// same owner, through another Service, just before each of the first
// `times` appends: the writing Service's view is then always one event
// behind, as when another process wrote meanwhile.
type interloper struct {
	sso.Store
	write func(i int) error // the other writer's append
	times int
	calls atomic.Int32
	err   error
}

func (s *interloper) AppendAll(ctx context.Context, ps []domain.Pending) (uint64, error) {
	if i := int(s.calls.Add(1)); i <= s.times {
		if err := s.write(i); err != nil && s.err == nil {
			s.err = err
		}
	}
	return s.Store.AppendAll(ctx, ps)
}

// staleService is a Service on inst's view and store that finds, before
// each of its first `times` appends, that inst's own Service wrote the
// attribute "shared" of user owner meanwhile.
func staleService(t *testing.T, inst *nodetest.Instance, owner account, times, retries int) (*sso.Service, *interloper) {
	t.Helper()
	cfg := nodetest.Config()
	cfg.MaxConflictRetries = retries
	st := &interloper{Store: inst.Store, times: times, write: func(i int) error {
		return set(t.Context(), inst.SSO, owner.ust, "", domain.OpSet, "shared", fmt.Sprintf("other-%d", i))
	}}
	return sso.New(cfg, inst.View, st, nodetest.Keys, time.Now, slog.New(slog.DiscardHandler)), st
}

// TestCommit_StaleView is a write whose view missed another writer's
// append: it catches up and decides again on the fresh state, rather than
// failing with the conflict. One retry must do: after catching up the view
// holds the other write.
func TestCommit_StaleView(t *testing.T) {
	inst := nodetest.Start(t)
	owner := newAccount(t, inst.SSO, "owner", false)
	ctx := t.Context()

	t.Run("set_succeeds_over_the_other_write", func(t *testing.T) {
		svc, st := staleService(t, inst, owner, 1, 1)
		if err := set(ctx, svc, owner.ust, "", domain.OpSet, "shared", "mine"); err != nil {
			t.Fatalf("set after another writer: %v, want success after a retry", err)
		}
		if st.err != nil {
			t.Fatal(st.err)
		}
		if n := st.calls.Load(); n != 2 {
			t.Errorf("%d appends, want 2 (the lost one and the retry)", n)
		}
		if n := svc.Retries(); n != 1 {
			t.Errorf("Retries() = %d, want 1", n)
		}
		got, err := svc.GetAttrs(ctx, meta, owner.ust, sso.AttrScope{}, []string{"shared"}, false)
		if err != nil || got[0].Attr == nil || string(got[0].Attr.Value) != `"mine"` {
			t.Fatalf("shared = %+v, %v; want \"mine\", the last write", got, err)
		}
	})
	t.Run("create_decided_again_is_exists", func(t *testing.T) {
		// The other writer creates the name first: deciding again on the
		// fresh view gives the answer a later create gets, not a conflict.
		svc, st := staleService(t, inst, owner, 1, 1)
		if err := set(ctx, svc, owner.ust, "", domain.OpCreate, "shared2", "mine"); err != nil {
			t.Fatalf("create of a name nobody has: %v", err)
		}
		st.calls.Store(0)
		st.write = func(int) error {
			return set(ctx, inst.SSO, owner.ust, "", domain.OpCreate, "contested", "other")
		}
		err := set(ctx, svc, owner.ust, "", domain.OpCreate, "contested", "mine")
		if !errors.Is(err, domain.ErrAttrExists) {
			t.Fatalf("create after another writer created it: %v, want ErrAttrExists", err)
		}
		if st.err != nil {
			t.Fatal(st.err)
		}
	})
}

// TestCommit_RetriesExhausted is a write that loses every race: after
// MaxConflictRetries retries it answers domain.ErrUnavailable (E008005:
// not stored), stores nothing, and does not wait without bound.
func TestCommit_RetriesExhausted(t *testing.T) {
	inst := nodetest.Start(t)
	owner := newAccount(t, inst.SSO, "owner", false)
	const retries = 3
	svc, st := staleService(t, inst, owner, 1000, retries)
	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second) // a loop without bound fails, not hangs
	defer cancel()
	err := set(ctx, svc, owner.ust, "", domain.OpSet, "shared", "mine")
	if !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("write that lost every race: %v, want ErrUnavailable", err)
	}
	if st.err != nil {
		t.Fatal(st.err)
	}
	if n := st.calls.Load(); n != retries+1 {
		t.Errorf("%d appends, want %d (the first and %d retries)", n, retries+1, retries)
	}
	if n := svc.Retries(); n != retries {
		t.Errorf("Retries() = %d, want %d", n, retries)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v: the back-off is not bounded", d)
	}
	for _, e := range inst.OwnerEvents(domain.UserAttrsOwner(owner.user.ID)) {
		for _, at := range e.Data.Attrs {
			if string(at.Value) == `"mine"` {
				t.Errorf("the failed write is in the stream (%s)", e.Kind)
			}
		}
	}
}
