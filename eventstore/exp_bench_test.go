//go:build exp

package eventstore_test

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssoattr/ssoattr/eventstore"
)

func expConn(b *testing.B) (*nats.Conn, *eventstore.Store) {
	ns, _ := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT,
		JetStream: true, StoreDir: b.TempDir(), NoLog: true, NoSigs: true})
	ns.Start()
	b.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	ns.ReadyForConnections(5 * time.Second)
	nc, _ := nats.Connect(ns.ClientURL(), nats.InProcessServer(ns))
	b.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	s, _ := eventstore.Open(context.Background(), js, eventstore.Config{})
	s.Append(context.Background(), benchAttrEvent(), 0)
	return nc, s
}

func BenchmarkExpRawInfo(b *testing.B) {
	nc, _ := expConn(b)
	for b.Loop() {
		m, err := nc.Request("$JS.API.STREAM.INFO.SSO", nil, time.Second)
		if err != nil {
			b.Fatal(err)
		}
		i := bytes.Index(m.Data, []byte(`"last_seq":`))
		j := i + len(`"last_seq":`)
		k := j
		for k < len(m.Data) && m.Data[k] >= '0' && m.Data[k] <= '9' {
			k++
		}
		n, _ := strconv.ParseUint(string(m.Data[j:k]), 10, 64)
		if n != 1 {
			b.Fatal(n)
		}
	}
}

func BenchmarkExpMsgGetLast(b *testing.B) {
	nc, _ := expConn(b)
	for b.Loop() {
		m, err := nc.Request("$JS.API.STREAM.MSG.GET.SSO", []byte(`{"last_by_subj":">"}`), time.Second)
		if err != nil || !bytes.Contains(m.Data, []byte(`"seq":1`)) {
			b.Fatal(err, string(m.Data))
		}
	}
}

func BenchmarkExpDirectGetNext(b *testing.B) {
	nc, _ := expConn(b)
	for b.Loop() {
		m, err := nc.Request("$JS.API.DIRECT.GET.SSO", []byte(`{"seq":2}`), time.Second)
		if err != nil || m.Header.Get("Status") != "404" {
			b.Fatal(err, m.Header)
		}
	}
}
