package eventstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

// TestStore_Counts: the store counts what it appended, by kind, one by one
// and in atomic batches, and the appends the stream refused as conflicts;
// StoredAt tells when a message was stored.
func TestStore_Counts(t *testing.T) {
	s, _ := openStore(t)
	ctx := t.Context()
	a, b := domain.UserAttrsOwner("zusr1"), domain.UserAttrsOwner("zusr2")
	before := time.Now()
	seq, err := s.Append(ctx, attrEvent(a, "x"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, attrEvent(a, "y"), 0); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("Append expecting 0 again = %v, want ErrConflict", err)
	}
	del := attrEvent(b, "z")
	del.Kind = domain.KindAttrDeleted
	if _, err := s.AppendAll(ctx, []domain.Pending{{Event: attrEvent(a, "y"), Expected: seq}, {Event: del}}); err != nil {
		t.Fatalf("AppendAll: %v", err)
	}
	got := map[string]uint64{}
	s.Appended(func(kind string, n uint64) { got[kind] = n })
	want := attrEvent(a, "x").Kind
	if got[want] != 2 || got[domain.KindAttrDeleted] != 1 || got["other"] != 0 {
		t.Fatalf("Appended = %v, want %s: 2, %s: 1, other: 0", got, want, domain.KindAttrDeleted)
	}
	if c := s.Conflicts(); c != 1 {
		t.Fatalf("Conflicts = %d, want 1", c)
	}
	at, err := s.StoredAt(ctx, seq)
	if err != nil || at.Before(before.Add(-time.Second)) || at.After(time.Now().Add(time.Second)) {
		t.Fatalf("StoredAt(%d) = %v, %v; want about %v", seq, at, err, before)
	}
	if _, err := s.StoredAt(ctx, seq+100); err == nil {
		t.Fatal("StoredAt of a sequence not stored: no error")
	}
}
