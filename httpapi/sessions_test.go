package httpapi_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
	"github.com/ssoattr/ssoattr/sso"
)

const (
	apiLogin  = "/zato/sso/user/login"
	apiLogout = "/zato/sso/user/logout"
)

func apiLoginAs(inst *nodetest.Instance, username, password string) nodetest.Response {
	return inst.Do("POST", apiLogin, map[string]any{"username": username, "password": password, "current_app": "CRM"})
}

func TestSessions(t *testing.T) {
	inst := nodetest.Start(t)
	sUST, _ := inst.SuperUser("ses-root")
	a1, aID := inst.User(sUST, "ses-alice")
	a2 := inst.Login("ses-alice", nodetest.Password)
	b1, bID := inst.User(sUST, "ses-bob")
	session := func(method, ust string, kv ...any) nodetest.Response {
		return inst.Do(method, "/zato/sso/user/session", apiReq(ust, kv...))
	}
	list := func(ust string, kv ...any) nodetest.Response {
		return inst.Do("GET", "/zato/sso/user/session/list", apiReq(ust, kv...))
	}

	t.Run("verify", func(t *testing.T) {
		r := session("POST", sUST, "target_ust", a1)
		lcWant(t, "verify", r, "")
		if r.Body["is_valid"] != true {
			t.Fatalf("verify a live session = %s, want is_valid true", r.Raw)
		}
		lcWant(t, "verify as a regular user", session("POST", a1, "target_ust", a2), "E005001")
		lcWant(t, "verify without target_ust", session("POST", sUST), "E007001")
		lcWant(t, "verify with a bad caller token", session("POST", "gAAAAAnonsense", "target_ust", a1), "E007001")
		for _, target := range []string{"gAAAAAnonsense", "zust" + strings.Repeat("1", 20), nodetest.Keys.SealUST("zustnosuchsession")} {
			r := session("POST", sUST, "target_ust", target)
			lcWant(t, "verify an invalid target", r, "")
			if r.Body["is_valid"] != false {
				t.Fatalf("verify %q = %s, want is_valid false", target, r.Raw)
			}
		}
		lcWant(t, "lock bob", inst.Do("POST", "/zato/sso/user/lock", apiReq(sUST, "user_id", bID)), "")
		if r := session("POST", sUST, "target_ust", b1); r.Body["is_valid"] != false {
			t.Fatalf("verify a locked user's session = %s, want is_valid false", r.Raw)
		}
		// GET shows it all the same: no account check on GET (docs/API.md#d33).
		lcWant(t, "GET a locked user's session", session("GET", sUST, "target_ust", b1), "")
		lcWant(t, "unlock bob", inst.Do("DELETE", "/zato/sso/user/lock", apiReq(sUST, "user_id", bID)), "")
	})

	t.Run("get", func(t *testing.T) {
		r := session("GET", sUST, "target_ust", a1)
		lcWant(t, "GET", r, "")
		created, expires := lcTime(t, r.Body["creation_time"]), lcTime(t, r.Body["expiration_time"])
		if got := expires.Sub(created); got != time.Hour {
			t.Fatalf("expiration_time - creation_time = %s, want 1h (session.expiry)", got)
		}
		if r.Body["remote_addr"] != "127.0.0.1" || r.Body["user_agent"] != "Go-http-client/1.1" {
			t.Fatalf("GET = %s, want remote_addr 127.0.0.1 and the client's user agent", r.Raw)
		}
		lcWant(t, "GET as a regular user", session("GET", a1, "target_ust", a1), "E005001")
		lcWant(t, "GET without target_ust", session("GET", sUST), "E007001")
		lcWant(t, "GET an invalid target", session("GET", sUST, "target_ust", "gAAAAAnonsense"), "E007001")
		// Verify does not renew.
		lcWant(t, "verify", session("POST", sUST, "target_ust", a1), "")
		if again := session("GET", sUST, "target_ust", a1); again.Body["expiration_time"] != r.Body["expiration_time"] {
			t.Fatalf("expiration_time after verify = %v, want %v", again.Body["expiration_time"], r.Body["expiration_time"])
		}
	})

	t.Run("renew", func(t *testing.T) {
		before := session("GET", sUST, "target_ust", a2).Body["expiration_time"]
		r := session("PATCH", a2)
		lcWant(t, "renew", r, "")
		lcNear(t, "renewed expiration_time", lcTime(t, r.Body["expiration_time"]), time.Now().Add(time.Hour))
		after := session("GET", sUST, "target_ust", a2).Body["expiration_time"]
		if after != r.Body["expiration_time"] || lcTime(t, after).Before(lcTime(t, before)) {
			t.Fatalf("expiration_time %v -> %v, want it to become the renewed %v", before, after, r.Body["expiration_time"])
		}
		lcWant(t, "renew with a bad token", session("PATCH", "gAAAAAnonsense"), "E007001")
		sid := nodetest.SessionID(t, a2)
		events := inst.OwnerEvents(domain.SessionOwner(aID, sid))
		last := events[len(events)-1]
		if last.Kind != domain.KindSessionRenewed || last.Data.Session == nil || last.Data.Session.ID != sid ||
			domain.FormatTime(last.Data.Session.Expires) != r.Body["expiration_time"] || len(last.Data.Session.History) != 2 {
			t.Fatalf("last session event = %s %+v, want session.renewed carrying the whole new session", last.Kind, last.Data.Session)
		}
	})

	t.Run("list", func(t *testing.T) {
		r := list(a1)
		lcWant(t, "list", r, "")
		items, _ := r.Body["result"].([]any)
		if len(items) != 2 {
			t.Fatalf("list = %s, want alice's 2 sessions", r.Raw)
		}
		wantKeys := []string{"auth_principal", "auth_type", "creation_time", "expiration_time", "remote_addr",
			"session_state_change_list", "user_agent"}
		for i, it := range items {
			m := it.(map[string]any)
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, wantKeys) {
				t.Fatalf("item %d keys = %v, want %v", i, keys, wantKeys)
			}
			if m["auth_type"] != "default" || m["auth_principal"] != "ses-alice" {
				t.Fatalf("item %d = %v, want auth_type default and auth_principal ses-alice", i, m)
			}
		}
		if lcTime(t, items[0].(map[string]any)["creation_time"]).After(lcTime(t, items[1].(map[string]any)["creation_time"])) {
			t.Fatalf("list not sorted by creation_time: %s", r.Raw)
		}
		// No token in any form (docs/API.md#d27): neither a UST nor an internal id.
		for _, tok := range []string{a1, a2, nodetest.SessionID(t, a1), nodetest.SessionID(t, a2), "gAAAAA", "zust"} {
			if strings.Contains(string(r.Raw), tok) {
				t.Fatalf("list contains %q: %s", tok, r.Raw)
			}
		}
		// The renewed session (a2, the newer one) has its history.
		h := items[1].(map[string]any)["session_state_change_list"].([]any)
		if len(h) != 2 {
			t.Fatalf("history of the renewed session = %v, want login and renew", h)
		}
		for i, want := range []string{"login", "renew"} {
			e := h[i].(map[string]any)
			if e["ctx_source"] != want || e["idx"] != float64(i+1) || e["remote_addr"] != "127.0.0.1" ||
				e["user_agent"] != "Go-http-client/1.1" || e["timestamp_utc"] == nil {
				t.Fatalf("history entry %d = %v, want ctx_source %s idx %d", i, e, want, i+1)
			}
		}

		same := list(a1, "target_ust", a2)
		lcWant(t, "list with own other session as target", same, "")
		if len(same.Body["result"].([]any)) != 2 {
			t.Fatalf("list with target_ust = own session: %s, want alice's 2 sessions", same.Raw)
		}
		lcWant(t, "list with current_ust and target_ust", inst.Do("GET", "/zato/sso/user/session/list",
			map[string]any{"current_ust": a1, "target_ust": a1, "current_app": "CRM"}), "")
		lcWant(t, "regular user lists another user's sessions", list(a1, "target_ust", b1), "E005001")
		lcWant(t, "target that does not resolve", list(a1, "target_ust", "gAAAAAnonsense"), "E007001")
		other := list(sUST, "target_ust", b1)
		lcWant(t, "super-user lists bob's sessions", other, "")
		if items := other.Body["result"].([]any); len(items) != 1 || items[0].(map[string]any)["auth_principal"] != "ses-bob" {
			t.Fatalf("super-user's list of bob = %s, want bob's session", other.Raw)
		}
	})

	t.Run("history_keeps_100_entries", func(t *testing.T) {
		c1, _ := inst.User(sUST, "ses-carol")
		for range 105 {
			lcWant(t, "renew", session("PATCH", c1), "")
		}
		items := list(c1).Body["result"].([]any)
		h := items[0].(map[string]any)["session_state_change_list"].([]any)
		if len(h) != domain.MaxHistory {
			t.Fatalf("history has %d entries, want %d", len(h), domain.MaxHistory)
		}
		first, last := h[0].(map[string]any), h[len(h)-1].(map[string]any)
		if first["idx"] != float64(7) || last["idx"] != float64(106) || first["ctx_source"] != "renew" {
			t.Fatalf("history runs from %v to %v, want idx 7 (the oldest dropped first) to 106", first, last)
		}
	})

	t.Run("only_listed_methods_D32", func(t *testing.T) {
		for _, c := range []struct{ method, path string }{
			{"PUT", "/zato/sso/user/session"}, {"DELETE", "/zato/sso/user/session"},
			{"POST", "/zato/sso/user/session/list"}, {"GET", "/zato/sso/user/search/x"},
			{"PUT", "/zato/sso/user/lock"}, {"GET", "/zato/sso/user/password"}, {"GET", "/zato/sso/user/signup"},
		} {
			r := inst.Do(c.method, c.path, apiReq(sUST))
			if (r.Status != 405 && r.Status != 404) || r.SubStatus() != "E008001" {
				t.Fatalf("%s %s = %d %s, want 405 (or 404) E008001", c.method, c.path, r.Status, r.Raw)
			}
		}
	})
}

func TestSessions_RenewalBeforeExpiryKeepsSessionAndAttributes(t *testing.T) {
	var clock nodetest.OffsetClock
	inst := nodetest.Start(t, nodetest.WithNow(clock.Now))
	sUST, _ := inst.SuperUser("renew-root")
	a1, _ := inst.User(sUST, "renew-alice")
	lcWant(t, "PUT session attr", inst.Do("PUT", "/zato/sso/session/attr", apiReq(a1, "name", "cart", "value", "c-1")), "")

	clock.Advance(50 * time.Minute)
	lcWant(t, "renew", inst.Do("PATCH", "/zato/sso/user/session", apiReq(a1)), "")
	clock.Advance(30 * time.Minute) // past the first expiry, inside the renewed one
	r := inst.Do("GET", "/zato/sso/session/attr", apiReq(a1, "name", "cart"))
	lcWant(t, "GET after the first expiry", r, "")
	if r.Body["found"] != true || r.Body["value"] != "c-1" {
		t.Fatalf("GET after renewal = %s, want the attribute", r.Raw)
	}
	clock.Advance(31 * time.Minute) // past the renewed expiry
	lcWant(t, "GET after the renewed expiry", inst.Do("GET", "/zato/sso/session/attr", apiReq(a1, "name", "cart")), "E007001")
	lcWant(t, "renew after expiry", inst.Do("PATCH", "/zato/sso/user/session", apiReq(a1)), "E007001")
}

func TestLogin(t *testing.T) {
	inst, root, _ := apiSetup(t)
	apiCreate(t, inst, root, "alice", "auto_approve", true)
	apiCreate(t, inst, root, "pending")
	apiCreate(t, inst, root, "locked", "auto_approve", true, "is_locked", true)
	apiCreate(t, inst, root, "unconfirmed", "auto_approve", true, "sign_up_status", "before_confirmation")

	t.Run("ok", func(t *testing.T) {
		r := apiLoginAs(inst, "alice", nodetest.Password)
		apiWant(t, "login", r, "")
		if ust, _ := r.Body["ust"].(string); !strings.HasPrefix(ust, "gAAAAA") || len(userKeys(r.Body)) != 1 {
			t.Fatalf("login = %s, want only a Fernet ust", r.Raw)
		}
	})
	t.Run("wrong password or unknown user is E005001", func(t *testing.T) {
		apiWant(t, "wrong password", apiLoginAs(inst, "alice", "Wrong-Horse-7-Battery"), "E005001")
		apiWant(t, "unknown user", apiLoginAs(inst, "nobody", nodetest.Password), "E005001")
		apiWant(t, "empty password", apiLoginAs(inst, "alice", ""), "E005001")
		apiWant(t, "null username", inst.Do("POST", apiLogin, map[string]any{"username": nil, "password": nodetest.Password, "current_app": "CRM"}), "E005001")
		// Account state is never shown without the right password (docs/API.md#disclosure).
		apiWant(t, "locked, wrong password", apiLoginAs(inst, "locked", "Wrong-Horse-7-Battery"), "E005001")
		apiWant(t, "unapproved, wrong password", apiLoginAs(inst, "pending", "Wrong-Horse-7-Battery"), "E005001")
	})
	t.Run("missing keys are 400 E008003", func(t *testing.T) {
		for _, k := range []string{"username", "password", "current_app"} {
			body := map[string]any{"username": "alice", "password": nodetest.Password, "current_app": "CRM"}
			delete(body, k)
			apiWant400(t, "login without "+k, inst.Do("POST", apiLogin, body), "E008003")
		}
	})
	t.Run("unknown app is E004001", func(t *testing.T) {
		r := inst.Do("POST", apiLogin, map[string]any{"username": "alice", "password": nodetest.Password, "current_app": "ERP"})
		apiWant(t, "login from ERP", r, "E004001")
	})
	t.Run("account state after the right password", func(t *testing.T) {
		apiWant(t, "unapproved user", apiLoginAs(inst, "pending", nodetest.Password), "E005004")
		apiWant(t, "locked user (is_locked at creation)", apiLoginAs(inst, "locked", nodetest.Password), "E005002")
		apiWant(t, "unconfirmed user", apiLoginAs(inst, "unconfirmed", nodetest.Password), "E005003")
	})
	t.Run("the query string works too", func(t *testing.T) {
		r := inst.Query("POST", apiLogin, map[string]string{"username": "alice", "password": nodetest.Password, "current_app": "CRM"})
		apiWant(t, "login by query", r, "")
	})
}

func TestLogout(t *testing.T) {
	inst, root, _ := apiSetup(t)
	apiCreate(t, inst, root, "alice", "auto_approve", true)

	for name, tok := range map[string]any{"garbage": "garbage", "empty": "", "null": nil, "Fernet-looking": "gAAAAABnOld"} {
		apiWant(t, "logout with a "+name+" token", inst.Do("POST", apiLogout, map[string]any{"ust": tok, "current_app": "CRM"}), "")
	}
	apiWant400(t, "logout without a token", inst.Do("POST", apiLogout, map[string]any{"current_app": "CRM"}), "E008003")
	apiWant(t, "logout from an unknown app", inst.Do("POST", apiLogout, map[string]any{"ust": "x", "current_app": "ERP"}), "E004001")

	ust := inst.Login("alice", nodetest.Password)
	other := inst.Login("alice", nodetest.Password)
	apiWant(t, "PUT before logout", inst.Do("PUT", apiAttr, apiReq(ust, "name", "a", "value", 1)), "")
	apiWant(t, "logout with current_ust", inst.Do("POST", apiLogout, map[string]any{"current_ust": ust, "current_app": "CRM"}), "")
	apiWant(t, "GET /user after logout", inst.Do("GET", apiUser, apiReq(ust)), "E007001")
	apiWant(t, "attribute names after logout", inst.Do("GET", apiAttr+"/names", apiReq(ust)), "E007001")
	apiWant(t, "logout again", inst.Do("POST", apiLogout, apiReq(ust)), "")
	// Only that session ended; the user's attributes belong to the user.
	r := inst.Do("GET", apiAttr+"/names", apiReq(other))
	apiWant(t, "names through the other session", r, "")
	if got := r.Body["result"].([]any); len(got) != 1 || got[0] != "a" {
		t.Fatalf("names through the other session = %s, want [a]", r.Raw)
	}
}

func TestLogin_AccountChecks(t *testing.T) {
	url, _ := nodetest.StartNATS(t)
	inst := nodetest.Start(t, nodetest.WithNATS(url))
	sUST, _ := inst.SuperUser("login-root")
	patch := func(id string, kv ...any) {
		t.Helper()
		lcWant(t, "PATCH /user", inst.Do("PATCH", "/zato/sso/user", apiReq(sUST, append([]any{"user_id", id}, kv...)...)), "")
	}
	create := func(name string, kv ...any) string {
		t.Helper()
		r := inst.Do("POST", "/zato/sso/user", apiReq(sUST, append([]any{"username", name, "password", nodetest.Password}, kv...)...))
		lcWant(t, "create "+name, r, "")
		return r.Body["user_id"].(string)
	}

	t.Run("wrong_password_and_unknown_user", func(t *testing.T) {
		create("login-plain", "auto_approve", true)
		lcWant(t, "wrong password", lcLoginCode(inst, "login-plain", "Wrong-Pass-99"), "E005001")
		lcWant(t, "unknown user", lcLoginCode(inst, "login-nobody", nodetest.Password), "E005001")
		lcWant(t, "empty password", lcLoginCode(inst, "login-plain", ""), "E005001")
	})

	t.Run("account_state", func(t *testing.T) {
		create("login-unapproved")
		lcWant(t, "not approved (API.md#d15)", lcLoginCode(inst, "login-unapproved", nodetest.Password), "E005004")
		lcWant(t, "not approved, wrong password", lcLoginCode(inst, "login-unapproved", "Wrong-Pass-99"), "E005001")
		create("login-unconfirmed", "auto_approve", true, "sign_up_status", "before_confirmation")
		lcWant(t, "not confirmed", lcLoginCode(inst, "login-unconfirmed", nodetest.Password), "E005003")
		create("login-locked", "auto_approve", true, "is_locked", true)
		lcWant(t, "locked", lcLoginCode(inst, "login-locked", nodetest.Password), "E005002")
	})

	t.Run("must_change_password", func(t *testing.T) {
		create("login-must", "auto_approve", true, "password_must_change", true)
		lcWant(t, "no new_password", lcLoginCode(inst, "login-must", nodetest.Password), "E003007")
		lcWant(t, "invalid new_password (API.md#d17)", lcLoginCode(inst, "login-must", nodetest.Password, "new_password", "short"), "E003002")
		lcWant(t, "new_password", lcLoginCode(inst, "login-must", nodetest.Password, "new_password", "Brand-New-Pass-5"), "")
		lcWant(t, "old password after the change", lcLoginCode(inst, "login-must", nodetest.Password), "E005001")
		lcWant(t, "new password, no change needed", lcLoginCode(inst, "login-must", "Brand-New-Pass-5"), "")
	})

	t.Run("expired_password", func(t *testing.T) {
		id := create("login-expired", "auto_approve", true)
		patch(id, "password_expiry", "2001-01-01")
		lcWant(t, "expired, inform_if_expired off", lcLoginCode(inst, "login-expired", nodetest.Password), "E005001")
		informing := nodetest.Start(t, nodetest.WithNATS(url), nodetest.WithConfig(func(c *sso.Config) { c.InformIfPasswordExpired = true }))
		lcWant(t, "expired, inform_if_expired on", lcLoginCode(informing, "login-expired", nodetest.Password), "E003004")
	})

	t.Run("about_to_expire_D18", func(t *testing.T) {
		id := create("login-soon", "auto_approve", true)
		patch(id, "password_expiry", domain.FormatTime(time.Now().Add(10*24*time.Hour)))
		r := lcLoginCode(inst, "login-soon", nodetest.Password)
		if r.Status != 200 || r.Body["status"] != "warning" || r.SubStatus() != "W003005" || r.Body["ust"] == nil {
			t.Fatalf("login inside the threshold = %d %s, want 200 warning W003005 with a ust", r.Status, r.Raw)
		}
		for _, c := range []struct {
			logIn, inform bool
			code          string
		}{{true, false, ""}, {false, true, "E003006"}, {false, false, "E005001"}} {
			replica := nodetest.Start(t, nodetest.WithNATS(url), nodetest.WithConfig(func(cfg *sso.Config) {
				cfg.LogInIfAboutToExpire, cfg.InformIfAboutToExpire = c.logIn, c.inform
			}))
			r := lcLoginCode(replica, "login-soon", nodetest.Password)
			lcWant(t, "log_in_if_about_to_expire / inform_if_about_to_expire", r, c.code)
			if c.code == "" && (r.Body["sub_status"] != nil || r.Body["ust"] == nil) {
				t.Fatalf("login = %s, want a plain success", r.Raw)
			}
		}
		// A new password given at login is what the threshold is checked against.
		must := create("login-soon-must", "auto_approve", true, "password_must_change", true)
		patch(must, "password_expiry", domain.FormatTime(time.Now().Add(10*24*time.Hour)))
		r = lcLoginCode(inst, "login-soon-must", nodetest.Password, "new_password", "Brand-New-Pass-6")
		if r.Status != 200 || r.Body["status"] != "ok" {
			t.Fatalf("login with a new password = %d %s, want a plain success (API.md#d18)", r.Status, r.Raw)
		}
	})
}
