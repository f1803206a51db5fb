package faults_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssoattr/ssoattr/eventstore"
	"github.com/ssoattr/ssoattr/faults"
	"github.com/ssoattr/ssoattr/internal/natsctx"
	"github.com/ssoattr/ssoattr/internal/node"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
	"github.com/ssoattr/ssoattr/sso"
)

// cluster is three JetStream servers in this process, with the service's
// NATS roles (internal/node: service, admin, reader) as their only users
// besides the test's own, routed to each other
// through proxies, one per pair of servers, and reached by clients through
// one proxy per server: pausing a server's proxies freezes it as SIGSTOP
// would, without closing a connection. Routes go from the higher index to
// the lower, so each pair has exactly one route, through its proxy; every
// server advertises an unreachable cluster address, so none connects to
// another behind the proxies' backs.
type cluster struct {
	t       *testing.T
	mu      sync.Mutex
	servers [3]*server.Server
	dirs    [3]string
	client  [3]*faults.Proxy
	route   map[[2]int]*faults.Proxy // {i, j}, i > j: i's route to j
	creds   map[node.Role]natsctx.Context
	admin   string // password of the test's own user, who may do anything
}

// testUser is the cluster's user for the test itself: it creates the
// stream (no role may) and reads it back.
const testUser = "faults"

func startCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{t: t, route: map[[2]int]*faults.Proxy{}, creds: map[node.Role]natsctx.Context{}, admin: rand.Text()}
	for _, r := range node.Roles {
		c.creds[r] = natsctx.Context{User: string(r), Password: rand.Text(), InboxPrefix: r.InboxPrefix()}
	}
	for i := range 3 {
		c.dirs[i] = t.TempDir()
		c.client[i] = newProxy(t, func() string { return c.addr(i, false) })
		for j := range i {
			c.route[[2]int{i, j}] = newProxy(t, func() string { return c.addr(j, true) })
		}
	}
	for i := range 3 {
		c.start(i)
	}
	t.Cleanup(func() {
		for i := range 3 {
			c.stop(i)
		}
	})
	c.waitMeta()
	c.createStream()
	return c
}

// createStream creates the R3 event stream as the test's user, as an
// operator would before starting instances with the service role.
func (c *cluster) createStream() {
	c.t.Helper()
	js, closeJS := c.js()
	defer closeJS()
	keys, err := node.EventKeys(nodetest.Keys)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := eventstore.Open(ctx, js, eventstore.Config{Replicas: 3, Keys: keys}); err != nil {
		c.t.Fatalf("create the stream: %v", err)
	}
}

func newProxy(t *testing.T, target func() string) *faults.Proxy {
	t.Helper()
	p, err := faults.NewProxy(target)
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// addr is server i's client or cluster address, or a closed port while it
// is down.
func (c *cluster) addr(i int, cluster bool) string {
	c.mu.Lock()
	s := c.servers[i]
	c.mu.Unlock()
	if s == nil {
		return "127.0.0.1:1"
	}
	if cluster {
		return s.ClusterAddr().String()
	}
	return s.Addr().String()
}

func (c *cluster) start(i int) {
	c.t.Helper()
	var routes []string
	for j := range i {
		routes = append(routes, "nats://"+c.route[[2]int{i, j}].Addr())
	}
	o := &server.Options{ServerName: "n" + strconv.Itoa(i), Host: "127.0.0.1", Port: server.RANDOM_PORT,
		JetStream: true, StoreDir: c.dirs[i], NoLog: true, NoSigs: true,
		Users: append(node.Users(c.creds, "SSO", ""), &server.User{Username: testUser, Password: c.admin}),
		Cluster: server.ClusterOpts{Name: "faults", Host: "127.0.0.1", Port: server.RANDOM_PORT,
			NoAdvertise: true, PoolSize: -1, Advertise: "127.0.0.1:1"},
		Routes: server.RoutesFromStr(strings.Join(routes, ","))}
	s, err := server.NewServer(o)
	if err != nil {
		c.t.Fatalf("server n%d: %v", i, err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		c.t.Fatalf("server n%d not ready after 10s", i)
	}
	c.mu.Lock()
	c.servers[i] = s
	c.mu.Unlock()
}

func (c *cluster) stop(i int) {
	c.mu.Lock()
	s := c.servers[i]
	c.servers[i] = nil
	c.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

// pause freezes server i: its clients' and routes' proxies stop forwarding.
func (c *cluster) pause(i int, paused bool) {
	ps := []*faults.Proxy{c.client[i]}
	for k, p := range c.route {
		if k[0] == i || k[1] == i {
			ps = append(ps, p)
		}
	}
	for _, p := range ps {
		if paused {
			p.Pause()
		} else {
			p.Resume()
		}
	}
}

// urls lists the client proxies, first..., then the others.
func (c *cluster) urls(first int) string {
	out := []string{"nats://" + c.client[first].Addr()}
	for i := range 3 {
		if i != first {
			out = append(out, "nats://"+c.client[i].Addr())
		}
	}
	return strings.Join(out, ",")
}

// waitMeta waits until the servers up have elected a JetStream meta leader.
func (c *cluster) waitMeta() {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		up, current := 0, 0
		leader := false
		for _, s := range c.servers {
			if s == nil {
				continue
			}
			up++
			if s.JetStreamIsCurrent() {
				current++
			}
			leader = leader || s.JetStreamIsLeader()
		}
		c.mu.Unlock()
		if leader && current == up {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatal("no JetStream meta leader after 20s")
}

// js connects to a server that is up, directly.
func (c *cluster) js() (jetstream.JetStream, func()) {
	c.t.Helper()
	for i := range 3 {
		if addr := c.addr(i, false); addr != "127.0.0.1:1" {
			nc, err := nats.Connect("nats://"+addr, nats.UserInfo(testUser, c.admin))
			if err != nil {
				continue
			}
			js, err := jetstream.New(nc)
			if err != nil {
				nc.Close()
				continue
			}
			return js, nc.Close
		}
	}
	c.t.Fatal("no server up")
	return nil, nil
}

// leader returns the index of the stream's leader, or -1.
func (c *cluster) leader(stream string) int {
	js, closeJS := c.js()
	defer closeJS()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return -1
	}
	info := st.CachedInfo()
	if info.Cluster == nil || info.Cluster.Leader == "" {
		return -1
	}
	i, _ := strconv.Atoi(strings.TrimPrefix(info.Cluster.Leader, "n"))
	return i
}

// stored counts, over the whole stream, how many events set each attribute
// name (see countStored). t is the calling (sub)test's, which a failure stops.
func (c *cluster) stored(t *testing.T, stream string) map[string]int {
	t.Helper()
	js, closeJS := c.js()
	defer closeJS()
	keys, err := node.EventKeys(nodetest.Keys)
	if err != nil {
		t.Fatal(err)
	}
	return countStored(t, js, keys, stream)
}

// instance is a service instance on the cluster.
type instance struct {
	*node.Node
	URL string
}

func (c *cluster) instance(first int) *instance {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n, err := node.Start(ctx, node.Options{NATSURL: c.urls(first), Stream: eventstore.Config{Replicas: 3},
		// first is the server it connects to; the others only on a failure.
		NATSOptions: []nats.Option{nats.DontRandomize(),
			nats.UserInfo(c.creds[node.RoleService].User, c.creds[node.RoleService].Password)},
		SSO: nodetest.Config(), Keys: nodetest.Keys, HTTPAddr: "127.0.0.1:0", Log: testLog()})
	if err != nil {
		c.t.Fatalf("start instance on n%d: %v", first, err)
	}
	inst := &instance{Node: n, URL: "http://" + n.HTTPAddr()}
	c.t.Cleanup(func() { inst.stop() })
	return inst
}

func (i *instance) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	i.Close(ctx)
}

var httpClient = &http.Client{Timeout: 20 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64, DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext}}

// call sends a JSON request and returns the status and decoded body.
func call(t *testing.T, method, url string, body map[string]any) (int, map[string]any) {
	t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, url, bytes.NewReader(data))
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// users creates n users through inst and returns load clients for them on
// every instance's URL.
func users(t *testing.T, inst *instance, urls []string, label string, n int) []faults.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	root := label + "root"
	if _, err := inst.SSO.CreateSuperUser(ctx, sso.Meta{App: "faults"}, root, nodetest.Password, nil); err != nil {
		t.Fatalf("super-user: %v", err)
	}
	rootUST := login(t, inst.URL, root)
	var out []faults.Client
	for k := range n {
		name := fmt.Sprintf("%su%d", label, k)
		st, body := call(t, "POST", inst.URL+"/zato/sso/user", map[string]any{"ust": rootUST, "current_app": "CRM",
			"username": name, "password": nodetest.Password, "auto_approve": true})
		id, _ := body["user_id"].(string)
		if st != 200 || id == "" {
			t.Fatalf("create user %s: %d %v", name, st, body)
		}
		out = append(out, faults.Client{HTTP: httpClient, URLs: urls, UST: login(t, inst.URL, name), User: id, Label: name})
	}
	return out
}

func login(t *testing.T, url, username string) string {
	t.Helper()
	st, body := call(t, "POST", url+"/zato/sso/user/login", map[string]any{"username": username,
		"password": nodetest.Password, "current_app": "CRM"})
	ust, _ := body["ust"].(string)
	if st != 200 || ust == "" {
		t.Fatalf("login %s: %d %v", username, st, body)
	}
	return ust
}

// testLog is the instances' logger: discarded, or warnings and errors on
// stderr with FAULTS_LOG=1 set, to see why a request failed.
func testLog() *slog.Logger {
	if os.Getenv("FAULTS_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
