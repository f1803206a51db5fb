package main

import (
	"bytes"
	"errors"
	"flag"
	"regexp"
	"strings"
	"testing"

	"github.com/ssoattr/ssoattr/internal/node/nodetest"
)

// adminRun runs "ssoattr sso args..." against inst and returns stdout,
// stderr and the exit status main would use (0 on success).
func adminRun(t *testing.T, inst *nodetest.Instance, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string {
		if k == "SSOATTR_DATA_DIR" {
			return inst.DataDir()
		}
		return ""
	}
	err := run(t.Context(), append([]string{"sso"}, args...), &out, &errOut, getenv)
	code := 0
	if err != nil {
		code = exitCode(err)
		if err.Error() != "" && !errors.Is(err, flag.ErrHelp) {
			errOut.WriteString(err.Error() + "\n")
		}
	}
	return out.String(), errOut.String(), code
}

// adminOK runs a command that must succeed and returns its stdout.
func adminOK(t *testing.T, inst *nodetest.Instance, args ...string) string {
	t.Helper()
	out, errOut, code := adminRun(t, inst, args...)
	if code != 0 {
		t.Fatalf("sso %v: exit %d, stderr %q, want success", args, code, errOut)
	}
	return out
}

// adminFails runs a command that must fail with that exit status and a
// stderr holding want.
func adminFails(t *testing.T, inst *nodetest.Instance, code int, want string, args ...string) {
	t.Helper()
	_, errOut, got := adminRun(t, inst, args...)
	if got != code || !strings.Contains(errOut, want) {
		t.Fatalf("sso %v: exit %d, stderr %q, want exit %d and %q", args, got, errOut, code, want)
	}
}

// adminStatus returns the SSO code of a request with a token ("" for ok).
func adminStatus(inst *nodetest.Instance, method, path string, body map[string]any) string {
	r := inst.Do(method, path, body)
	if r.Status == 200 {
		return ""
	}
	return r.SubStatus()
}

func TestAdminCommands(t *testing.T) {
	inst := nodetest.Start(t)
	sUST, _ := inst.SuperUser("cli-root")
	me := func(ust string) string {
		return adminStatus(inst, "GET", "/zato/sso/user", map[string]any{"ust": ust, "current_app": "CRM"})
	}
	login := func(username, password string, kv ...any) string {
		body := map[string]any{"username": username, "password": password, "current_app": "CRM"}
		for i := 0; i+1 < len(kv); i += 2 {
			body[kv[i].(string)] = kv[i+1]
		}
		return adminStatus(inst, "POST", "/zato/sso/user/login", body)
	}

	t.Run("create_user", func(t *testing.T) {
		out := adminOK(t, inst, "create-user", "cli-bob", "--email", "bob@example.com", "--first-name", "Bob")
		m := regexp.MustCompile(`^User created \((zusr[0-9a-z]+)\)\nPassword: (\S+)\n$`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("create-user printed %q, want the user id and the generated password", out)
		}
		inst.Login("cli-bob", m[2])
		r := inst.Do("GET", "/zato/sso/user", map[string]any{"ust": sUST, "current_app": "CRM", "user_id": m[1]})
		if r.Body["approval_status"] != "approved" || r.Body["display_name"] != "Bob" || r.Body["email"] != "bob@example.com" {
			t.Fatalf("created user = %s, want approved, with the given fields", r.Raw)
		}
		out = adminOK(t, inst, "create-user", "--password", nodetest.Password, "cli-carol")
		if strings.Contains(out, "Password") {
			t.Fatalf("create-user with --password printed %q, want no password", out)
		}
		inst.Login("cli-carol", nodetest.Password)
		adminFails(t, inst, 1, "User already exists", "create-user", "cli-carol")
		adminFails(t, inst, 1, "Password too short", "create-user", "cli-dan", "--password", "short")
		adminFails(t, inst, 2, "--password is required", "create-super-user", "cli-root2")
		adminOK(t, inst, "create-super-user", "cli-root2", "--password", nodetest.Password)
	})

	t.Run("login_and_logout", func(t *testing.T) {
		ust := strings.TrimSpace(adminOK(t, inst, "login", "cli-carol"))
		if !strings.HasPrefix(ust, "gAAAAA") {
			t.Fatalf("login printed %q, want a UST", ust)
		}
		if code := me(ust); code != "" {
			t.Fatalf("GET /user with the CLI's UST: %s, want ok", code)
		}
		if out := adminOK(t, inst, "logout", ust); out != "Logged out\n" {
			t.Fatalf("logout printed %q", out)
		}
		if code := me(ust); code != "E007001" {
			t.Fatalf("GET /user after logout: %q, want E007001", code)
		}
		adminOK(t, inst, "logout", "gAAAAAnonsense") // not an error, like the API
		adminFails(t, inst, 1, "No such user", "login", "cli-nobody")
	})

	t.Run("lock_and_unlock", func(t *testing.T) {
		ust := inst.Login("cli-carol", nodetest.Password)
		if out := adminOK(t, inst, "lock-user", "cli-carol"); out != "Locked user account `cli-carol`\n" {
			t.Fatalf("lock-user printed %q", out)
		}
		if code := me(ust); code != "E005002" {
			t.Fatalf("session of a locked user: %q, want E005002", code)
		}
		adminFails(t, inst, 1, "Account is locked", "login", "cli-carol")
		adminOK(t, inst, "lock-user", "cli-carol")
		if out := adminOK(t, inst, "unlock-user", "cli-carol"); out != "Unlocked user account `cli-carol`\n" {
			t.Fatalf("unlock-user printed %q", out)
		}
		if code := me(ust); code != "" {
			t.Fatalf("session after unlock: %q, want ok", code)
		}
		u, _ := inst.Synced().UserByName("cli-carol")
		if u.LockedBy == nil || *u.LockedBy != "cli" {
			t.Fatalf("locked_by = %v, want cli", u.LockedBy)
		}
		adminFails(t, inst, 1, "No such user", "lock-user", "cli-nobody")
		adminFails(t, inst, 1, "No such user", "unlock-user", "cli-nobody")
	})

	t.Run("passwords", func(t *testing.T) {
		const pw = "Changed-By-Cli-1"
		adminFails(t, inst, 2, "--password is required", "change-user-password", "cli-carol")
		adminFails(t, inst, 1, "Password too short", "change-user-password", "cli-carol", "--password", "short")
		adminFails(t, inst, 1, "No such user", "change-user-password", "cli-nobody", "--password", pw)
		if out := adminOK(t, inst, "change-user-password", "cli-carol", "--password", pw, "--must-change"); out != "Changed password for user `cli-carol`\n" {
			t.Fatalf("change-user-password printed %q", out)
		}
		if code := login("cli-carol", pw); code != "E003007" {
			t.Fatalf("login after --must-change: %q, want E003007", code)
		}
		out := adminOK(t, inst, "reset-user-password", "cli-carol", "--expiry", "3")
		password := strings.TrimSpace(out)
		if len(password) < 24 {
			t.Fatalf("reset-user-password printed %q, want a random password", out)
		}
		if code := login("cli-carol", password); code != "E003007" {
			t.Fatalf("login after reset without --must-change: %q, want E003007 (the flag is left as it was)", code)
		}
		password = strings.TrimSpace(adminOK(t, inst, "reset-user-password", "cli-carol", "--must-change=false"))
		inst.Login("cli-carol", password)
		adminFails(t, inst, 1, "No such user", "reset-user-password", "cli-nobody")
	})

	t.Run("reset_totp_key", func(t *testing.T) {
		out := adminOK(t, inst, "reset-totp-key", "cli-carol")
		if !regexp.MustCompile(`^[A-Z2-7]{32}\n$`).MatchString(out) {
			t.Fatalf("reset-totp-key printed %q, want the generated key", out)
		}
		if out := adminOK(t, inst, "reset-totp-key", "cli-carol", "--key", "abcdefghijklmnop"); strings.Contains(out, "ABCDEFGHIJKLMNOP") {
			t.Fatalf("reset-totp-key --key printed %q, want the key not echoed", out)
		}
		adminFails(t, inst, 1, "Invalid input", "reset-totp-key", "cli-carol", "--key", "short")
		adminFails(t, inst, 1, "No such user", "reset-totp-key", "cli-nobody")
	})

	t.Run("delete_user", func(t *testing.T) {
		ust := inst.Login("cli-bob", strings.TrimSpace(adminOK(t, inst, "reset-user-password", "cli-bob")))
		adminFails(t, inst, 2, "without --yes", "delete-user", "cli-bob")
		if code := me(ust); code != "" {
			t.Fatalf("session after a refused delete: %q, want ok", code)
		}
		if out := adminOK(t, inst, "delete-user", "cli-bob", "--yes"); out != "Deleted user `cli-bob`\n" {
			t.Fatalf("delete-user printed %q", out)
		}
		if code := me(ust); code != "E007001" {
			t.Fatalf("session of the deleted user: %q, want E007001", code)
		}
		adminFails(t, inst, 1, "No such user", "delete-user", "cli-bob", "--yes")
		adminOK(t, inst, "delete-user", "cli-root2", "--yes") // super-users too
	})

	t.Run("zato_form_with_server_location_and_verbose", func(t *testing.T) {
		// Zato's own test harness runs: zato sso create-super-user SERVER_LOCATION NAME --password P --verbose
		// and looks for "User already exists" when the account is there.
		out, errOut, code := adminRun(t, inst, "create-super-user", "/opt/zato/server1", "cli-zato", "--password", nodetest.Password, "--verbose")
		if code != 0 || !strings.HasPrefix(out, "User created (zusr") {
			t.Fatalf("zato form: exit %d, stdout %q, stderr %q, want a created user", code, out, errOut)
		}
		adminFails(t, inst, 1, "User already exists", "create-super-user", "/opt/zato/server1", "cli-zato", "--password", nodetest.Password, "--verbose")
	})

	t.Run("usage", func(t *testing.T) {
		for name, cmd := range adminCmds {
			out, errOut, code := adminRun(t, inst, name, "--help")
			first, _, _ := strings.Cut(cmd.usage, "\n")
			if code != 0 || !strings.Contains(out, "Usage: ssoattr sso "+first) || !strings.Contains(out, "-nats-url") || errOut != "" {
				t.Fatalf("%s --help: exit %d, stdout %q, stderr %q, want its usage on stdout", name, code, out, errOut)
			}
		}
		adminFails(t, inst, 2, "want 1 argument, got 0", "lock-user")
		adminFails(t, inst, 2, "want 1 argument, got 3", "lock-user", "a", "b", "c")
		adminFails(t, inst, 2, `unknown command "frobnicate"`, "frobnicate")
	})
}
