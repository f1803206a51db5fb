package node_test

import (
	"context"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/natsctx"
	"github.com/ssoattr/ssoattr/internal/node"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
)

func options(t *testing.T) node.Options {
	return node.Options{NATSListen: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", StoreDir: t.TempDir(),
		SSO: nodetest.Config(), Keys: nodetest.Keys}
}

func healthz(addr string) (int, error) {
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestStartAndClose(t *testing.T) {
	ctx := t.Context()
	n, err := node.Start(ctx, options(t))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if code, err := healthz(n.HTTPAddr()); err != nil || code != http.StatusOK {
		t.Fatalf("GET /healthz = %d, %v; want 200", code, err)
	}
	// The embedded server listens on loopback for the CLI and subscribers,
	// which connect with a role's context file.
	reader, err := natsctx.Load(n.ContextFile(node.RoleReader))
	if err != nil {
		t.Fatal(err)
	}
	opts, err := reader.Options()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(reader.URL, opts...)
	if err != nil {
		t.Fatalf("connect to %s: %v", reader.URL, err)
	}
	nc.Close()

	closeCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	n.Close(closeCtx)
	if _, err := healthz(n.HTTPAddr()); err == nil {
		t.Fatal("GET /healthz after Close succeeded, want a refused connection")
	}
	if _, err := nats.Connect(reader.URL, append(opts, nats.Timeout(time.Second))...); err == nil {
		t.Fatal("NATS still accepts connections after Close")
	}
	n.Close(closeCtx) // again is harmless
}

func TestStart_Fails(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for name, change := range map[string]func(o *node.Options){
		"bad NATS listen address": func(o *node.Options) { o.NATSListen = "nowhere" },
		"HTTP port in use":        func(o *node.Options) { o.HTTPAddr = busy.Addr().String() },
		"unreachable NATS":        func(o *node.Options) { o.NATSURL = "nats://127.0.0.1:1" },
	} {
		t.Run(name, func(t *testing.T) {
			o := options(t)
			change(&o)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			if n, err := node.Start(ctx, o); err == nil {
				n.Close(ctx)
				t.Fatal("Start succeeded, want an error")
			}
		})
	}
}

// TestStart_CatchesUpBeforeReturning: a new instance on a stream with
// history answers from the full state as soon as Start returns.
func TestStart_CatchesUpBeforeReturning(t *testing.T) {
	url, _ := nodetest.StartNATS(t)
	a := nodetest.Start(t, nodetest.WithNATS(url))
	root, _ := a.SuperUser("root")
	for i := range 50 {
		r := a.Do("PUT", "/zato/sso/user/attr", map[string]any{"ust": root, "current_app": "CRM",
			"name": "n" + string(rune('A'+i%26)) + string(rune('a'+i/26)), "value": i})
		if r.Status != http.StatusOK {
			t.Fatalf("PUT: %d %s", r.Status, r.Raw)
		}
	}
	last, err := a.Store.LastSeq(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b := nodetest.Start(t, nodetest.WithNATS(url))
	if got := b.View.Applied(); got < last {
		t.Fatalf("Applied right after Start = %d, want at least %d", got, last)
	}
	u, ok := b.View.UserByName("root")
	if !ok {
		t.Fatal("the new instance's view has no user root")
	}
	if got := len(b.View.Names(domain.UserAttrsOwner(u.ID))); got != 50 {
		t.Fatalf("names in the new instance's view = %d, want 50", got)
	}
}

func TestAdmin(t *testing.T) {
	inst := nodetest.Start(t)
	nc := nodetest.Connect(t, inst.NATSURL(), node.RoleAdmin)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	reply, err := node.Admin(ctx, nc, "create-super-user", node.AdminRequest{Username: "boss", Password: nodetest.Password})
	if err != nil || reply.Error != "" || !regexp.MustCompile(`^zusr[0-9a-hjkmnp-tv-z]{1,26}$`).MatchString(reply.UserID) {
		t.Fatalf("create-super-user = %+v, %v; want a user id", reply, err)
	}
	reply, err = node.Admin(ctx, nc, "create-super-user", node.AdminRequest{Username: "boss", Password: nodetest.Password})
	if err != nil || reply.Error != "User already exists" || reply.Code != "E001002" {
		t.Fatalf("create-super-user again = %+v, %v; want User already exists (E001002)", reply, err)
	}
	reply, err = node.Admin(ctx, nc, "reset-totp-key", node.AdminRequest{Username: "boss"})
	if err != nil || !regexp.MustCompile(`^[A-Z2-7]{32}$`).MatchString(reply.Key) {
		t.Fatalf("reset-totp-key = %+v, %v; want a 32-character base32 key", reply, err)
	}
	reply, err = node.Admin(ctx, nc, "frobnicate", node.AdminRequest{})
	if err != nil || !strings.Contains(reply.Error, "unknown command") {
		t.Fatalf("unknown command = %+v, %v", reply, err)
	}
	msg, err := nc.RequestWithContext(ctx, node.AdminSubject+"create-super-user", []byte("not json"))
	if err != nil || !strings.Contains(string(msg.Data), "malformed request") {
		t.Fatalf("malformed request answered %q, %v", msg.Data, err)
	}

	other, _ := nodetest.StartNATS(t)
	onc := nodetest.Connect(t, other, node.RoleAdmin)
	if _, err := node.Admin(ctx, onc, "reset-totp-key", node.AdminRequest{Username: "boss"}); err == nil ||
		!strings.Contains(err.Error(), "no ssoattr service") {
		t.Fatalf("Admin with no service = %v, want no ssoattr service is running", err)
	}
}

// TestEmbedded_LastSeqReadsTheServersState: an instance with the embedded
// server answers LastSeq, its read barrier, from that server's own state,
// which must cover what another connection appended a moment before, and
// agree with what the server answers a replica over the network.
func TestEmbedded_LastSeqReadsTheServersState(t *testing.T) {
	a := nodetest.Start(t)
	replica := nodetest.Start(t, nodetest.WithNATS(a.NATSURL()))
	js := a.JetStream()
	for i := range 20 {
		ack, err := js.Publish(t.Context(), "sso.test.raw", []byte("not an event"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.Store.LastSeq(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		over, err := replica.Store.LastSeq(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got != ack.Sequence || over != ack.Sequence {
			t.Fatalf("append %d stored at %d: LastSeq of the embedded instance = %d, of the replica = %d", i, ack.Sequence, got, over)
		}
	}
}
