package eventstore_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/eventstore"
)

// otherWriter is a second connection to the store's server, as another
// replica or the CLI would have.
func otherWriter(t *testing.T, js jetstream.JetStream) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(js.Conn().ConnectedUrl())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	other, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return other
}

// publish stores one event through w and returns its sequence.
func publish(t *testing.T, w jetstream.JetStream, owner domain.Owner) uint64 {
	t.Helper()
	data, err := eventstore.Encode(attrEvent(owner, "n"))
	if err != nil {
		t.Fatal(err)
	}
	ack, err := w.PublishMsg(t.Context(), signed(eventstore.Subject(owner), data))
	if err != nil {
		t.Fatal(err)
	}
	return ack.Sequence
}

// On the service's own single-replica stream the barrier asks direct gets,
// and their answer is the exact last sequence: with nothing new, and after
// every write another connection had acknowledged, one or many at a time.
func TestLastSeq_DirectGetsAreExact(t *testing.T) {
	s, js := openStore(t)
	s.SetBarrierRecheck(time.Hour) // no stream-info round after the first
	w := otherWriter(t, js)
	if got := streamMsgs(t, s); got != 0 {
		t.Fatalf("LastSeq of an empty stream = %d", got)
	}
	if !s.BarrierUsesDirectGet() {
		t.Fatal("the barrier does not use direct gets on a single-replica stream")
	}
	if got := streamMsgs(t, s); got != 0 {
		t.Fatalf("LastSeq of an empty stream, by direct get = %d", got)
	}
	var want uint64
	for i := range 300 {
		for range i % 4 { // 0 to 3 writes between two questions
			want = publish(t, w, domain.UserAttrsOwner("zusr"+string(rune('a'+i%7))))
		}
		if got := streamMsgs(t, s); got != want {
			t.Fatalf("round %d: LastSeq = %d, want %d, the last acknowledged", i, got, want)
		}
	}
	if !s.BarrierUsesDirectGet() {
		t.Fatal("the barrier gave up direct gets on a stream where they are exact")
	}
}

// The status that ends the barrier's direct-get batch counts the messages
// after the one sent, so that one's sequence plus the count is the last.
// The request is sent here as the probe sends it and the answer read raw.
func TestLastSeq_DirectGetCountsWhatFollows(t *testing.T) {
	s, js := openStore(t)
	var seqs []uint64
	for i := range 3 {
		seq, err := s.Append(t.Context(), attrEvent(domain.UserAttrsOwner("zusrh"), fmt.Sprint("n", i)), uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, seq)
	}
	sub, err := js.Conn().SubscribeSync(nats.NewInbox())
	if err != nil {
		t.Fatal(err)
	}
	if err := js.Conn().PublishRequest("$JS.API.DIRECT.GET."+s.StreamName(), sub.Subject, eventstore.DirectGetRequest(seqs[1])); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(msg.Data, []byte(`"n1"`)) {
		t.Errorf("the message is %s, want the event at sequence %d", msg.Data, seqs[1])
	}
	eob, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := eob.Header.Get("Status"); got != "204" {
		t.Fatalf("after the message: status %q (headers %v), want 204, the end of the batch", got, eob.Header)
	}
	if last, pending := eob.Header.Get("Nats-Last-Sequence"), eob.Header.Get("Nats-Num-Pending"); last != fmt.Sprint(seqs[1]) || pending != "1" {
		t.Errorf("end of batch: last %s, pending %s; want %d and 1", last, pending, seqs[1])
	}
}

// A mirror answers direct gets for the stream it mirrors, possibly behind:
// once one exists the barrier asks the leader, and goes back to direct gets
// when the mirror is gone.
func TestLastSeq_MirrorTurnsDirectGetsOff(t *testing.T) {
	s, js := openStore(t)
	s.SetBarrierRecheck(20 * time.Millisecond)
	w := otherWriter(t, js)
	publish(t, w, domain.UserAttrsOwner("zusr1"))
	streamMsgs(t, s)
	if !s.BarrierUsesDirectGet() {
		t.Fatal("no direct gets before the mirror")
	}
	ctx := t.Context()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "SSO_COPY",
		Mirror: &jetstream.StreamSource{Name: s.StreamName()}}); err != nil {
		t.Fatal(err)
	}
	waitDirectGets(t, s, false)
	want := publish(t, w, domain.UserAttrsOwner("zusr1"))
	if got := streamMsgs(t, s); got != want {
		t.Fatalf("LastSeq = %d, want %d", got, want)
	}
	if s.BarrierUsesDirectGet() {
		t.Fatal("the barrier still uses direct gets while a mirror exists")
	}
	if err := js.DeleteStream(ctx, "SSO_COPY"); err != nil {
		t.Fatal(err)
	}
	waitDirectGets(t, s, true)
	if got := streamMsgs(t, s); got != want || !s.BarrierUsesDirectGet() {
		t.Fatalf("after the mirror went: LastSeq = %d (want %d), direct gets %v (want true)", got, want, s.BarrierUsesDirectGet())
	}
}

// waitDirectGets asks for the last sequence until the barrier's choice is
// want: each ask after the recheck interval looks at the stream again.
func waitDirectGets(t *testing.T, s *eventstore.Store, want bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); s.BarrierUsesDirectGet() != want; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("direct gets still %v after 10s, want %v", !want, want)
		}
		streamMsgs(t, s)
	}
}

// A stream with a gap in its sequences (here one that allows deletes, which
// ours does not) makes a count of messages no distance: the barrier asks the
// leader.
func TestLastSeq_GapsTurnDirectGetsOff(t *testing.T) {
	js := runJetStream(t)
	ctx := context.Background()
	cfg := eventstore.StreamConfig(eventstore.Config{})
	cfg.DenyDelete = false
	st, err := js.CreateStream(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		publish(t, js, domain.UserAttrsOwner("zusr1"))
	}
	if err := st.DeleteMsg(ctx, 2); err != nil {
		t.Fatal(err)
	}
	s, err := eventstore.Attach(ctx, js, eventstore.Config{Stream: cfg.Name, Keys: testKeys})
	if err != nil {
		t.Fatal(err)
	}
	if got := streamMsgs(t, s); got != 3 || s.BarrierUsesDirectGet() {
		t.Fatalf("LastSeq = %d (want 3), direct gets %v (want false)", got, s.BarrierUsesDirectGet())
	}
}

// Under writes, from this store and from another process, while rounds
// are paced and answered by direct gets that find new messages: a caller
// gets at least every sequence acknowledged before it asked.
func TestLastSeq_UnderWritesSeesEveryAck(t *testing.T) {
	s, js := openStore(t)
	other := otherWriter(t, js)
	ctx := t.Context()
	var maxAcked atomic.Uint64
	acked := func(seq uint64) {
		for {
			m := maxAcked.Load()
			if seq <= m || maxAcked.CompareAndSwap(m, seq) {
				return
			}
		}
	}
	stop := make(chan struct{})
	var writers, readers sync.WaitGroup
	for i := range 6 {
		writers.Go(func() {
			owner := domain.UserAttrsOwner(fmt.Sprintf("zusr%d", i))
			var expected uint64
			for {
				select {
				case <-stop:
					return
				default:
				}
				if i < 4 { // through the store
					seq, err := s.Append(ctx, attrEvent(owner, "n"), expected)
					if err != nil {
						t.Errorf("Append: %v", err)
						return
					}
					expected = seq
					acked(seq)
				} else { // another process
					acked(publish(t, other, owner))
				}
			}
		})
	}
	for range 8 {
		readers.Go(func() {
			for range 300 {
				before := maxAcked.Load()
				got, err := s.LastSeq(ctx)
				if err != nil || got < before {
					t.Errorf("LastSeq = %d, %v; %d was acknowledged before the call", got, err, before)
					return
				}
			}
		})
	}
	readers.Wait()
	close(stop)
	writers.Wait()
}
