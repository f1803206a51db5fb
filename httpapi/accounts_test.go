package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
	"github.com/ssoattr/ssoattr/sso"
)

// lcWant fails unless r is 200 "ok" (code "") or 403 with that code.
func lcWant(t *testing.T, what string, r nodetest.Response, code string) {
	t.Helper()
	if code == "" {
		if r.Status != http.StatusOK || r.Body["status"] != "ok" {
			t.Fatalf("%s = %d %s, want 200 ok", what, r.Status, r.Raw)
		}
		return
	}
	if r.Status != http.StatusForbidden || r.SubStatus() != code {
		t.Fatalf("%s = %d %s, want 403 %s", what, r.Status, r.Raw, code)
	}
}

// lcWant400 fails unless r is a 400 with that code.
func lcWant400(t *testing.T, what string, r nodetest.Response, code string) {
	t.Helper()
	if r.Status != http.StatusBadRequest || r.SubStatus() != code {
		t.Fatalf("%s = %d %s, want 400 %s", what, r.Status, r.Raw, code)
	}
}

// lcGetUser returns the user's fields as the super-user sees them.
func lcGetUser(t *testing.T, inst *nodetest.Instance, superUST, userID string) map[string]any {
	t.Helper()
	r := inst.Do("GET", "/zato/sso/user", apiReq(superUST, "user_id", userID))
	lcWant(t, "GET /user "+userID, r, "")
	return r.Body
}

// lcTime parses a time (docs/API.md#time-format) from a response.
func lcTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	tm, err := domain.ParseTime(s)
	if err != nil {
		t.Fatalf("time %v: %v", v, err)
	}
	return tm
}

// lcNear fails unless got is within a minute of want.
func lcNear(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if d := got.Sub(want); d < -time.Minute || d > time.Minute {
		t.Fatalf("%s = %s, want about %s", what, got, want)
	}
}

// lcKinds returns the kinds of events.
func lcKinds(es []domain.Event) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Kind
	}
	return out
}

func lcLoginCode(inst *nodetest.Instance, username, password string, kv ...any) nodetest.Response {
	return inst.Do("POST", "/zato/sso/user/login", apiReq("", append([]any{"username", username, "password", password}, kv...)...))
}

func TestUserUpdate(t *testing.T) {
	inst := nodetest.Start(t)
	sUST, sID := inst.SuperUser("lc-root")
	aUST, aID := inst.User(sUST, "lc-alice")
	bUST, bID := inst.User(sUST, "lc-bob")
	patch := func(ust string, kv ...any) nodetest.Response {
		return inst.Do("PATCH", "/zato/sso/user", apiReq(ust, kv...))
	}

	t.Run("absent_keeps_null_clears", func(t *testing.T) {
		lcWant(t, "PATCH names", patch(aUST, "display_name", "Alice A", "first_name", "Alice",
			"last_name", "Anders", "email", "a@example.com"), "")
		lcWant(t, "PATCH first_name null", patch(aUST, "first_name", nil), "")
		u := lcGetUser(t, inst, sUST, aID)
		if _, ok := u["first_name"]; ok {
			t.Fatalf("first_name after null = %v, want absent", u["first_name"])
		}
		if u["display_name"] != "Alice A" || u["last_name"] != "Anders" || u["email"] != "a@example.com" {
			t.Fatalf("fields not sent changed: %v", u)
		}
		lcWant(t, "PATCH email null", patch(aUST, "email", nil), "")
		lcWant(t, "PATCH display_name empty", patch(aUST, "display_name", ""), "")
		u = lcGetUser(t, inst, sUST, aID)
		if _, ok := u["email"]; ok || u["display_name"] != "" || u["last_name"] != "Anders" {
			t.Fatalf("after email null and display_name \"\": %v, want no email, display_name \"\"", u)
		}
		// The regular user sees their own account, with user_id (docs/API.md#d20).
		own := inst.Do("GET", "/zato/sso/user", apiReq(aUST))
		if own.Body["user_id"] != aID || own.Body["last_name"] != "Anders" || own.Body["is_locked"] != nil {
			t.Fatalf("own GET = %s, want the regular field set", own.Raw)
		}
	})

	t.Run("nothing_to_update_is_403_E008003", func(t *testing.T) {
		lcWant(t, "PATCH nothing", patch(aUST), "E008003")
		lcWant(t, "PATCH unlisted keys only", patch(aUST, "password", "Other-Pass-99", "is_approved", true, "x", 1), "E008003")
		lcWant(t, "PATCH is_locked null only", patch(sUST, "user_id", aID, "is_locked", nil), "E008003")
	})

	t.Run("super_only_field_from_regular_user_is_E008002", func(t *testing.T) {
		for _, kv := range [][]any{{"is_locked", true}, {"password_expiry", "2040-01-01"},
			{"password_must_change", true}, {"sign_up_status", "final"}, {"approval_status", "approved"}} {
			lcWant(t, "PATCH "+kv[0].(string)+" as regular", patch(aUST, kv...), "E008002")
		}
		if u := lcGetUser(t, inst, sUST, aID); u["is_locked"] != false || u["password_must_change"] != false {
			t.Fatalf("refused update changed the account: %v", u)
		}
	})

	t.Run("invalid_values_are_E008002", func(t *testing.T) {
		for _, c := range []struct {
			name string
			kv   []any
		}{
			{"username null", []any{"username", nil}},
			{"username empty", []any{"username", ""}},
			{"username blank", []any{"username", "   "}},
			{"is_totp_enabled null (API.md#d22)", []any{"is_totp_enabled", nil}},
			{"is_totp_enabled not a bool", []any{"is_totp_enabled", "maybe"}},
			{"sign_up_status null", []any{"user_id", aID, "sign_up_status", nil}},
			{"sign_up_status unknown", []any{"user_id", aID, "sign_up_status", "done"}},
			{"approval_status null", []any{"user_id", aID, "approval_status", nil}},
			{"approval_status unknown", []any{"user_id", aID, "approval_status", "yes"}},
			{"password_expiry not a date", []any{"user_id", aID, "password_expiry", "next week"}},
			{"display_name not a string", []any{"display_name", 5}},
		} {
			lcWant(t, c.name, patch(sUST, c.kv...), "E008002")
		}
	})

	t.Run("permissions", func(t *testing.T) {
		lcWant(t, "regular on another user", patch(aUST, "user_id", bID, "display_name", "x"), "E005001")
		lcWant(t, "regular on unknown user", patch(aUST, "user_id", "zusrnosuchuser", "display_name", "x"), "E005001")
		lcWant(t, "regular with own user_id", patch(aUST, "user_id", aID, "middle_name", "M"), "")
		lcWant(t, "super on unknown user", patch(sUST, "user_id", "zusrnosuchuser", "display_name", "x"), "E001100")
		lcWant(t, "super on another user", patch(sUST, "user_id", bID, "display_name", "Bob B"), "")
		if u := lcGetUser(t, inst, sUST, bID); u["display_name"] != "Bob B" {
			t.Fatalf("display_name = %v, want Bob B", u["display_name"])
		}
	})

	t.Run("super_user_fields", func(t *testing.T) {
		before := time.Now()
		lcWant(t, "lock", patch(sUST, "user_id", bID, "is_locked", true), "")
		u := lcGetUser(t, inst, sUST, bID)
		if u["is_locked"] != true || u["locked_by"] != sID {
			t.Fatalf("after lock: is_locked %v locked_by %v, want true %s", u["is_locked"], u["locked_by"], sID)
		}
		lcNear(t, "locked_time", lcTime(t, u["locked_time"]), before)
		lcWant(t, "locked user's session", inst.Do("GET", "/zato/sso/user", apiReq(bUST)), "E005002")
		lcWant(t, "unlock", patch(sUST, "user_id", bID, "is_locked", false), "")
		lcWant(t, "unlocked user's session", inst.Do("GET", "/zato/sso/user", apiReq(bUST)), "")

		lcWant(t, "reject by PATCH", patch(sUST, "user_id", bID, "approval_status", "rejected"), "")
		u = lcGetUser(t, inst, sUST, bID)
		if u["approval_status"] != "rejected" || u["approval_status_mod_by"] != sID || u["is_approval_needed"] != true {
			t.Fatalf("after approval_status rejected: %v", u)
		}
		lcWant(t, "rejected user's session", inst.Do("GET", "/zato/sso/user", apiReq(bUST)), "E005004")
		lcWant(t, "approve by PATCH", patch(sUST, "user_id", bID, "approval_status", "approved"), "")

		lcWant(t, "sign_up_status", patch(sUST, "user_id", bID, "sign_up_status", "before_confirmation"), "")
		lcWant(t, "unconfirmed user's session", inst.Do("GET", "/zato/sso/user", apiReq(bUST)), "E005003")
		lcWant(t, "sign_up_status final", patch(sUST, "user_id", bID, "sign_up_status", "final"), "")

		lcWant(t, "expiry and must-change", patch(sUST, "user_id", bID, "password_expiry", "2041-05-04T09:10:11.25+02:00",
			"password_must_change", true, "password_is_set", false), "")
		u = lcGetUser(t, inst, sUST, bID)
		if u["password_expiry"] != "2041-05-04T07:10:11.250000" || u["password_must_change"] != true || u["password_is_set"] != true {
			t.Fatalf("after expiry and must-change: expiry %v must_change %v is_set %v",
				u["password_expiry"], u["password_must_change"], u["password_is_set"])
		}
		lcWant(t, "null super fields are absent", patch(sUST, "user_id", bID, "password_expiry", nil,
			"password_must_change", nil, "display_name", "Bob"), "")
		if u := lcGetUser(t, inst, sUST, bID); u["password_must_change"] != true || u["password_expiry"] != "2041-05-04T07:10:11.250000" {
			t.Fatalf("null super fields changed the account: %v", u)
		}
	})

	t.Run("totp_label_and_flag", func(t *testing.T) {
		lcWant(t, "label", patch(aUST, "totp_label", "My phone", "is_totp_enabled", false), "")
		if u := lcGetUser(t, inst, sUST, aID); u["totp_label"] != "My phone" {
			t.Fatalf("totp_label = %v, want My phone", u["totp_label"])
		}
		events := inst.OwnerEvents(domain.UserOwner(aID))
		last := events[len(events)-1]
		if last.Kind != domain.KindUserUpdated || last.Data.User == nil || strings.Contains(last.Data.User.TOTPLabel, "phone") {
			t.Fatalf("last user event = %s with label %q, want user.updated with an encrypted label (API.md#d22)", last.Kind, last.Data.User.TOTPLabel)
		}
		lcWant(t, "label null", patch(aUST, "totp_label", nil), "")
		if u := lcGetUser(t, inst, sUST, aID); u["totp_label"] != "" {
			t.Fatalf("totp_label after null = %v, want \"\" (the default label)", u["totp_label"])
		}
	})

	t.Run("rename", func(t *testing.T) {
		lcWant(t, "rename to a taken name", patch(aUST, "username", "lc-bob"), "E001002")
		lcWant(t, "rename to own name", patch(aUST, "username", "lc-alice"), "")
		lcWant(t, "rename", patch(aUST, "username", "lc-alice2"), "")
		inst.Login("lc-alice2", nodetest.Password)
		lcWant(t, "login with the old name", lcLoginCode(inst, "lc-alice", nodetest.Password), "E005001")
		// The old name is free again.
		r := inst.Do("POST", "/zato/sso/user", apiReq(sUST, "username", "lc-alice", "password", nodetest.Password))
		lcWant(t, "create with the released name", r, "")
		got := lcKinds(inst.OwnerEvents(domain.UsernameOwner("lc-alice")))
		want := []string{domain.KindUsernameClaimed, domain.KindUsernameReleased, domain.KindUsernameClaimed}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("events of username lc-alice = %v, want %v", got, want)
		}
		events := inst.OwnerEvents(domain.UserOwner(aID))
		last := events[len(events)-1]
		if last.Kind != domain.KindUserUpdated || last.Data.User.Username != "lc-alice2" || strings.Join(last.Data.Changed, ",") != "username" {
			t.Fatalf("last user event = %s %+v changed %v, want user.updated of the username", last.Kind, last.Data.User.Username, last.Data.Changed)
		}
	})
}

// lcRawDo sends a JSON request from any goroutine (nodetest.Instance.Do
// may only be used from the test's goroutine).
func lcRawDo(baseURL, method, path string, body any) (int, string, error) {
	data, _ := json.Marshal(body)
	req, err := http.NewRequest(method, baseURL+path, bytes.NewReader(data))
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), err
}

func TestUserUpdate_ConcurrentRenamesAcrossReplicasKeepUsernamesUnique(t *testing.T) {
	url, _ := nodetest.StartNATS(t)
	a := nodetest.Start(t, nodetest.WithNATS(url))
	b := nodetest.Start(t, nodetest.WithNATS(url))
	sUST, _ := a.SuperUser("race-root")
	_, u1 := a.User(sUST, "race-one")
	_, u2 := a.User(sUST, "race-two")
	for round := range 5 {
		name := "race-target-" + string(rune('a'+round))
		var wg sync.WaitGroup
		codes := make([]int, 2)
		bodies := make([]string, 2)
		errs := make([]error, 2)
		for i, c := range []struct {
			inst *nodetest.Instance
			id   string
		}{{a, u1}, {b, u2}} {
			wg.Go(func() {
				codes[i], bodies[i], errs[i] = lcRawDo(c.inst.URL, "PATCH", "/zato/sso/user",
					apiReq(sUST, "user_id", c.id, "username", name))
			})
		}
		wg.Wait()
		ok, taken := 0, 0
		for i := range 2 {
			switch {
			case errs[i] != nil:
				t.Fatalf("round %d: %v", round, errs[i])
			case codes[i] == 200:
				ok++
			case codes[i] == 403 && strings.Contains(bodies[i], "E001002"):
				taken++
			default:
				t.Fatalf("round %d: answer %d %s, want 200 or 403 E001002", round, codes[i], bodies[i])
			}
		}
		if ok != 1 || taken != 1 {
			t.Fatalf("round %d: %d renames succeeded and %d got E001002, want 1 and 1 (%v)", round, ok, taken, bodies)
		}
		// The winner may have written through b: a's view is current only
		// once it has applied everything the stream holds.
		view := a.Synced()
		holder, _ := view.UsernameClaim(name)
		u, found := view.UserByName(name)
		if !found || u.ID != holder {
			t.Fatalf("round %d: %s held by %q, user by name %v, want the same user", round, name, holder, u)
		}
	}
}

func TestDeleteUser(t *testing.T) {
	inst := nodetest.Start(t)
	sUST, sID := inst.SuperUser("del-root")
	aUST, _ := inst.User(sUST, "del-alice")
	dUST, dID := inst.User(sUST, "del-dave")
	del := func(ust string, kv ...any) nodetest.Response {
		return inst.Do("DELETE", "/zato/sso/user", apiReq(ust, kv...))
	}
	lcWant(t, "regular user deletes", del(aUST, "user_id", dID), "E005001")
	lcWant(t, "unknown user (API.md#d23)", del(sUST, "user_id", "zusrnosuchuser"), "E001100")
	lcWant(t, "super-user deletes themselves", del(sUST, "user_id", sID), "E008001")
	lcWant400(t, "no user_id", del(sUST), "E008003")
	lcWant(t, "delete", del(sUST, "user_id", dID), "")

	lcWant(t, "GET the deleted user", inst.Do("GET", "/zato/sso/user", apiReq(sUST, "user_id", dID)), "E001100")
	lcWant(t, "deleted user's session", inst.Do("GET", "/zato/sso/user", apiReq(dUST)), "E007001")
	lcWant(t, "deleted user's login", lcLoginCode(inst, "del-dave", nodetest.Password), "E005001")
	lcWant(t, "delete again", del(sUST, "user_id", dID), "E001100")
	if got := lcKinds(inst.OwnerEvents(domain.UserOwner(dID))); got[len(got)-1] != domain.KindUserDeleted {
		t.Fatalf("user events = %v, want user.deleted last", got)
	}
	got := lcKinds(inst.OwnerEvents(domain.UsernameOwner("del-dave")))
	if strings.Join(got, ",") != domain.KindUsernameClaimed+","+domain.KindUsernameReleased {
		t.Fatalf("username events = %v, want claimed, released", got)
	}
	inst.User(sUST, "del-dave") // the username is free again
}

func TestLockAndUnlock(t *testing.T) {
	inst := nodetest.Start(t)
	sUST, sID := inst.SuperUser("lock-root")
	aUST, aID := inst.User(sUST, "lock-alice")
	lock := func(method, ust string, kv ...any) nodetest.Response {
		return inst.Do(method, "/zato/sso/user/lock", apiReq(ust, kv...))
	}
	lcWant(t, "regular user locks", lock("POST", aUST, "user_id", aID), "E005001")
	lcWant(t, "regular user unlocks", lock("DELETE", aUST, "user_id", aID), "E005001")
	lcWant(t, "lock unknown user (API.md#d24)", lock("POST", sUST, "user_id", "zusrnosuchuser"), "E001100")
	lcWant(t, "unlock unknown user (API.md#d24)", lock("DELETE", sUST, "user_id", "zusrnosuchuser"), "E001100")
	lcWant400(t, "lock without user_id", lock("POST", sUST), "E008003")

	lcWant(t, "lock", lock("POST", sUST, "user_id", aID), "")
	lcWant(t, "lock again", lock("POST", sUST, "user_id", aID), "")
	u := lcGetUser(t, inst, sUST, aID)
	if u["is_locked"] != true || u["locked_by"] != sID {
		t.Fatalf("after lock: %v", u)
	}
	lockedAt := lcTime(t, u["locked_time"])
	lcWant(t, "locked user's existing session", inst.Do("GET", "/zato/sso/user/attr/names", apiReq(aUST)), "E005002")
	lcWant(t, "locked user's login", lcLoginCode(inst, "lock-alice", nodetest.Password), "E005002")

	lcWant(t, "unlock", lock("DELETE", sUST, "user_id", aID), "")
	lcWant(t, "unlock again", lock("DELETE", sUST, "user_id", aID), "")
	u = lcGetUser(t, inst, sUST, aID)
	if u["is_locked"] != false || u["locked_by"] != sID || lcTime(t, u["locked_time"]).Before(lockedAt) {
		t.Fatalf("after unlock: %v, want unlocked with locked_by and a later locked_time", u)
	}
	lcWant(t, "unlocked user's session", inst.Do("GET", "/zato/sso/user", apiReq(aUST)), "")
	got := lcKinds(inst.OwnerEvents(domain.UserOwner(aID)))
	if n := len(got); n < 4 || got[n-4] != domain.KindUserLocked || got[n-1] != domain.KindUserUnlocked {
		t.Fatalf("user events = %v, want user.locked twice then user.unlocked twice", got)
	}
}

func TestRejectAndApprove(t *testing.T) {
	inst := nodetest.Start(t)
	sUST, sID := inst.SuperUser("rej-root")
	aUST, aID := inst.User(sUST, "rej-alice")
	lcWant(t, "regular user rejects (API.md#d24)", inst.Do("POST", "/zato/sso/user/reject", apiReq(aUST, "user_id", aID)), "E005001")
	lcWant(t, "reject unknown user (API.md#d24)", inst.Do("POST", "/zato/sso/user/reject", apiReq(sUST, "user_id", "zusrnosuchuser")), "E001100")
	lcWant(t, "reject", inst.Do("POST", "/zato/sso/user/reject", apiReq(sUST, "user_id", aID)), "")
	lcWant(t, "reject again", inst.Do("POST", "/zato/sso/user/reject", apiReq(sUST, "user_id", aID)), "")
	if u := lcGetUser(t, inst, sUST, aID); u["approval_status"] != "rejected" || u["approval_status_mod_by"] != sID {
		t.Fatalf("after reject: %v", u)
	}
	lcWant(t, "rejected user's session", inst.Do("GET", "/zato/sso/user", apiReq(aUST)), "E005004")
	lcWant(t, "rejected user's login (API.md#d15)", lcLoginCode(inst, "rej-alice", nodetest.Password), "E005004")
	lcWant(t, "approve", inst.Do("POST", "/zato/sso/user/approve", apiReq(sUST, "user_id", aID)), "")
	lcWant(t, "approved user's session", inst.Do("GET", "/zato/sso/user", apiReq(aUST)), "")
}

func TestChangePassword(t *testing.T) {
	inst := nodetest.Start(t)
	sUST, sID := inst.SuperUser("pw-root")
	aUST, aID := inst.User(sUST, "pw-alice")
	_, bID := inst.User(sUST, "pw-bob")
	change := func(ust string, kv ...any) nodetest.Response {
		return inst.Do("PATCH", "/zato/sso/user/password", apiReq(ust, kv...))
	}
	setFlag := func(id string) {
		t.Helper()
		lcWant(t, "set must-change", inst.Do("PATCH", "/zato/sso/user", apiReq(sUST, "user_id", id, "password_must_change", true)), "")
	}
	const pw2, pw3, pw4 = "Second-Pass-22", "Third-Pass-333", "Fourth-Pass-4444"

	t.Run("regular_user_own_password", func(t *testing.T) {
		lcWant400(t, "no new_password", change(aUST, "old_password", nodetest.Password), "E008003")
		lcWant(t, "no old_password", change(aUST, "new_password", pw2), "E005001")
		lcWant(t, "wrong old_password", change(aUST, "new_password", pw2, "old_password", "Wrong-Pass-1"), "E005001")
		lcWant(t, "too short", change(aUST, "new_password", "Ab1", "old_password", nodetest.Password), "E003002")
		lcWant(t, "too long", change(aUST, "new_password", strings.Repeat("x", 257), "old_password", nodetest.Password), "E003003")
		lcWant(t, "rejected word", change(aUST, "new_password", "MyPassword-77", "old_password", nodetest.Password), "E003001")
		lcWant(t, "another user's password (API.md#d25)", change(aUST, "user_id", bID, "new_password", pw2), "E005001")
		setFlag(aID)
		lcWant(t, "change", change(aUST, "new_password", pw2, "old_password", nodetest.Password,
			"must_change", true, "password_expiry", 3), "")
		u := lcGetUser(t, inst, sUST, aID)
		if u["password_must_change"] != false {
			t.Fatalf("password_must_change = %v, want false (cleared for the owner, must_change ignored, API.md#d25)", u["password_must_change"])
		}
		lcNear(t, "password_expiry", lcTime(t, u["password_expiry"]), time.Now().Add(730*24*time.Hour))
		lcNear(t, "password_last_set", lcTime(t, u["password_last_set"]), time.Now())
		lcWant(t, "login with the old password", lcLoginCode(inst, "pw-alice", nodetest.Password), "E005001")
		inst.Login("pw-alice", pw2)
		lcWant(t, "other sessions stay valid", inst.Do("GET", "/zato/sso/user", apiReq(aUST)), "")
	})

	t.Run("super_user_own_password", func(t *testing.T) {
		lcWant(t, "no old_password", change(sUST, "new_password", pw2), "E005001")
		setFlag(sID)
		lcWant(t, "change without must_change", change(sUST, "new_password", pw2, "old_password", nodetest.Password), "")
		if u := lcGetUser(t, inst, sUST, sID); u["password_must_change"] != false {
			t.Fatalf("password_must_change = %v, want false when must_change is absent", u["password_must_change"])
		}
		lcWant(t, "change with must_change and expiry", change(sUST, "new_password", pw3, "old_password", pw2,
			"must_change", true, "password_expiry", 10), "")
		u := lcGetUser(t, inst, sUST, sID)
		if u["password_must_change"] != true {
			t.Fatalf("password_must_change = %v, want true (honoured for a super-user, API.md#d25)", u["password_must_change"])
		}
		lcNear(t, "password_expiry", lcTime(t, u["password_expiry"]), time.Now().Add(10*24*time.Hour))
	})

	t.Run("super_user_other_password", func(t *testing.T) {
		setFlag(bID)
		lcWant(t, "unknown user", change(sUST, "user_id", "zusrnosuchuser", "new_password", pw2), "E001100")
		lcWant(t, "change, old_password ignored", change(sUST, "user_id", bID, "new_password", pw2, "old_password", "whatever"), "")
		u := lcGetUser(t, inst, sUST, bID)
		if u["password_must_change"] != true {
			t.Fatalf("password_must_change = %v, want true (left as it was)", u["password_must_change"])
		}
		lcNear(t, "password_expiry (0 means the default)", lcTime(t, u["password_expiry"]), time.Now().Add(730*24*time.Hour))
		lcWant(t, "change with must_change false", change(sUST, "user_id", bID, "new_password", pw4,
			"must_change", "false", "password_expiry", "5"), "")
		u = lcGetUser(t, inst, sUST, bID)
		if u["password_must_change"] != false {
			t.Fatalf("password_must_change = %v, want false", u["password_must_change"])
		}
		lcNear(t, "password_expiry", lcTime(t, u["password_expiry"]), time.Now().Add(5*24*time.Hour))
		inst.Login("pw-bob", pw4)
		events := inst.OwnerEvents(domain.UserOwner(bID))
		if k := events[len(events)-1].Kind; k != domain.KindUserPasswordChanged {
			t.Fatalf("last user event = %s, want %s", k, domain.KindUserPasswordChanged)
		}
	})

	t.Run("expired_password_can_still_be_changed_D25", func(t *testing.T) {
		cUST, cID := inst.User(sUST, "pw-carol")
		lcWant(t, "expire", inst.Do("PATCH", "/zato/sso/user", apiReq(sUST, "user_id", cID, "password_expiry", "2001-01-01")), "")
		lcWant(t, "session with an expired password", inst.Do("GET", "/zato/sso/user", apiReq(cUST)), "E005001")
		lcWant(t, "login with an expired password", lcLoginCode(inst, "pw-carol", nodetest.Password), "E005001")
		lcWant(t, "change", change(cUST, "new_password", pw2, "old_password", nodetest.Password), "")
		lcWant(t, "session after the change", inst.Do("GET", "/zato/sso/user", apiReq(cUST)), "")
	})
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
