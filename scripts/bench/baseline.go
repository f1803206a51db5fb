package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssoattr/ssoattr/eventstore"
)

// baseline is a second embedded JetStream server, started with the options
// internal/node gives the service's own (file storage, default durability),
// and reached the same way (in-process connection). The raw-publish and
// thin-HTTP baselines and the rebuild measurements run on it, so they
// neither share a stream with the service nor load its server while the
// service is measured.
type baseline struct {
	ns     *server.Server
	nc     *nats.Conn
	js     jetstream.JetStream
	stream string

	mu      sync.Mutex
	lastSeq map[string]uint64 // thin write path: subject -> last sequence
	values  map[string][]byte // thin read path
	valMu   sync.RWMutex

	payload []byte // an encoded attr.set event, what every baseline publish sends

	httpLn  net.Listener
	httpSrv *http.Server
}

// benchStream is the baselines' stream: the service's stream configuration
// (eventstore.StreamConfig) under another name and subject space.
func benchStream() jetstream.StreamConfig {
	c := eventstore.StreamConfig(eventstore.Config{Stream: "BENCH"})
	c.Subjects = []string{"bench.>"}
	return c
}

// startJetStream starts an embedded JetStream server with the options
// internal/node gives the service's own (file storage under dir, default
// durability) and connects to it in process, as the service does. name
// names the server and the connection.
func startJetStream(dir, name string) (*server.Server, *nats.Conn, error) {
	ns, err := server.NewServer(&server.Options{ServerName: name, Host: "127.0.0.1",
		Port: server.RANDOM_PORT, JetStream: true, StoreDir: dir, NoSigs: true, NoLog: true})
	if err != nil {
		return nil, nil, fmt.Errorf("%s nats-server: %w", name, err)
	}
	ns.Start()
	stop := func() { ns.Shutdown(); ns.WaitForShutdown() }
	if !ns.ReadyForConnections(10 * time.Second) {
		stop()
		return nil, nil, fmt.Errorf("%s nats-server not ready after 10s", name)
	}
	nc, err := nats.Connect(ns.ClientURL(), nats.InProcessServer(ns), nats.Name(name))
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("connect to %s nats-server: %w", name, err)
	}
	return ns, nc, nil
}

func startBaseline(ctx context.Context, dir string, payload []byte) (*baseline, error) {
	ns, nc, err := startJetStream(dir, "bench-baseline")
	if err != nil {
		return nil, err
	}
	b := &baseline{ns: ns, nc: nc, lastSeq: make(map[string]uint64), values: make(map[string][]byte), payload: payload}
	if b.js, err = jetstream.New(b.nc); err != nil {
		b.close(ctx)
		return nil, err
	}
	cfg := benchStream()
	if _, err := b.js.CreateOrUpdateStream(ctx, cfg); err != nil {
		b.close(ctx)
		return nil, fmt.Errorf("create stream %s: %w", cfg.Name, err)
	}
	b.stream = cfg.Name

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.PUT("/thin/write", b.thinWrite)
	e.GET("/thin/read", b.thinRead)
	if b.httpLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		b.close(ctx)
		return nil, err
	}
	// The same http.Server settings as internal/node's.
	b.httpSrv = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = b.httpSrv.Serve(b.httpLn) }()
	return b, nil
}

func (b *baseline) url() string { return "http://" + b.httpLn.Addr().String() }

func (b *baseline) close(ctx context.Context) {
	if b.httpSrv != nil {
		_ = b.httpSrv.Shutdown(ctx)
	}
	if b.nc != nil {
		b.nc.Close()
	}
	b.ns.Shutdown()
	b.ns.WaitForShutdown()
}

// publish is one raw append: publish with ack and the subject's expected
// last sequence, as eventstore.Store.Append does.
func publish(ctx context.Context, js jetstream.JetStream, subject string, data []byte, expected uint64) (uint64, error) {
	ack, err := js.Publish(ctx, subject, data,
		jetstream.WithExpectLastSequencePerSubject(expected))
	if err != nil {
		return 0, err
	}
	return ack.Sequence, nil
}

// rawPublishOp is baseline (a): worker w appends to its share of the
// subjects (one per user, as the service has), tracking each one's last
// sequence itself.
func (b *baseline) rawPublishOp(w, conns, subjects int) op {
	var mine []string
	for i := w; i < subjects; i += conns {
		mine = append(mine, "bench.raw."+strconv.Itoa(i))
	}
	last := make(map[string]uint64, len(mine))
	next := 0
	return func(ctx context.Context) error {
		subj := mine[next%len(mine)]
		next++
		seq, err := publish(ctx, b.js, subj, b.payload, last[subj])
		if err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		last[subj] = seq
		return nil
	}
}

// thinWrite is baseline (b), the thinnest HTTP write path: read the body,
// make one publish like rawPublishOp's, answer.
func (b *baseline) thinWrite(c echo.Context) error {
	if _, err := io.Copy(io.Discard, c.Request().Body); err != nil {
		return err
	}
	subj := "bench.thin." + c.QueryParam("k")
	b.mu.Lock()
	expected := b.lastSeq[subj]
	b.mu.Unlock()
	seq, err := publish(c.Request().Context(), b.js, subj, b.payload, expected)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.lastSeq[subj] = seq
	b.mu.Unlock()
	return c.JSONBlob(http.StatusOK, []byte(`{"status":"ok"}`))
}

// thinRead is baseline (c), the thinnest HTTP read path: a map read under a
// read lock, answered as JSON.
func (b *baseline) thinRead(c echo.Context) error {
	if _, err := io.Copy(io.Discard, c.Request().Body); err != nil {
		return err
	}
	b.valMu.RLock()
	v, ok := b.values[c.QueryParam("k")]
	b.valMu.RUnlock()
	if !ok {
		return c.JSONBlob(http.StatusOK, []byte(`{"status":"ok","found":false}`))
	}
	buf := make([]byte, 0, 64+len(v))
	buf = append(buf, `{"status":"ok","found":true,"value":`...)
	buf = append(buf, v...)
	buf = append(buf, '}')
	return c.JSONBlob(http.StatusOK, buf)
}

// fillValues gives the thin read path one value per key.
func (b *baseline) fillValues(keys int, value []byte) {
	b.valMu.Lock()
	defer b.valMu.Unlock()
	for i := range keys {
		b.values[strconv.Itoa(i)] = value
	}
}
