package httpapi_test

import (
	"slices"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
	"github.com/ssoattr/ssoattr/sso"
)

const saPath = "/zato/sso/session/attr"

// saWantRemoved checks that the last event on the owner's subject is
// attr.removed with that reason and those names (sorted).
func saWantRemoved(t *testing.T, inst *nodetest.Instance, o domain.Owner, reason string, names ...string) {
	t.Helper()
	events := inst.OwnerEvents(o)
	if len(events) == 0 {
		t.Fatalf("no events on %s, want attr.removed", o)
	}
	last := events[len(events)-1]
	got := slices.Clone(last.Data.Names)
	slices.Sort(got)
	if last.Kind != domain.KindAttrRemoved || last.Data.Reason != reason || !slices.Equal(got, names) {
		t.Fatalf("last event on %s = %s reason %q names %v, want attr.removed reason %q names %v",
			o, last.Kind, last.Data.Reason, last.Data.Names, reason, names)
	}
}

func TestSessionAttrs(t *testing.T) {
	inst := nodetest.Start(t)
	sUST, _ := inst.SuperUser("sa-root")
	a1, aID := inst.User(sUST, "sa-alice")
	a2 := inst.Login("sa-alice", nodetest.Password)
	b1, bID := inst.User(sUST, "sa-bob")
	do := func(method, path, ust string, kv ...any) nodetest.Response {
		return inst.Do(method, path, apiReq(ust, kv...))
	}
	found := func(t *testing.T, ust, target, name string) bool {
		t.Helper()
		kv := []any{"name", name}
		if target != "" {
			kv = append(kv, "target_ust", target)
		}
		r := do("GET", saPath, ust, kv...)
		lcWant(t, "GET "+name, r, "")
		return r.Body["found"] == true
	}

	t.Run("each_session_has_its_own_attributes", func(t *testing.T) {
		lcWant(t, "PUT on a1", do("PUT", saPath, a1, "name", "step", "value", 3), "")
		if !found(t, a1, "", "step") {
			t.Fatal("a1 does not see its own attribute")
		}
		if found(t, a2, "", "step") {
			t.Fatal("a2 sees a1's attribute, want its own (empty) set")
		}
		// The same name in another session, and as a user attribute, is no conflict.
		lcWant(t, "POST the same name on a2", do("POST", saPath, a2, "name", "step", "value", 9), "")
		lcWant(t, "POST the same name as a user attribute", do("POST", "/zato/sso/user/attr", a2, "name", "step", "value", 1), "")
		r := do("GET", saPath, a1, "name", "step")
		if r.Body["value"] != float64(3) {
			t.Fatalf("a1's step = %v, want 3", r.Body["value"])
		}
		// target_ust defaults to the caller's session and may name any of the
		// owner's sessions.
		r = do("GET", saPath, a2, "name", "step", "target_ust", a1)
		if r.Body["value"] != float64(3) {
			t.Fatalf("a2 reading a1's step = %s, want 3", r.Raw)
		}
		r = inst.Do("GET", saPath, map[string]any{"current_ust": a1, "target_ust": a1, "current_app": "CRM", "name": "step"})
		if r.Body["value"] != float64(3) {
			t.Fatalf("current_ust = target_ust: %s, want 3", r.Raw)
		}
	})

	t.Run("many_mode_exists_names", func(t *testing.T) {
		lcWant(t, "POST many", do("POST", saPath, a1, "data", []any{
			map[string]any{"name": "x", "value": "1"}, map[string]any{"name": "y", "value": "s", "encrypt": true}}), "")
		r := do("GET", saPath, a1, "data", []string{"x", "y", "none"})
		res, _ := r.Body["result"].(map[string]any)
		if y, _ := res["y"].(map[string]any); res["none"] != nil || y["value"] != "s" || y["is_encrypted"] != true {
			t.Fatalf("GET many = %s", r.Raw)
		}
		r = do("GET", saPath+"/exists", a1, "data", []string{"x", "none"})
		if res, _ := r.Body["result"].(map[string]any); res["x"] != true || res["none"] != false {
			t.Fatalf("exists many = %s", r.Raw)
		}
		r = do("GET", saPath+"/exists", a2, "name", "x")
		if r.Body["result"] != false {
			t.Fatalf("exists in a2 = %s, want false", r.Raw)
		}
		r = do("GET", saPath+"/names", a1)
		if got := r.Body["result"]; !slices.Equal(saStrings(got), []string{"step", "x", "y"}) {
			t.Fatalf("names of a1 = %v, want [step x y]", got)
		}
		lcWant(t, "PATCH", do("PATCH", saPath, a1, "name", "x", "value", "2"), "")
		lcWant(t, "PATCH missing", do("PATCH", saPath, a1, "name", "nope", "value", "2"), "E009002")
		lcWant(t, "DELETE many", do("DELETE", saPath, a1, "data", []string{"x", "y"}), "")
		if got := saStrings(do("GET", saPath+"/names", a1).Body["result"]); !slices.Equal(got, []string{"step"}) {
			t.Fatalf("names after delete = %v, want [step]", got)
		}
	})

	t.Run("regular_user_on_another_users_session_D11", func(t *testing.T) {
		for _, c := range []struct {
			method, path string
			kv           []any
		}{
			{"GET", saPath, []any{"name", "step"}},
			{"PUT", saPath, []any{"name", "step", "value", 1}},
			{"POST", saPath, []any{"name", "new", "value", 1}},
			{"PATCH", saPath, []any{"name", "step", "value", 1}},
			{"DELETE", saPath, []any{"name", "step"}},
			{"GET", saPath + "/exists", []any{"name", "step"}},
			{"GET", saPath + "/names", nil},
		} {
			lcWant(t, c.method+" "+c.path, do(c.method, c.path, b1, append(c.kv, "target_ust", a1)...), "E005001")
		}
		if !found(t, a1, "", "step") {
			t.Fatal("a refused request changed a1's attributes")
		}
		lcWant(t, "target that does not resolve", do("GET", saPath, a1, "name", "step", "target_ust", "gAAAAAnonsense"), "E007001")
		lcWant(t, "raw session id as target (API.md#d28)", do("GET", saPath, a1, "name", "step",
			"target_ust", nodetest.SessionID(t, a1)), "E007001")
	})

	t.Run("super_user_on_any_session", func(t *testing.T) {
		if !found(t, sUST, a1, "step") {
			t.Fatal("super-user does not see a1's attribute")
		}
		lcWant(t, "super-user PUT on bob's session", do("PUT", saPath, sUST, "name", "by-root", "value", "r", "target_ust", b1), "")
		if !found(t, b1, "", "by-root") {
			t.Fatal("bob does not see the attribute the super-user wrote in his session")
		}
		if found(t, sUST, "", "by-root") {
			t.Fatal("the super-user's own session got the attribute")
		}
	})

	t.Run("user_id_is_ignored", func(t *testing.T) {
		lcWant(t, "PUT with another user_id", do("PUT", saPath, a1, "name", "uid", "value", "v", "user_id", bID), "")
		lcWant(t, "PUT many with per-item user_id", do("PUT", saPath, a1, "data", []any{
			map[string]any{"name": "uid2", "value": "v", "user_id": bID}}), "")
		lcWant(t, "super-user with an unknown user_id", do("PUT", saPath, sUST, "name", "uid3", "value", "v",
			"user_id", "zusrnosuchuser", "target_ust", a1), "")
		for _, n := range []string{"uid", "uid2", "uid3"} {
			if !found(t, a1, "", n) {
				t.Fatalf("%s not in a1's session: user_id must be ignored", n)
			}
			if found(t, b1, "", n) {
				t.Fatalf("%s landed in bob's session", n)
			}
		}
		events := inst.OwnerEvents(domain.SessionAttrsOwner(aID, nodetest.SessionID(t, a1)))
		if len(events) == 0 || events[len(events)-1].Kind != domain.KindAttrSet {
			t.Fatalf("events of a1's attributes end with %v, want attr.set", lcKinds(events))
		}
	})

	t.Run("logout_removes_the_sessions_attributes", func(t *testing.T) {
		c1, cID := inst.User(sUST, "sa-carol")
		c2 := inst.Login("sa-carol", nodetest.Password)
		lcWant(t, "PUT on c1", do("PUT", saPath, c1, "data", []any{
			map[string]any{"name": "k1", "value": 1}, map[string]any{"name": "k2", "value": 2}}), "")
		lcWant(t, "PUT on c2", do("PUT", saPath, c2, "name", "kept", "value", 1), "")
		sid := nodetest.SessionID(t, c1)
		lcWant(t, "logout", do("POST", "/zato/sso/user/logout", c1), "")
		lcWant(t, "GET on the ended session", do("GET", saPath, c1, "name", "k1"), "E007001")
		lcWant(t, "GET targeting the ended session", do("GET", saPath, c2, "name", "k1", "target_ust", c1), "E007001")
		lcWant(t, "super-user GET targeting the ended session", do("GET", saPath, sUST, "name", "k1", "target_ust", c1), "E007001")
		if !found(t, c2, "", "kept") {
			t.Fatal("logout of c1 removed c2's attribute")
		}
		saWantRemoved(t, inst, domain.SessionAttrsOwner(cID, sid), domain.ReasonLogout, "k1", "k2")
		ended := inst.OwnerEvents(domain.SessionOwner(cID, sid))
		if last := ended[len(ended)-1]; last.Kind != domain.KindSessionEnded || last.Data.Reason != domain.ReasonLogout {
			t.Fatalf("last session event = %s %q, want session.ended logout", last.Kind, last.Data.Reason)
		}
		// A new session starts empty.
		c3 := inst.Login("sa-carol", nodetest.Password)
		if got := saStrings(do("GET", saPath+"/names", c3).Body["result"]); len(got) != 0 {
			t.Fatalf("names of a new session = %v, want none", got)
		}
	})

	t.Run("user_deletion_removes_everything", func(t *testing.T) {
		d1, dID := inst.User(sUST, "sa-dave")
		d2 := inst.Login("sa-dave", nodetest.Password)
		d3 := inst.Login("sa-dave", nodetest.Password) // no attributes: no event
		lcWant(t, "PUT on d1", do("PUT", saPath, d1, "name", "s1", "value", 1), "")
		lcWant(t, "PUT on d2", do("PUT", saPath, d2, "data", []any{
			map[string]any{"name": "s2", "value": 1}, map[string]any{"name": "s3", "value": 1}}), "")
		lcWant(t, "PUT user attr", do("PUT", "/zato/sso/user/attr", d1, "name", "u1", "value", 1), "")
		lcWant(t, "delete dave", do("DELETE", "/zato/sso/user", sUST, "user_id", dID), "")
		for _, ust := range []string{d1, d2, d3} {
			lcWant(t, "dave's session attrs", do("GET", saPath, ust, "name", "s1"), "E007001")
			lcWant(t, "super-user targeting dave's session", do("GET", saPath, sUST, "name", "s1", "target_ust", ust), "E007001")
		}
		lcWant(t, "dave's user attrs", do("GET", "/zato/sso/user/attr", sUST, "name", "u1", "user_id", dID), "E001100")
		saWantRemoved(t, inst, domain.SessionAttrsOwner(dID, nodetest.SessionID(t, d1)), domain.ReasonUserDeleted, "s1")
		saWantRemoved(t, inst, domain.SessionAttrsOwner(dID, nodetest.SessionID(t, d2)), domain.ReasonUserDeleted, "s2", "s3")
		saWantRemoved(t, inst, domain.UserAttrsOwner(dID), domain.ReasonUserDeleted, "u1")
		if events := inst.OwnerEvents(domain.SessionAttrsOwner(dID, nodetest.SessionID(t, d3))); len(events) != 0 {
			t.Fatalf("events on d3's attributes = %v, want none (it had no attributes)", lcKinds(events))
		}
		// A new dave has none of it.
		nd, _ := inst.User(sUST, "sa-dave")
		if got := saStrings(do("GET", "/zato/sso/user/attr/names", nd).Body["result"]); len(got) != 0 {
			t.Fatalf("user attrs of the new dave = %v, want none", got)
		}
	})
}

func TestSessionAttrs_GoneWhenTheSessionExpires(t *testing.T) {
	inst := nodetest.Start(t, nodetest.WithConfig(func(c *sso.Config) { c.SessionExpiry = time.Second }))
	ctx := t.Context()
	if _, _, err := inst.SSO.CreateUserByAdmin(ctx, sso.Meta{App: "test"}, sso.NewUser{Username: "exp-alice",
		Password: new(nodetest.Password)}); err != nil {
		t.Fatalf("create user: %v", err)
	}
	e1 := inst.Login("exp-alice", nodetest.Password)
	lcWant(t, "PUT", inst.Do("PUT", saPath, apiReq(e1, "name", "k", "value", "v")), "")
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := inst.Do("GET", saPath, apiReq(e1, "name", "k"))
		if r.SubStatus() == "E007001" {
			break
		}
		lcWant(t, "GET before expiry", r, "")
		if r.Body["found"] != true {
			t.Fatalf("GET before expiry = %s, want found", r.Raw)
		}
		if time.Now().After(deadline) {
			t.Fatal("session still usable 10s after a 1s expiry")
		}
		time.Sleep(50 * time.Millisecond) // polling a deadline, not waiting for consistency
	}
	e2 := inst.Login("exp-alice", nodetest.Password)
	lcWant(t, "target the expired session", inst.Do("GET", saPath, apiReq(e2, "name", "k", "target_ust", e1)), "E007001")
	r := inst.Do("GET", saPath+"/names", apiReq(e2))
	lcWant(t, "names of a new session", r, "")
	if got := saStrings(r.Body["result"]); len(got) != 0 {
		t.Fatalf("names of a new session = %v, want none", got)
	}
	lcWant(t, "renew the expired session", inst.Do("PATCH", "/zato/sso/user/session", apiReq(e1)), "E007001")
}

// saStrings converts a decoded JSON list of strings.
func saStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}
