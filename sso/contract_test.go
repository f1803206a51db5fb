package sso_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
	"github.com/ssoattr/ssoattr/sso"
)

// fixture is one instance with a super-user and two regular users, each
// logged in; alice has two sessions.
type fixture struct {
	svc               *sso.Service
	super, alice, bob account
	alice2            string // alice's second session
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	inst := nodetest.Start(t)
	f := &fixture{svc: inst.SSO}
	f.super = newAccount(t, f.svc, "root", true)
	f.alice = newAccount(t, f.svc, "alice", false)
	f.bob = newAccount(t, f.svc, "bob", false)
	res, err := f.svc.Login(t.Context(), meta, sso.LoginInput{Username: "alice", Password: nodetest.Password})
	if err != nil {
		t.Fatal(err)
	}
	f.alice2 = res.UST
	return f
}

// item is one attribute write with a JSON value.
func item(name string, v any) sso.AttrItem {
	return sso.AttrItem{AttrWrite: domain.AttrWrite{Name: name, Value: value(v)}}
}

// TestPermissions is who may act on whose attributes (docs/API.md#error-codes):
// a regular user only on their own (E005001 otherwise, whether it exists or
// not), a super-user on anyone's (E001100 for an unknown user_id); session
// attributes only of the caller's own sessions unless a super-user.
func TestPermissions(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	// Each owner has an attribute "a" to read.
	for _, c := range []struct {
		ust   string
		scope sso.AttrScope
	}{{f.alice.ust, sso.AttrScope{}}, {f.bob.ust, sso.AttrScope{}},
		{f.alice.ust, sso.AttrScope{Session: true}}, {f.bob.ust, sso.AttrScope{Session: true}}} {
		if err := f.svc.WriteAttrs(ctx, meta, c.ust, c.scope, domain.OpSet, sso.AttrWrites{Items: []sso.AttrItem{item("a", 1)}}); err != nil {
			t.Fatal(err)
		}
	}
	read := func(ust string, scope sso.AttrScope) error {
		res, err := f.svc.GetAttrs(ctx, meta, ust, scope, []string{"a"}, false)
		if err == nil && res[0].Attr == nil {
			return errors.New("read allowed but the attribute is missing")
		}
		return err
	}
	write := func(ust string, scope sso.AttrScope) error {
		return f.svc.WriteAttrs(ctx, meta, ust, scope, domain.OpSet, sso.AttrWrites{Items: []sso.AttrItem{item("w", 2)}})
	}
	writeItem := func(ust string, scope sso.AttrScope, userID string) error {
		it := item("w", 3)
		it.UserID = userID
		return f.svc.WriteAttrs(ctx, meta, ust, scope, domain.OpSet, sso.AttrWrites{Items: []sso.AttrItem{item("x", 3), it}})
	}
	del := func(ust string, scope sso.AttrScope) error {
		return f.svc.DeleteAttrs(ctx, meta, ust, scope, []string{"a"})
	}
	names := func(ust string, scope sso.AttrScope) error {
		_, err := f.svc.AttrNames(ctx, meta, ust, scope)
		return err
	}
	bobID, aliceID := f.bob.user.ID, f.alice.user.ID
	cases := []struct {
		name string
		op   func() error
		want error
	}{
		{"regular_reads_own", func() error { return read(f.alice.ust, sso.AttrScope{UserID: aliceID}) }, nil},
		{"regular_reads_other_user", func() error { return read(f.alice.ust, sso.AttrScope{UserID: bobID}) }, domain.ErrNotAllowed},
		{"regular_reads_unknown_user", func() error { return read(f.alice.ust, sso.AttrScope{UserID: domain.NewUserID()}) }, domain.ErrNotAllowed},
		{"regular_writes_other_user", func() error { return write(f.alice.ust, sso.AttrScope{UserID: bobID}) }, domain.ErrNotAllowed},
		{"regular_writes_other_user_in_an_item", func() error { return writeItem(f.alice.ust, sso.AttrScope{}, bobID) }, domain.ErrNotAllowed},
		{"regular_deletes_other_user", func() error { return del(f.alice.ust, sso.AttrScope{UserID: bobID}) }, domain.ErrNotAllowed},
		{"regular_lists_other_user", func() error { return names(f.alice.ust, sso.AttrScope{UserID: bobID}) }, domain.ErrNotAllowed},
		{"super_reads_other_user", func() error { return read(f.super.ust, sso.AttrScope{UserID: bobID}) }, nil},
		{"super_writes_other_user", func() error { return write(f.super.ust, sso.AttrScope{UserID: bobID}) }, nil},
		{"super_writes_other_user_in_an_item", func() error { return writeItem(f.super.ust, sso.AttrScope{}, bobID) }, nil},
		{"super_reads_unknown_user", func() error { return read(f.super.ust, sso.AttrScope{UserID: domain.NewUserID()}) }, domain.ErrNoSuchUser},
		{"super_writes_unknown_user", func() error { return write(f.super.ust, sso.AttrScope{UserID: domain.NewUserID()}) }, domain.ErrNoSuchUser},
		{"session_own_other_session", func() error {
			return write(f.alice2, sso.AttrScope{Session: true, TargetUST: f.alice.ust})
		}, nil},
		{"session_regular_reads_other_users_session", func() error {
			return read(f.alice.ust, sso.AttrScope{Session: true, TargetUST: f.bob.ust})
		}, domain.ErrNotAllowed},
		{"session_regular_writes_other_users_session", func() error {
			return write(f.alice.ust, sso.AttrScope{Session: true, TargetUST: f.bob.ust})
		}, domain.ErrNotAllowed},
		{"session_regular_deletes_other_users_session", func() error {
			return del(f.alice.ust, sso.AttrScope{Session: true, TargetUST: f.bob.ust})
		}, domain.ErrNotAllowed},
		{"session_super_reads_other_users_session", func() error {
			return read(f.super.ust, sso.AttrScope{Session: true, TargetUST: f.bob.ust})
		}, nil},
		{"session_unknown_target", func() error {
			return read(f.super.ust, sso.AttrScope{Session: true, TargetUST: "gAAAAA-not-a-token"})
		}, domain.ErrNoSuchSession},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.op(); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	// Nothing a refused write named reached bob's attributes.
	got, err := f.svc.GetAttrs(ctx, meta, f.bob.ust, sso.AttrScope{}, []string{"x"}, false)
	if err != nil || got[0].Attr != nil {
		t.Errorf("bob's x = %+v, %v: a refused many-mode write stored part of its items", got, err)
	}
}

// TestErrorContracts is what each operation answers for a missing, an
// existing, an invalid and a forbidden target (docs/API.md#error-codes),
// and that a refused write changes nothing.
func TestErrorContracts(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if err := f.svc.WriteAttrs(ctx, meta, f.alice.ust, sso.AttrScope{}, domain.OpCreate, sso.AttrWrites{Items: []sso.AttrItem{item("have", 1)}}); err != nil {
		t.Fatal(err)
	}
	attrs := func(op domain.AttrOp, items ...sso.AttrItem) func() error {
		return func() error {
			return f.svc.WriteAttrs(ctx, meta, f.alice.ust, sso.AttrScope{}, op, sso.AttrWrites{Items: items})
		}
	}
	encrypted := item("enc", 5) // only text is encrypted
	encrypted.Encrypt = true
	expiring := func(secs int64) sso.AttrItem { it := item("exp", 1); it.Expiration = &secs; return it }
	requestExpiring := func(ust string, secs int64, items ...sso.AttrItem) func() error {
		return func() error {
			return f.svc.WriteAttrs(ctx, meta, ust, sso.AttrScope{}, domain.OpSet, sso.AttrWrites{Items: items, Expiration: &secs})
		}
	}
	login := func(in sso.LoginInput, m sso.Meta) func() error {
		return func() error { _, err := f.svc.Login(ctx, m, in); return err }
	}
	pw := nodetest.Password
	createUser := func(ust, username string) func() error {
		return func() error {
			_, err := f.svc.CreateUser(ctx, meta, ust, sso.NewUser{Username: username, Password: &pw})
			return err
		}
	}
	updateUser := func(ust, userID string, up sso.UserUpdate) func() error {
		return func() error { return f.svc.UpdateUser(ctx, meta, ust, userID, up) }
	}
	deleteUser := func(ust, userID string) func() error {
		return func() error { return f.svc.DeleteUser(ctx, meta, ust, userID) }
	}
	badApp := meta
	badApp.App = "NotConfigured"
	cases := []struct {
		name string
		op   func() error
		want error
	}{
		{"attr_create_exists", attrs(domain.OpCreate, item("have", 2)), domain.ErrAttrExists},
		{"attr_create_many_one_exists", attrs(domain.OpCreate, item("new1", 1), item("have", 2)), domain.ErrAttrExists},
		{"attr_create_empty_name", attrs(domain.OpCreate, item("", 1)), domain.ErrInvalidInput},
		{"attr_create_encrypt_not_string", attrs(domain.OpCreate, encrypted), domain.ErrInvalidInput},
		{"attr_set_no_value", attrs(domain.OpSet, sso.AttrItem{AttrWrite: domain.AttrWrite{Name: "nv"}}), domain.ErrInvalidInput},
		{"attr_set_many_one_invalid", attrs(domain.OpSet, item("new2", 1), item("", 2)), domain.ErrInvalidInput},
		{"attr_set_negative_expiration", attrs(domain.OpSet, expiring(-1)), domain.ErrInvalidInput},
		{"attr_update_negative_expiration", attrs(domain.OpUpdate, sso.AttrItem{AttrWrite: domain.AttrWrite{
			Name: "have", Expiration: new(int64(-1))}}), domain.ErrInvalidInput},
		// The request's expiration is input too, even when every item has its own.
		{"attr_set_negative_request_expiration", requestExpiring(f.alice.ust, -1, expiring(60)), domain.ErrInvalidInput},
		// Input rules come before authentication (docs/API.md#attribute-errors).
		{"attr_set_negative_expiration_bad_token", requestExpiring("gAAAAA-not-a-token", -1, item("a", 1)), domain.ErrInvalidInput},
		{"attr_update_missing", attrs(domain.OpUpdate, item("missing", 1)), domain.ErrNoSuchAttr},
		{"attr_update_many_one_missing", attrs(domain.OpUpdate, item("have", 3), item("missing", 1)), domain.ErrNoSuchAttr},
		{"attr_set_bad_token", func() error {
			return f.svc.WriteAttrs(ctx, meta, "gAAAAA-not-a-token", sso.AttrScope{}, domain.OpSet, sso.AttrWrites{Items: []sso.AttrItem{item("a", 1)}})
		}, domain.ErrNoSuchSession},
		{"attr_delete_missing_is_ignored", func() error {
			return f.svc.DeleteAttrs(ctx, meta, f.alice.ust, sso.AttrScope{}, []string{"missing"})
		}, nil},
		{"attr_delete_empty_name", func() error {
			return f.svc.DeleteAttrs(ctx, meta, f.alice.ust, sso.AttrScope{}, []string{"have", ""})
		}, domain.ErrInvalidInput},

		{"login_wrong_password", login(sso.LoginInput{Username: "alice", Password: "wrong-Password-1"}, meta), domain.ErrNotAllowed},
		{"login_unknown_user", login(sso.LoginInput{Username: "nobody", Password: pw}, meta), domain.ErrNotAllowed},
		{"login_no_password", login(sso.LoginInput{Username: "alice"}, meta), domain.ErrNotAllowed},
		{"login_app_not_allowed", login(sso.LoginInput{Username: "alice", Password: pw}, badApp), domain.ErrAppInvalid},

		{"user_create_by_regular", createUser(f.alice.ust, "carol"), domain.ErrNotAllowed},
		{"user_create_exists", createUser(f.super.ust, "bob"), domain.ErrUsernameExists},
		{"user_create_empty_name", createUser(f.super.ust, ""), domain.ErrUsernameInvalid},
		{"user_update_nothing", updateUser(f.alice.ust, "", sso.UserUpdate{}), domain.ErrMissingInput},
		{"user_update_other_by_regular", updateUser(f.alice.ust, f.bob.user.ID,
			sso.UserUpdate{DisplayName: sso.Set("x")}), domain.ErrNotAllowed},
		{"user_update_super_field_by_regular", updateUser(f.alice.ust, "",
			sso.UserUpdate{IsLocked: sso.Set(true)}), domain.ErrInvalidInput},
		{"user_update_unknown_by_super", updateUser(f.super.ust, domain.NewUserID(),
			sso.UserUpdate{DisplayName: sso.Set("x")}), domain.ErrNoSuchUser},
		{"user_rename_to_taken", updateUser(f.alice.ust, "",
			sso.UserUpdate{Username: sso.Set("bob")}), domain.ErrUsernameExists},
		{"user_rename_invalid", updateUser(f.alice.ust, "",
			sso.UserUpdate{Username: sso.Set("")}), domain.ErrInvalidInput},
		{"user_delete_by_regular", deleteUser(f.alice.ust, f.bob.user.ID), domain.ErrNotAllowed},
		{"user_delete_unknown", deleteUser(f.super.ust, domain.NewUserID()), domain.ErrNoSuchUser},
		{"user_delete_self", deleteUser(f.super.ust, f.super.user.ID), domain.ErrInvalidOperation},

		{"logout_bad_token_is_ok", func() error { return f.svc.Logout(ctx, meta, "gAAAAA-not-a-token") }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.op(); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}

	// The refused writes changed nothing.
	res, err := f.svc.GetAttrs(ctx, meta, f.alice.ust, sso.AttrScope{}, []string{"have", "new1", "new2", "exp", "missing"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if a := res[0].Attr; a == nil || string(a.Value) != "1" {
		t.Errorf("have = %+v, want 1 as created", a)
	}
	for _, r := range res[1:] {
		if r.Attr != nil {
			t.Errorf("%s = %s: a refused write stored it", r.Name, r.Attr.Value)
		}
	}
	if _, err := f.svc.Authenticate(f.bob.ust, meta); err != nil {
		t.Errorf("bob after the refused changes: %v", err)
	}

	t.Run("logout_ends_the_session", func(t *testing.T) {
		if err := f.svc.Logout(ctx, meta, f.alice2); err != nil {
			t.Fatal(err)
		}
		err := f.svc.WriteAttrs(ctx, meta, f.alice2, sso.AttrScope{}, domain.OpSet, sso.AttrWrites{Items: []sso.AttrItem{item("a", 1)}})
		if !errors.Is(err, domain.ErrNoSuchSession) {
			t.Fatalf("write after logout: %v, want ErrNoSuchSession", err)
		}
		if _, err := f.svc.Authenticate(f.alice.ust, meta); err != nil {
			t.Errorf("alice's other session after the logout: %v", err)
		}
	})
	t.Run("user_delete_ends_sessions", func(t *testing.T) {
		if err := f.svc.DeleteUser(ctx, meta, f.super.ust, f.bob.user.ID); err != nil {
			t.Fatal(err)
		}
		if err := deleteUser(f.super.ust, f.bob.user.ID)(); !errors.Is(err, domain.ErrNoSuchUser) {
			t.Errorf("delete again: %v, want ErrNoSuchUser", err)
		}
		if _, err := f.svc.Authenticate(f.bob.ust, meta); !errors.Is(err, domain.ErrNoSuchSession) {
			t.Errorf("bob's session after the delete: %v, want ErrNoSuchSession", err)
		}
	})
}

// TestWriteAttrs_RequestExpiration is docs/API.md#many-mode: an item that
// sends no expiration takes the request's; one that sends its own keeps it.
func TestWriteAttrs_RequestExpiration(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	own := item("own", 2)
	own.Expiration = new(int64(0)) // never
	err := f.svc.WriteAttrs(ctx, meta, f.alice.ust, sso.AttrScope{}, domain.OpCreate,
		sso.AttrWrites{Items: []sso.AttrItem{item("taken", 1), own}, Expiration: new(int64(60))})
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.svc.GetAttrs(ctx, meta, f.alice.ust, sso.AttrScope{}, []string{"taken", "own"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if a := res[0].Attr; a == nil || a.Expires.Sub(a.Created) != time.Minute {
		t.Errorf("taken = %+v, want it to expire 60 s after its creation (the request's expiration)", a)
	}
	if a := res[1].Attr; a == nil || !a.Expires.Equal(domain.Never) {
		t.Errorf("own = %+v, want it never to expire (its own expiration 0)", a)
	}
}
