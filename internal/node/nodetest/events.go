package nodetest

import (
	"context"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/eventstore"
)

// OwnerEvents returns the events the stream holds for owner, in order. It
// fails the test if the stream cannot be read.
func (i *Instance) OwnerEvents(o domain.Owner) []domain.Event {
	i.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []domain.Event
	err := i.Store.Read(ctx, []string{eventstore.Subject(o)}, 0, func(_ uint64, e domain.Event, err error) {
		if err == nil {
			out = append(out, e)
		}
	})
	if err != nil {
		i.t.Fatalf("read events of %s: %v", o, err)
	}
	return out
}

// SessionID returns the internal session id a UST seals (tests only: clients
// never see it).
func SessionID(t testing.TB, ust string) string {
	t.Helper()
	sid, err := Keys.OpenUST(ust)
	if err != nil {
		t.Fatalf("open UST: %v", err)
	}
	return sid
}
