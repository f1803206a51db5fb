package eventstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssoattr/ssoattr/eventstore"
)

// benchStore opens a store on an embedded JetStream server reached the way
// the service reaches its own (in-process connection).
func benchStore(b *testing.B) *eventstore.Store {
	b.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT,
		JetStream: true, StoreDir: b.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		b.Fatalf("nats-server: %v", err)
	}
	ns.Start()
	b.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(5 * time.Second) {
		b.Fatal("nats-server not ready after 5s")
	}
	nc, err := nats.Connect(ns.ClientURL(), nats.InProcessServer(ns))
	if err != nil {
		b.Fatalf("connect: %v", err)
	}
	b.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatalf("jetstream: %v", err)
	}
	s, err := eventstore.Open(context.Background(), js, eventstore.Config{Keys: testKeys})
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	return s
}

// BenchmarkAppend is one append with its expected sequence, one at a time.
func BenchmarkAppend(b *testing.B) {
	s := benchStore(b)
	e := benchAttrEvent()
	ctx := context.Background()
	var last uint64
	b.ReportAllocs()
	for b.Loop() {
		e.ID = eventstore.NewID()
		seq, err := s.Append(ctx, e, last)
		if err != nil {
			b.Fatal(err)
		}
		last = seq
	}
}

// BenchmarkLastSeq is the read barrier for one caller at a time: each call
// is one round trip.
func BenchmarkLastSeq(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	if _, err := s.Append(ctx, benchAttrEvent(), 0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if seq, err := s.LastSeq(ctx); err != nil || seq != 1 {
			b.Fatalf("LastSeq = %d, %v; want 1", seq, err)
		}
	}
}

// BenchmarkLastSeqParallel is the read barrier for 64 concurrent callers
// per GOMAXPROCS, which share round trips.
func BenchmarkLastSeqParallel(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	if _, err := s.Append(ctx, benchAttrEvent(), 0); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(32) // 64 callers on 2 cores
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if seq, err := s.LastSeq(ctx); err != nil || seq != 1 {
				b.Errorf("LastSeq = %d, %v; want 1", seq, err)
				return
			}
		}
	})
}
