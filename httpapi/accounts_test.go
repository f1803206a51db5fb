package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
	"github.com/ssoattr/ssoattr/sso"
)

const apiUser = "/zato/sso/user"

var (
	userIDPattern = regexp.MustCompile(`^zusr[0-9a-hjkmnp-tv-z]{1,26}$`)
	timePattern   = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$`)
)

// docs/API.md#user-fields: the regular set (without the optional names and e-mail) and
// the super-user set.
var (
	regularFields = []string{"user_id", "username", "is_totp_enabled", "totp_label"}
	superFields   = append(slices.Clone(regularFields), "is_active", "is_internal", "is_super_user",
		"is_approval_needed", "approval_status", "approval_status_mod_time", "approval_status_mod_by",
		"is_locked", "creation_ctx", "password_expiry", "password_last_set", "password_is_set",
		"password_must_change", "sign_up_status", "sign_up_time")
)

// apiCreate creates a user through the API as the super-user root.
func apiCreate(t *testing.T, inst *nodetest.Instance, root, username string, kv ...any) map[string]any {
	t.Helper()
	r := inst.Do("POST", apiUser, apiReq(root, append([]any{"username", username, "password", nodetest.Password}, kv...)...))
	apiWant(t, "create user "+username, r, "")
	return r.Body
}

// userKeys returns the keys of an answer other than cid and status, sorted.
func userKeys(body map[string]any) []string {
	var out []string
	for k := range maps.Keys(body) {
		if k != "cid" && k != "status" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

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

func TestGetUser(t *testing.T) {
	inst, root, rootID := apiSetup(t)
	created := apiCreate(t, inst, root, "alice", "auto_approve", true, "first_name", " Alice ", "last_name", "Liddell",
		"email", "alice@example.com", "totp_label", "Alice's phone")
	aliceID := created["user_id"].(string)
	alice := inst.Login("alice", nodetest.Password)
	_, bobID := inst.User(root, "bob")
	withNames := append(slices.Clone(regularFields), "first_name", "last_name", "display_name", "email")

	t.Run("self, regular: the regular field set", func(t *testing.T) {
		r := inst.Do("GET", apiUser, apiReq(alice))
		apiWant(t, "GET /user", r, "")
		if got, want := userKeys(r.Body), sorted(withNames); !slices.Equal(got, want) {
			t.Fatalf("fields = %q, want %q", got, want)
		}
		for k, want := range map[string]any{"user_id": aliceID, "username": "alice", "first_name": "Alice",
			"last_name": "Liddell", "display_name": "Alice Liddell", "email": "alice@example.com",
			"totp_label": "Alice's phone", "is_totp_enabled": false} {
			if r.Body[k] != want {
				t.Errorf("%s = %#v, want %#v", k, r.Body[k], want)
			}
		}
	})
	t.Run("own user_id as a regular user is allowed (API.md#d20)", func(t *testing.T) {
		r := inst.Do("GET", apiUser, apiReq(alice, "user_id", aliceID))
		apiWant(t, "GET /user with own user_id", r, "")
		if r.Body["user_id"] != aliceID || r.Body["is_super_user"] != nil {
			t.Fatalf("GET /user with own user_id = %s, want alice's regular set", r.Raw)
		}
	})
	t.Run("another user_id as a regular user is E005001", func(t *testing.T) {
		apiWant(t, "GET bob as alice", inst.Do("GET", apiUser, apiReq(alice, "user_id", bobID)), "E005001")
		apiWant(t, "GET unknown as alice", inst.Do("GET", apiUser, apiReq(alice, "user_id", "zusr0000")), "E005001")
	})
	t.Run("a super-user sees the full set", func(t *testing.T) {
		r := inst.Do("GET", apiUser, apiReq(root, "user_id", aliceID))
		apiWant(t, "GET alice as root", r, "")
		// A super-user's GET also shows the login back-off (login_failures).
		if got, want := userKeys(r.Body), sorted(append(slices.Clone(superFields), "first_name", "last_name", "display_name", "email", "login_failures")); !slices.Equal(got, want) {
			t.Fatalf("fields = %q, want %q", got, want)
		}
		for k, want := range map[string]any{"is_super_user": false, "is_active": true, "is_internal": false,
			"is_approval_needed": false, "approval_status": "approved", "approval_status_mod_by": rootID,
			"is_locked": false, "sign_up_status": "final", "password_is_set": true, "password_must_change": false} {
			if r.Body[k] != want {
				t.Errorf("%s = %#v, want %#v", k, r.Body[k], want)
			}
		}
		for _, k := range []string{"approval_status_mod_time", "password_expiry", "password_last_set", "sign_up_time"} {
			if s, _ := r.Body[k].(string); !timePattern.MatchString(s) {
				t.Errorf("%s = %#v, want a date-time (docs/API.md#time-format)", k, r.Body[k])
			}
		}
		self := inst.Do("GET", apiUser, apiReq(root))
		if self.Body["is_super_user"] != true || self.Body["user_id"] != rootID {
			t.Fatalf("GET /user as root = %s, want root's full set", self.Raw)
		}
	})
	t.Run("a super-user naming an unknown user_id gets E001100", func(t *testing.T) {
		apiWant(t, "GET unknown as root", inst.Do("GET", apiUser, apiReq(root, "user_id", "zusr0000")), "E001100")
		apiWant(t, "GET non-id as root", inst.Do("GET", apiUser, apiReq(root, "user_id", "../x.>")), "E001100")
	})
	t.Run("an empty user_id means the caller", func(t *testing.T) {
		r := inst.Do("GET", apiUser, apiReq(alice, "user_id", ""))
		if r.Body["user_id"] != aliceID {
			t.Fatalf("GET /user with user_id \"\" = %s, want alice", r.Raw)
		}
	})
}

func TestCreateUser(t *testing.T) {
	inst, root, rootID := apiSetup(t)
	alice, _ := inst.User(root, "alice")

	t.Run("a regular caller gets E005001", func(t *testing.T) {
		apiWant(t, "create as alice", inst.Do("POST", apiUser, apiReq(alice, "username", "eve", "password", nodetest.Password)), "E005001")
		apiWant(t, "login as the refused user", apiLoginAs(inst, "eve", nodetest.Password), "E005001")
	})
	t.Run("username missing, null or empty is E001001", func(t *testing.T) {
		apiWant(t, "no username", inst.Do("POST", apiUser, apiReq(root, "password", nodetest.Password)), "E001001")
		apiWant(t, "null username", inst.Do("POST", apiUser, apiReq(root, "username", nil)), "E001001")
		apiWant(t, "empty username", inst.Do("POST", apiUser, apiReq(root, "username", "")), "E001001")
		apiWant(t, "blank username", inst.Do("POST", apiUser, apiReq(root, "username", "  ")), "E001001")
	})
	t.Run("a taken username is E001002", func(t *testing.T) {
		apiWant(t, "create alice again", inst.Do("POST", apiUser, apiReq(root, "username", "alice")), "E001002")
		apiWant(t, "create root's name", inst.Do("POST", apiUser, apiReq(root, "username", "root")), "E001002")
	})
	t.Run("bad enum and bool values are E008002 (API.md#d21)", func(t *testing.T) {
		apiWant(t, "sign_up_status", inst.Do("POST", apiUser, apiReq(root, "username", "x1", "sign_up_status", "done")), "E008002")
		// An input check: before authentication, the super-user check and the username's.
		apiWant(t, "sign_up_status, bad token", inst.Do("POST", apiUser, apiReq("junk", "username", "x1", "sign_up_status", "done")), "E008002")
		apiWant(t, "sign_up_status, regular caller", inst.Do("POST", apiUser, apiReq(alice, "username", "x1", "sign_up_status", "done")), "E008002")
		apiWant(t, "sign_up_status, empty username", inst.Do("POST", apiUser, apiReq(root, "username", "", "sign_up_status", "done")), "E008002")
		apiWant(t, "is_locked", inst.Do("POST", apiUser, apiReq(root, "username", "x2", "is_locked", "maybe")), "E008002")
		apiWant(t, "auto_approve", inst.Do("POST", apiUser, apiReq(root, "username", "x3", "auto_approve", []int{1})), "E008002")
		apiWant(t, "username not a string", inst.Do("POST", apiUser, apiReq(root, "username", 5)), "E008002")
	})
	t.Run("password policy", func(t *testing.T) {
		apiWant(t, "short password", inst.Do("POST", apiUser, apiReq(root, "username", "x4", "password", "Ab1")), "E003002")
		apiWant(t, "rejected password", inst.Do("POST", apiUser, apiReq(root, "username", "x5", "password", "myPassword-99")), "E003001")
	})
	t.Run("output: the super-user set, no secrets", func(t *testing.T) {
		r := inst.Do("POST", apiUser, apiReq(root, "username", "carol", "password", nodetest.Password,
			"display_name", "  ", "first_name", "Carol", "middle_name", "", "last_name", "King", "totp_key", "JBSWY3DPEHPK3PXP",
			"totp_label", "Carol's phone", "is_rate_limit_active", true, "unknown_key", 1))
		apiWant(t, "create carol", r, "")
		if got, want := userKeys(r.Body), sorted(append(slices.Clone(superFields), "first_name", "last_name", "display_name")); !slices.Equal(got, want) {
			t.Fatalf("fields = %q, want %q", got, want)
		}
		for _, secret := range []string{nodetest.Password, "JBSWY3DPEHPK3PXP", "pbkdf2"} {
			if strings.Contains(string(r.Raw), secret) {
				t.Fatalf("create answer %s contains %q", r.Raw, secret)
			}
		}
		for k, want := range map[string]any{"username": "carol", "display_name": "Carol King", "totp_label": "Carol's phone",
			"approval_status": "before_decision", "is_approval_needed": true, "approval_status_mod_by": rootID,
			"is_super_user": false, "is_locked": false, "sign_up_status": "final"} {
			if r.Body[k] != want {
				t.Errorf("%s = %#v, want %#v", k, r.Body[k], want)
			}
		}
		if id, _ := r.Body["user_id"].(string); !userIDPattern.MatchString(id) {
			t.Errorf("user_id = %q, want a match for %s", id, userIDPattern)
		}
	})
	t.Run("auto_approve", func(t *testing.T) {
		r := inst.Do("POST", apiUser, apiReq(root, "username", "dave", "password", nodetest.Password, "auto_approve", "yes"))
		apiWant(t, "create dave", r, "")
		if r.Body["approval_status"] != "approved" || r.Body["is_approval_needed"] != false {
			t.Fatalf("create with auto_approve = %s, want approved", r.Raw)
		}
		apiWant(t, "login as dave", apiLoginAs(inst, "dave", nodetest.Password), "")
	})
	t.Run("without a password, one is generated", func(t *testing.T) {
		r := inst.Do("POST", apiUser, apiReq(root, "username", "erin", "auto_approve", true))
		apiWant(t, "create erin", r, "")
		if r.Body["password_is_set"] != true {
			t.Fatalf("create without password = %s, want password_is_set true", r.Raw)
		}
		apiWant(t, "login as erin with the test password", apiLoginAs(inst, "erin", nodetest.Password), "E005001")
	})
	t.Run("is_locked at creation", func(t *testing.T) {
		r := inst.Do("POST", apiUser, apiReq(root, "username", "frank", "password", nodetest.Password, "auto_approve", true, "is_locked", true))
		apiWant(t, "create frank", r, "")
		if r.Body["is_locked"] != true || r.Body["locked_by"] != rootID || !timePattern.MatchString(r.Body["locked_time"].(string)) {
			t.Fatalf("create locked = %s, want is_locked, locked_by root, locked_time", r.Raw)
		}
	})
}

// A user created by the Go API with an existing hash (NewUser.PasswordHash)
// logs in with the password that hash was made from, at the hash's own
// rounds; a malformed hash, or one sent together with a password, is
// refused and creates nothing; and the HTTP API cannot set one.
func TestCreateUser_WithPasswordHash(t *testing.T) {
	inst := nodetest.Start(t)
	root, _ := inst.SuperUser("root")
	hash, err := sso.HashPassword("Another-Horse-9-Battery", 10)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m := sso.Meta{App: "CRM", RemoteAddr: "127.0.0.1"}
	if _, err := inst.SSO.CreateUser(ctx, m, root, sso.NewUser{Username: "moved", PasswordHash: hash, AutoApprove: true}); err != nil {
		t.Fatal(err)
	}
	inst.Login("moved", "Another-Horse-9-Battery")
	apiWant(t, "wrong password", apiLoginAs(inst, "moved", nodetest.Password), "E005001")

	pw := nodetest.Password
	for name, in := range map[string]sso.NewUser{
		"malformed":       {Username: "bad1", PasswordHash: "$pbkdf2-sha512$x$y$z", AutoApprove: true},
		"too many rounds": {Username: "bad2", PasswordHash: strings.Replace(hash, "$10$", "$99999999$", 1), AutoApprove: true},
		"with a password": {Username: "bad3", PasswordHash: hash, Password: &pw, AutoApprove: true},
	} {
		if _, err := inst.SSO.CreateUser(ctx, m, root, in); !errors.Is(err, domain.ErrInvalidInput) {
			t.Errorf("%s: got %v, want ErrInvalidInput", name, err)
		}
		if _, ok := inst.Synced().UserByName(in.Username); ok {
			t.Errorf("%s: the user was created", name)
		}
	}
	if _, err := sso.HashPassword("x", 0); err == nil {
		t.Error("HashPassword accepted 0 rounds")
	}

	// Over HTTP a password_hash is not an input: the user gets the password sent.
	r := inst.Do("POST", apiUser, apiReq(root, "username", "web", "password", nodetest.Password, "password_hash", hash, "auto_approve", true))
	if r.Status != 200 {
		t.Fatalf("create over HTTP: %d %s", r.Status, r.Raw)
	}
	inst.Login("web", nodetest.Password)
}

// TestUsername_CountedInCharacters checks that creating and renaming apply
// the same username rule, counted in characters: a name of 100 "é" (200
// bytes) is accepted by both, 191 characters is the longest either takes,
// and 192 is refused by both without changing anything.
func TestUsername_CountedInCharacters(t *testing.T) {
	inst, root, _ := apiSetup(t)
	accented := strings.Repeat("é", 100)
	created := apiCreate(t, inst, root, accented, "auto_approve", true)
	id, _ := created["user_id"].(string)
	if created["username"] != accented {
		t.Fatalf("created username = %v, want %q", created["username"], accented)
	}
	apiWant(t, "login with the 100-character name", apiLoginAs(inst, accented, nodetest.Password), "")

	bob := apiCreate(t, inst, root, "bob")
	bobID, _ := bob["user_id"].(string)
	rename := func(userID, name string) nodetest.Response {
		return inst.Do("PATCH", apiUser, apiReq(root, "user_id", userID, "username", name))
	}
	apiWant(t, "rename bob to 100 \"è\"", rename(bobID, strings.Repeat("è", 100)), "")

	longest := strings.Repeat("ü", domain.MaxUsernameLen)
	apiWant(t, "create with 191 characters", inst.Do("POST", apiUser, apiReq(root, "username", longest, "password", nodetest.Password)), "")
	apiWant(t, "rename to 191 characters", rename(id, strings.Repeat("ö", domain.MaxUsernameLen)), "")

	over := strings.Repeat("ä", domain.MaxUsernameLen+1)
	apiWant(t, "create with 192 characters", inst.Do("POST", apiUser, apiReq(root, "username", over, "password", nodetest.Password)), "E001001")
	lcWant(t, "rename to 192 characters", rename(bobID, over), "E008002")
	apiWant(t, "login with the refused name", apiLoginAs(inst, over, nodetest.Password), "E005001")
	if u := lcGetUser(t, inst, root, bobID); u["username"] != strings.Repeat("è", 100) {
		t.Fatalf("username after a refused rename = %v, want the previous one", u["username"])
	}
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

func TestApproveReject(t *testing.T) {
	inst, root, rootID := apiSetup(t)
	alice, _ := inst.User(root, "alice")
	pendingID := apiCreate(t, inst, root, "pending")["user_id"].(string)
	apiWant(t, "login before approval", apiLoginAs(inst, "pending", nodetest.Password), "E005004")

	for _, op := range []string{"approve", "reject"} {
		path := apiUser + "/" + op
		apiWant(t, op+" as a regular user", inst.Do("POST", path, apiReq(alice, "user_id", pendingID)), "E005001")
		apiWant(t, op+" unknown user as a regular user", inst.Do("POST", path, apiReq(alice, "user_id", "zusr0000")), "E005001")
		apiWant(t, op+" an unknown user", inst.Do("POST", path, apiReq(root, "user_id", "zusr0000")), "E001100")
		apiWant(t, op+" an empty user_id", inst.Do("POST", path, apiReq(root, "user_id", "")), "E001100")
		apiWant400(t, op+" without user_id", inst.Do("POST", path, apiReq(root)), "E008003")
		apiWant400(t, op+" without a token", inst.Do("POST", path, map[string]any{"current_app": "CRM", "user_id": pendingID}), "E008003")
	}
	apiWant(t, "login still refused", apiLoginAs(inst, "pending", nodetest.Password), "E005004")

	apiWant(t, "approve", inst.Do("POST", apiUser+"/approve", apiReq(root, "user_id", pendingID)), "")
	ust := inst.Login("pending", nodetest.Password)
	r := inst.Do("GET", apiUser, apiReq(root, "user_id", pendingID))
	if r.Body["approval_status"] != "approved" || r.Body["approval_status_mod_by"] != rootID || r.Body["is_approval_needed"] != false {
		t.Fatalf("after approve: %s, want approved by root", r.Raw)
	}
	apiWant(t, "approve again", inst.Do("POST", apiUser+"/approve", apiReq(root, "user_id", pendingID)), "")

	apiWant(t, "reject", inst.Do("POST", apiUser+"/reject", apiReq(root, "user_id", pendingID)), "")
	apiWant(t, "login after reject", apiLoginAs(inst, "pending", nodetest.Password), "E005004")
	// Existing sessions stop working too (3.3 step 4).
	apiWant(t, "GET /user with a session from before the reject", inst.Do("GET", apiUser, apiReq(ust)), "E005004")
	if r := inst.Do("GET", apiUser, apiReq(root, "user_id", pendingID)); r.Body["approval_status"] != "rejected" || r.Body["is_approval_needed"] != true {
		t.Fatalf("after reject: %s, want rejected", r.Raw)
	}
	// A super-user may reject and approve themselves (kept from Zato).
	apiWant(t, "approve self", inst.Do("POST", apiUser+"/approve", apiReq(root, "user_id", rootID)), "")
}
