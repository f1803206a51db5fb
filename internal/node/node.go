// Package node wires one ssoattr instance together: NATS (an embedded
// server, or a connection to an external cluster), the event store, the
// projection and its follower and sweeper, the SSO service, the admin
// responder and the HTTP listener. The serve command, the tests and the
// benchmark all start instances through it, so they run the same system.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ssoattr/ssoattr/eventstore"
	"github.com/ssoattr/ssoattr/httpapi"
	"github.com/ssoattr/ssoattr/internal/natsctx"
	"github.com/ssoattr/ssoattr/projections"
	"github.com/ssoattr/ssoattr/sso"
)

// Compile-time checks that the adapters fit the ports the core declares.
var (
	_ sso.View            = (*projections.View)(nil)
	_ sso.Store           = (*eventstore.Store)(nil)
	_ projections.Source  = (*eventstore.Store)(nil)
	_ sso.EventLog        = (*eventstore.Store)(nil)
	_ sso.ExpirySource    = (*projections.View)(nil)
	_ httpapi.EventSource = (*eventstore.Store)(nil)
)

// Options configures an instance.
type Options struct {
	// NATSURL connects to an external NATS cluster. When empty, an embedded
	// server with JetStream runs on StoreDir, listening on NATSListen.
	NATSURL    string
	StoreDir   string
	NATSListen string // host:port; port 0 picks a free one
	// CredsDir holds the embedded server's role context files (see Role);
	// default: StoreDir's "nats" directory.
	CredsDir string
	// NATSOptions authenticate the connection to an external cluster
	// (credentials, TLS, an inbox prefix other than the service role's).
	NATSOptions []nats.Option

	Stream eventstore.Config
	SSO    sso.Config
	Keys   *sso.Keyring

	HTTPAddr   string // host:port; port 0 picks a free one
	TrustProxy bool
	// RequestTimeout is the deadline of one HTTP request (default
	// httpapi.DefaultRequestTimeout): by then a request that cannot
	// complete for want of NATS is answered 503.
	RequestTimeout time.Duration
	// Sync is the embedded server's JetStream sync policy: how often it
	// flushes stored events to disk (0: nats-server's default, 2 min), or
	// SyncAlways to flush before every acknowledgement. See the README's
	// "Durability".
	Sync time.Duration

	SweepInterval time.Duration // default 10s
	// ExpiryInterval is how often the expirer records what has expired
	// (default: SweepInterval). Keep it well under 10 × SweepInterval, the
	// grace after which the view frees expired entries without an event.
	ExpiryInterval time.Duration
	Now            func() time.Time
	Log            *slog.Logger
}

// SyncAlways as Options.Sync flushes every event to disk before it is
// acknowledged.
const SyncAlways time.Duration = -1

// Node is a running instance.
type Node struct {
	ns       *server.Server // nil with an external cluster
	nc       *nats.Conn
	credsDir string // the embedded server's role context files
	Store    *eventstore.Store
	View     *projections.View
	SSO      *sso.Service
	API      *httpapi.Server
	// Attempts holds the login back-off's records (signed like events).
	Attempts *eventstore.Attempts
	// Metrics is the instance's own Prometheus registry, served at GET /metrics.
	Metrics *prometheus.Registry

	httpLn  net.Listener
	httpSrv *http.Server
	admin   *nats.Subscription
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	log     *slog.Logger

	ready    readiness
	draining atomic.Bool  // Close has begun: answers close their connections
	conns    atomic.Int64 // open HTTP connections, for the drain
}

// Start starts an instance and returns once its view has caught up with the
// stream and its HTTP listener accepts connections.
func Start(ctx context.Context, o Options) (_ *Node, err error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SweepInterval <= 0 {
		o.SweepInterval = 10 * time.Second
	}
	n := &Node{log: o.Log}
	defer func() { // undo what was started
		if err != nil {
			n.Close(context.Background())
		}
	}()
	if o.Stream.Keys == nil {
		if o.Keys == nil {
			return nil, errors.New("no Fernet keys")
		}
		if o.Stream.Keys, err = EventKeys(o.Keys); err != nil {
			return nil, err
		}
	}
	if o.Stream.Log == nil {
		o.Stream.Log = o.Log
	}
	if err := n.connect(ctx, o); err != nil {
		return nil, err
	}
	js, err := jetstream.New(n.nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	if n.ns != nil {
		o.Stream.LocalLastSeq = embeddedLastSeq(n.ns)
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = httpapi.DefaultRequestTimeout
	}
	// A request may wait for two barrier rounds: both fit well within its
	// deadline, so an unanswered barrier is a 503 before the deadline.
	o.Stream.BarrierTimeout = o.RequestTimeout / 5 * 2
	if n.Store, err = openStore(ctx, js, o); err != nil {
		return nil, err
	}

	runCtx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.View = projections.NewView(o.Now)
	started := time.Now()
	followErr, err := n.View.CatchUp(runCtx, n.Store)
	if err != nil {
		return nil, err
	}
	o.Log.Info("projection caught up", slog.Uint64("seq", n.View.Applied()),
		slog.Duration("took", time.Since(started)))
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		if err := <-followErr; err != nil && runCtx.Err() == nil {
			o.Log.Error("follower stopped", slog.Any("err", err))
		}
	}()
	go func() { defer n.wg.Done(); n.View.RunSweeper(runCtx, o.SweepInterval) }()
	n.ready.set(nil) // caught up just now
	n.wg.Add(1)
	go func() { defer n.wg.Done(); n.runReadiness(runCtx) }()

	n.SSO = sso.New(o.SSO, n.View, n.Store, o.Keys, o.Now, o.Log)
	// The login back-off's records, shared with every replica.
	if n.Attempts, err = eventstore.OpenAttempts(ctx, js, eventstore.AttemptsConfig{
		Stream: o.Stream.Stream, Replicas: o.Stream.Replicas, Keys: o.Stream.Keys, Log: o.Log}); err != nil {
		return nil, err
	}
	n.SSO.UseAttempts(n.Attempts)
	if o.ExpiryInterval <= 0 {
		o.ExpiryInterval = o.SweepInterval
	}
	n.wg.Add(1)
	go func() { defer n.wg.Done(); n.SSO.RunExpirer(runCtx, n.View, o.ExpiryInterval) }()
	streamsDone := make(chan struct{}) // closed on shutdown: ends event streams
	if n.admin, err = serveAdmin(n.nc, n.SSO, o.Log); err != nil {
		return nil, err
	}
	var hm *httpMetrics
	n.Metrics, hm = newMetrics(n)
	n.API = httpapi.New(n.SSO, o.Log, httpapi.Options{TrustProxy: o.TrustProxy, Ready: n.healthy,
		Readiness: n.ready.get, RequestTimeout: o.RequestTimeout, Events: n.Store, Done: streamsDone,
		Metrics: hm, MetricsHandler: metricsHandler(n.Metrics, o.Log)})
	if n.httpLn, err = net.Listen("tcp", o.HTTPAddr); err != nil {
		return nil, fmt.Errorf("http listen: %w", err)
	}
	n.httpSrv = &http.Server{Handler: http.HandlerFunc(n.serveHTTP), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, ConnState: n.connState,
		ErrorLog: slog.NewLogLogger(o.Log.Handler(), slog.LevelWarn)}
	n.httpSrv.RegisterOnShutdown(sync.OnceFunc(func() { close(streamsDone) }))
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.httpSrv.Serve(n.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) && !n.draining.Load() {
			o.Log.Error("http server stopped", slog.Any("err", err))
		}
	}()
	o.Log.Info("listening", slog.String("http", n.HTTPAddr()), slog.String("nats", natsctx.RedactURL(n.NATSURL())))
	return n, nil
}

// EventKeys returns the keys that sign and verify events, derived from the
// Fernet keyring (the first signs).
func EventKeys(k *sso.Keyring) (*eventstore.Keys, error) {
	return eventstore.NewKeys(k.Derive(eventstore.KeyInfo)...)
}

// openStore creates or updates the stream. A cluster that is still electing
// its JetStream leader refuses for a while after start (as under docker
// compose), so with an external cluster it retries for up to a minute.
func openStore(ctx context.Context, js jetstream.JetStream, o Options) (*eventstore.Store, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		st, err := eventstore.Open(ctx, js, o.Stream)
		if err == nil || o.NATSURL == "" || time.Now().After(deadline) {
			return st, err
		}
		o.Log.Warn("stream not ready, retrying", slog.Any("err", err))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func (n *Node) connect(ctx context.Context, o Options) error {
	if o.NATSURL != "" {
		opts := append(append(clientOptions(o.Log), nats.CustomInboxPrefix(RoleService.InboxPrefix())), o.NATSOptions...)
		nc, err := nats.Connect(o.NATSURL, opts...)
		if err != nil {
			return fmt.Errorf("connect to %s: %w", natsctx.RedactURL(o.NATSURL), natsctx.RedactError(err, o.NATSURL))
		}
		n.nc = nc
		return nil
	}
	host, portStr, err := net.SplitHostPort(o.NATSListen)
	if err != nil {
		return fmt.Errorf("nats listen address: %w", err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("nats listen port: %w", err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	n.credsDir = o.CredsDir
	if n.credsDir == "" {
		n.credsDir = filepath.Join(o.StoreDir, "nats")
	}
	ns, creds, err := StartServer(ctx, ServerOptions{Name: "ssoattr", Host: host, Port: port,
		StoreDir: o.StoreDir, CredsDir: n.credsDir, Stream: o.Stream, Sync: o.Sync})
	if err != nil {
		return err
	}
	n.ns = ns
	svc, err := creds[RoleService].Options()
	if err != nil {
		return err
	}
	nc, err := nats.Connect(ns.ClientURL(), append(append(svc, clientOptions(o.Log)...), nats.InProcessServer(ns))...)
	if err != nil {
		return fmt.Errorf("connect to embedded nats-server: %w", err)
	}
	n.nc = nc
	return nil
}

// ServerOptions configures StartServer.
type ServerOptions struct {
	Name     string
	Host     string
	Port     int // server.RANDOM_PORT picks a free one
	StoreDir string
	CredsDir string            // the roles' context files, created on first start
	Stream   eventstore.Config // created, or updated, by the in-process setup user
	Sync     time.Duration     // JetStream's sync policy: Options.Sync
}

// StartServer starts a nats-server with JetStream that accepts only the
// roles (see Role), whose context files it reads from o.CredsDir or
// creates there, rewriting their URL to the server's. It creates or updates
// the event stream as the in-process setup user, so that no role needs to
// be allowed to. The caller shuts the server down; on error it is down.
func StartServer(ctx context.Context, o ServerOptions) (_ *server.Server, _ map[Role]natsctx.Context, err error) {
	creds, err := loadCredentials(o.CredsDir)
	if err != nil {
		return nil, nil, err
	}
	stream := eventstore.StreamConfig(o.Stream).Name
	setupPassword := newPassword()
	so := &server.Options{ServerName: o.Name, Host: o.Host, Port: o.Port,
		JetStream: true, StoreDir: o.StoreDir, NoSigs: true, NoLog: true,
		Users: Users(creds, stream, setupPassword)}
	switch {
	case o.Sync == SyncAlways:
		so.SyncAlways = true
	case o.Sync > 0:
		so.SyncInterval = o.Sync
	}
	ns, err := server.NewServer(so)
	if err != nil {
		return nil, nil, fmt.Errorf("embedded nats-server: %w", err)
	}
	ns.Start()
	defer func() {
		if err != nil {
			ns.Shutdown()
			ns.WaitForShutdown()
		}
	}()
	if !ns.ReadyForConnections(10 * time.Second) {
		return nil, nil, fmt.Errorf("embedded nats-server on %s not ready after 10s (is the port in use?)",
			net.JoinHostPort(o.Host, strconv.Itoa(o.Port)))
	}
	if err := saveCredentials(o.CredsDir, creds, ns.ClientURL()); err != nil {
		return nil, nil, err
	}
	nc, err := nats.Connect(ns.ClientURL(), nats.InProcessServer(ns), nats.UserInfo(setupUser, setupPassword),
		nats.Name("ssoattr-setup"))
	if err != nil {
		return nil, nil, fmt.Errorf("connect to embedded nats-server: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, nil, fmt.Errorf("jetstream: %w", err)
	}
	if _, err := eventstore.Open(ctx, js, o.Stream); err != nil {
		return nil, nil, err
	}
	return ns, creds, nil
}

// embeddedLastSeq reads a stream's last sequence from the embedded
// server's own state, for the read barrier (eventstore.Config.LocalLastSeq).
// That server runs alone (no cluster), so it holds the stream, and it stores
// every event before it acknowledges it to whoever appended it, this
// process or a replica connected to it: its state covers every
// acknowledged event, as its answer to a request over the connection would.
// The server lists the state of every stream of the account; the service
// keeps one there.
func embeddedLastSeq(ns *server.Server) func(stream string) (uint64, error) {
	opts := &server.JSzOptions{Account: server.DEFAULT_GLOBAL_ACCOUNT, Streams: true}
	return func(stream string) (uint64, error) {
		d, err := ns.JszAccount(opts)
		if err != nil {
			return 0, fmt.Errorf("embedded server's stream state: %w", err)
		}
		for i := range d.Streams {
			if d.Streams[i].Name == stream {
				return d.Streams[i].State.LastSeq, nil
			}
		}
		return 0, fmt.Errorf("embedded server's stream state: no stream %s", stream)
	}
}

// The NATS client's settings (README "NATS connection"): a server that
// dies or hangs is noticed by missed pings within about
// clientPingInterval × (clientMaxPingsOut+1), 4 s, and the client then
// moves to another server of --nats-url, trying every clientReconnectWait
// (plus jitter) for ever. While it is disconnected nothing is buffered: a
// publish fails at once, so a write answered "unavailable" was never sent,
// rather than sent later without anyone waiting for its answer.
const (
	clientPingInterval  = time.Second
	clientMaxPingsOut   = 3
	clientReconnectWait = 250 * time.Millisecond
	clientJitter        = 250 * time.Millisecond
	clientDialTimeout   = 2 * time.Second
)

// clientOptions returns the options of the service's NATS connection.
func clientOptions(log *slog.Logger) []nats.Option {
	return []nats.Option{
		nats.Name("ssoattr"),
		nats.PingInterval(clientPingInterval),
		nats.MaxPingsOutstanding(clientMaxPingsOut),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(clientReconnectWait),
		nats.ReconnectJitter(clientJitter, clientJitter),
		nats.ReconnectBufSize(-1),
		nats.Timeout(clientDialTimeout),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn("nats disconnected", slog.Any("err", err))
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("nats reconnected", slog.String("server", nc.ConnectedServerName()))
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			// A refusal of the cluster's: its operator must grant the
			// service role what README.md#nats-roles-and-credentials lists.
			if errors.Is(err, nats.ErrPermissionViolation) {
				log.Error("NATS refused the service", slog.Any("err", err))
			}
		}),
	}
}

// healthy is GET /healthz: ready (the background check), and a read
// barrier answered in time.
func (n *Node) healthy(ctx context.Context) error {
	if !n.nc.IsConnected() {
		return errors.New("not connected to NATS")
	}
	return n.SSO.Sync(ctx)
}

// serveHTTP serves the API; once the drain has begun, every answer closes
// its connection (see Close).
func (n *Node) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if n.draining.Load() {
		w.Header().Set("Connection", "close")
	}
	n.API.ServeHTTP(w, r)
}

// connState counts the open HTTP connections.
func (n *Node) connState(_ net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		n.conns.Add(1)
	case http.StateClosed, http.StateHijacked:
		n.conns.Add(-1)
	}
}

// drainGrace is how long Close lets open keep-alive connections bring in
// their next request, answered with "Connection: close", before it closes
// those left idle. Closing an idle connection races with a client sending
// on it, which then sees a reset instead of an answer.
const drainGrace = time.Second

// HTTPAddr returns the address the HTTP API listens on.
func (n *Node) HTTPAddr() string {
	if n.httpLn == nil {
		return ""
	}
	return n.httpLn.Addr().String()
}

// NATSURL returns the URL clients (the CLI, subscribers, other instances)
// use to reach this instance's NATS, without any password or token.
func (n *Node) NATSURL() string {
	if n.ns != nil {
		return n.ns.ClientURL()
	}
	return natsctx.RedactURL(n.nc.ConnectedUrl())
}

// ContextFile returns the path of a role's context file, which the
// instance's embedded server wrote; "" with an external cluster.
func (n *Node) ContextFile(r Role) string {
	if n.ns == nil {
		return ""
	}
	return r.ContextFile(n.credsDir)
}

// Close stops the instance in the reverse order of Start: HTTP drains (up
// to ctx's deadline), background loops stop, the NATS connection closes,
// then the embedded server shuts down.
//
// The drain answers every request already received: it marks the instance
// unready, stops accepting connections, and answers what arrives on open
// ones with "Connection: close", so clients leave them after their answer;
// after drainGrace (or when none is left) it closes the idle ones and waits
// for the requests still running.
func (n *Node) Close(ctx context.Context) {
	n.draining.Store(true)
	n.ready.set(errors.New("shutting down"))
	if n.httpSrv != nil {
		_ = n.httpLn.Close()
		grace := time.NewTimer(drainGrace)
		tick := time.NewTicker(10 * time.Millisecond)
	wait:
		for n.conns.Load() > 0 {
			select {
			case <-grace.C:
				break wait
			case <-ctx.Done():
				break wait
			case <-tick.C:
			}
		}
		grace.Stop()
		tick.Stop()
	}
	if n.httpSrv != nil {
		if err := n.httpSrv.Shutdown(ctx); err != nil && !errors.Is(err, net.ErrClosed) {
			n.log.Warn("http shutdown", slog.Any("err", err))
		}
	} else if n.httpLn != nil {
		n.httpLn.Close()
	}
	if n.admin != nil {
		_ = n.admin.Drain()
	}
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
	if n.nc != nil {
		n.nc.Close()
	}
	if n.ns != nil {
		n.ns.Shutdown()
		n.ns.WaitForShutdown()
	}
}
