package httpapi_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
	"github.com/ssoattr/ssoattr/sso"
)

func suSignup(inst *nodetest.Instance, kv ...any) nodetest.Response {
	return inst.Do("POST", "/zato/sso/user/signup", apiReq("", kv...))
}

func suConfirm(inst *nodetest.Instance, kv ...any) nodetest.Response {
	return inst.Do("PATCH", "/zato/sso/user/signup", apiReq("", kv...))
}

func TestSignup(t *testing.T) {
	inst := nodetest.Start(t)
	sUST, _ := inst.SuperUser("su-root")

	t.Run("sign_up_confirm_approve_log_in", func(t *testing.T) {
		r := suSignup(inst, "username", "su-alice", "password", nodetest.Password, "email", "alice@example.com", "app_list", []string{"CRM"})
		lcWant(t, "signup", r, "")
		token, _ := r.Body["confirm_token"].(string)
		if raw, err := base64.RawURLEncoding.DecodeString(token); err != nil || len(raw)*8 < 192 {
			t.Fatalf("confirm_token %q: want URL-safe base64 of at least 192 bits (err %v)", token, err)
		}
		u, ok := inst.Synced().UserByName("su-alice")
		if !ok {
			t.Fatal("signed-up user not in the view")
		}
		f := lcGetUser(t, inst, sUST, u.ID)
		if f["sign_up_status"] != "before_confirmation" || f["approval_status"] != "before_decision" ||
			f["approval_status_mod_by"] != "auto" || f["is_super_user"] != false || f["email"] != "alice@example.com" {
			t.Fatalf("signed-up user = %v", f)
		}
		// Only the token's SHA-256 is stored, in the snapshot and the stream.
		sum := sha256.Sum256([]byte(token))
		events := inst.OwnerEvents(domain.UserOwner(u.ID))
		raw, _ := json.Marshal(events)
		if events[0].Data.User.SignUpTokenHash != hex.EncodeToString(sum[:]) || strings.Contains(string(raw), token) {
			t.Fatalf("stored token hash %q, want the SHA-256 of the token and never the token", events[0].Data.User.SignUpTokenHash)
		}
		lcWant(t, "login before confirmation", lcLoginCode(inst, "su-alice", nodetest.Password), "E005003")
		lcWant(t, "confirm", suConfirm(inst, "confirm_token", token), "")
		f = lcGetUser(t, inst, sUST, u.ID)
		if f["sign_up_status"] != "final" {
			t.Fatalf("after confirm: sign_up_status %v, want final", f["sign_up_status"])
		}
		if u, _ := inst.Synced().UserByName("su-alice"); u.SignUpConfirmTime == nil {
			t.Fatal("sign_up_confirm_time not set")
		}
		if k := lcKinds(inst.OwnerEvents(domain.UserOwner(u.ID))); k[len(k)-1] != domain.KindUserSignupConfirmed {
			t.Fatalf("user events = %v, want user.signup_confirmed last", k)
		}
		lcWant(t, "confirm again (API.md#d30)", suConfirm(inst, "confirm_token", token), "E005007")
		lcWant(t, "login before approval", lcLoginCode(inst, "su-alice", nodetest.Password), "E005004")
		lcWant(t, "approve", inst.Do("POST", "/zato/sso/user/approve", apiReq(sUST, "user_id", u.ID)), "")
		inst.Login("su-alice", nodetest.Password)
	})

	t.Run("confirmation_errors_D30", func(t *testing.T) {
		lcWant(t, "unknown token", suConfirm(inst, "confirm_token", "no-such-token"), "E005006")
		lcWant(t, "empty token", suConfirm(inst, "confirm_token", ""), "E005006")
		lcWant(t, "null token", suConfirm(inst, "confirm_token", nil), "E005006")
		lcWant400(t, "no token", suConfirm(inst), "E008003")
		lcWant(t, "unknown app", inst.Do("PATCH", "/zato/sso/user/signup", map[string]any{"current_app": "Nope", "confirm_token": "x"}), "E004001")
	})

	t.Run("disclosure_off_by_default", func(t *testing.T) {
		lcWant(t, "username taken", suSignup(inst, "username", "su-alice", "password", nodetest.Password), "E005001")
		lcWant(t, "rejected word", suSignup(inst, "username", "my-ROOT", "password", nodetest.Password), "E005001")
		lcWant(t, "whitespace", suSignup(inst, "username", "su bob", "password", nodetest.Password), "E005001")
		lcWant(t, "password policy, informed by its own switch", suSignup(inst, "username", "su-bob", "password", "short"), "E003002")
		// E-mail checks are off while e-mails are encrypted: none needed.
		lcWant(t, "no e-mail", suSignup(inst, "username", "su-bob", "password", nodetest.Password), "")
		lcWant(t, "unknown app in app_list (API.md#d29)", suSignup(inst, "username", "su-x", "password", nodetest.Password, "app_list", []string{"CRM", "Nope"}), "E004001")
		lcWant400(t, "no password", suSignup(inst, "username", "su-y"), "E008003")
		lcWant400(t, "no username", suSignup(inst, "password", nodetest.Password), "E008003")
		lcWant(t, "app_list not a list of strings", suSignup(inst, "username", "su-y", "password", nodetest.Password, "app_list", []int{1}), "E008002")
	})
}

func TestSignup_ChecksWhenDisclosedAndEmailsInPlaintext(t *testing.T) {
	inst := nodetest.Start(t, nodetest.WithConfig(func(c *sso.Config) {
		c.AppsAll = []string{"CRM", "Portal"}
		c.AppsLoginAllowed = []string{"CRM", "Portal"}
		c.EncryptEmail = false
		c.InformIfUserExists, c.InformIfEmailExists = true, true
		c.InformIfUserInvalid, c.InformIfEmailInvalid = true, true
		c.SignupApprovalNeeded = false
	}))
	r := suSignup(inst, "username", "sud-alice", "password", nodetest.Password, "email", "alice@example.com")
	lcWant(t, "signup", r, "")
	lcWant(t, "confirm", suConfirm(inst, "confirm_token", r.Body["confirm_token"]), "")
	inst.Login("sud-alice", nodetest.Password) // no approval needed
	if u, _ := inst.Synced().UserByName("sud-alice"); u.ApprovalStatus != domain.ApprovalApproved || u.ApprovalStatusModBy != "auto" {
		t.Fatalf("approval %s by %s, want approved by auto", u.ApprovalStatus, u.ApprovalStatusModBy)
	}

	long := strings.Repeat("a", 129)
	for _, c := range []struct {
		name  string
		kv    []any
		codes []string
	}{
		{"signup not allowed from the app", []any{"current_app", "Portal", "username", "sud-b", "email", "b@example.com"}, []string{"E004002"}},
		{"both taken (API.md#d29)", []any{"username", "sud-alice", "email", "alice@example.com"}, []string{"E001002", "E002002"}},
		{"username taken", []any{"username", "sud-alice", "email", "other@example.com"}, []string{"E001002"}},
		{"e-mail taken", []any{"username", "sud-new", "email", "alice@example.com"}, []string{"E002002"}},
		{"username too long", []any{"username", long, "email", "b@example.com"}, []string{"E001003"}},
		{"username with whitespace", []any{"username", "sud b", "email", "b@example.com"}, []string{"E001004"}},
		{"username with a rejected word, any case (API.md#d29)", []any{"username", "xAdMiNx", "email", "b@example.com"}, []string{"E001001"}},
		{"empty username", []any{"username", "", "email", "b@example.com"}, []string{"E001001"}},
		{"password too short", []any{"username", "sud-b", "email", "b@example.com", "password", "Ab1"}, []string{"E003002"}},
		{"e-mail missing", []any{"username", "sud-b"}, []string{"E002005"}},
		{"e-mail too long", []any{"username", "sud-b", "email", long + "@example.com"}, []string{"E002003"}},
		{"e-mail with whitespace", []any{"username", "sud-b", "email", "b @example.com"}, []string{"E002004"}},
		{"e-mail with a rejected word", []any{"username", "sud-b", "email", "ROOT@example.com"}, []string{"E002001"}},
	} {
		body := apiReq("", "password", nodetest.Password)
		for i := 0; i+1 < len(c.kv); i += 2 {
			body[c.kv[i].(string)] = c.kv[i+1]
		}
		r := inst.Do("POST", "/zato/sso/user/signup", body)
		got := saStrings(r.Body["sub_status"])
		if r.Status != 403 || r.Body["status"] != "error" || !slices.Equal(got, c.codes) {
			t.Fatalf("%s: %d %s, want 403 %v", c.name, r.Status, r.Raw, c.codes)
		}
	}
}

func TestSignup_EmailChecksInPlaintextHiddenByDefault(t *testing.T) {
	inst := nodetest.Start(t, nodetest.WithConfig(func(c *sso.Config) { c.EncryptEmail = false }))
	lcWant(t, "valid e-mail", suSignup(inst, "username", "suh-a", "password", nodetest.Password, "email", "a@example.com"), "")
	lcWant(t, "e-mail taken, not disclosed", suSignup(inst, "username", "suh-b", "password", nodetest.Password, "email", "a@example.com"), "E005001")
	lcWant(t, "e-mail missing, not disclosed", suSignup(inst, "username", "suh-b", "password", nodetest.Password), "E005001")
	lcWant(t, "e-mail with whitespace, not disclosed", suSignup(inst, "username", "suh-b", "password", nodetest.Password, "email", "b @example.com"), "E005001")
	lcWant(t, "valid again", suSignup(inst, "username", "suh-b", "password", nodetest.Password, "email", "b@example.com"), "")
}
