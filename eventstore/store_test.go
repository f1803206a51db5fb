package eventstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/eventstore"
	"github.com/ssoattr/ssoattr/internal/jsontext"
)

// runJetStream starts an embedded JetStream server; cleanup runs client, server, temp dir.
func runJetStream(t testing.TB) jetstream.JetStream {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT,
		JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatalf("nats-server: %v", err)
	}
	ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(5 * time.Second) {
		t.Fatal("nats-server not ready after 5s")
	}
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return js
}

// testKeys are the event signing keys of the tests' stores.
var testKeys = mustKeys([]byte("0123456789abcdef0123456789abcdef"))

func mustKeys(keys ...[]byte) *eventstore.Keys {
	k, err := eventstore.NewKeys(keys...)
	if err != nil {
		panic(err)
	}
	return k
}

// signed returns a message of data on subject signed with testKeys, as
// the service would publish it.
func signed(subject string, data []byte) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Data = data
	m.Header.Set(eventstore.SignatureHeader, testKeys.Sign(subject, data))
	return m
}

func openStore(t testing.TB) (*eventstore.Store, jetstream.JetStream) {
	t.Helper()
	js := runJetStream(t)
	s, err := eventstore.Open(t.Context(), js, eventstore.Config{Keys: testKeys})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s, js
}

func attrEvent(owner domain.Owner, name string) domain.Event {
	now := time.Now().UTC()
	return domain.Event{ID: eventstore.NewID(), Kind: domain.KindAttrSet, Owner: owner, Time: now,
		Data: domain.EventData{Attrs: []domain.Attr{{Name: name, Value: json.RawMessage(`"v"`),
			Created: now, Modified: now, Expires: domain.Never}}}}
}

func streamMsgs(t testing.TB, s *eventstore.Store) uint64 {
	t.Helper()
	n, err := s.LastSeq(t.Context())
	if err != nil {
		t.Fatalf("LastSeq: %v", err)
	}
	return n
}

func TestOpen_StreamConfig(t *testing.T) {
	s, js := openStore(t)
	if s.StreamName() != "SSO" {
		t.Fatalf("StreamName = %q, want SSO", s.StreamName())
	}
	st, err := js.Stream(t.Context(), "SSO")
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	if len(cfg.Subjects) != 1 || cfg.Subjects[0] != "sso.>" || cfg.Storage != jetstream.FileStorage ||
		cfg.MaxAge != 0 || !cfg.DenyDelete || !cfg.DenyPurge || !cfg.AllowAtomicPublish {
		t.Fatalf("stream config = %+v, want sso.>, file storage, kept forever, no delete/purge, atomic batches", cfg)
	}
	// Opening again (a second instance, a restart) keeps the stream.
	if _, err := eventstore.Open(t.Context(), js, eventstore.Config{Keys: testKeys}); err != nil {
		t.Fatalf("Open again: %v", err)
	}
}

func TestAppend_ExpectedSequence(t *testing.T) {
	s, _ := openStore(t)
	ctx := t.Context()
	owner := domain.UserAttrsOwner("zusr1")
	seq1, err := s.Append(ctx, attrEvent(owner, "a"), 0)
	if err != nil {
		t.Fatalf("first Append expecting 0: %v", err)
	}
	if _, err := s.Append(ctx, attrEvent(owner, "b"), 0); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("Append expecting 0 on a subject at %d = %v, want ErrConflict", seq1, err)
	}
	// Another owner's subject has its own version.
	other, err := s.Append(ctx, attrEvent(domain.UserAttrsOwner("zusr2"), "a"), 0)
	if err != nil {
		t.Fatalf("Append to another owner expecting 0: %v", err)
	}
	if _, err := s.Append(ctx, attrEvent(owner, "b"), other); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("Append expecting the stream's last sequence instead of the subject's = %v, want ErrConflict", err)
	}
	seq2, err := s.Append(ctx, attrEvent(owner, "b"), seq1)
	if err != nil || seq2 <= other {
		t.Fatalf("Append expecting %d = %d, %v; want a sequence after %d", seq1, seq2, err, other)
	}
	if got := streamMsgs(t, s); got != seq2 {
		t.Fatalf("LastSeq = %d, want %d", got, seq2)
	}
}

// A writer that lost an acknowledgement and publishes the same event again
// with the same expectation is refused once the first copy is stored: the
// subject has moved on. Nothing is stored twice, without any Nats-Msg-Id.
func TestAppend_RetryAfterItLandedIsRefused(t *testing.T) {
	s, _ := openStore(t)
	ctx := t.Context()
	e := attrEvent(domain.UserAttrsOwner("zusr1"), "a")
	if _, err := s.Append(ctx, e, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, e, 0); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("Append of the same event again = %v, want ErrConflict", err)
	}
	if got := streamMsgs(t, s); got != 1 {
		t.Fatalf("stream holds %d messages, want 1", got)
	}
}

func TestAppendAll(t *testing.T) {
	s, js := openStore(t)
	ctx := t.Context()
	a, b := domain.UserAttrsOwner("zusr1"), domain.UserAttrsOwner("zusr2")
	seqA, err := s.Append(ctx, attrEvent(a, "x"), 0)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("one wrong expectation stores nothing", func(t *testing.T) {
		before := streamMsgs(t, s)
		_, err := s.AppendAll(ctx, []domain.Pending{
			{Event: attrEvent(a, "y"), Expected: seqA},
			{Event: attrEvent(b, "y"), Expected: 99}, // wrong: b has no event
		})
		if !errors.Is(err, domain.ErrConflict) {
			t.Fatalf("AppendAll with a wrong expectation = %v, want ErrConflict", err)
		}
		if got := streamMsgs(t, s); got != before {
			t.Fatalf("stream moved from %d to %d, want no change", before, got)
		}
		_, err = s.AppendAll(ctx, []domain.Pending{
			{Event: attrEvent(a, "y"), Expected: 0}, // wrong: a is at seqA
			{Event: attrEvent(b, "y"), Expected: 0},
		})
		if !errors.Is(err, domain.ErrConflict) {
			t.Fatalf("AppendAll with a wrong first expectation = %v, want ErrConflict", err)
		}
		if got := streamMsgs(t, s); got != before {
			t.Fatalf("stream moved from %d to %d, want no change", before, got)
		}
	})

	t.Run("right expectations store every event", func(t *testing.T) {
		before := streamMsgs(t, s)
		last, err := s.AppendAll(ctx, []domain.Pending{
			{Event: attrEvent(a, "y"), Expected: seqA},
			{Event: attrEvent(b, "y"), Expected: 0},
		})
		if err != nil {
			t.Fatalf("AppendAll: %v", err)
		}
		if last != before+2 || streamMsgs(t, s) != before+2 {
			t.Fatalf("AppendAll = %d, stream at %d; want both at %d", last, streamMsgs(t, s), before+2)
		}
		for _, o := range []domain.Owner{a, b} {
			msg, err := js.Conn().Request("$JS.API.DIRECT.GET.SSO", []byte(`{"last_by_subj":"`+eventstore.Subject(o)+`"}`), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			e, err := eventstore.Decode(msg.Data)
			if err != nil || e.Data.Attrs[0].Name != "y" {
				t.Fatalf("last event of %s = %+v, %v; want the batch's", o, e, err)
			}
		}
	})

	t.Run("one event is a plain append", func(t *testing.T) {
		seq, err := s.AppendAll(ctx, []domain.Pending{{Event: attrEvent(domain.UserAttrsOwner("zusr3"), "a")}})
		if err != nil || seq != streamMsgs(t, s) {
			t.Fatalf("AppendAll(one) = %d, %v; want the new last sequence", seq, err)
		}
	})

	t.Run("none is a no-op", func(t *testing.T) {
		before := streamMsgs(t, s)
		if seq, err := s.AppendAll(ctx, nil); err != nil || seq != 0 || streamMsgs(t, s) != before {
			t.Fatalf("AppendAll(nil) = %d, %v; want 0, nil and no change", seq, err)
		}
	})
}

// The server keeps at most 50 atomic batches open per stream and drops the
// first message of any more, so their commits fail as incomplete. With
// another process holding 50 batches open, a batch must still land once
// they are committed, a moment later.
func TestAppendAll_WhileOtherBatchesAreOpen(t *testing.T) {
	s, js := openStore(t)
	other := otherWriter(t, js).Conn()
	const held = 50
	part := func(i, seq int, commit bool) *nats.Msg {
		m := nats.NewMsg(fmt.Sprintf("sso.uattr.zheld%d", i))
		data, err := eventstore.Encode(attrEvent(domain.UserAttrsOwner(fmt.Sprintf("zheld%d", i)), "a"))
		if err != nil {
			t.Fatal(err)
		}
		m.Data = data
		m.Header.Set("Nats-Batch-Id", fmt.Sprintf("held-%d", i))
		m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(seq))
		if commit {
			m.Header.Set("Nats-Batch-Commit", "1")
		}
		return m
	}
	for i := range held {
		if err := other.PublishMsg(part(i, 1, false)); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.Flush(); err != nil {
		t.Fatal(err)
	}
	// The first attempt's first message, seen on its subject, was sent while
	// the 50 batches are open: it meets them.
	sent, err := other.SubscribeSync("sso.uattr.zusr1")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Flush(); err != nil {
		t.Fatal(err)
	}
	result := make(chan error, 1)
	go func() {
		_, err := s.AppendAll(t.Context(), []domain.Pending{
			{Event: attrEvent(domain.UserAttrsOwner("zusr1"), "a")},
			{Event: attrEvent(domain.UserAttrsOwner("zusr2"), "a")},
		})
		result <- err
	}()
	if _, err := sent.NextMsg(10 * time.Second); err != nil {
		t.Fatalf("the batch's first message was not sent: %v", err)
	}
	for i := range held {
		if _, err := other.RequestMsg(part(i, 2, true), 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-result; err != nil {
		t.Fatalf("AppendAll while 50 batches were open: %v", err)
	}
	if got := streamMsgs(t, s); got != 2*held+2 {
		t.Fatalf("the stream holds %d events, want %d", got, 2*held+2)
	}
}

func TestAppend_RacingWritersOneWins(t *testing.T) {
	s, _ := openStore(t)
	ctx := t.Context()
	owner := domain.UserAttrsOwner("zusr1")
	const n = 16
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		wins      int
		conflicts int
	)
	for i := range n {
		wg.Go(func() {
			_, err := s.Append(ctx, attrEvent(owner, string(rune('a'+i))), 0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, domain.ErrConflict):
				conflicts++
			default:
				t.Errorf("Append: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || conflicts != n-1 {
		t.Fatalf("%d writers expecting 0: %d won, %d conflicts; want 1 and %d", n, wins, conflicts, n-1)
	}
}

func TestFollowAndRead(t *testing.T) {
	s, js := openStore(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	a, b := domain.UserAttrsOwner("zusr1"), domain.UserAttrsOwner("zusr2")
	var want []string
	seqs := map[domain.Owner]uint64{}
	for i := range 6 {
		o := a
		if i%2 == 1 {
			o = b
		}
		e := attrEvent(o, "n")
		seq, err := s.Append(ctx, e, seqs[o])
		if err != nil {
			t.Fatal(err)
		}
		seqs[o] = seq
		want = append(want, e.ID)
	}
	// A message that is not an ssoattr event still counts as a sequence.
	if _, err := js.PublishMsg(ctx, signed("sso.uattr.zusr9", []byte("not an event"))); err != nil {
		t.Fatal(err)
	}

	t.Run("Read all", func(t *testing.T) {
		var got []string
		var bad int
		err := s.Read(ctx, nil, 0, func(seq uint64, e domain.Event, err error) {
			if err != nil {
				if !errors.Is(err, jsontext.ErrMalformed) || seq != 7 {
					t.Errorf("message %d: err = %v, want ErrMalformed at 7", seq, err)
				}
				bad++
				return
			}
			got = append(got, e.ID)
		})
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if len(got) != len(want) || bad != 1 {
			t.Fatalf("Read delivered %d events and %d malformed, want %d and 1", len(got), bad, len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("event %d = %s, want %s (stream order)", i, got[i], want[i])
			}
		}
	})

	t.Run("Read one subject from a sequence", func(t *testing.T) {
		var seqsGot []uint64
		err := s.Read(ctx, []string{eventstore.Subject(b)}, 3, func(seq uint64, e domain.Event, err error) {
			if err != nil || e.Owner != b {
				t.Errorf("message %d: %+v, %v; want an event of %s", seq, e, err, b)
			}
			seqsGot = append(seqsGot, seq)
		})
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if len(seqsGot) != 2 || seqsGot[0] != 4 || seqsGot[1] != 6 {
			t.Fatalf("Read(%s, from 3) sequences = %v, want [4 6]", b, seqsGot)
		}
	})

	t.Run("Read an empty subject returns at once", func(t *testing.T) {
		err := s.Read(ctx, []string{"sso.uattr.nobody"}, 0, func(seq uint64, _ domain.Event, _ error) {
			t.Errorf("unexpected message %d", seq)
		})
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
	})

	t.Run("Follow delivers history then new events", func(t *testing.T) {
		fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		got := make(chan uint64, 32)
		done := make(chan error, 1)
		go func() {
			done <- s.Follow(fctx, 0, func(seq uint64, _ domain.Event, _ error) { got <- seq })
		}()
		next := func() uint64 {
			t.Helper()
			select {
			case seq := <-got:
				return seq
			case err := <-done:
				t.Fatalf("Follow returned early: %v", err)
			case <-fctx.Done():
				t.Fatal("Follow delivered nothing for 10s")
			}
			return 0
		}
		for want := uint64(1); want <= 7; want++ {
			if seq := next(); seq != want {
				t.Fatalf("Follow delivered %d, want %d", seq, want)
			}
		}
		seq, err := s.Append(ctx, attrEvent(a, "late"), seqs[a])
		if err != nil {
			t.Fatal(err)
		}
		if g := next(); g != seq {
			t.Fatalf("Follow delivered %d, want the new event %d", g, seq)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Follow after cancel = %v, want context.Canceled", err)
		}
	})
}

func TestLastSeq_ConcurrentCallersSeeEveryAck(t *testing.T) {
	s, _ := openStore(t)
	ctx := t.Context()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			owner := domain.UserAttrsOwner("zusr" + string(rune('a'+i)))
			var expected uint64
			for range 10 {
				seq, err := s.Append(ctx, attrEvent(owner, "n"), expected)
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				expected = seq
				last, err := s.LastSeq(ctx)
				if err != nil || last < seq {
					t.Errorf("LastSeq after an ack at %d = %d, %v; want at least %d", seq, last, err, seq)
					return
				}
			}
		})
	}
	wg.Wait()
}
