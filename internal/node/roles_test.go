package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssoattr/ssoattr/eventstore"
	"github.com/ssoattr/ssoattr/internal/node"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
)

func TestRoles_AnonymousIsRefused(t *testing.T) {
	inst := nodetest.Start(t)
	for name, opts := range map[string][]nats.Option{
		"no credentials":   nil,
		"a wrong password": {nats.UserInfo("reader", "guessed")},
	} {
		t.Run(name, func(t *testing.T) {
			nc, err := nats.Connect(inst.NATSURL(), append(opts, nats.Timeout(2*time.Second))...)
			if err == nil {
				nc.Close()
				t.Fatal("connected, want an authorization error")
			}
			if !errors.Is(err, nats.ErrAuthorization) && !strings.Contains(err.Error(), "Authorization Violation") {
				t.Fatalf("connect: %v, want an authorization violation", err)
			}
		})
	}
}

// TestRoles_ContextFiles: the first start writes one NATS CLI context file
// per role, private to the owner; a restart reads the same credentials back.
func TestRoles_ContextFiles(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	// The same address twice: the files need no new URL on the restart.
	sameAddr := func(o *node.Options) { o.NATSListen = addr }
	inst := nodetest.Start(t, nodetest.WithStoreDir(dir), sameAddr)
	credsDir := filepath.Dir(inst.ContextFile(node.RoleService))
	if fi, err := os.Stat(credsDir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("credentials directory %s: %v, %v; want mode 0700", credsDir, fi.Mode(), err)
	}
	passwords := map[node.Role]string{}
	for _, r := range node.Roles {
		path := inst.ContextFile(r)
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, %v; want mode 0600", path, fi.Mode(), err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var c map[string]any
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatalf("%s is not JSON: %v", path, err)
		}
		// The keys a nats CLI context file has, so `nats --context` reads it.
		for _, key := range []string{"description", "url", "socks_proxy", "token", "user", "password", "creds",
			"nkey", "cert", "key", "ca", "nsc", "jetstream_domain", "jetstream_api_prefix",
			"jetstream_event_prefix", "inbox_prefix", "user_jwt"} {
			if _, ok := c[key]; !ok {
				t.Errorf("%s has no %q key", path, key)
			}
		}
		if c["url"] != inst.NATSURL() || c["user"] != string(r) || c["inbox_prefix"] != r.InboxPrefix() {
			t.Errorf("%s: url %v, user %v, inbox_prefix %v; want %s, %s, %s", path, c["url"], c["user"],
				c["inbox_prefix"], inst.NATSURL(), r, r.InboxPrefix())
		}
		pw, _ := c["password"].(string)
		if len(pw) < 32 {
			t.Errorf("%s: password of %d characters, want at least 32", path, len(pw))
		}
		passwords[r] = pw
	}
	if passwords[node.RoleService] == passwords[node.RoleReader] || passwords[node.RoleAdmin] == passwords[node.RoleReader] {
		t.Fatal("two roles share a password")
	}

	inst.Stop()
	if err := os.Chmod(inst.ContextFile(node.RoleAdmin), 0o644); err != nil {
		t.Fatal(err)
	}
	again := nodetest.Start(t, nodetest.WithStoreDir(dir), sameAddr)
	if fi, err := os.Stat(again.ContextFile(node.RoleAdmin)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin.json after a restart: %v, %v; want mode 0600 again", fi.Mode(), err)
	}
	for _, r := range node.Roles {
		if got := nodetest.Credentials(t, again.NATSURL(), r).Password; got != passwords[r] {
			t.Fatalf("after a restart the %s role's password changed", r)
		}
	}
	nodetest.Connect(t, again.NATSURL(), node.RoleReader) // and still works
}

// violations connects as role and returns the connection and the
// permission violations the server reports to it.
func violations(t *testing.T, url string, r node.Role) (*nats.Conn, <-chan error) {
	errs := make(chan error, 16)
	nc := nodetest.Connect(t, url, r, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		if errors.Is(err, nats.ErrPermissionViolation) {
			select {
			case errs <- err:
			default:
			}
		}
	}))
	return nc, errs
}

// refused waits for the server to report a permission violation on subject.
func refused(t *testing.T, errs <-chan error, subject string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case err := <-errs:
			if strings.Contains(err.Error(), `"`+subject+`"`) {
				return
			}
		case <-deadline:
			t.Fatalf("no permission violation for %s within 5s", subject)
		}
	}
}

// TestRoles_Permissions: each role is refused, by the server, what it is
// not for; nothing it tried changed the stream.
func TestRoles_Permissions(t *testing.T) {
	inst := nodetest.Start(t)
	inst.SuperUser("boss")
	url, stream := inst.NATSURL(), inst.Store.StreamName()
	before := streamState(t, inst)

	publishes := map[node.Role][]string{
		node.RoleReader: {"sso.user.zusr1", "sso.uattr.zusr1", node.AdminSubject + "login",
			node.AdminSubject + "create-super-user", "$JS.API.STREAM.DELETE." + stream,
			"$JS.API.STREAM.PURGE." + stream, "$JS.API.STREAM.UPDATE." + stream,
			"$JS.API.STREAM.MSG.DELETE." + stream, "$JS.API.CONSUMER.LIST." + stream,
			"$JS.API.CONSUMER.DURABLE.CREATE." + stream + ".mine", "$JS.API.STREAM.CREATE.OTHER"},
		node.RoleAdmin: {"sso.user.zusr1", "$JS.API.STREAM.DELETE." + stream, "$JS.API.STREAM.PURGE." + stream,
			"$JS.API.STREAM.INFO." + stream},
		// Even the service cannot empty the stream: no delete, purge, message
		// delete, and no update (which could shrink its limits).
		node.RoleService: {"$JS.API.STREAM.DELETE." + stream, "$JS.API.STREAM.PURGE." + stream,
			"$JS.API.STREAM.UPDATE." + stream, "$JS.API.STREAM.CREATE." + stream,
			"$JS.API.STREAM.MSG.DELETE." + stream, "$JS.API.STREAM.RESTORE." + stream,
			"$JS.API.ACCOUNT.PURGE.$G"},
	}
	subscribes := map[node.Role][]string{
		node.RoleReader:  {"_INBOX_admin.>", "_INBOX_service.>", "_INBOX.>", node.AdminSubject + ">", ">"},
		node.RoleAdmin:   {"sso.>", "_INBOX_service.>", "_INBOX_reader.>", node.AdminSubject + ">"},
		node.RoleService: {"_INBOX_admin.>", "_INBOX_reader.>"},
	}
	for _, r := range node.Roles {
		t.Run(string(r), func(t *testing.T) {
			nc, errs := violations(t, url, r)
			for _, subj := range publishes[r] {
				// A stream deletion could not be more thorough than this
				// request's empty body: it is the subject that is refused.
				if err := nc.PublishRequest(subj, nc.NewRespInbox(), []byte(`{"purge":true}`)); err != nil {
					t.Fatal(err)
				}
				refused(t, errs, subj)
			}
			for _, subj := range subscribes[r] {
				if _, err := nc.Subscribe(subj, func(*nats.Msg) {}); err != nil {
					t.Fatal(err)
				}
				refused(t, errs, subj)
			}
		})
	}
	if after := streamState(t, inst); after.Msgs != before.Msgs || after.LastSeq != before.LastSeq ||
		after.FirstSeq != before.FirstSeq {
		t.Fatalf("stream state after the refused requests = %+v, want %+v", after, before)
	}
}

func streamState(t *testing.T, inst *nodetest.Instance) jetstream.StreamState {
	t.Helper()
	st, err := inst.JetStreamAs(node.RoleReader).Stream(t.Context(), inst.Store.StreamName())
	if err != nil {
		t.Fatalf("stream info as reader: %v", err)
	}
	return st.CachedInfo().State
}

// TestRoles_ReaderReads: the reader can do what a reading tool needs:
// stream info, an ordered consumer over the events, direct gets, the read
// barrier's probe, and live events on sso.>.
func TestRoles_ReaderReads(t *testing.T) {
	inst := nodetest.Start(t)
	_, bossID := inst.SuperUser("boss")
	js := inst.JetStreamAs(node.RoleReader)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	live, err := js.Conn().SubscribeSync("sso.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := js.Conn().Flush(); err != nil {
		t.Fatal(err)
	}
	keys, err := node.EventKeys(nodetest.Keys)
	if err != nil {
		t.Fatal(err)
	}
	st, err := eventstore.Attach(ctx, js, eventstore.Config{Stream: inst.Store.StreamName(), Keys: keys})
	if err != nil {
		t.Fatalf("attach as reader: %v", err)
	}
	last, err := st.LastSeq(ctx)
	if err != nil || last == 0 {
		t.Fatalf("LastSeq as reader = %d, %v", last, err)
	}
	var seen []uint64
	err = st.Scan(ctx, nil, 1, last, func(m eventstore.Msg) bool { seen = append(seen, m.Seq); return true })
	if err != nil || len(seen) == 0 || seen[len(seen)-1] != last {
		t.Fatalf("Scan as reader: %v, read %v, want up to %d", err, seen, last)
	}
	s, err := js.Stream(ctx, inst.Store.StreamName())
	if err != nil {
		t.Fatal(err)
	}
	msg, err := s.GetLastMsgForSubject(ctx, "sso.user."+bossID)
	if err != nil || msg.Sequence == 0 {
		t.Fatalf("direct get of the last event of sso.user.%s: %v", bossID, err)
	}

	inst.User(inst.Login("boss", nodetest.Password), "alice") // new events, seen live
	m, err := live.NextMsg(5 * time.Second)
	if err != nil || !strings.HasPrefix(m.Subject, "sso.") {
		t.Fatalf("live event on sso.> as reader: %v", err)
	}
	if !slices.IsSorted(seen) {
		t.Fatalf("events out of order: %v", seen)
	}
}

// TestRoles_ComposeConfigAgrees: the nats-server configuration of the
// compose cluster gives each role the permissions the embedded server
// gives it, and its routes authenticate.
func TestRoles_ComposeConfigAgrees(t *testing.T) {
	for _, v := range []string{"NATS_NAME", "SSOATTR_NATS_SERVICE_PASSWORD", "SSOATTR_NATS_ADMIN_PASSWORD",
		"SSOATTR_NATS_READER_PASSWORD", "SSOATTR_NATS_SETUP_PASSWORD", "SSOATTR_NATS_ROUTE_PASSWORD"} {
		t.Setenv(v, "p"+strings.ToLower(v))
	}
	opts, err := server.ProcessConfigFile("../../deploy/nats.conf")
	if err != nil {
		t.Fatalf("deploy/nats.conf: %v", err)
	}
	users := map[string]*server.User{}
	for _, u := range opts.Users {
		users[u.Username] = u
	}
	sorted := func(l []string) []string { return slices.Sorted(slices.Values(l)) }
	for _, r := range node.Roles {
		u := users[string(r)]
		if u == nil {
			t.Errorf("no user %s", r)
			continue
		}
		if u.Password != "pssoattr_nats_"+string(r)+"_password" {
			t.Errorf("user %s: password %q does not come from SSOATTR_NATS_%s_PASSWORD", r, u.Password, strings.ToUpper(string(r)))
		}
		got, want := u.Permissions, node.Permissions(r, "SSO")
		if !slices.Equal(sorted(got.Publish.Allow), sorted(want.Publish.Allow)) ||
			!slices.Equal(sorted(got.Publish.Deny), sorted(want.Publish.Deny)) ||
			!slices.Equal(sorted(got.Subscribe.Allow), sorted(want.Subscribe.Allow)) ||
			len(got.Subscribe.Deny) != 0 || (got.Response == nil) != (want.Response == nil) ||
			got.Response != nil && got.Response.MaxMsgs != want.Response.MaxMsgs {
			t.Errorf("user %s: permissions %+v %+v %+v, want %+v %+v %+v", r, got.Publish, got.Subscribe, got.Response,
				want.Publish, want.Subscribe, want.Response)
		}
	}
	if opts.Cluster.Username != "route" || opts.Cluster.Password == "" || len(opts.Routes) != 3 {
		t.Errorf("cluster: user %q, %d routes; want authenticated routes to the three nodes", opts.Cluster.Username, len(opts.Routes))
	}
}
