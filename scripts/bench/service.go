package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ssoattr/ssoattr/eventstore"
	"github.com/ssoattr/ssoattr/internal/natsctx"
	"github.com/ssoattr/ssoattr/internal/node"
	"github.com/ssoattr/ssoattr/sso"
)

const (
	app           = "CRM"
	benchPassword = "Bench-Horse-7-Battery-Staple"
	// Names are 16 bytes and values 32 bytes (a 32-character JSON string),
	// the sizes the memory figure is quoted for.
	attrName  = "bench-attr-00001"
	sattrName = "bench-sess-00001"
	pairName  = "bench-pair-00001"
	value32   = `"0123456789abcdef0123456789abcdef"`
)

// serveOptions mirrors what cmd/ssoattr/serve.go builds from its defaults:
// sso.DefaultConfig() with the default apps, session expiry, 120000
// password rounds and strict reads; stream "SSO" with one replica; the
// embedded server storing under <data-dir>/jetstream; a 10 s sweep. Only the
// listen ports differ (0: any free one), so the benchmark never collides
// with a running service.
func serveOptions(dataDir string, rounds int, keys *sso.Keyring, log *slog.Logger) node.Options {
	o := serveDefaults(dataDir, rounds, keys, log)
	o.Sync = serviceSync
	return o
}

// serviceSync is the --sync of this run (0: serve's default), set once by
// parseParams before any service starts.
var serviceSync time.Duration

func serveDefaults(dataDir string, rounds int, keys *sso.Keyring, log *slog.Logger) node.Options {
	cfg := sso.DefaultConfig()
	apps := []string{app}
	cfg.AppsAll, cfg.AppsLoginAllowed, cfg.AppsSignupAllowed = apps, apps, apps
	cfg.SessionExpiry = 60 * time.Minute
	cfg.PasswordRounds = rounds // serve's default, 120000, unless the test lowers it
	cfg.LocalReads = false      // --read-consistency strict
	return node.Options{
		NATSListen: "127.0.0.1:0",
		Stream:     eventstore.Config{Stream: "SSO", Replicas: 1},
		SSO:        cfg, Keys: keys, HTTPAddr: "127.0.0.1:0",
		SweepInterval: 10 * time.Second, Log: log,
		StoreDir: filepath.Join(dataDir, "jetstream"), CredsDir: filepath.Join(dataDir, "nats"),
	}
}

type benchUser struct {
	name, id, ust string
}

// service is the running service and the users the cases act as.
type service struct {
	n     *node.Node
	keys  *sso.Keyring
	log   *slog.Logger
	url   string
	users []benchUser
	// loginUsers are the login case's, one per connection, with passwords
	// hashed at the service's rounds.
	loginUsers []benchUser
	replicas   []*node.Node // more instances on the same NATS server (get_local, get_replica)
	setup      map[string]float64
}

func startService(ctx context.Context, dataDir string, rounds int, log *slog.Logger) (*service, error) {
	keys, err := sso.ParseKeyring(sso.NewKey())
	if err != nil {
		return nil, err
	}
	n, err := node.Start(ctx, serveOptions(dataDir, rounds, keys, log))
	if err != nil {
		return nil, err
	}
	return &service{n: n, keys: keys, log: log, url: "http://" + n.HTTPAddr(), setup: map[string]float64{}}, nil
}

func (s *service) close(ctx context.Context) {
	s.stopReplicas(ctx)
	if s.n != nil {
		s.n.Close(ctx)
		s.n = nil
	}
}

// parallel runs f(i) for i in [0, n) on conns goroutines, stopping at the
// first error.
func parallel(ctx context.Context, n, conns int, f func(ctx context.Context, c *httpClient, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, conns) {
		wg.Go(func() {
			c := newHTTPClient()
			defer c.close()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(ctx, c, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && ctx.Err() != nil {
		return err
	}
	return nil
}

// setupRounds are the PBKDF2 rounds of the password hash the regular users
// are created with. Hashing 2000 passwords and checking them at 2000
// logins at serve's 120000 rounds took three and a half minutes of the
// run on a slow machine, for no figure: only the login case measures
// password checks, and its users have hashes at the service's rounds.
const setupRounds = 1000

// createUsers bootstraps the super-user as serve does, then creates the
// regular users and logs every one of them in through the API, so each has
// a live session. The users are created by the service itself
// (sso.Service.CreateUser, the code behind POST /zato/sso/user: an atomic
// batch with the username claim each) with one password hash made at
// setupRounds and given as sso.NewUser.PasswordHash, which the HTTP API
// cannot send. The login case's users, one per connection, are created
// through POST /zato/sso/user with the password hashed at the service's
// rounds, as every real user is.
func (s *service) createUsers(ctx context.Context, count, conns int, progress func(string, ...any)) error {
	password, created, err := s.n.SSO.Bootstrap(ctx, "")
	if err != nil || !created {
		return fmt.Errorf("bootstrap (created %v): %w", created, err)
	}
	admin := newHTTPClient()
	defer admin.close()
	var login struct{ UST string }
	if err := admin.doJSON(ctx, "POST", s.url+"/zato/sso/user/login",
		map[string]any{"username": "admin", "password": password, "current_app": app}, &login); err != nil {
		return fmt.Errorf("super-user login: %w", err)
	}
	hash, err := sso.HashPassword(benchPassword, setupRounds)
	if err != nil {
		return err
	}
	s.users = make([]benchUser, count)
	start := time.Now()
	err = parallel(ctx, count, conns, func(ctx context.Context, _ *httpClient, i int) error {
		name := fmt.Sprintf("bench-user-%06d", i)
		out, err := s.n.SSO.CreateUser(ctx, sso.Meta{App: app, RemoteAddr: "127.0.0.1"}, login.UST,
			sso.NewUser{Username: name, PasswordHash: hash, AutoApprove: true})
		if err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		id, _ := out["user_id"].(string)
		s.users[i] = benchUser{name: name, id: id}
		return nil
	})
	if err != nil {
		return err
	}
	took := time.Since(start)
	s.setup["create_users_per_s"] = float64(count) / took.Seconds()
	progress("created %d users in %s (%.0f/s)", count, took.Round(time.Millisecond), float64(count)/took.Seconds())

	start = time.Now()
	err = parallel(ctx, count, conns, func(ctx context.Context, c *httpClient, i int) error {
		var out struct{ UST string }
		if err := c.doJSON(ctx, "POST", s.url+"/zato/sso/user/login", map[string]any{
			"username": s.users[i].name, "password": benchPassword, "current_app": app}, &out); err != nil {
			return fmt.Errorf("login: %w", err)
		}
		s.users[i].ust = out.UST
		return nil
	})
	if err != nil {
		return err
	}
	took = time.Since(start)
	s.setup["login_all_per_s"] = float64(count) / took.Seconds()
	progress("logged in %d users in %s (%.0f/s)", count, took.Round(time.Millisecond), float64(count)/took.Seconds())

	start = time.Now()
	s.loginUsers = make([]benchUser, conns)
	err = parallel(ctx, conns, conns, func(ctx context.Context, c *httpClient, i int) error {
		name := fmt.Sprintf("bench-login-%04d", i)
		var out struct {
			UserID string `json:"user_id"`
		}
		if err := c.doJSON(ctx, "POST", s.url+"/zato/sso/user", map[string]any{"ust": login.UST,
			"current_app": app, "username": name, "password": benchPassword, "auto_approve": true}, &out); err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		s.loginUsers[i] = benchUser{name: name, id: out.UserID}
		return nil
	})
	if err != nil {
		return err
	}
	progress("created %d users for the login case through the API in %s", conns, time.Since(start).Round(time.Millisecond))

	// Every user gets the attribute and the session attribute the read
	// cases fetch, whatever cases run.
	return parallel(ctx, count, conns, func(ctx context.Context, c *httpClient, i int) error {
		u := s.users[i]
		if err := c.do(ctx, "PUT", s.url+"/zato/sso/user/attr", body(u.ust, "name", attrName, "value", json.RawMessage(value32)), ok); err != nil {
			return err
		}
		return c.do(ctx, "PUT", s.url+"/zato/sso/session/attr", body(u.ust, "name", sattrName, "value", json.RawMessage(value32)), ok)
	})
}

// startReplica starts another instance connected to the service's NATS
// server, listening on addr: with --read-consistency local for get_local,
// strict for get_replica. A replica has no server in its process, so its
// read barrier asks the server over the connection (eventstore.Store.LastSeq).
func (s *service) startReplica(ctx context.Context, addr string, localReads bool) error {
	o := serveOptions("", s.n.SSO.Config().PasswordRounds, s.keys, s.log)
	o.NATSURL, o.StoreDir, o.HTTPAddr = s.n.NATSURL(), "", addr
	o.SSO.LocalReads = localReads
	creds, err := natsctx.Load(s.n.ContextFile(node.RoleService)) // as a replica started with service.json
	if err != nil {
		return fmt.Errorf("start replica: %w", err)
	}
	if o.NATSOptions, err = creds.Options(); err != nil {
		return fmt.Errorf("start replica: %w", err)
	}
	r, err := node.Start(ctx, o)
	if err != nil {
		return fmt.Errorf("start replica: %w", err)
	}
	s.replicas = append(s.replicas, r)
	return nil
}

func (s *service) stopReplicas(ctx context.Context) {
	for _, r := range s.replicas {
		r.Close(ctx)
	}
	s.replicas = nil
}

// freeAddr returns a loopback address with a port free at the moment.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

var (
	ok    = []byte(`"status":"ok"`)
	found = []byte(`"found":true`)
)

// body encodes a request: the caller token, current_app and key/value pairs.
func body(ust string, kv ...any) []byte {
	m := map[string]any{"current_app": app}
	if ust != "" {
		m["ust"] = ust
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// share returns worker w's users: every conns-th one, so no two workers
// write to the same user and the load spreads over all of them.
func share(users []benchUser, w, conns int) []benchUser {
	var mine []benchUser
	for i := w; i < len(users); i += conns {
		mine = append(mine, users[i])
	}
	return mine
}

// requestOp returns worker w's op on client c: for each of its share of
// users in turn, the requests build makes.
func requestOp(users []benchUser, w, conns int, c *httpClient, build func(u benchUser) []req) op {
	var reqs [][]req
	for _, u := range share(users, w, conns) {
		reqs = append(reqs, build(u))
	}
	return requestsOp(c, reqs)
}

// requestsOp returns an op that sends each group of requests in turn on c,
// checking every answer for its want.
func requestsOp(c *httpClient, reqs [][]req) op {
	next := 0
	return func(ctx context.Context) error {
		rs := reqs[next%len(reqs)]
		next++
		for _, r := range rs {
			if err := c.do(ctx, r.method, r.url, r.body, r.want); err != nil {
				return err
			}
		}
		return nil
	}
}

type req struct {
	method, url string
	body, want  []byte
}

// serviceCase is one measured operation of the service.
type serviceCase struct {
	name  string
	items int // attributes written per operation
	build func(base string, u benchUser) []req
}

func manyData(prefix string) []map[string]any {
	data := make([]map[string]any, 10)
	for i := range data {
		data[i] = map[string]any{"name": prefix + strconv.Itoa(i), "value": json.RawMessage(value32)}
	}
	return data
}

var serviceCases = []serviceCase{
	{"set", 1, func(base string, u benchUser) []req {
		return []req{{"PUT", base + "/zato/sso/user/attr", body(u.ust, "name", attrName, "value", json.RawMessage(value32)), ok}}
	}},
	{"get", 0, func(base string, u benchUser) []req {
		return []req{{"GET", base + "/zato/sso/user/attr", body(u.ust, "name", attrName), found}}
	}},
	{"setmany", 10, func(base string, u benchUser) []req {
		return []req{{"PUT", base + "/zato/sso/user/attr", body(u.ust, "data", manyData("bench-many-0000")), ok}}
	}},
	{"create_delete", 1, func(base string, u benchUser) []req {
		return []req{
			{"POST", base + "/zato/sso/user/attr", body(u.ust, "name", pairName, "value", json.RawMessage(value32)), ok},
			{"DELETE", base + "/zato/sso/user/attr", body(u.ust, "name", pairName), ok},
		}
	}},
	{"sattr_set", 1, func(base string, u benchUser) []req {
		return []req{{"PUT", base + "/zato/sso/session/attr", body(u.ust, "name", sattrName, "value", json.RawMessage(value32)), ok}}
	}},
	{"sattr_get", 0, func(base string, u benchUser) []req {
		return []req{{"GET", base + "/zato/sso/session/attr", body(u.ust, "name", sattrName), found}}
	}},
	{"login", 0, func(base string, u benchUser) []req {
		return []req{{"POST", base + "/zato/sso/user/login", body("", "username", u.name, "password", benchPassword), []byte(`"ust":"`)}}
	}},
}
