package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/node"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
	"github.com/ssoattr/ssoattr/sso"
)

// Tests of the login back-off (docs/API.md#login-back-off). Time is the
// instances' OffsetClock: a window passes when the test moves it. The
// clock also runs, so the windows are a minute (window), not a second: a
// slow machine must not end one between two requests.

// window is the tests' first back-off window.
const window = time.Minute

// longWindows gives an instance the default thresholds with windows of
// a minute, doubling, at most an hour.
var longWindows = nodetest.WithConfig(func(c *sso.Config) {
	c.UserBackoff.First, c.UserBackoff.Max = window, time.Hour
	c.AddrBackoff.First, c.AddrBackoff.Max = window, time.Hour
})

// trustProxy makes an instance take the client address from X-Forwarded-For.
func trustProxy(o *node.Options) { o.TrustProxy = true }

// loginFrom logs username in from the client address addr (sent as
// X-Forwarded-For; "" sends none) and returns the answer.
func loginFrom(t *testing.T, inst *nodetest.Instance, addr, username, password string, kv ...any) nodetest.Response {
	t.Helper()
	body := map[string]any{"username": username, "password": password, "current_app": "CRM"}
	for i := 0; i+1 < len(kv); i += 2 {
		body[kv[i].(string)] = kv[i+1]
	}
	req, err := http.NewRequest("POST", inst.URL+"/zato/sso/user/login", bytesOf(mustJSON(t, body)))
	if err != nil {
		t.Fatal(err)
	}
	if addr != "" {
		req.Header.Set("X-Forwarded-For", addr)
	}
	return send(t, req)
}

// wantLogin fails unless r is a successful login (ok) or the E005001 refusal.
func wantLogin(t *testing.T, what string, r nodetest.Response, ok bool) {
	t.Helper()
	if ok {
		if r.Status != http.StatusOK || r.Body["ust"] == nil {
			t.Fatalf("%s = %d %s, want a session", what, r.Status, r.Raw)
		}
		return
	}
	apiWant(t, what, r, "E005001")
}

// backoffOf returns what a super-user sees of the user's back-off.
func backoffOf(t *testing.T, inst *nodetest.Instance, superUST, userID string) (failures float64, until string) {
	t.Helper()
	r := inst.Do("GET", "/zato/sso/user", apiReq(superUST, "user_id", userID))
	apiWant(t, "GET /zato/sso/user", r, "")
	failures, ok := r.Body["login_failures"].(float64)
	if !ok {
		t.Fatalf("GET /zato/sso/user as a super-user: no login_failures in %s", r.Raw)
	}
	until, _ = r.Body["login_refused_until"].(string)
	return failures, until
}

func TestBackoff_BruteForceOneUsername(t *testing.T) {
	var clock nodetest.OffsetClock
	inst := nodetest.Start(t, nodetest.WithNow(clock.Now), longWindows)
	root, _ := inst.SuperUser("root")
	victimUST, victim := inst.User(root, "victim")
	login := func(password string) nodetest.Response { return loginFrom(t, inst, "", "victim", password) }

	for i := range domain.UserFailThreshold {
		wantLogin(t, fmt.Sprintf("wrong password %d", i+1), login("Wrong-Horse-7"), false)
	}
	failures, until := backoffOf(t, inst, root, victim)
	if failures != domain.UserFailThreshold || until == "" {
		t.Fatalf("after %d failures a super-user sees login_failures %v, login_refused_until %q; want %d and a time",
			domain.UserFailThreshold, failures, until, domain.UserFailThreshold)
	}
	if r := inst.Do("GET", "/zato/sso/user", apiReq(victimUST)); r.Body["login_failures"] != nil {
		t.Fatalf("the user's own GET shows login_failures: %s", r.Raw)
	}
	// Within the window the right password is refused, unchecked, with
	// the answer a wrong one gets.
	wantLogin(t, "right password within the window", login(nodetest.Password), false)
	clock.Advance(window)
	wantLogin(t, "right password after the window", login(nodetest.Password), true)
	if failures, until := backoffOf(t, inst, root, victim); failures != 0 || until != "" {
		t.Fatalf("after a successful login: login_failures %v, login_refused_until %q; want 0 and none", failures, until)
	}

	// The count was reset: four more failures leave the door open.
	for range domain.UserFailThreshold - 1 {
		wantLogin(t, "wrong password after the reset", login("Wrong-Horse-7"), false)
	}
	wantLogin(t, "right password after four failures", login(nodetest.Password), true)

	// Each failure past the threshold doubles the window.
	for range domain.UserFailThreshold {
		wantLogin(t, "wrong password", login("Wrong-Horse-7"), false)
	}
	clock.Advance(window)
	wantLogin(t, "wrong password after the first window", login("Wrong-Horse-7"), false)
	clock.Advance(window)
	wantLogin(t, "right password halfway through the doubled window", login(nodetest.Password), false)
	clock.Advance(window)
	wantLogin(t, "right password after the doubled window", login(nodetest.Password), true)
}

func TestBackoff_ConcurrentAttempts(t *testing.T) {
	var clock nodetest.OffsetClock
	inst := nodetest.Start(t, nodetest.WithNow(clock.Now), longWindows,
		nodetest.WithConfig(func(c *sso.Config) { c.HashConcurrency = 1 }))
	root, _ := inst.SuperUser("root")
	_, grace := inst.User(root, "grace")
	together := func(n int, password string) []nodetest.Response {
		out := make([]nodetest.Response, n)
		var wg sync.WaitGroup
		for i := range out {
			wg.Go(func() {
				data, _ := json.Marshal(map[string]any{"username": "grace", "password": password, "current_app": "CRM"})
				r, err := apiRaw(inst.URL, "POST", "/zato/sso/user/login", "", data)
				if err != nil {
					t.Error(err)
				}
				out[i] = r
			})
		}
		wg.Wait()
		return out
	}
	// Many right logins at once, from one address, are no failures.
	for i, r := range together(3*domain.UserFailThreshold, nodetest.Password) {
		wantLogin(t, fmt.Sprintf("concurrent right login %d", i), r, true)
	}
	// Wrong ones sent at once are counted as they are checked, one hash
	// at a time: those checked after the fifth are refused unchecked and
	// not counted.
	for i, r := range together(16, "Wrong-Horse-7") {
		wantLogin(t, fmt.Sprintf("concurrent wrong login %d", i), r, false)
	}
	if failures, until := backoffOf(t, inst, root, grace); failures != domain.UserFailThreshold || until == "" {
		t.Fatalf("after 16 wrong passwords at once: login_failures %v, login_refused_until %q; want %d and a window",
			failures, until, domain.UserFailThreshold)
	}
}

func TestBackoff_SprayFromOneAddress(t *testing.T) {
	var clock nodetest.OffsetClock
	inst := nodetest.Start(t, nodetest.WithNow(clock.Now), longWindows, trustProxy)
	root, _ := inst.SuperUser("root")
	inst.User(root, "bob")
	const sprayer, other = "203.0.113.7", "198.51.100.1"
	// One wrong password for each of many usernames (most unknown): no
	// username reaches its own threshold.
	for i := range domain.AddrFailThreshold {
		wantLogin(t, "spray", loginFrom(t, inst, sprayer, fmt.Sprintf("user-%d", i), "Wrong-Horse-7"), false)
	}
	wantLogin(t, "bob's right password from the spraying address", loginFrom(t, inst, sprayer, "bob", nodetest.Password), false)
	wantLogin(t, "bob's right password from another address", loginFrom(t, inst, other, "bob", nodetest.Password), true)
	clock.Advance(window)
	wantLogin(t, "bob from the spraying address after the window", loginFrom(t, inst, sprayer, "bob", nodetest.Password), true)
	// A success does not clear the address (an attacker's own account
	// would): it is still at the threshold, so its next failure opens a
	// window again.
	wantLogin(t, "one more wrong password", loginFrom(t, inst, sprayer, "user-x", "Wrong-Horse-7"), false)
	wantLogin(t, "bob again", loginFrom(t, inst, sprayer, "bob", nodetest.Password), false)
}

func TestBackoff_SharedByReplicas(t *testing.T) {
	url, _ := nodetest.StartNATS(t)
	var clock nodetest.OffsetClock
	a := nodetest.Start(t, nodetest.WithNATS(url), nodetest.WithNow(clock.Now), longWindows)
	b := nodetest.Start(t, nodetest.WithNATS(url), nodetest.WithNow(clock.Now), longWindows)
	root, _ := a.SuperUser("root")
	a.User(root, "carol")
	// Failures alternate between the replicas; the count is one.
	for i := range domain.UserFailThreshold {
		inst := []*nodetest.Instance{a, b}[i%2]
		wantLogin(t, fmt.Sprintf("wrong password %d", i+1), loginFrom(t, inst, "", "carol", "Wrong-Horse-7"), false)
	}
	wantLogin(t, "right password on a", loginFrom(t, a, "", "carol", nodetest.Password), false)
	wantLogin(t, "right password on b", loginFrom(t, b, "", "carol", nodetest.Password), false)
	clock.Advance(window)
	wantLogin(t, "right password on b after the window", loginFrom(t, b, "", "carol", nodetest.Password), true)
}

func TestBackoff_SurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	var clock nodetest.OffsetClock
	inst := nodetest.Start(t, nodetest.WithStoreDir(dir), nodetest.WithNow(clock.Now), longWindows)
	root, _ := inst.SuperUser("root")
	inst.User(root, "dave")
	for range domain.UserFailThreshold {
		wantLogin(t, "wrong password", loginFrom(t, inst, "", "dave", "Wrong-Horse-7"), false)
	}
	inst.Stop()
	inst = nodetest.Start(t, nodetest.WithStoreDir(dir), nodetest.WithNow(clock.Now), longWindows)
	wantLogin(t, "right password after the restart, within the window", loginFrom(t, inst, "", "dave", nodetest.Password), false)
	clock.Advance(window)
	wantLogin(t, "right password after the window", loginFrom(t, inst, "", "dave", nodetest.Password), true)
}

func TestBackoff_TOTPCodes(t *testing.T) {
	var clock nodetest.OffsetClock
	inst := nodetest.Start(t, nodetest.WithNow(clock.Now), longWindows)
	root, _ := inst.SuperUser("root")
	ust, _ := inst.User(root, "erin")
	r := inst.Do("PATCH", "/zato/sso/user/totp", apiReq(ust))
	apiWant(t, "set TOTP key", r, "")
	key, _ := r.Body["totp_key"].(string)
	apiWant(t, "enable TOTP", inst.Do("PATCH", "/zato/sso/user", apiReq(ust, "is_totp_enabled", true)), "")
	code := func() string {
		c, err := totp.GenerateCode(key, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// Forgetting the code is no guess; wrong codes are.
	for range domain.UserFailThreshold {
		apiWant(t, "no code", loginFrom(t, inst, "", "erin", nodetest.Password), "E005008")
	}
	for range domain.UserFailThreshold {
		wantLogin(t, "wrong code", loginFrom(t, inst, "", "erin", nodetest.Password, "totp_code", "000000x"), false)
	}
	wantLogin(t, "right code within the window", loginFrom(t, inst, "", "erin", nodetest.Password, "totp_code", code()), false)
	clock.Advance(window)
	wantLogin(t, "right code after the window", loginFrom(t, inst, "", "erin", nodetest.Password, "totp_code", code()), true)
}

func TestBackoff_SignupConfirmation(t *testing.T) {
	var clock nodetest.OffsetClock
	inst := nodetest.Start(t, nodetest.WithNow(clock.Now), longWindows, trustProxy)
	signup := inst.Do("POST", "/zato/sso/user/signup", apiReq("", "username", "frank", "password", nodetest.Password,
		"email", "frank@example.com"))
	apiWant(t, "signup", signup, "")
	token := signup.Body["confirm_token"]
	confirm := func(addr string, token any) nodetest.Response {
		req, err := http.NewRequest("PATCH", inst.URL+"/zato/sso/user/signup",
			bytesOf(mustJSON(t, apiReq("", "confirm_token", token))))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Forwarded-For", addr)
		return send(t, req)
	}
	for i := range domain.AddrFailThreshold {
		apiWant(t, "guessed token", confirm("203.0.113.9", fmt.Sprintf("guess-%d", i)), "E005006")
	}
	apiWant(t, "the real token from the guessing address", confirm("203.0.113.9", token), "E005006")
	clock.Advance(window)
	apiWant(t, "the real token after the window", confirm("203.0.113.9", token), "")
}

func bytesOf(b []byte) io.Reader { return bytes.NewReader(b) }

// send sends req and decodes the answer, failing the test on transport
// errors or an answer that is not a JSON object.
func send(t *testing.T, req *http.Request) nodetest.Response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := nodetest.Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if err := json.Unmarshal(raw, &r.Body); err != nil {
		t.Fatalf("%s %s: answer is not a JSON object: %q", req.Method, req.URL.Path, raw)
	}
	return r
}

// The old password of a password change is a password guess like a
// login's: counted in the username's back-off, refused unchecked within
// its window, and a right one resets the count.
func TestBackoff_PasswordChangeOldPassword(t *testing.T) {
	var clock nodetest.OffsetClock
	inst := nodetest.Start(t, nodetest.WithNow(clock.Now), longWindows)
	root, _ := inst.SuperUser("root")
	victimUST, victim := inst.User(root, "victim")
	change := func(old string) nodetest.Response {
		return inst.Do("PATCH", "/zato/sso/user/password",
			apiReq(victimUST, "old_password", old, "new_password", "Another-Horse-Battery-9"))
	}

	for i := range domain.UserFailThreshold {
		apiWant(t, fmt.Sprintf("wrong old password %d", i+1), change("Wrong-Horse-7"), "E005001")
	}
	if failures, until := backoffOf(t, inst, root, victim); failures != domain.UserFailThreshold || until == "" {
		t.Fatalf("after %d wrong old passwords a super-user sees login_failures %v, login_refused_until %q; want %d and a time",
			domain.UserFailThreshold, failures, until, domain.UserFailThreshold)
	}
	// Within the window the right old password is refused unchecked, and
	// so is a login with the right password: the record is the same.
	apiWant(t, "right old password within the window", change(nodetest.Password), "E005001")
	wantLogin(t, "login within the window", loginFrom(t, inst, "", "victim", nodetest.Password), false)

	clock.Advance(window)
	apiWant(t, "right old password after the window", change(nodetest.Password), "")
	if failures, until := backoffOf(t, inst, root, victim); failures != 0 || until != "" {
		t.Fatalf("after a right old password: login_failures %v, login_refused_until %q; want 0 and none", failures, until)
	}
	wantLogin(t, "login with the new password", loginFrom(t, inst, "", "victim", "Another-Horse-Battery-9"), true)
}
