package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/projections"
)

// benchView returns a view with n users and their ids.
func benchView(n int) (*projections.View, []string, uint64) {
	v := projections.NewView(time.Now)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = domain.NewUserID()
		v.Apply(domain.Event{Kind: domain.KindUserCreated, Owner: domain.UserOwner(ids[i]),
			Data: domain.EventData{User: &domain.User{ID: ids[i], Username: fmt.Sprintf("user-%06d", i)}}}, uint64(i+1))
	}
	return v, ids, uint64(n)
}

var benchValue = json.RawMessage(`"0123456789abcdef0123456789abcdef"`)

// BenchmarkApply_AttrSet applies one-attribute attr.set events round-robin
// over 1000 users with 10 names each: the steady state of a busy view
// (replacing values), which is what the follower does for every PUT.
func BenchmarkApply_AttrSet(b *testing.B) {
	v, ids, seq := benchView(1000)
	now := domain.Truncate(time.Now())
	names := make([]string, 10)
	for i := range names {
		names[i] = fmt.Sprintf("bench-attr-%05d", i)
	}
	events := make([]domain.Event, 0, len(ids)*len(names))
	for _, n := range names {
		for _, id := range ids {
			events = append(events, domain.Event{Kind: domain.KindAttrSet, Owner: domain.UserAttrsOwner(id),
				Data: domain.EventData{Attrs: []domain.Attr{{Name: n, Value: benchValue, Created: now, Modified: now, Expires: domain.Never}}}})
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		seq++
		v.Apply(events[i%len(events)], seq)
		i++
	}
}

// BenchmarkApply_AttrSetMany is one PUT with a data list of ten.
func BenchmarkApply_AttrSetMany(b *testing.B) {
	v, ids, seq := benchView(1000)
	now := domain.Truncate(time.Now())
	attrs := make([]domain.Attr, 10)
	for i := range attrs {
		attrs[i] = domain.Attr{Name: fmt.Sprintf("bench-many-%05d", i), Value: benchValue, Created: now, Modified: now, Expires: domain.Never}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		seq++
		v.Apply(domain.Event{Kind: domain.KindAttrSet, Owner: domain.UserAttrsOwner(ids[i%len(ids)]),
			Data: domain.EventData{Attrs: attrs}}, seq)
		i++
	}
}

// BenchmarkGet is one attribute read from a view of 1000 users with 10
// attributes each.
func BenchmarkGet(b *testing.B) {
	v, ids, seq := benchView(1000)
	now := domain.Truncate(time.Now())
	for _, id := range ids {
		for j := range 10 {
			seq++
			v.Apply(domain.Event{Kind: domain.KindAttrSet, Owner: domain.UserAttrsOwner(id),
				Data: domain.EventData{Attrs: []domain.Attr{{Name: fmt.Sprintf("bench-attr-%05d", j), Value: benchValue,
					Created: now, Modified: now, Expires: domain.Never}}}}, seq)
		}
	}
	owner := domain.UserAttrsOwner(ids[len(ids)/2])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Get(owner, "bench-attr-00003"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSnapshot is what a write decides against: the owner's sequence
// and the named attributes.
func BenchmarkSnapshot(b *testing.B) {
	v, ids, seq := benchView(10)
	now := domain.Truncate(time.Now())
	seq++
	v.Apply(domain.Event{Kind: domain.KindAttrSet, Owner: domain.UserAttrsOwner(ids[0]),
		Data: domain.EventData{Attrs: []domain.Attr{{Name: "bench-attr-00001", Value: benchValue,
			Created: now, Modified: now, Expires: domain.Never}}}}, seq)
	owner, names := domain.UserAttrsOwner(ids[0]), []string{"bench-attr-00001"}
	b.ReportAllocs()
	for b.Loop() {
		if s, m := v.Snapshot(owner, names); s != seq || len(m) != 1 {
			b.Fatalf("Snapshot = %d, %d attributes", s, len(m))
		}
	}
}

// BenchmarkApply_WhileCatchingUp is the start-up rebuild's loop: events
// applied one after another while CatchUp waits for the last one.
func BenchmarkApply_WhileCatchingUp(b *testing.B) {
	v, ids, seq := benchView(1000)
	now := domain.Truncate(time.Now())
	e := domain.Event{Kind: domain.KindAttrSet, Data: domain.EventData{Attrs: []domain.Attr{{Name: "bench-attr-00001",
		Value: benchValue, Created: now, Modified: now, Expires: domain.Never}}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- v.WaitApplied(ctx, math.MaxUint64) }()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		seq++
		e.Owner = domain.UserAttrsOwner(ids[i%len(ids)])
		v.Handle(seq, e, nil)
		i++
	}
	b.StopTimer()
	cancel()
	<-done
}

// BenchmarkApply_AtScale replaces attributes at random in a view holding
// a million (10,000 users with 100 each): the start-up rebuild's apply
// once the maps no longer fit in the caches.
func BenchmarkApply_AtScale(b *testing.B) {
	v, ids, seq := benchView(10000)
	now := domain.Truncate(time.Now())
	names := make([]string, 100)
	for i := range names {
		names[i] = fmt.Sprintf("bench-attr-%05d", i)
	}
	event := func(id, name string) domain.Event {
		return domain.Event{Kind: domain.KindAttrSet, Owner: domain.UserAttrsOwner(id),
			Data: domain.EventData{Attrs: []domain.Attr{{Name: name, Value: benchValue, Created: now, Modified: now, Expires: domain.Never}}}}
	}
	for _, n := range names {
		for _, id := range ids {
			seq++
			v.Apply(event(id, n), seq)
		}
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		seq++
		// A fresh copy of the name, as decoding a stored event makes: the
		// view's key must then be found by its bytes, not its pointer.
		v.Apply(event(ids[rnd.IntN(len(ids))], strings.Clone(names[rnd.IntN(len(names))])), seq)
	}
}
