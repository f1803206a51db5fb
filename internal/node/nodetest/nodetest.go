// Package nodetest starts real ssoattr instances for tests: an embedded
// nats-server with JetStream on a random port and a temporary directory, the
// full service, and an HTTP listener on loopback. Requests go through a real
// TCP connection.
package nodetest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssoattr/ssoattr/eventstore"
	"github.com/ssoattr/ssoattr/internal/apicheck"
	"github.com/ssoattr/ssoattr/internal/natsctx"
	"github.com/ssoattr/ssoattr/internal/node"
	"github.com/ssoattr/ssoattr/projections"
	"github.com/ssoattr/ssoattr/sso"
)

// KeyText is the Fernet key every test instance shares, as
// SSOATTR_FERNET_KEY would give it (the CLI's readers verify the events
// with it).
var KeyText = sso.NewKey()

// Keys is the Fernet keyring of KeyText, so replicas can read each other's
// tokens and encrypted values, and verify each other's events.
var Keys = func() *sso.Keyring {
	k, err := sso.ParseKeyring(KeyText)
	if err != nil {
		panic(err)
	}
	return k
}()

// Password is a password that passes the default policy.
const Password = "Correct-Horse-7-Battery"

// Config returns the SSO configuration tests use: the defaults, with cheap
// password hashing so the race detector stays fast.
func Config() sso.Config {
	c := sso.DefaultConfig()
	c.PasswordRounds = 1000
	return c
}

// StartNATS starts a standalone embedded JetStream server that several
// instances can share, as replicas on one stream, with the roles'
// credentials (see node.Role) and the default stream. It is shut down when
// the test ends.
func StartNATS(t testing.TB) (clientURL string, ns *server.Server) {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	keys, err := node.EventKeys(Keys)
	if err != nil {
		t.Fatal(err)
	}
	ns, creds, err := node.StartServer(ctx, node.ServerOptions{Host: "127.0.0.1", Port: server.RANDOM_PORT,
		StoreDir: dir, CredsDir: filepath.Join(dir, "nats"), Stream: eventstore.Config{Keys: keys}})
	if err != nil {
		t.Fatalf("nats-server: %v", err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	remember(ns.ClientURL(), creds)
	return ns.ClientURL(), ns
}

// known holds the roles' credentials of every server StartNATS or Start
// started, by client URL, so WithNATS and Connect find them from the URL.
var known sync.Map // string -> map[node.Role]natsctx.Context

func remember(url string, creds map[node.Role]natsctx.Context) { known.Store(url, creds) }

// Credentials returns a role's context for the NATS server at url, which
// StartNATS or Start started.
func Credentials(t testing.TB, url string, r node.Role) natsctx.Context {
	t.Helper()
	creds, ok := known.Load(url)
	if !ok {
		t.Fatalf("no credentials known for %s", url)
	}
	return creds.(map[node.Role]natsctx.Context)[r]
}

// Connect connects to the NATS server at url, which StartNATS or Start
// started, as role; the connection closes when the test ends.
func Connect(t testing.TB, url string, r node.Role, opts ...nats.Option) *nats.Conn {
	t.Helper()
	o, err := Credentials(t, url, r).Options()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(url, append(o, opts...)...)
	if err != nil {
		t.Fatalf("connect to %s as %s: %v", url, r, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// Option changes the options of an instance before it starts.
type Option func(*node.Options)

// WithNATS makes the instance a replica on an existing NATS server, which
// StartNATS or Start started; it connects as the service role.
func WithNATS(url string) Option {
	return func(o *node.Options) {
		o.NATSURL = url
		if creds, ok := known.Load(url); ok {
			svc := creds.(map[node.Role]natsctx.Context)[node.RoleService]
			o.NATSOptions = append(o.NATSOptions, nats.UserInfo(svc.User, svc.Password))
		}
	}
}

// WithStoreDir runs the embedded server on dir (to restart on the same data).
func WithStoreDir(dir string) Option { return func(o *node.Options) { o.StoreDir = dir } }

// WithConfig changes the SSO configuration.
func WithConfig(f func(*sso.Config)) Option { return func(o *node.Options) { f(&o.SSO) } }

// WithNow sets the instance's clock.
func WithNow(now func() time.Time) Option { return func(o *node.Options) { o.Now = now } }

// WithSweepInterval sets how often the view sweeps expired entries.
func WithSweepInterval(d time.Duration) Option { return func(o *node.Options) { o.SweepInterval = d } }

// Instance is a running instance and an HTTP client for it.
type Instance struct {
	*node.Node
	URL string // http://host:port
	t   testing.TB
}

// Start starts an instance; it is closed when the test ends.
func Start(t testing.TB, opts ...Option) *Instance {
	t.Helper()
	o := node.Options{NATSListen: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", SSO: Config(), Keys: Keys}
	for _, f := range opts {
		f(&o)
	}
	if o.NATSURL == "" && o.StoreDir == "" {
		o.StoreDir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := node.Start(ctx, o)
	if err != nil {
		t.Fatalf("start instance: %v", err)
	}
	inst := &Instance{Node: n, URL: "http://" + n.HTTPAddr(), t: t}
	t.Cleanup(inst.Stop)
	if o.NATSURL == "" {
		creds := make(map[node.Role]natsctx.Context)
		for _, r := range node.Roles {
			if creds[r], err = natsctx.Load(n.ContextFile(r)); err != nil {
				t.Fatalf("the %s role's context file: %v", r, err)
			}
		}
		remember(n.NATSURL(), creds)
	}
	return inst
}

// Stop closes the instance (again is harmless).
func (i *Instance) Stop() {
	// A connection the client dialed but never sent a request on (it lost
	// the race to an idle one) is new to the server, and Shutdown waits 5 s
	// for a new connection before it closes it.
	http.DefaultClient.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	i.Close(ctx)
}

// DataDir returns the directory that holds the instance's role context
// files in its "nats" directory, as serve's --data-dir does: the CLI finds
// them there. "" for a replica.
func (i *Instance) DataDir() string {
	if f := i.ContextFile(node.RoleAdmin); f != "" {
		return filepath.Dir(filepath.Dir(f))
	}
	return ""
}

// JetStream connects to the instance's NATS server as another program
// would, with the service role's credentials, for a test that reads or
// writes the stream directly; the connection closes when the test ends.
func (i *Instance) JetStream() jetstream.JetStream {
	i.t.Helper()
	return i.JetStreamAs(node.RoleService)
}

// JetStreamAs is JetStream as role.
func (i *Instance) JetStreamAs(r node.Role) jetstream.JetStream {
	i.t.Helper()
	nc := Connect(i.t, i.NATSURL(), r)
	js, err := jetstream.New(nc)
	if err != nil {
		i.t.Fatalf("jetstream: %v", err)
	}
	return js
}

// Synced returns the instance's view once it has applied everything the
// stream held when Synced was called (sso.Service.Barrier), as a request's
// read barrier would. A write is answered before this process's view has
// applied it (the next request's barrier waits instead; see sso's settle),
// so a test that reads the view directly after a write reads it through
// Synced.
func (i *Instance) Synced() *projections.View {
	i.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := i.SSO.Barrier(ctx); err != nil {
		i.t.Fatalf("sync the view: %v", err)
	}
	return i.View
}

// Response is a decoded answer.
type Response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// SubStatus returns the first sub_status code, or "".
func (r Response) SubStatus() string {
	if l, ok := r.Body["sub_status"].([]any); ok && len(l) > 0 {
		s, _ := l[0].(string)
		return s
	}
	return ""
}

// Do sends body (a JSON-encodable value, a []byte sent as is, or nil) to
// path with method and decodes the answer. It fails the test on transport
// errors or a body that is not a JSON object.
func (i *Instance) Do(method, path string, body any) Response {
	i.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			i.t.Fatalf("encode request: %v", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, i.URL+path, rd)
	if err != nil {
		i.t.Fatalf("request: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		i.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		i.t.Fatalf("read answer: %v", err)
	}
	r := Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if err := json.Unmarshal(raw, &r.Body); err != nil {
		i.t.Fatalf("%s %s: answer is not a JSON object: %q", method, path, raw)
	}
	CheckAnswer(i.t, req, resp, raw)
	return r
}

// CheckAnswer fails the test (without stopping it) when an answer does not
// match docs/openapi.json (internal/apicheck): Do checks every answer with
// it, and tests that send requests of their own may too. body is the
// answer's body; nil for a stream, whose status and headers alone are
// checked.
func CheckAnswer(t testing.TB, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	d, err := apicheck.Load()
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	if err := d.Check(req, resp.StatusCode, resp.Header, body); err != nil {
		t.Errorf("answer does not match docs/openapi.json (see docs/API.md): %v", err)
	}
}

// Query sends a request with fields in the query string and no body.
func (i *Instance) Query(method, path string, fields map[string]string) Response {
	i.t.Helper()
	q := url.Values{}
	for k, v := range fields {
		q.Set(k, v)
	}
	return i.Do(method, path+"?"+q.Encode(), nil)
}

// Login logs username in and returns the UST.
func (i *Instance) Login(username, password string) string {
	i.t.Helper()
	r := i.Do("POST", "/zato/sso/user/login", map[string]any{
		"username": username, "password": password, "current_app": "CRM"})
	ust, _ := r.Body["ust"].(string)
	if r.Status != 200 || ust == "" {
		i.t.Fatalf("login %s: %d %s", username, r.Status, r.Raw)
	}
	return ust
}

// SuperUser creates a super-user (as the CLI would) and logs it in.
func (i *Instance) SuperUser(username string) (ust, userID string) {
	i.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u, err := i.SSO.CreateSuperUser(ctx, sso.Meta{App: "test"}, username, Password, nil)
	if err != nil {
		i.t.Fatalf("create super-user %s: %v", username, err)
	}
	return i.Login(username, Password), u.ID
}

// User creates an approved regular user through the API (superUST must be
// a super-user's token) and logs it in.
func (i *Instance) User(superUST, username string) (ust, userID string) {
	i.t.Helper()
	r := i.Do("POST", "/zato/sso/user", map[string]any{"ust": superUST, "current_app": "CRM",
		"username": username, "password": Password, "auto_approve": true})
	userID, _ = r.Body["user_id"].(string)
	if r.Status != 200 || userID == "" {
		i.t.Fatalf("create user %s: %d %s", username, r.Status, r.Raw)
	}
	return i.Login(username, Password), userID
}
