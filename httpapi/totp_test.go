package httpapi_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
	"github.com/ssoattr/ssoattr/sso"
)

var base32Key = regexp.MustCompile(`^[A-Z2-7]{32}$`)

func TestTOTP(t *testing.T) {
	url, _ := nodetest.StartNATS(t)
	var clock nodetest.OffsetClock // codes are made for the instance's time
	inst := nodetest.Start(t, nodetest.WithNATS(url), nodetest.WithNow(clock.Now))
	sUST, _ := inst.SuperUser("totp-root")
	aUST, aID := inst.User(sUST, "totp-alice")
	_, bID := inst.User(sUST, "totp-bob")
	setKey := func(ust string, kv ...any) nodetest.Response {
		return inst.Do("PATCH", "/zato/sso/user/totp", apiReq(ust, kv...))
	}

	t.Run("set_key", func(t *testing.T) {
		r := setKey(aUST)
		lcWant(t, "generate", r, "")
		key, _ := r.Body["totp_key"].(string)
		if !base32Key.MatchString(key) {
			t.Fatalf("generated key = %q, want 32 base32 characters", key)
		}
		r = setKey(aUST, "totp_key", "")
		if k, _ := r.Body["totp_key"].(string); !base32Key.MatchString(k) || k == key {
			t.Fatalf("empty totp_key gave %q, want a new generated key", k)
		}
		r = setKey(aUST, "totp_key", "abcdefghijklmnop", "totp_label", "Work phone")
		if r.Body["totp_key"] != "ABCDEFGHIJKLMNOP" {
			t.Fatalf("given key = %s, want ABCDEFGHIJKLMNOP", r.Raw)
		}
		if u := lcGetUser(t, inst, sUST, aID); u["totp_label"] != "Work phone" || u["is_totp_enabled"] != false {
			t.Fatalf("after set: totp_label %v is_totp_enabled %v, want Work phone and unchanged false", u["totp_label"], u["is_totp_enabled"])
		}
		events := inst.OwnerEvents(domain.UserOwner(aID))
		last := events[len(events)-1]
		if last.Kind != domain.KindUserTOTPChanged || strings.Contains(last.Data.User.TOTPKey, "ABCDEFGHIJKLMNOP") ||
			strings.Contains(last.Data.User.TOTPLabel, "Work") {
			t.Fatalf("last event = %s key %q label %q, want user.totp_changed with both encrypted", last.Kind, last.Data.User.TOTPKey, last.Data.User.TOTPLabel)
		}
		lcWant(t, "no label means the default", setKey(aUST, "totp_key", "abcdefghijklmnop"), "")
		if u := lcGetUser(t, inst, sUST, aID); u["totp_label"] != "" {
			t.Fatalf("totp_label = %v, want \"\" (default)", u["totp_label"])
		}
		for _, bad := range []string{"ABCDEFGHIJKLMNO", "ABCDEFGHIJKLMNO1", "ABCDEFGHIJKLMNOP====", "ABCD EFGH IJKL MNOP"} {
			lcWant(t, "key "+bad+" (API.md#d26)", setKey(aUST, "totp_key", bad), "E008002")
		}
	})

	t.Run("permissions_D26", func(t *testing.T) {
		lcWant(t, "regular with own user_id", setKey(aUST, "user_id", aID), "")
		lcWant(t, "regular on another user", setKey(aUST, "user_id", bID), "E005001")
		lcWant(t, "super-user on another user", setKey(sUST, "user_id", bID), "")
		lcWant(t, "super-user on an unknown user", setKey(sUST, "user_id", "zusrnosuchuser"), "E001100")
		lcWant(t, "bad token", setKey("gAAAAAnonsense"), "E007001")
	})

	t.Run("login", func(t *testing.T) {
		r := setKey(aUST)
		key := r.Body["totp_key"].(string)
		lcWant(t, "enable", inst.Do("PATCH", "/zato/sso/user", apiReq(aUST, "is_totp_enabled", true)), "")
		code := func(at time.Time) string {
			t.Helper()
			c, err := totp.GenerateCode(key, at)
			if err != nil {
				t.Fatalf("generate code: %v", err)
			}
			return c
		}
		login := func(kv ...any) nodetest.Response { return lcLoginCode(inst, "totp-alice", nodetest.Password, kv...) }
		lcWant(t, "no code", login(), "E005008")
		lcWant(t, "empty code", login("totp_code", ""), "E005008")
		lcWant(t, "no code, wrong password", lcLoginCode(inst, "totp-alice", "Wrong-Pass-99"), "E005001")
		// Move to the middle of a 30 s step, so the steps do not change while
		// the requests run.
		into := time.Duration(clock.Now().UnixNano()) % (30 * time.Second)
		clock.Advance((45*time.Second - into) % (30 * time.Second))
		now := clock.Now()
		lcWant(t, "wrong code", login("totp_code", "000000x"), "E005001")
		lcWant(t, "code of 90 s ago", login("totp_code", code(now.Add(-90*time.Second))), "E005001")
		lcWant(t, "code of 90 s ahead", login("totp_code", code(now.Add(90*time.Second))), "E005001")
		for _, d := range []time.Duration{0, -30 * time.Second, 30 * time.Second} {
			lcWant(t, "code at now"+d.String(), login("totp_code", code(now.Add(d))), "")
		}
		lcWant(t, "valid code, wrong password", lcLoginCode(inst, "totp-alice", "Wrong-Pass-99", "totp_code", code(now)), "E005001")
		quiet := nodetest.Start(t, nodetest.WithNATS(url), nodetest.WithNow(clock.Now),
			nodetest.WithConfig(func(c *sso.Config) { c.InformIfTOTPMissing = false }))
		lcWant(t, "no code, inform_if_totp_missing off", lcLoginCode(quiet, "totp-alice", nodetest.Password), "E005001")
		lcWant(t, "disable", inst.Do("PATCH", "/zato/sso/user", apiReq(aUST, "is_totp_enabled", false)), "")
		lcWant(t, "login without TOTP", login(), "")
	})
}
