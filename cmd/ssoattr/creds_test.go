package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssoattr/ssoattr/eventstore"
	"github.com/ssoattr/ssoattr/internal/natsctx"
	"github.com/ssoattr/ssoattr/internal/node"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
	"github.com/ssoattr/ssoattr/sso"
)

// TestRun_Credentials: the commands that talk to NATS find their role's
// context file in the data directory or where --nats-context says, fail
// naming the file they looked for when there is none, and fail at once,
// with the server's refusal, when the file is another role's.
func TestRun_Credentials(t *testing.T) {
	inst := nodetest.Start(t)
	empty := t.TempDir()
	t.Run("no credentials in the data directory", func(t *testing.T) {
		for args, file := range map[string]string{
			"sso lock-user bob":                 "admin.json",
			"history --user zusr1":              "reader.json",
			"replay --as-of 2031-01-01 --out -": "reader.json",
			"watch":                             "reader.json",
		} {
			want := filepath.Join(empty, "nats", file)
			_, stderr, code, err := mainRun(t, mainEnv("SSOATTR_DATA_DIR", empty), strings.Fields(args)...)
			if code == 0 || err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s with an empty data directory: exit %d, err %v, stderr %q; want an error naming %s",
					args, code, err, stderr, want)
			}
		}
	})
	t.Run("a missing --nats-context file", func(t *testing.T) {
		missing := filepath.Join(empty, "nowhere.json")
		_, _, code, err := mainRun(t, mainEnv(), "sso", "lock-user", "bob", "--nats-context", missing)
		if code == 0 || err == nil || !strings.Contains(err.Error(), missing) {
			t.Fatalf("exit %d, err %v; want an error naming %s", code, err, missing)
		}
	})
	t.Run("--nats-url overrides the context's URL", func(t *testing.T) {
		c := nodetest.Credentials(t, inst.NATSURL(), node.RoleAdmin)
		c.URL = "nats://127.0.0.1:1" // nothing listens there
		file := filepath.Join(t.TempDir(), "admin.json")
		if err := natsctx.Write(file, c); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code, err := mainRun(t, mainEnv(), "sso", "create-user", "carol", "--nats-context", file,
			"--nats-url", inst.NATSURL())
		if code != 0 || !strings.HasPrefix(stdout, "User created (") {
			t.Fatalf("exit %d, err %v, stdout %q, stderr %q", code, err, stdout, stderr)
		}
	})
	t.Run("the reader's file for an admin command", func(t *testing.T) {
		reader := inst.ContextFile(node.RoleReader)
		started := time.Now()
		_, _, code, err := mainRun(t, mainEnv(), "sso", "login", "bob", "--nats-context", reader)
		if code == 0 || err == nil || !strings.Contains(err.Error(), "Permissions Violation") {
			t.Fatalf("exit %d, err %v; want the server's permissions violation", code, err)
		}
		if took := time.Since(started); took > 10*time.Second {
			t.Fatalf("the refusal took %v: it waited for the timeout", took)
		}
	})
}

// TestRun_ServeLogsNoNATSSecret: a replica given its password both in
// SSOATTR_NATS_PASSWORD and inside --nats-url logs neither, starting or
// failing to connect.
func TestRun_ServeLogsNoNATSSecret(t *testing.T) {
	inst := nodetest.Start(t)
	svc := nodetest.Credentials(t, inst.NATSURL(), node.RoleService)
	host := strings.TrimPrefix(inst.NATSURL(), "nats://")
	env := mainEnv("SSOATTR_NATS_USER", svc.User, "SSOATTR_NATS_PASSWORD", svc.Password,
		"SSOATTR_FERNET_KEY", sso.NewKey())

	t.Run("running", func(t *testing.T) {
		stdout, stderr := startReplica(t, env, "--nats-url", "nats://"+svc.User+":"+svc.Password+"@"+host)
		logged := stderr.String() + stdout.String()
		if strings.Contains(logged, svc.Password) {
			t.Fatalf("the NATS password was logged:\n%s", logged)
		}
		if !strings.Contains(logged, `"nats":"nats://service:xxxxx@`+host) {
			t.Fatalf("the ready line does not name the server, redacted:\n%s", logged)
		}
	})
	t.Run("failing to connect", func(t *testing.T) {
		_, stderr, code, err := mainRun(t, env, "serve", "--http-addr", freePort(t),
			"--nats-url", "nats://"+svc.User+":"+svc.Password+"@127.0.0.1:1")
		if code == 0 || err == nil {
			t.Fatalf("serve on a closed port: exit %d, err %v; want a failure", code, err)
		}
		if strings.Contains(err.Error()+stderr, svc.Password) {
			t.Fatalf("the NATS password is in the error or log: %v\n%s", err, stderr)
		}
	})
}

// TestRun_SetupStream: setup-stream creates the stream on an external
// server as a user that may, leaves it alone when it is as wanted, and
// stops at once, saying so, when NATS refuses the user (the service role
// may not update the stream).
func TestRun_SetupStream(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true,
		StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
		Users: []*server.User{{Username: "op", Password: "op-secret"}}})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	env := mainEnv("SSOATTR_NATS_USER", "op", "SSOATTR_NATS_PASSWORD", "op-secret", "SSOATTR_FERNET_KEY", nodetest.KeyText)
	for range 2 {
		stdout, stderr, code, err := mainRun(t, env, "setup-stream", "--nats-url", ns.ClientURL())
		if code != 0 || !strings.Contains(stdout, "Stream SSO ready") {
			t.Fatalf("setup-stream: exit %d, err %v, stdout %q, stderr %q", code, err, stdout, stderr)
		}
	}
	nc, err := nats.Connect(ns.ClientURL(), nats.UserInfo("op", "op-secret"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	st, err := js.Stream(t.Context(), "SSO")
	if err != nil || !eventstore.ConfigMatches(st.CachedInfo().Config, eventstore.StreamConfig(eventstore.Config{})) ||
		len(st.CachedInfo().Config.Metadata) == 0 {
		t.Fatalf("the stream after setup-stream: %v; want it configured as StreamConfig says", err)
	}

	inst := nodetest.Start(t)
	svc := nodetest.Credentials(t, inst.NATSURL(), node.RoleService)
	started := time.Now()
	_, _, code, err := mainRun(t, mainEnv("SSOATTR_NATS_USER", svc.User, "SSOATTR_NATS_PASSWORD", svc.Password,
		"SSOATTR_FERNET_KEY", nodetest.KeyText),
		"setup-stream", "--nats-url", inst.NATSURL(), "--replicas", "2")
	if code == 0 || err == nil || !strings.Contains(err.Error(), "NATS refused") {
		t.Fatalf("setup-stream as the service role: exit %d, err %v; want NATS's refusal", code, err)
	}
	if took := time.Since(started); took > 5*time.Second {
		t.Fatalf("the refusal took %v", took)
	}
}

// TestRouteCredentials: the compose cluster's routes, which its
// configuration names without credentials, authenticate with the cluster's.
func TestRouteCredentials(t *testing.T) {
	for _, v := range []string{"NATS_NAME", "SSOATTR_NATS_SERVICE_PASSWORD", "SSOATTR_NATS_ADMIN_PASSWORD",
		"SSOATTR_NATS_READER_PASSWORD", "SSOATTR_NATS_SETUP_PASSWORD"} {
		t.Setenv(v, "x")
	}
	t.Setenv("SSOATTR_NATS_ROUTE_PASSWORD", "route-secret")
	opts, err := server.ProcessConfigFile("../../deploy/nats.conf")
	if err != nil {
		t.Fatal(err)
	}
	routeCredentials(opts)
	for _, r := range opts.Routes {
		if pw, _ := r.User.Password(); r.User.Username() != "route" || pw != "route-secret" {
			t.Fatalf("route %s: user %v, want route with the cluster's password", r.Host, r.User)
		}
	}
}

// startReplica runs serve with args until it has logged that it is
// ready, then stops it and returns what it wrote.
func startReplica(t *testing.T, env func(string) string, args ...string) (stdout, stderr *mainBuffer) {
	t.Helper()
	stdout, stderr = &mainBuffer{}, &mainBuffer{}
	ctx, cancel := context.WithCancel(t.Context())
	exited := make(chan struct{})
	args = append([]string{"serve", "--http-addr", freePort(t), "--password-rounds", "1000", "--log-format", "json"}, args...)
	go func() {
		defer close(exited)
		_ = run(ctx, args, stdout, stderr, env)
	}()
	defer func() { cancel(); <-exited }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), `"msg":"ready"`) {
		select {
		case <-exited:
			t.Fatalf("the replica exited; stderr:\n%s", stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica did not log ready within 20s; stderr:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return stdout, stderr
}

// TestRun_ServeReplicaWithServiceContext: a replica of an embedded
// instance starts with that instance's service.json, as the README says.
func TestRun_ServeReplicaWithServiceContext(t *testing.T) {
	inst := nodetest.Start(t)
	_, stderr := startReplica(t, mainEnv("SSOATTR_FERNET_KEY", nodetest.KeyText),
		"--nats-context", inst.ContextFile(node.RoleService))
	if !strings.Contains(stderr.String(), `"nats":"`+inst.NATSURL()+`"`) {
		t.Fatalf("the replica's log does not name %s:\n%s", inst.NATSURL(), stderr.String())
	}
}
