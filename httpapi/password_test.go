package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
)

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
