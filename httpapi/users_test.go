package httpapi_test

import (
	"context"
	"errors"
	"maps"
	"regexp"
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
	apiUser   = "/zato/sso/user"
)

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

func apiLoginAs(inst *nodetest.Instance, username, password string) nodetest.Response {
	return inst.Do("POST", apiLogin, map[string]any{"username": username, "password": password, "current_app": "CRM"})
}

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
