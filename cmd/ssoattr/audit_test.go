package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
)

// auditRun runs the CLI with args against inst's NATS and returns stdout,
// stderr and the exit status (0 on success).
func auditRun(t *testing.T, inst *nodetest.Instance, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(t.Context(), args, &out, &errOut, auditEnv(inst))
	if err != nil {
		return out.String(), errOut.String() + err.Error(), exitCode(err)
	}
	return out.String(), errOut.String(), 0
}

func auditEnv(inst *nodetest.Instance) func(string) string {
	return func(k string) string {
		switch k {
		case "SSOATTR_DATA_DIR":
			return inst.DataDir()
		case "SSOATTR_FERNET_KEY":
			return nodetest.KeyText
		}
		return ""
	}
}

// auditDo sends an API request and fails the test unless it succeeds.
func auditDo(t *testing.T, inst *nodetest.Instance, method, path, ust string, kv ...any) {
	t.Helper()
	body := map[string]any{"ust": ust, "current_app": "CRM"}
	for i := 0; i+1 < len(kv); i += 2 {
		body[kv[i].(string)] = kv[i+1]
	}
	if r := inst.Do(method, path, body); r.Status != 200 {
		t.Fatalf("%s %s = %d %s", method, path, r.Status, r.Raw)
	}
}

// auditLines decodes JSON lines.
func auditLines(t *testing.T, text string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

var auditStart = time.Date(2031, 5, 4, 9, 10, 11, 0, time.UTC)

func TestHistoryAndReplayCommands(t *testing.T) {
	clock := nodetest.NewManualClock(auditStart)
	inst := nodetest.Start(t, nodetest.WithNow(clock.Now), nodetest.WithExpiryInterval(time.Hour))
	root, _ := inst.SuperUser("audit-root")
	alice, aliceID := inst.User(root, "audit-alice")
	t1 := clock.Advance(time.Second)
	auditDo(t, inst, "PUT", "/zato/sso/user/attr", alice, "name", "theme", "value", "dark")
	t2 := clock.Advance(time.Second)
	auditDo(t, inst, "POST", "/zato/sso/user/attr", alice, "name", "otp", "value", "s3cret", "encrypt", true)
	auditDo(t, inst, "PUT", "/zato/sso/session/attr", alice, "name", "cart", "value", []any{1, 2})
	t3 := clock.Advance(time.Second)
	auditDo(t, inst, "DELETE", "/zato/sso/user/attr", alice, "name", "theme")

	t.Run("history as JSON lines", func(t *testing.T) {
		out, errOut, code := auditRun(t, inst, "history", "--user", aliceID, "--json")
		if code != 0 {
			t.Fatalf("history = exit %d: %s", code, errOut)
		}
		lines := auditLines(t, out)
		var got []string
		for _, l := range lines {
			got = append(got, fmt.Sprintf("%v %v %v", l["type"], l["scope"], l["name"]))
		}
		want := []string{"set user theme", "created user otp", "set session cart", "deleted user theme"}
		if !slices.Equal(got, want) {
			t.Fatalf("history = %v, want %v", got, want)
		}
		if v, _ := lines[1]["value"].(string); !strings.HasPrefix(v, "gAAAAA") || lines[1]["is_encrypted"] != true {
			t.Fatalf("encrypted change = %v, want the stored ciphertext", lines[1])
		}
		if strings.Contains(out, "s3cret") {
			t.Fatal("history shows the plaintext of an encrypted value")
		}
		if sid := nodetest.SessionID(t, alice); lines[2]["session_id"] != sid {
			t.Fatalf("session change = %v, want session_id %s", lines[2], sid)
		}
		if lines[0]["time"] != domain.FormatTime(t1) || lines[0]["actor_user_id"] != aliceID || lines[0]["current_app"] != "CRM" {
			t.Fatalf("first change = %v, want time %s, actor alice, app CRM", lines[0], domain.FormatTime(t1))
		}
	})

	t.Run("history filters", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want int
		}{
			{[]string{"--name", "theme"}, 2},
			{[]string{"--since", domain.FormatTime(t2)}, 3},
			{[]string{"--until", domain.FormatTime(t2)}, 3},
			{[]string{"--since", domain.FormatTime(t2), "--until", domain.FormatTime(t2) + "Z"}, 2},
		} {
			out, errOut, code := auditRun(t, inst, append([]string{"history", "--user", aliceID, "--json"}, tc.args...)...)
			if got := len(auditLines(t, out)); code != 0 || got != tc.want {
				t.Fatalf("history %v = exit %d, %d changes (%s); want %d", tc.args, code, got, errOut, tc.want)
			}
		}
	})

	t.Run("history as a table", func(t *testing.T) {
		out, errOut, code := auditRun(t, inst, "history", "--user", aliceID)
		if code != 0 {
			t.Fatalf("history = exit %d: %s", code, errOut)
		}
		rows := strings.Split(strings.TrimSpace(out), "\n")
		if len(rows) != 5 || !strings.HasPrefix(rows[0], "SEQ") {
			t.Fatalf("table =\n%s\nwant a header and 4 rows", out)
		}
		if !strings.Contains(rows[2], "(encrypted)") || strings.Contains(out, "gAAAAA") {
			t.Fatalf("table row of otp = %q, want (encrypted) in place of the value", rows[2])
		}
		if !strings.Contains(rows[4], "deleted") || !strings.Contains(rows[4], "theme") {
			t.Fatalf("last row = %q, want theme deleted", rows[4])
		}
	})

	t.Run("history refuses bad input", func(t *testing.T) {
		for _, args := range [][]string{
			{"history"},
			{"history", "--user", aliceID, "--since", "yesterday"},
		} {
			if _, _, code := auditRun(t, inst, args...); code != 2 {
				t.Fatalf("%v = exit %d, want 2", args, code)
			}
		}
	})

	t.Run("history by username", func(t *testing.T) {
		byID, _, _ := auditRun(t, inst, "history", "--user", aliceID, "--json")
		byName, errOut, code := auditRun(t, inst, "history", "--user", "audit-alice", "--json")
		if code != 0 || byName != byID || len(auditLines(t, byName)) != 4 {
			t.Fatalf("history --user audit-alice = exit %d, stderr %q,\n%s\nwant the 4 changes history --user %s prints", code, errOut, byName, aliceID)
		}
	})

	t.Run("history of a user that does not exist", func(t *testing.T) {
		for _, user := range []string{"nobody-here", "zusrnosuchid", "not an id"} {
			out, errOut, code := auditRun(t, inst, "history", "--user", user)
			if code != 1 || out != "" || !strings.Contains(errOut, fmt.Sprintf("no user with the username or id %q", user)) ||
				!strings.Contains(errOut, "ssoattr sso create-user") {
				t.Fatalf("history --user %q = exit %d, stdout %q, stderr %q; want exit 1, nothing printed, "+
					"and a message saying so and how to find an id", user, code, out, errOut)
			}
		}
	})

	t.Run("replay writes the state as it was", func(t *testing.T) {
		type want struct {
			users, sessions int
			attrs           []string // type name=value
		}
		for _, tc := range []struct {
			at   time.Time
			want want
		}{
			{auditStart.Add(-time.Hour), want{0, 0, nil}},
			{t1, want{2, 2, []string{`user_attr theme="dark"`}}},
			{t2, want{2, 2, []string{`user_attr otp=` + "cipher", `user_attr theme="dark"`, `session_attr cart=[1,2]`}}},
			{t3, want{2, 2, []string{`user_attr otp=` + "cipher", `session_attr cart=[1,2]`}}},
		} {
			file := filepath.Join(t.TempDir(), "state.jsonl")
			_, errOut, code := auditRun(t, inst, "replay", "--as-of", domain.FormatTime(tc.at), "--out", file)
			if code != 0 {
				t.Fatalf("replay as of %s = exit %d: %s", domain.FormatTime(tc.at), code, errOut)
			}
			if strings.Contains(errOut, "\r") {
				t.Fatalf("replay wrote progress to a stderr that is not a terminal: %q", errOut)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var got want
			for _, r := range auditLines(t, string(data)) {
				switch r["type"] {
				case "user":
					got.users++
				case "session":
					got.sessions++
				case "user_attr", "session_attr":
					a := r["attr"].(map[string]any)
					v, _ := json.Marshal(a["value"])
					if a["is_encrypted"] == true && strings.HasPrefix(string(v), `"gAAAAA`) {
						v = []byte("cipher")
					}
					got.attrs = append(got.attrs, fmt.Sprintf("%s %s=%s", r["type"], a["name"], v))
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("replay as of %s = %+v, want %+v", domain.FormatTime(tc.at), got, tc.want)
			}
		}
	})
}

// auditWaitFor polls cond until it holds or d has passed, and reports
// whether it holds.
func auditWaitFor(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// auditBuffer is a bytes.Buffer safe for a writer and a reader at once.
type auditBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *auditBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *auditBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestWatchCommand(t *testing.T) {
	inst := nodetest.Start(t)
	root, _ := inst.SuperUser("watch-root")
	alice, aliceID := inst.User(root, "watch-alice")
	bob, _ := inst.User(root, "watch-bob")

	ctx, cancel := context.WithCancel(t.Context())
	var out, errOut auditBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"watch", "--user", "watch-alice", "--type", "attr.set,attr.deleted"}, &out, &errOut, auditEnv(inst))
	}()
	// The watcher starts at "now", which the test cannot see: write until
	// a change shows; from the first one shown, every later one must follow.
	shown := func(kind string) func() bool {
		return func() bool { return strings.Contains(out.String(), kind) }
	}
	writes := 0
	for !shown("attr.set")() {
		if writes == 100 {
			t.Fatalf("watch printed nothing after %d writes; stderr: %s", writes, errOut.String())
		}
		auditDo(t, inst, "PUT", "/zato/sso/user/attr", alice, "name", fmt.Sprintf("w%d", writes), "value", writes)
		writes++
		auditWaitFor(200*time.Millisecond, shown("attr.set"))
	}
	auditDo(t, inst, "PUT", "/zato/sso/user/attr", bob, "name", "other", "value", 1)  // another user
	auditDo(t, inst, "PATCH", "/zato/sso/user/attr", alice, "name", "w0", "value", 2) // another kind
	auditDo(t, inst, "DELETE", "/zato/sso/user/attr", alice, "name", "w0")
	if !auditWaitFor(10*time.Second, shown("attr.deleted")) {
		t.Fatalf("watch output =\n%s\nwant the deletion", out.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("watch ended with %v, want nil on interrupt", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var first int
	if _, err := fmt.Sscanf(lines[0][strings.Index(lines[0], `"w`)+2:], "%d", &first); err != nil {
		t.Fatalf("first line %q: %v", lines[0], err)
	}
	var want []string
	for i := first; i < writes; i++ {
		want = append(want, fmt.Sprintf(`attr.set names=["w%d"]`, i))
	}
	want = append(want, `attr.deleted names=["w0"]`)
	var got []string
	for _, l := range lines {
		f := strings.Fields(l)
		got = append(got, f[2]+" "+f[4])
	}
	if !slices.Equal(got, want) {
		t.Fatalf("watch output =\n%s\nwant %q", out.String(), want)
	}
	if !strings.Contains(lines[0], "uattr/"+aliceID) || !strings.Contains(lines[0], "actor="+aliceID) {
		t.Fatalf("line %q, want alice's owner and actor", lines[0])
	}
	// What it watched was said once, on stderr, when it started.
	if want := fmt.Sprintf(`watching the events of user "watch-alice" (%s) of kind attr.set, attr.deleted stored from now on`, aliceID); !strings.HasPrefix(errOut.String(), want) {
		t.Fatalf("watch stderr = %q, want it to start with %q", errOut.String(), want)
	}
}

func TestWatchCommand_UnknownUser(t *testing.T) {
	inst := nodetest.Start(t)
	out, errOut, code := auditRun(t, inst, "watch", "--user", "nobody-here")
	if code != 1 || out != "" || !strings.Contains(errOut, `no user with the username or id "nobody-here"`) {
		t.Fatalf("watch --user nobody-here = exit %d, stdout %q, stderr %q; want exit 1 and a message saying so", code, out, errOut)
	}
}
