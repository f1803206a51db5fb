package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/internal/natsctx"
	"github.com/ssoattr/ssoattr/internal/node"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
)

// mainBuffer is a bytes.Buffer that a running command may write while the
// test reads it.
type mainBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *mainBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *mainBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// mainEnv returns a getenv over the given variables only.
func mainEnv(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// mainRun runs the program in-process and returns stdout, stderr and the
// exit status main would use.
func mainRun(t *testing.T, getenv func(string) string, args ...string) (stdout, stderr string, code int, err error) {
	t.Helper()
	var out, errOut mainBuffer
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err = run(ctx, args, &out, &errOut, getenv)
	if err != nil {
		code = exitCode(err)
	}
	return out.String(), errOut.String(), code, err
}

// freePort returns a loopback address with a port nobody listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitReady waits until the service has logged that it is ready (after
// the bootstrap), then checks that GET /healthz answers 200.
func waitReady(t *testing.T, addr string, stderr *mainBuffer, exited <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "msg=ready") {
		select {
		case <-exited:
			t.Fatalf("the service exited before it was ready; stderr:\n%s", stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service did not log ready within 20s; stderr:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitHealthy(t, addr, exited)
}

// waitHealthy polls GET /healthz until it answers 200.
func waitHealthy(t *testing.T, addr string, exited <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatal("the service exited before it was ready")
		default:
		}
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("http://%s/healthz not ready after 20s", addr)
}

func TestRun_Help(t *testing.T) {
	stdout, _, code, err := mainRun(t, mainEnv(), "help")
	if err != nil || code != 0 || !strings.Contains(stdout, "ssoattr serve [flags]") {
		t.Fatalf("help: err %v, exit %d, stdout %q; want the usage on stdout", err, code, stdout)
	}
	_, stderr, code, _ := mainRun(t, mainEnv())
	if code != 2 || !strings.Contains(stderr, "Usage:") {
		t.Fatalf("no arguments: exit %d, stderr %q; want 2 and the usage", code, stderr)
	}
	_, stderr, code, err = mainRun(t, mainEnv(), "frobnicate")
	if code != 2 || !strings.Contains(err.Error(), `unknown command "frobnicate"`) || !strings.Contains(stderr, "Usage:") {
		t.Fatalf("unknown command: exit %d, err %v; want 2 and a clear message", code, err)
	}
}

func TestRun_ServeHelp(t *testing.T) {
	start := time.Now()
	stdout, stderr, code, err := mainRun(t, mainEnv(), "serve", "--help")
	if !errors.Is(err, flag.ErrHelp) || code != 0 {
		t.Fatalf("serve --help = %v, exit %d; want flag.ErrHelp and exit 0 (usage shown, nothing started)", err, code)
	}
	for _, want := range []string{"Usage: ssoattr serve", "-http-addr string", "-data-dir", "-nats-listen", "-nats-url",
		"-replicas int", "-password-rounds int", "-session-expiry duration", "-sweep-interval duration",
		"-shutdown-timeout duration", "-trust-proxy\n", "SSOATTR_HTTP_ADDR", "SSOATTR_FERNET_KEY", "SSOATTR_ADMIN_PASSWORD"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("serve --help: usage lacks %q:\n%s", want, stdout)
		}
	}
	if stderr != "" {
		t.Errorf("serve --help wrote to stderr: %q", stderr)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("serve --help took %v: it should not start anything", d)
	}
}

// TestRun_HelpEveryCommand: --help (and -h, and "help COMMAND") on every
// command prints its usage to stdout and exits 0, with nothing on stderr.
func TestRun_HelpEveryCommand(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--help"}, "Usage: ssoattr serve"},
		{[]string{"serve", "-h"}, "Usage: ssoattr serve"},
		{[]string{"help", "serve"}, "Usage: ssoattr serve"},
		{[]string{"sso", "--help"}, "Usage: ssoattr sso COMMAND"},
		{[]string{"sso", "-h"}, "Usage: ssoattr sso COMMAND"},
		{[]string{"sso", "help"}, "Usage: ssoattr sso COMMAND"},
		{[]string{"help", "sso"}, "Usage: ssoattr sso COMMAND"},
		{[]string{"sso", "lock-user", "--help"}, "Usage: ssoattr sso lock-user USERNAME"},
		{[]string{"history", "--help"}, "Usage: ssoattr history"},
		{[]string{"replay", "--help"}, "Usage: ssoattr replay"},
		{[]string{"watch", "--help"}, "Usage: ssoattr watch"},
		{[]string{"nats", "--help"}, "Usage: ssoattr nats"},
		{[]string{"key", "--help"}, "Usage: ssoattr key"},
		{[]string{"setup-stream", "--help"}, "Usage: ssoattr setup-stream"},
		{[]string{"version", "--help"}, "Usage: ssoattr version"},
		{[]string{"help"}, "ssoattr serve [flags]"},
		{[]string{"--help"}, "ssoattr serve [flags]"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			stdout, stderr, code, _ := mainRun(t, mainEnv(), tt.args...)
			if code != 0 || !strings.Contains(stdout, tt.want) || stderr != "" {
				t.Fatalf("%q: exit %d, stdout %q, stderr %q; want exit 0, %q on stdout, nothing on stderr",
					tt.args, code, stdout, stderr, tt.want)
			}
		})
	}
	// The sso usage lists every admin command.
	stdout, _, _, _ := mainRun(t, mainEnv(), "sso", "--help")
	for name := range adminCmds {
		if !strings.Contains(stdout, "  "+name+" ") && !strings.Contains(stdout, "  "+name+"\n") {
			t.Errorf("sso --help does not list %s:\n%s", name, stdout)
		}
	}
	// A mistake still goes to stderr with exit 2.
	_, stderr, code, _ := mainRun(t, mainEnv(), "sso")
	if code != 2 || !strings.Contains(stderr, "Usage: ssoattr sso COMMAND") {
		t.Fatalf("sso without a command: exit %d, stderr %q; want 2 and the usage on stderr", code, stderr)
	}
	_, stderr, code, _ = mainRun(t, mainEnv(), "key", "extra")
	if code != 2 {
		t.Fatalf("key extra: exit %d, stderr %q; want 2", code, stderr)
	}
}

func TestRun_Version(t *testing.T) {
	stdout, stderr, code, err := mainRun(t, mainEnv(), "version")
	if err != nil || code != 0 || stderr != "" {
		t.Fatalf("version: err %v, exit %d, stderr %q", err, code, stderr)
	}
	for _, want := range []string{"ssoattr ", "commit ", "go           " + runtime.Version(), "nats-server  "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("version lacks %q:\n%s", want, stdout)
		}
	}
	info := &debug.BuildInfo{GoVersion: "go1.99", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}}
	got := versionText(info)
	for _, want := range []string{"ssoattr      v1.2.3\n", "commit       0123abcd 2026-01-02T03:04:05Z (with uncommitted changes)\n", "go           go1.99 "} {
		if !strings.Contains(got, want) {
			t.Errorf("versionText(%+v) lacks %q:\n%s", info, want, got)
		}
	}
}

func TestRun_ServeBadFlags(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		args []string
		want []string // in the error or on stderr
	}{
		{"unknown flag", nil, []string{"--bogus"}, []string{"flag provided but not defined: -bogus"}},
		{"positional argument", nil, []string{"extra"}, []string{"serve takes no arguments"}},
		{"bad duration", nil, []string{"--session-expiry", "abc"}, []string{`invalid value "abc" for flag -session-expiry`}},
		{"negative duration", nil, []string{"--sweep-interval", "-1s"}, []string{`--sweep-interval: -1s is not a positive duration`}},
		{"zero rounds", nil, []string{"--password-rounds", "0"}, []string{`--password-rounds: 0 is less than 1`}},
		{"not a number", nil, []string{"--replicas", "three"}, []string{`invalid value "three" for flag -replicas`}},
		{"read consistency", nil, []string{"--read-consistency", "eventual"}, []string{`--read-consistency: "eventual"`}},
		{"log format", nil, []string{"--log-format", "xml"}, []string{`--log-format: "xml"`}},
		{"http address", nil, []string{"--http-addr", "nohost"}, []string{"--http-addr:"}},
		{"no apps", nil, []string{"--apps", " , "}, []string{"--apps: at least one application"}},
		{"external NATS without a key", nil, []string{"--nats-url", "nats://127.0.0.1:1"}, []string{"SSOATTR_FERNET_KEY"}},
		{"unparsable duration from the environment", []string{"SSOATTR_SESSION_EXPIRY", "forever"}, nil,
			[]string{`SSOATTR_SESSION_EXPIRY="forever" (the default of --session-expiry) is not a duration`}},
		{"unparsable number from the environment", []string{"SSOATTR_REPLICAS", "3x"}, nil,
			[]string{`SSOATTR_REPLICAS="3x" (the default of --replicas) is not a whole number`}},
		{"unparsable bool from the environment", []string{"SSOATTR_TRUST_PROXY", "yes please"}, nil,
			[]string{`SSOATTR_TRUST_PROXY="yes please" (the default of --trust-proxy) is not true or false`}},
		{"out of range from the environment", []string{"SSOATTR_PASSWORD_ROUNDS", "0"}, nil,
			[]string{`SSOATTR_PASSWORD_ROUNDS (the default of --password-rounds): 0 is less than 1`}},
		{"every error at once", nil, []string{"--session-expiry", "0s", "--log-format", "xml"},
			[]string{`--session-expiry: 0s`, `--log-format: "xml"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code, err := mainRun(t, mainEnv(tt.env...), append([]string{"serve", "--data-dir", t.TempDir()}, tt.args...)...)
			if err == nil || code == 0 {
				t.Fatalf("serve %q: err %v, exit %d; want a failure", tt.args, err, code)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error()+stderr, w) {
					t.Fatalf("serve %q: error %q, stderr %q; want %q", tt.args, err, stderr, w)
				}
			}
		})
	}
}

// TestParseServe_Environment: typed flags take their defaults from the
// SSOATTR_* variables, a flag given on the command line wins, even over a
// variable that does not parse, and --help shows the default in force.
func TestParseServe_Environment(t *testing.T) {
	env := mainEnv("SSOATTR_REPLICAS", "3", "SSOATTR_SESSION_EXPIRY", "90s", "SSOATTR_TRUST_PROXY", "true",
		"SSOATTR_PASSWORD_ROUNDS", "many", "SSOATTR_HTTP_ADDR", "127.0.0.1:1")
	c, err := parseServe([]string{"--password-rounds", "1000", "--http-addr", "127.0.0.1:2"}, io.Discard, io.Discard, env)
	if err != nil {
		t.Fatalf("parseServe: %v", err)
	}
	if c.Replicas != 3 || c.SessionExpiry != 90*time.Second || !c.TrustProxy || c.PasswordRounds != 1000 || c.HTTPAddr != "127.0.0.1:2" {
		t.Fatalf("parseServe = replicas %d, session expiry %v, trust proxy %v, rounds %d, http %s; "+
			"want 3, 1m30s, true (from the environment), 1000 and 127.0.0.1:2 (from the flags)",
			c.Replicas, c.SessionExpiry, c.TrustProxy, c.PasswordRounds, c.HTTPAddr)
	}
	var help bytes.Buffer
	if _, err := parseServe([]string{"--help"}, &help, io.Discard, env); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parseServe --help = %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(help.String(), "(SSOATTR_REPLICAS) (default 3)") {
		t.Fatalf("--help does not show the default from the environment:\n%s", help.String())
	}
}

func TestRun_SSOCommands(t *testing.T) {
	inst := nodetest.Start(t)
	env := mainEnv("SSOATTR_DATA_DIR", inst.DataDir())

	t.Run("create-super-user", func(t *testing.T) {
		stdout, stderr, code, err := mainRun(t, env, "sso", "create-super-user", "boss", "--password", nodetest.Password)
		if err != nil || !regexp.MustCompile(`^User created \(zusr[0-9a-hjkmnp-tv-z]+\)\n$`).MatchString(stdout) {
			t.Fatalf("create-super-user: err %v, exit %d, stdout %q, stderr %q", err, code, stdout, stderr)
		}
		ust := inst.Login("boss", nodetest.Password)
		r := inst.Do("GET", "/zato/sso/user", map[string]any{"ust": ust, "current_app": "CRM"})
		if r.Body["is_super_user"] != true || r.Body["approval_status"] != "approved" || r.Body["sign_up_status"] != "final" {
			t.Fatalf("the created account = %s, want an approved, confirmed super-user", r.Raw)
		}
	})
	t.Run("create-super-user with a taken username", func(t *testing.T) {
		stdout, stderr, code, _ := mainRun(t, env, "sso", "create-super-user", "boss", "--password", nodetest.Password)
		if code == 0 || !strings.Contains(stderr, "User already exists") || stdout != "" {
			t.Fatalf("create-super-user again: exit %d, stdout %q, stderr %q; want non-zero and User already exists", code, stdout, stderr)
		}
	})
	t.Run("create-super-user with the --data-dir flag", func(t *testing.T) {
		stdout, _, code, err := mainRun(t, mainEnv(), "sso", "create-super-user", "--data-dir", inst.DataDir(), "boss2", "--password", nodetest.Password)
		if err != nil || !strings.HasPrefix(stdout, "User created (") {
			t.Fatalf("create-super-user --data-dir: err %v, exit %d, stdout %q", err, code, stdout)
		}
	})
	t.Run("create-super-user with a weak password", func(t *testing.T) {
		_, stderr, code, _ := mainRun(t, env, "sso", "create-super-user", "weak", "--password", "short")
		if code == 0 || !strings.Contains(stderr, "Password too short") {
			t.Fatalf("weak password: exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("reset-totp-key", func(t *testing.T) {
		stdout, stderr, _, err := mainRun(t, env, "sso", "reset-totp-key", "boss")
		key := strings.TrimSpace(stdout)
		if err != nil || !regexp.MustCompile(`^[A-Z2-7]{32}$`).MatchString(key) {
			t.Fatalf("reset-totp-key: err %v, stdout %q, stderr %q; want a 32-character base32 key", err, stdout, stderr)
		}
		again, _, _, _ := mainRun(t, env, "sso", "reset-totp-key", "boss")
		if strings.TrimSpace(again) == key {
			t.Fatal("reset-totp-key twice printed the same key")
		}
		_, stderr, code, _ := mainRun(t, env, "sso", "reset-totp-key", "nobody")
		if code == 0 || !strings.Contains(stderr, "No such user") {
			t.Fatalf("reset-totp-key of an unknown user: exit %d, stderr %q", code, stderr)
		}
		_, stderr, code, _ = mainRun(t, env, "sso", "reset-totp-key", "boss", "--key", "not base32!")
		if code == 0 || stderr == "" {
			t.Fatalf("reset-totp-key with a bad key: exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("no service on that NATS", func(t *testing.T) {
		url, _ := nodetest.StartNATS(t)
		admin := filepath.Join(t.TempDir(), "admin.json")
		if err := natsctx.Write(admin, nodetest.Credentials(t, url, node.RoleAdmin)); err != nil {
			t.Fatal(err)
		}
		_, _, code, err := mainRun(t, mainEnv("SSOATTR_NATS_CONTEXT", admin), "sso", "reset-totp-key", "boss")
		if code == 0 || err == nil || !strings.Contains(err.Error(), "no ssoattr service is running") {
			t.Fatalf("no service: exit %d, err %v", code, err)
		}
	})
}

// TestRun_ServeInProcess runs "serve" through run(), as main does, and
// stops it by cancelling its context; a second start on the same data
// directory keeps the accounts and does not bootstrap again.
func TestRun_ServeInProcess(t *testing.T) {
	dir := t.TempDir()
	start := func() (addr string, stdout, stderr *mainBuffer, stop func() error) {
		addr = freePort(t)
		stdout, stderr = &mainBuffer{}, &mainBuffer{}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		exited := make(chan struct{})
		go func() {
			done <- run(ctx, []string{"serve", "--data-dir", dir, "--http-addr", addr, "--nats-listen", "127.0.0.1:0",
				"--password-rounds", "1000"}, stdout, stderr, mainEnv())
			close(exited)
		}()
		t.Cleanup(func() { cancel(); <-exited })
		waitReady(t, addr, stderr, exited)
		return addr, stdout, stderr, func() error {
			cancel()
			select {
			case err := <-done:
				return err
			case <-time.After(10 * time.Second):
				return errors.New("serve did not return 10s after its context ended")
			}
		}
	}

	addr, stdout, stderr, stop := start()
	m := regexp.MustCompile(`Created super-user "admin" with password: (\S+)\n`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("first start: stdout %q, want the admin password", stdout.String())
	}
	if strings.Contains(stderr.String(), m[1]) {
		t.Fatal("the admin password was logged")
	}
	login := func(addr, password string) int {
		resp, err := http.Post("http://"+addr+"/zato/sso/user/login", "",
			strings.NewReader(fmt.Sprintf(`{"username":"admin","password":%q,"current_app":"CRM"}`, password)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	if got := login(addr, m[1]); got != http.StatusOK {
		t.Fatalf("login as admin = %d, want 200", got)
	}
	// The admin commands find their credentials in the data directory.
	if stdout, stderr, code, _ := mainRun(t, mainEnv("SSOATTR_DATA_DIR", dir), "sso", "lock-user", "admin"); code != 0 {
		t.Fatalf("sso lock-user with the data directory: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if got := login(addr, m[1]); got == http.StatusOK {
		t.Fatal("login as admin after lock-user succeeded")
	}
	if _, _, code, _ := mainRun(t, mainEnv("SSOATTR_DATA_DIR", dir), "sso", "unlock-user", "admin"); code != 0 {
		t.Fatalf("sso unlock-user: exit %d", code)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve after cancel = %v, want nil", err)
	}
	info, err := os.Stat(filepath.Join(dir, "fernet.key"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("fernet.key: %v, mode %v; want a 0600 file", err, info.Mode().Perm())
	}

	addr, stdout, _, stop = start()
	if strings.Contains(stdout.String(), "Created super-user") {
		t.Fatalf("second start bootstrapped again: %q", stdout.String())
	}
	if got := login(addr, m[1]); got != http.StatusOK {
		t.Fatalf("login as admin after a restart = %d, want 200", got)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve after cancel = %v, want nil", err)
	}
}

// TestRun_ServeStoppedWhileStarting: a stop signal that arrives before the
// service is up is a normal stop, not a failure.
func TestRun_ServeStoppedWhileStarting(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var stdout, stderr mainBuffer
	err := run(ctx, []string{"serve", "--data-dir", t.TempDir(), "--http-addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0",
		"--password-rounds", "1000"}, &stdout, &stderr, mainEnv())
	if err != nil {
		t.Fatalf("serve with its context already ended = %v, want nil (exit 0)", err)
	}
}

// TestServeProcess builds the binary, runs "serve" as a real process and
// stops it with SIGTERM: it must exit 0 within 5 s.
func TestServeProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binary with")
	}
	bin := filepath.Join(t.TempDir(), "ssoattr")
	build := exec.Command(goBin, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr := freePort(t)
	cmd := exec.Command(bin, "serve", "--data-dir", t.TempDir(), "--http-addr", addr, "--nats-listen", freePort(t))
	cmd.Env = append(os.Environ(), "SSOATTR_PASSWORD_ROUNDS=1000", "SSOATTR_ADMIN_PASSWORD="+nodetest.Password)
	var stdout, stderr mainBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	waitReady(t, addr, &stderr, exited)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatalf("serve still running 5s after SIGTERM; stderr:\n%s", stderr.String())
	}
	if waitErr != nil {
		t.Fatalf("serve after SIGTERM: %v, want exit status 0; stderr:\n%s", waitErr, stderr.String())
	}
	if strings.Contains(stdout.String(), nodetest.Password) || strings.Contains(stderr.String(), nodetest.Password) {
		t.Error("the admin password from SSOATTR_ADMIN_PASSWORD was printed")
	}
	if !strings.Contains(stderr.String(), "stopped") {
		t.Errorf("stderr does not log the stop:\n%s", stderr.String())
	}
}

// TestRun_ServeBindClash: a serve whose HTTP or NATS address is taken fails
// at once, naming the address, and creates nothing in its data directory.
func TestRun_ServeBindClash(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	for _, flagName := range []string{"--http-addr", "--nats-listen"} {
		t.Run(flagName, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			args := []string{"serve", "--data-dir", dir, "--http-addr", freePort(t), "--nats-listen", freePort(t)}
			args = append(args, flagName, addr)
			start := time.Now()
			_, _, code, err := mainRun(t, mainEnv(), args...)
			if err == nil || code == 0 || !strings.Contains(err.Error(), flagName+" "+addr) || !strings.Contains(err.Error(), "in use") {
				t.Fatalf("serve %s %s (taken): err %v, exit %d; want a failure naming the address", flagName, addr, err, code)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("serve with a taken address took %v to fail, want at once", d)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the data directory %s exists after the failed start (%v), want nothing created", dir, err)
			}
		})
	}
}
