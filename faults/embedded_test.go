package faults_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ssoattr/ssoattr/faults"
	"github.com/ssoattr/ssoattr/internal/natsctx"
	"github.com/ssoattr/ssoattr/internal/node"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
	"github.com/ssoattr/ssoattr/sso"
)

// The embedded mode runs in a child process, this test binary started
// again with FAULTS_CHILD set: it serves as `ssoattr serve` does (the
// embedded server on FAULTS_DIR, HTTP on FAULTS_HTTP), bootstraps "admin"
// with nodetest.Password, prints "ready" and, on SIGTERM, drains and exits
// 0. So it can be killed with SIGKILL, or stopped with SIGTERM, for real.
func TestMain(m *testing.M) {
	if os.Getenv("FAULTS_CHILD") != "" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

func child() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	keys, err := sso.ParseKeyring(os.Getenv("FAULTS_KEY"))
	if err != nil {
		fmt.Println("key:", err)
		return 1
	}
	dir := os.Getenv("FAULTS_DIR")
	n, err := node.Start(ctx, node.Options{NATSListen: "127.0.0.1:0", HTTPAddr: os.Getenv("FAULTS_HTTP"),
		StoreDir: filepath.Join(dir, "jetstream"), CredsDir: filepath.Join(dir, "nats"),
		SSO: nodetest.Config(), Keys: keys})
	if err != nil {
		fmt.Println("start:", err)
		return 1
	}
	if _, _, err := n.SSO.Bootstrap(ctx, nodetest.Password); err != nil {
		fmt.Println("bootstrap:", err)
		return 1
	}
	fmt.Println("ready")
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n.Close(sctx) // as serve's shutdown does
	return 0
}

// embedded is a child process serving on a fixed HTTP address.
type embedded struct {
	t    *testing.T
	dir  string
	addr string
	key  string
	cmd  *exec.Cmd
}

func newEmbedded(t *testing.T) *embedded {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	e := &embedded{t: t, dir: t.TempDir(), addr: addr, key: sso.NewKey()}
	t.Cleanup(func() {
		if e.cmd != nil && e.cmd.ProcessState == nil {
			_ = e.cmd.Process.Kill()
			_ = e.cmd.Wait()
		}
	})
	return e
}

func (e *embedded) url() string { return "http://" + e.addr }

// start starts the child and waits for it to be ready.
func (e *embedded) start() {
	e.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "FAULTS_CHILD=1", "FAULTS_DIR="+e.dir, "FAULTS_HTTP="+e.addr, "FAULTS_KEY="+e.key)
	out, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.cmd = cmd
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case l := <-lines:
		if l != "ready" {
			e.t.Fatalf("child: %s", l)
		}
	case <-time.After(60 * time.Second):
		e.t.Fatal("child not ready after 60s")
	}
}

// signal sends sig to the child and waits for it to exit.
func (e *embedded) signal(sig os.Signal) (exit int) {
	e.t.Helper()
	if err := e.cmd.Process.Signal(sig); err != nil {
		e.t.Fatal(err)
	}
	_ = e.cmd.Wait()
	return e.cmd.ProcessState.ExitCode()
}

// stored counts the events setting each attribute name (see countStored),
// read as the reader role from the running child's server.
func (e *embedded) stored() map[string]int {
	e.t.Helper()
	c, err := natsctx.Load(node.RoleReader.ContextFile(filepath.Join(e.dir, "nats")))
	if err != nil {
		e.t.Fatal(err)
	}
	opts, err := c.Options()
	if err != nil {
		e.t.Fatal(err)
	}
	nc, err := nats.Connect(c.URL, opts...)
	if err != nil {
		e.t.Fatal(err)
	}
	defer nc.Close()
	js, err := c.JetStream(nc)
	if err != nil {
		e.t.Fatal(err)
	}
	ring, err := sso.ParseKeyring(e.key)
	if err != nil {
		e.t.Fatal(err)
	}
	keys, err := node.EventKeys(ring)
	if err != nil {
		e.t.Fatal(err)
	}
	return countStored(e.t, js, keys, "SSO")
}

// clients logs admin in and creates n users with their load clients.
func (e *embedded) clients(n int) []faults.Client {
	e.t.Helper()
	root := login(e.t, e.url(), "admin")
	var out []faults.Client
	for k := range n {
		name := fmt.Sprintf("emb%d", k)
		st, body := call(e.t, "POST", e.url()+"/zato/sso/user", map[string]any{"ust": root, "current_app": "CRM",
			"username": name, "password": nodetest.Password, "auto_approve": true})
		id, _ := body["user_id"].(string)
		if st != 200 || id == "" {
			e.t.Fatalf("create user %s: %d %v", name, st, body)
		}
		out = append(out, faults.Client{HTTP: httpClient, URLs: []string{e.url()}, UST: login(e.t, e.url(), name), User: id, Label: name})
	}
	return out
}

// underLoad starts the embedded mode and a load through two clients, and
// returns once the load has run half a second past its first acknowledged
// write; stop ends the load and waits for it.
func (e *embedded) underLoad(t *testing.T) (rec *faults.Recorder, clients []faults.Client, stop func()) {
	t.Helper()
	e.start()
	clients = e.clients(2)
	rec = &faults.Recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { faults.Load(ctx, rec, clients, 1, loadMax, loadPause); close(done) }()
	waitFor(t, 10*time.Second, "a first acknowledged write", func() bool { return rec.FirstAckAfter(time.Time{}) >= 0 })
	sleepFor(500 * time.Millisecond)
	return rec, clients, func() { cancel(); <-done }
}

// TestEmbedded_SIGKILL kills the embedded mode mid-load and restarts it on
// its data directory: every acknowledged write is there, once.
func TestEmbedded_SIGKILL(t *testing.T) {
	e := newEmbedded(t)
	rec, clients, stop := e.underLoad(t)
	e.signal(syscall.SIGKILL)
	killed := time.Now()
	// The load goes on against a closed port until the restart.
	e.start()
	waitFor(t, 10*time.Second, "a write acknowledged after the restart", func() bool { return rec.FirstAckAfter(killed) >= 0 })
	back := rec.FirstAckAfter(killed)
	stop()
	readYourWrite(t, clients[0], e.url(), e.url())
	check(t, rec, e.stored())
	t.Logf("SIGKILL, restarted on its data directory: writes acknowledged again %v after the kill", back.Round(time.Millisecond))
}

// TestEmbedded_SIGTERM stops the embedded mode with SIGTERM under load:
// every request it received is answered (no reset, no EOF), and it exits 0.
func TestEmbedded_SIGTERM(t *testing.T) {
	e := newEmbedded(t)
	rec, clients, stop := e.underLoad(t)
	termed := time.Now()
	if code := e.signal(syscall.SIGTERM); code != 0 {
		t.Errorf("exit status after SIGTERM = %d, want 0", code)
	}
	drained := time.Since(termed)
	stop()
	resets := rec.AnswerlessSince(termed, drained)
	e.start()
	readYourWrite(t, clients[0], e.url(), e.url())
	check(t, rec, e.stored())
	t.Logf("SIGTERM: drained and exited in %v; requests cut without an answer while draining: %d", drained.Round(time.Millisecond), len(resets))
	if len(resets) > 0 {
		t.Errorf("%d requests got no answer during the drain, first: %s", len(resets), resets[0])
	}
}
