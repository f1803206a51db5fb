package eventstore_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/eventstore"
)

// readAll reads the whole stream through s and returns each message's
// error by sequence (nil: delivered as an event).
func readAll(t *testing.T, s *eventstore.Store) map[uint64]error {
	t.Helper()
	got := map[uint64]error{}
	err := s.Read(t.Context(), nil, 0, func(seq uint64, _ domain.Event, err error) { got[seq] = err })
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return got
}

func encoded(t *testing.T, e domain.Event) []byte {
	t.Helper()
	data, err := eventstore.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestSign_ReadersRefuseWhatIsNotSignedAndBound(t *testing.T) {
	s, js := openStore(t)
	ctx := t.Context()
	alice, bob := domain.UserAttrsOwner("zusra"), domain.UserAttrsOwner("zusrb")
	if _, err := s.Append(ctx, attrEvent(alice, "a"), 0); err != nil { // 1
		t.Fatal(err)
	}
	stored, err := s.Stream().GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	pub := func(m *nats.Msg) {
		t.Helper()
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// 2: no signature.
	pub(&nats.Msg{Subject: eventstore.Subject(alice), Data: encoded(t, attrEvent(alice, "forged"))})
	// 3: signed with a key the store does not have.
	other := mustKeys(bytes.Repeat([]byte{7}, 32))
	data := encoded(t, attrEvent(alice, "forged"))
	m := nats.NewMsg(eventstore.Subject(alice))
	m.Data = data
	m.Header.Set(eventstore.SignatureHeader, other.Sign(m.Subject, data))
	pub(m)
	// 4: alice's payload, signed for bob's subject and stored there.
	pub(signed(eventstore.Subject(bob), encoded(t, attrEvent(alice, "moved"))))
	// 5: event 1, signature and all, published again on bob's subject.
	moved := nats.NewMsg(eventstore.Subject(bob))
	moved.Data = stored.Data
	moved.Header.Set(eventstore.SignatureHeader, stored.Header.Get(eventstore.SignatureHeader))
	pub(moved)
	// 6: a signature that is not one.
	m = nats.NewMsg(eventstore.Subject(alice))
	m.Data = data
	m.Header.Set(eventstore.SignatureHeader, "garbage")
	pub(m)

	want := map[uint64]error{1: nil, 2: eventstore.ErrUnsigned, 3: eventstore.ErrBadSignature,
		4: eventstore.ErrOffSubject, 5: eventstore.ErrBadSignature, 6: eventstore.ErrBadSignature}
	got := readAll(t, s)
	for seq, w := range want {
		if !errors.Is(got[seq], w) || w == nil && got[seq] != nil {
			t.Errorf("message %d: err = %v, want %v", seq, got[seq], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("read %d messages, want %d", len(got), len(want))
	}

	// So do the live readers (watch, SSE): TailEvents passes the refused
	// to their callback and delivers only event 1.
	tctx, tcancel := context.WithTimeout(ctx, 10*time.Second)
	defer tcancel()
	var delivered []uint64
	tailRefused := map[uint64]error{}
	err = s.TailEvents(tctx, "", nil, 1, func(seq uint64, _ domain.Event, _ []byte) error {
		delivered = append(delivered, seq)
		return nil
	}, func(seq uint64, err error) {
		tailRefused[seq] = err
		if seq == 6 {
			tcancel()
		}
	})
	if !errors.Is(err, context.Canceled) || len(delivered) != 1 || delivered[0] != 1 || len(tailRefused) != 5 {
		t.Errorf("TailEvents = %v, delivered %v, refused %v; want event 1 delivered, 2-6 refused", err, delivered, tailRefused)
	}
	for seq, w := range want {
		if w != nil && !errors.Is(tailRefused[seq], w) {
			t.Errorf("TailEvents refused %d with %v, want %v", seq, tailRefused[seq], w)
		}
	}

	// The follower refuses the same, counts and logs each once with its
	// sequence, and gives the owner of the subject each is stored on.
	var logged lockedBuffer
	fs, err := eventstore.Open(ctx, js, eventstore.Config{Keys: testKeys,
		Log: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	owners := map[uint64]domain.Owner{}
	var mu sync.Mutex
	done := make(chan error, 1)
	go func() {
		done <- fs.Follow(fctx, 1, func(seq uint64, e domain.Event, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				owners[seq] = e.Owner
			}
			if seq == 6 {
				cancel()
			}
		})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("follower did not reach sequence 6")
	}
	mu.Lock()
	defer mu.Unlock()
	wantOwners := map[uint64]domain.Owner{2: alice, 3: alice, 4: bob, 5: bob, 6: alice}
	for seq, o := range wantOwners {
		if owners[seq] != o {
			t.Errorf("refused message %d: owner %v, want %v", seq, owners[seq], o)
		}
	}
	if n := fs.Rejected(); n != 5 {
		t.Errorf("Rejected = %d, want 5", n)
	}
	log := logged.String()
	for seq := range wantOwners {
		if n := strings.Count(log, "seq="+string(rune('0'+seq))+" "); n != 1 {
			t.Errorf("message %d logged %d times, want once:\n%s", seq, n, log)
		}
	}
	if strings.Contains(log, "forged") || strings.Contains(log, `"v"`) {
		t.Errorf("the log shows an event's content:\n%s", log)
	}
}

func TestSign_KeyRotation(t *testing.T) {
	js := runJetStream(t)
	ctx := t.Context()
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	open := func(keys ...[]byte) *eventstore.Store {
		t.Helper()
		s, err := eventstore.Open(ctx, js, eventstore.Config{Keys: mustKeys(keys...)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	owner := domain.UserAttrsOwner("zusr1")
	old := open(k1)
	if _, err := old.Append(ctx, attrEvent(owner, "old"), 0); err != nil { // 1, signed with k1
		t.Fatal(err)
	}
	rotated := open(k2, k1)                                                    // the new key first: it signs, both verify
	if _, err := rotated.Append(ctx, attrEvent(owner, "new"), 1); err != nil { // 2, signed with k2
		t.Fatal(err)
	}
	if got := readAll(t, rotated); got[1] != nil || got[2] != nil || len(got) != 2 {
		t.Fatalf("rotated keys read %v, want both events", got)
	}
	if got := readAll(t, open(k1)); got[1] != nil || !errors.Is(got[2], eventstore.ErrBadSignature) {
		t.Fatalf("the old key alone read %v, want event 1 and a bad signature at 2", got)
	}
	if got := readAll(t, open(k2)); !errors.Is(got[1], eventstore.ErrBadSignature) || got[2] != nil {
		t.Fatalf("the new key alone read %v, want a bad signature at 1 and event 2", got)
	}
	// The high-water mark, signed with k1, is still trusted after rotation.
	if m := rotated.SignedFrom(); m != 1 {
		t.Fatalf("SignedFrom after rotation = %d, want 1", m)
	}
}

func TestSign_UnsignedAcceptedOnlyBelowTheMark(t *testing.T) {
	js := runJetStream(t)
	ctx := t.Context()
	// A stream written before signing existed: no mark, unsigned events.
	st, err := js.CreateStream(ctx, eventstore.StreamConfig(eventstore.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	owner := domain.UserAttrsOwner("zusr1")
	for _, name := range []string{"legacy1", "legacy2"} {
		if _, err := js.Publish(ctx, eventstore.Subject(owner), encoded(t, attrEvent(owner, name))); err != nil {
			t.Fatal(err)
		}
	}
	s, err := eventstore.Open(ctx, js, eventstore.Config{Keys: testKeys})
	if err != nil {
		t.Fatal(err)
	}
	if m := s.SignedFrom(); m != 3 {
		t.Fatalf("SignedFrom of a stream with 2 unsigned events = %d, want 3", m)
	}
	if _, err := s.Append(ctx, attrEvent(owner, "signed"), 2); err != nil { // 3
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, eventstore.Subject(owner), encoded(t, attrEvent(owner, "late"))); err != nil { // 4
		t.Fatal(err)
	}
	// Opening again keeps the mark where it was set.
	if s, err = eventstore.Open(ctx, js, eventstore.Config{Keys: testKeys}); err != nil || s.SignedFrom() != 3 {
		t.Fatalf("reopened: SignedFrom %d (err %v), want 3", s.SignedFrom(), err)
	}
	got := readAll(t, s)
	if got[1] != nil || got[2] != nil || got[3] != nil || !errors.Is(got[4], eventstore.ErrUnsigned) {
		t.Fatalf("read %v, want events 1-3 and 4 refused as unsigned", got)
	}

	// A mark changed by someone without the key counts for nothing: every
	// event must then be signed.
	cfg := st.CachedInfo().Config
	info, err := s.Stream().Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Metadata = info.Config.Metadata
	cfg.Metadata["ssoattr_signed_from"] = "100"
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	r, err := eventstore.Attach(ctx, js, eventstore.Config{Keys: testKeys})
	if err != nil {
		t.Fatal(err)
	}
	if m := r.SignedFrom(); m != 1 {
		t.Fatalf("SignedFrom with a forged mark = %d, want 1", m)
	}
	if got := readAll(t, r); !errors.Is(got[1], eventstore.ErrUnsigned) || got[3] != nil {
		t.Fatalf("with a forged mark read %v, want 1 refused as unsigned, 3 read", got)
	}
}

func TestSign_NewStreamMarkIsOne(t *testing.T) {
	s, js := openStore(t)
	if m := s.SignedFrom(); m != 1 {
		t.Fatalf("SignedFrom of a new stream = %d, want 1", m)
	}
	if _, err := js.Publish(t.Context(), "sso.uattr.zusr1", encoded(t, attrEvent(domain.UserAttrsOwner("zusr1"), "n"))); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s); !errors.Is(got[1], eventstore.ErrUnsigned) {
		t.Fatalf("an unsigned event on a new stream: %v, want ErrUnsigned", got[1])
	}
}

func TestSign_OpenAndAttachNeedKeys(t *testing.T) {
	js := runJetStream(t)
	if _, err := eventstore.Open(t.Context(), js, eventstore.Config{}); err == nil {
		t.Fatal("Open without keys succeeded")
	}
	if _, err := eventstore.Attach(t.Context(), js, eventstore.Config{}); err == nil {
		t.Fatal("Attach without keys succeeded")
	}
	if _, err := eventstore.NewKeys([]byte("short")); err == nil {
		t.Fatal("NewKeys accepted a 5-byte key")
	}
}

// lockedBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
