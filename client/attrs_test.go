package client_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/client"
)

// TestAttrs runs the same checks on user attributes and on session
// attributes: the two are one API with another owner.
func TestAttrs(t *testing.T) {
	e := newEnv(t)
	for _, k := range []struct {
		name  string
		attrs *client.Attrs
	}{{"user", e.bob.User.Attr}, {"session", e.bob.Attr}} {
		t.Run(k.name+"/single", func(t *testing.T) { testSingle(t, k.attrs) })
		t.Run(k.name+"/many", func(t *testing.T) { testMany(t, k.attrs) })
		t.Run(k.name+"/as_of", func(t *testing.T) { testAsOf(t, k.attrs) })
		t.Run(k.name+"/history", func(t *testing.T) { testHistory(t, k.attrs, e.bobID) })
	}
}

// value returns a's value decoded, or fails.
func value(t *testing.T, a *client.Attr) any {
	t.Helper()
	var v any
	if err := a.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", a.Value, err)
	}
	return v
}

// getValue reads name and returns its decoded value; it fails if name is
// not live.
func getValue(t *testing.T, a *client.Attrs, name string) any {
	t.Helper()
	got, err := a.Get(t.Context(), name, nil)
	must(t, "Get "+name, err)
	if got == nil {
		t.Fatalf("Get(%q) = nil, want a live attribute", name)
	}
	return value(t, got)
}

func testSingle(t *testing.T, a *client.Attrs) {
	ctx := t.Context()
	before := time.Now().UTC().Add(-time.Second)

	must(t, "Create", a.Create(ctx, "theme", "dark", nil))
	wantCode(t, "Create of a live name", a.Create(ctx, "theme", "light", nil), client.ErrAttrExists)
	got, err := a.Get(ctx, "theme", nil)
	must(t, "Get", err)
	if got == nil || got.Name != "theme" || string(got.Value) != `"dark"` || got.IsEncrypted ||
		!got.ExpirationTime.Equal(client.Never) || got.CreationTime.Before(before) ||
		!got.LastModified.Equal(got.CreationTime) {
		t.Fatalf("Get(theme) = %+v, want dark, plaintext, never expiring, created now", got)
	}

	// Set replaces a live value, of any JSON type.
	must(t, "Set", a.Set(ctx, "theme", map[string]any{"bg": "black", "n": 2}, nil))
	if v := getValue(t, a, "theme"); !reflect.DeepEqual(v, map[string]any{"bg": "black", "n": 2.0}) {
		t.Fatalf("after Set, theme = %v, want the object", v)
	}
	must(t, "Set of a new name", a.Set(ctx, "count", 7, nil))
	if v := getValue(t, a, "count"); v != 7.0 {
		t.Fatalf("count = %v, want 7", v)
	}

	// Update with a nil value changes the expiration only; 1.5 s is sent as 2.
	must(t, "Update the expiration", a.Update(ctx, "count", nil, &client.WriteOptions{Expiration: new(1500 * time.Millisecond)}))
	got, err = a.Get(ctx, "count", nil)
	must(t, "Get count", err)
	if value(t, got) != 7.0 || got.ExpirationTime.Sub(got.LastModified) != 2*time.Second {
		t.Fatalf("after Update, count = %+v, want 7 expiring 2s after its change", got)
	}
	must(t, "Update to never", a.Update(ctx, "count", 8, &client.WriteOptions{Expiration: new(time.Duration(0))}))
	got, err = a.Get(ctx, "count", nil)
	must(t, "Get count", err)
	if value(t, got) != 8.0 || !got.ExpirationTime.Equal(client.Never) {
		t.Fatalf("after Update, count = %+v, want 8, never expiring", got)
	}
	wantCode(t, "Update of a missing name", a.Update(ctx, "no.such", "v", nil), client.ErrNoSuchAttr)

	// Encrypted values come back decrypted unless NoDecrypt.
	must(t, "Set encrypted", a.Set(ctx, "secret", "s3cr3t", &client.WriteOptions{Encrypt: true}))
	got, err = a.Get(ctx, "secret", nil)
	must(t, "Get secret", err)
	if string(got.Value) != `"s3cr3t"` || !got.IsEncrypted {
		t.Fatalf("Get(secret) = %s encrypted=%v, want the plaintext, encrypted", got.Value, got.IsEncrypted)
	}
	got, err = a.Get(ctx, "secret", &client.ReadOptions{NoDecrypt: true})
	must(t, "Get secret without decrypting", err)
	if !strings.HasPrefix(string(got.Value), `"gAAAAA`) || !got.IsEncrypted {
		t.Fatalf("Get(secret, NoDecrypt) = %s, want a Fernet ciphertext", got.Value)
	}

	// Bad input is refused and changes nothing.
	for _, c := range []struct {
		what string
		err  error
	}{
		{"Encrypt of a number", a.Set(ctx, "n", 5, &client.WriteOptions{Encrypt: true})},
		{"negative expiration", a.Set(ctx, "n", 5, &client.WriteOptions{Expiration: new(-time.Second)})},
		{"nil value", a.Create(ctx, "n", nil, nil)},
		{"empty name", a.Set(ctx, "", "v", nil)},
	} {
		wantCode(t, c.what, c.err, client.ErrInvalidInput)
	}

	// Exists, Names, Get of a missing name.
	for name, want := range map[string]bool{"theme": true, "n": false, "no.such": false} {
		ok, err := a.Exists(ctx, name, nil)
		must(t, "Exists "+name, err)
		if ok != want {
			t.Fatalf("Exists(%q) = %v, want %v", name, ok, want)
		}
	}
	if got, err := a.Get(ctx, "no.such", nil); err != nil || got != nil {
		t.Fatalf("Get(no.such) = %+v, %v; want nil, nil", got, err)
	}
	names, err := a.Names(ctx, nil)
	must(t, "Names", err)
	if want := []string{"count", "secret", "theme"}; !slices.Equal(names, want) {
		t.Fatalf("Names = %q, want %q", names, want)
	}

	// Delete, twice: the second is not an error.
	must(t, "Delete", a.Delete(ctx, "theme"))
	must(t, "Delete again", a.Delete(ctx, "theme"))
	if ok, err := a.Exists(ctx, "theme", nil); err != nil || ok {
		t.Fatalf("Exists(theme) after Delete = %v, %v; want false", ok, err)
	}
	must(t, "DeleteMany to clean up", a.DeleteMany(ctx, []string{"count", "secret"}))
	if names, err := a.Names(ctx, nil); err != nil || len(names) != 0 || names == nil {
		t.Fatalf("Names after deleting all = %q, %v; want an empty list", names, err)
	}
}

func testMany(t *testing.T, a *client.Attrs) {
	ctx := t.Context()
	// Item keys override the call's options (docs/API.md#user-attributes).
	must(t, "CreateMany", a.CreateMany(ctx, []client.Item{
		{Name: "cart.id", Value: "c-8812"},
		{Name: "api.secret", Value: "s3cr3t-value", Encrypt: new(true)},
		{Name: "prefs", Value: json.RawMessage(`{"lang":"en","tz":"UTC"}`), Expiration: new(time.Duration(0))},
	}, &client.WriteOptions{Expiration: new(600 * time.Second)}))

	got, err := a.GetMany(ctx, []string{"cart.id", "api.secret", "prefs", "gone"}, nil)
	must(t, "GetMany", err)
	if len(got) != 4 || got["gone"] != nil {
		t.Fatalf("GetMany = %v, want four keys, gone nil", got)
	}
	if c := got["cart.id"]; c == nil || string(c.Value) != `"c-8812"` || c.IsEncrypted ||
		c.ExpirationTime.Sub(c.LastModified) != 600*time.Second {
		t.Fatalf("cart.id = %+v, want c-8812 expiring in 600s", c)
	}
	if s := got["api.secret"]; s == nil || string(s.Value) != `"s3cr3t-value"` || !s.IsEncrypted ||
		s.ExpirationTime.Sub(s.LastModified) != 600*time.Second {
		t.Fatalf("api.secret = %+v, want the plaintext, encrypted, expiring in 600s", s)
	}
	if p := got["prefs"]; p == nil || !reflect.DeepEqual(value(t, p), map[string]any{"lang": "en", "tz": "UTC"}) ||
		!p.ExpirationTime.Equal(client.Never) {
		t.Fatalf("prefs = %+v, want the object, never expiring", p)
	}
	got, err = a.GetMany(ctx, []string{"api.secret"}, &client.ReadOptions{NoDecrypt: true})
	must(t, "GetMany without decrypting", err)
	if s := got["api.secret"]; s == nil || !strings.HasPrefix(string(s.Value), `"gAAAAA`) {
		t.Fatalf("api.secret without decrypting = %+v, want a ciphertext", s)
	}

	// All or nothing: one live name, and the new one is not written either.
	wantCode(t, "CreateMany with a live name", a.CreateMany(ctx, []client.Item{
		{Name: "new.one", Value: "x"}, {Name: "cart.id", Value: "y"}}, nil), client.ErrAttrExists)
	wantCode(t, "UpdateMany with a missing name", a.UpdateMany(ctx, []client.Item{
		{Name: "cart.id", Value: "changed"}, {Name: "no.such", Value: "y"}}, nil), client.ErrNoSuchAttr)
	wantCode(t, "SetMany with a bad item", a.SetMany(ctx, []client.Item{
		{Name: "new.one", Value: "x"}, {Name: "n", Value: 1, Encrypt: new(true)}}, nil), client.ErrInvalidInput)
	wantCode(t, "empty SetMany", a.SetMany(ctx, nil, nil), client.ErrInvalidInput)
	wantCode(t, "empty GetMany", func() error { _, err := a.GetMany(ctx, nil, nil); return err }(), client.ErrInvalidInput)
	tooMany := make([]string, 1001)
	for i := range tooMany {
		tooMany[i] = fmt.Sprint("n", i)
	}
	wantCode(t, "GetMany of 1,001 names", func() error { _, err := a.GetMany(ctx, tooMany, nil); return err }(), client.ErrInvalidInput)
	ex, err := a.ExistsMany(ctx, []string{"new.one", "cart.id", "gone"}, nil)
	must(t, "ExistsMany", err)
	if want := map[string]bool{"new.one": false, "cart.id": true, "gone": false}; !reflect.DeepEqual(ex, want) {
		t.Fatalf("ExistsMany = %v, want %v", ex, want)
	}
	if v := getValue(t, a, "cart.id"); v != "c-8812" {
		t.Fatalf("cart.id after the failed writes = %v, want c-8812", v)
	}

	// SetMany creates and replaces; the last of a repeated name wins.
	must(t, "SetMany", a.SetMany(ctx, []client.Item{
		{Name: "cart.id", Value: "c-1"}, {Name: "new.one", Value: 1}, {Name: "new.one", Value: 2}}, nil))
	if v := getValue(t, a, "new.one"); v != 2.0 {
		t.Fatalf("new.one = %v, want 2", v)
	}
	// UpdateMany: a nil value keeps it, the expiration changes.
	must(t, "UpdateMany", a.UpdateMany(ctx, []client.Item{
		{Name: "cart.id", Expiration: new(time.Duration(0))}, {Name: "new.one", Value: "three"}}, nil))
	got, err = a.GetMany(ctx, []string{"cart.id", "new.one"}, nil)
	must(t, "GetMany", err)
	if c := got["cart.id"]; string(c.Value) != `"c-1"` || !c.ExpirationTime.Equal(client.Never) {
		t.Fatalf("cart.id = %+v, want c-1 never expiring", c)
	}
	if n := got["new.one"]; string(n.Value) != `"three"` {
		t.Fatalf("new.one = %s, want three", n.Value)
	}

	must(t, "DeleteMany", a.DeleteMany(ctx, []string{"cart.id", "api.secret", "never.existed"}))
	names, err := a.Names(ctx, nil)
	must(t, "Names", err)
	if want := []string{"new.one", "prefs"}; !slices.Equal(names, want) {
		t.Fatalf("Names after DeleteMany = %q, want %q", names, want)
	}
	must(t, "clean up", a.DeleteMany(ctx, names))
}

func testAsOf(t *testing.T, a *client.Attrs) {
	ctx := t.Context()
	t0 := time.Now()
	must(t, "Set v1", a.Set(ctx, "plan", "v1", nil))
	t1 := time.Now()
	must(t, "Set v2", a.Set(ctx, "plan", "v2", nil))
	must(t, "Create other", a.Create(ctx, "other", true, nil))
	t2 := time.Now()
	must(t, "Delete plan", a.Delete(ctx, "plan"))

	at := func(t time.Time) *client.ReadOptions { return &client.ReadOptions{AsOf: t} }
	if got, err := a.Get(ctx, "plan", at(t0)); err != nil || got != nil {
		t.Fatalf("Get(plan) as of before it = %+v, %v; want nil", got, err)
	}
	got, err := a.Get(ctx, "plan", at(t1))
	must(t, "Get as of t1", err)
	if got == nil || string(got.Value) != `"v1"` {
		t.Fatalf("Get(plan) as of t1 = %+v, want v1", got)
	}
	many, err := a.GetMany(ctx, []string{"plan", "other"}, at(t2))
	must(t, "GetMany as of t2", err)
	if many["plan"] == nil || string(many["plan"].Value) != `"v2"` || many["other"] == nil {
		t.Fatalf("GetMany as of t2 = %v, want plan v2 and other", many)
	}
	if ok, err := a.Exists(ctx, "other", at(t1)); err != nil || ok {
		t.Fatalf("Exists(other) as of t1 = %v, %v; want false", ok, err)
	}
	ex, err := a.ExistsMany(ctx, []string{"plan", "other"}, at(t2))
	must(t, "ExistsMany as of t2", err)
	if !ex["plan"] || !ex["other"] {
		t.Fatalf("ExistsMany as of t2 = %v, want both", ex)
	}
	for _, c := range []struct {
		at   time.Time
		want []string
	}{{t0, []string{}}, {t1, []string{"plan"}}, {t2, []string{"other", "plan"}}, {time.Time{}, []string{"other"}}} {
		names, err := a.Names(ctx, at(c.at))
		must(t, "Names as of", err)
		if !slices.Equal(names, c.want) {
			t.Fatalf("Names as of %v = %q, want %q", c.at, names, c.want)
		}
	}
	must(t, "clean up", a.Delete(ctx, "other"))
}

func testHistory(t *testing.T, a *client.Attrs, actor string) {
	ctx := t.Context()
	must(t, "Create", a.Create(ctx, "h.a", "1", nil))
	mid := time.Now()
	must(t, "Set", a.Set(ctx, "h.a", "2", &client.WriteOptions{Encrypt: true}))
	must(t, "Update", a.Update(ctx, "h.a", nil, &client.WriteOptions{Expiration: new(time.Hour)}))
	must(t, "Set another", a.Set(ctx, "h.b", "x", nil))
	must(t, "Delete", a.Delete(ctx, "h.a"))

	// The earlier subtests wrote to the same owner: select by name.
	page, err := a.History(ctx, &client.HistoryOptions{Name: "h.a"})
	must(t, "History", err)
	var types []string
	for _, ch := range page.Changes {
		types = append(types, ch.Type)
		if ch.Name != "h.a" || ch.ActorUserID != actor || ch.CurrentApp != client.DefaultApp ||
			ch.CID == "" || ch.Seq == 0 || ch.Time.IsZero() {
			t.Fatalf("change %+v: want h.a by %s from %s, with a cid, a sequence and a time",
				ch, actor, client.DefaultApp)
		}
	}
	if want := []string{"created", "set", "updated", "deleted"}; !slices.Equal(types, want) || page.Next != "" {
		t.Fatalf("History(h.a) types = %q next %q, want %q and no next page", types, page.Next, want)
	}
	set := page.Changes[1]
	if string(set.Value) != `"2"` || !set.IsEncrypted || !set.ExpirationTime.Equal(client.Never) {
		t.Fatalf("set change = %+v, want the plaintext 2, encrypted, never expiring", set)
	}
	if up := page.Changes[2]; up.ExpirationTime.Sub(up.Time).Round(time.Second) != time.Hour {
		t.Fatalf("updated change = %+v, want an expiration an hour after it", up)
	}
	raw, err := a.History(ctx, &client.HistoryOptions{Name: "h.a", Since: mid, NoDecrypt: true})
	must(t, "History since, not decrypted", err)
	if len(raw.Changes) != 3 || !strings.HasPrefix(string(raw.Changes[0].Value), `"gAAAAA`) {
		t.Fatalf("History since mid = %+v, want 3 changes, the first a ciphertext", raw.Changes)
	}

	// Pages of two put together are the whole history, and so is HistoryAll.
	all, err := a.History(ctx, &client.HistoryOptions{Limit: 1000})
	must(t, "History of everything", err)
	var paged, iterated []client.Change
	opts := &client.HistoryOptions{Limit: 2}
	for {
		p, err := a.History(ctx, opts)
		must(t, "History page", err)
		if len(p.Changes) > 2 {
			t.Fatalf("a page of %d changes, want at most 2", len(p.Changes))
		}
		paged = append(paged, p.Changes...)
		if p.Next == "" {
			break
		}
		opts.After = p.Next
	}
	for ch, err := range a.HistoryAll(ctx, &client.HistoryOptions{Limit: 3}) {
		must(t, "HistoryAll", err)
		iterated = append(iterated, ch)
	}
	if len(all.Changes) < 5 || !reflect.DeepEqual(paged, all.Changes) || !reflect.DeepEqual(iterated, all.Changes) {
		t.Fatalf("paged %d and iterated %d changes differ from the %d of one page",
			len(paged), len(iterated), len(all.Changes))
	}
	must(t, "clean up", a.Delete(ctx, "h.b"))
}

// TestAttrs_OtherUser checks user_id: super-users reach anyone's
// attributes, regular users only their own.
func TestAttrs_OtherUser(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	carol, carolID := e.user(t, "carol")

	must(t, "super-user Set on bob", e.super.UserByID(e.bobID).Attr.Set(ctx, "quota.max", 50, nil))
	if v := getValue(t, e.bob.User.Attr, "quota.max"); v != 50.0 {
		t.Fatalf("bob's quota.max = %v, want 50", v)
	}
	// One call, several users: each item names its own.
	must(t, "super-user SetMany on two users", e.super.User.Attr.SetMany(ctx, []client.Item{
		{Name: "team", Value: "a", UserID: e.bobID}, {Name: "team", Value: "b", UserID: carolID}}, nil))
	if v := getValue(t, carol.User.Attr, "team"); v != "b" {
		t.Fatalf("carol's team = %v, want b", v)
	}
	if v := getValue(t, e.super.UserByID(e.bobID).Attr, "team"); v != "a" {
		t.Fatalf("bob's team read by the super-user = %v, want a", v)
	}
	if ok, err := e.super.User.Attr.Exists(ctx, "team", nil); err != nil || ok {
		t.Fatalf("the super-user's own team = %v, %v; want false", ok, err)
	}

	_, err := e.bob.UserByID(carolID).Attr.Get(ctx, "team", nil)
	wantCode(t, "bob reading carol's attribute", err, client.ErrNotAllowed)
	wantCode(t, "bob writing carol's attribute in a list", e.bob.User.Attr.SetMany(ctx, []client.Item{
		{Name: "team", Value: "x", UserID: carolID}}, nil), client.ErrNotAllowed)
	_, err = e.super.UserByID("zusr0000000000000000000000000").Attr.Names(ctx, nil)
	wantCode(t, "super-user naming an unknown user", err, client.ErrUserIDInvalid)
	// bob naming himself is bob.
	if v := getValue(t, e.bob.UserByID(e.bobID).Attr, "team"); v != "a" {
		t.Fatalf("bob's team read with his own user_id = %v, want a", v)
	}
}

// TestAttrs_OtherSession checks target_ust: a user's sessions each have
// their own attributes; the owner and super-users may reach them, others
// may not; they end with the session.
func TestAttrs_OtherSession(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	bob2 := e.login(t, "bob")
	carol, _ := e.user(t, "carol")

	must(t, "Set on session 1", e.bob.Attr.Set(ctx, "step", 1, nil))
	must(t, "Set on session 2", bob2.Attr.Set(ctx, "step", 2, nil))
	must(t, "user attribute of the same name", e.bob.User.Attr.Set(ctx, "step", "user", nil))
	if v := getValue(t, e.bob.SessionByUST(bob2.UST()).Attr, "step"); v != 2.0 {
		t.Fatalf("session 2's step read from session 1 = %v, want 2", v)
	}
	if v := getValue(t, e.bob.Attr, "step"); v != 1.0 {
		t.Fatalf("session 1's step = %v, want 1", v)
	}
	if v := getValue(t, e.super.SessionByUST(bob2.UST()).Attr, "step"); v != 2.0 {
		t.Fatalf("session 2's step read by a super-user = %v, want 2", v)
	}
	_, err := carol.SessionByUST(bob2.UST()).Attr.Get(ctx, "step", nil)
	wantCode(t, "carol reading bob's session", err, client.ErrNotAllowed)

	must(t, "Logout of session 2", bob2.Logout(ctx))
	_, err = e.bob.SessionByUST(bob2.UST()).Attr.Names(ctx, nil)
	wantCode(t, "reading an ended session", err, client.ErrNoSuchSession)
	_, err = bob2.Attr.Get(ctx, "step", nil)
	wantCode(t, "the ended session itself", err, client.ErrNoSuchSession)
	if v := getValue(t, e.bob.User.Attr, "step"); v != "user" {
		t.Fatalf("bob's user attribute after a logout = %v, want it kept", v)
	}

	page, err := e.super.UserByID(e.bobID).Attr.History(ctx, &client.HistoryOptions{Name: "step"})
	must(t, "user History", err)
	if len(page.Changes) != 1 {
		t.Fatalf("bob's user history of step = %+v, want 1 change", page.Changes)
	}
}

// TestAttrs_Concurrent uses one client and one session from several
// goroutines at once (under -race, the client's state is checked too).
func TestAttrs_Concurrent(t *testing.T) {
	e := newEnv(t)
	const workers, each = 6, 5
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			var err error
			for i := range each {
				name := fmt.Sprintf("w%d.%d", w, i)
				if err = e.bob.User.Attr.Set(t.Context(), name, i, nil); err != nil {
					break
				}
				var ok bool
				if ok, err = e.bob.User.Attr.Exists(t.Context(), name, nil); err == nil && !ok {
					err = fmt.Errorf("%s does not exist after Set", name)
				}
				if err != nil {
					break
				}
			}
			errs <- err
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	names, err := e.bob.User.Attr.Names(t.Context(), nil)
	must(t, "Names", err)
	if len(names) != workers*each {
		t.Fatalf("Names = %d names, want %d", len(names), workers*each)
	}
}
