package eventstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/eventstore"
)

// The follower takes this process's attribute events from the writers
// that appended them, and decodes everything else: another process's
// events, events that would not survive encoding unchanged, and the copy
// of an append that lost to a conflict. Either way it gets exactly the
// event Decode makes of the stored message, and nothing is left waiting.
func TestFollow_OwnEventsHandedOver(t *testing.T) {
	s, js := openStore(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var (
		mu  sync.Mutex
		got = map[uint64]domain.Event{}
	)
	done := make(chan error, 1)
	go func() {
		done <- s.Follow(ctx, 0, func(seq uint64, e domain.Event, err error) {
			if err != nil {
				t.Errorf("message %d: %v", seq, err)
			}
			mu.Lock()
			got[seq] = e
			mu.Unlock()
		})
	}()
	// Appends made before the follower runs are not kept for it: wait
	// until it has delivered a first event.
	first, err := eventstore.Encode(attrEvent(domain.UserAttrsOwner("zusr0"), "first"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.PublishMsg(ctx, signed(eventstore.Subject(domain.UserAttrsOwner("zusr0")), first)); err != nil {
		t.Fatal(err)
	}
	waitFollowed := func(seq uint64) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			mu.Lock()
			_, ok := got[seq]
			mu.Unlock()
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("event %d not followed", seq)
			}
		}
	}
	waitFollowed(1)

	owner := domain.UserAttrsOwner("zusr1")
	seq, err := s.Append(ctx, attrEvent(owner, "a"), 0) // handed over
	if err != nil {
		t.Fatal(err)
	}
	// An append returns once stored, not once followed; the next one on
	// the same subject would take its place in the hand-over (and the
	// follower decode this one) if it came first.
	waitFollowed(seq)
	spaced := attrEvent(owner, "b")
	spaced.Data.Attrs[0].Value = json.RawMessage(`{ "x": "<y>" }`) // stored compacted and escaped
	if seq, err = s.Append(ctx, spaced, seq); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, attrEvent(owner, "lost"), 0); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("stale append: %v, want ErrConflict", err)
	}
	other, err := eventstore.Encode(attrEvent(owner, "other")) // another process's
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.PublishMsg(ctx, signed(eventstore.Subject(owner), other)); err != nil {
		t.Fatal(err)
	}
	deleted := domain.Event{ID: eventstore.NewID(), Kind: domain.KindAttrDeleted, Owner: owner,
		Time: domain.Truncate(time.Now()), Data: domain.EventData{Names: []string{"a"}}}
	last, err := s.Append(ctx, deleted, seq+1) // handed over
	if err != nil {
		t.Fatal(err)
	}

	waitFollowed(last)
	if n := s.OwnEventsTaken(); n != 2 {
		t.Errorf("%d events handed over, want 2 (the plain set and the delete)", n)
	}
	if n := s.OwnEventsKept(); n != 0 {
		t.Errorf("%d events still kept for the follower, want 0", n)
	}
	err = s.Scan(ctx, nil, 1, last, func(m eventstore.Msg) bool {
		mu.Lock()
		e := got[m.Seq]
		mu.Unlock()
		if !reflect.DeepEqual(e, m.Event) {
			t.Errorf("event %d: the follower got %+v, Decode gives %+v", m.Seq, e, m.Event)
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
}

// The events the service writes for attribute changes are handed over
// (the benchmark's PUT among them); others are not.
func TestRoundTrips_WhatTheServiceWrites(t *testing.T) {
	if !eventstore.RoundTrips(benchAttrEvent()) {
		t.Error("a PUT's attr.set event is not handed over")
	}
	for _, e := range sampleEvents()[2:] {
		if eventstore.RoundTrips(e) {
			t.Errorf("%s event would be handed over", e.Kind)
		}
	}
	withClock := benchAttrEvent()
	withClock.Time = time.Now() // a monotonic reading and the local zone
	if eventstore.RoundTrips(withClock) {
		t.Error("an event with a monotonic time would be handed over")
	}
}

// FuzzRoundTrips checks roundTrips' claim: an attribute event it accepts
// decodes from its encoding to exactly itself (reflect.DeepEqual), so
// handing it to the follower changes nothing.
func FuzzRoundTrips(f *testing.F) {
	f.Add("bench-attr-00001", []byte(`"0123456789abcdef"`), "CRM", int64(1777636800123456000), uint8(0), false)
	f.Add("a\u2028b", []byte(`{"k":[1,2.5e3,null,true]}`), "", int64(0), uint8(3), true)
	f.Add("x", []byte(`"<&>"`), "C\xffRM", int64(-62135596800000000000/1000), uint8(1), false)
	f.Fuzz(func(t *testing.T, name string, value []byte, app string, nanos int64, kind uint8, encrypted bool) {
		at := time.Unix(0, nanos).UTC()
		e := domain.Event{ID: eventstore.NewID(), Owner: domain.SessionAttrsOwner("zusr1", "zust2"), Time: at,
			Actor: "zusr1", App: app, RemoteAddr: "::1", CID: name}
		switch kind % 4 {
		case 0:
			e.Kind = domain.KindAttrSet
		case 1:
			e.Kind = domain.KindAttrCreated
		case 2:
			e.Kind = domain.KindAttrUpdated
		case 3:
			e.Kind = domain.KindAttrDeleted
			e.Data.Names = []string{name, app}
		}
		if e.Kind != domain.KindAttrDeleted {
			e.Data.Attrs = []domain.Attr{{Name: name, Value: value, Encrypted: encrypted,
				Created: at, Modified: at.Add(time.Duration(nanos % 1000)), Expires: domain.Never}}
		}
		if !eventstore.RoundTrips(e) {
			return
		}
		data, err := eventstore.Encode(e)
		if err != nil {
			return // not an event the service could store (a year beyond 9999)
		}
		back, err := eventstore.Decode(data)
		if err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
		if !reflect.DeepEqual(back, e) {
			t.Fatalf("handed over %+v, but the stored copy decodes to %+v", e, back)
		}
	})
}

// TestRoundTrips_KnowsEveryField guards the hand-over against a field added
// later: roundTrips names each field of an event it accepts, and a field it
// does not name would be handed over unchecked, so this process's view
// could hold what the stored copy does not decode to. When this fails,
// teach roundTrips (and FuzzRoundTrips) the new field, then add it here.
func TestRoundTrips_KnowsEveryField(t *testing.T) {
	known := map[reflect.Type][]string{
		reflect.TypeFor[domain.Event]():     {"ID", "Kind", "Owner", "Time", "Actor", "App", "RemoteAddr", "CID", "Data"},
		reflect.TypeFor[domain.Owner]():     {"Kind", "User", "Session"},
		reflect.TypeFor[domain.EventData](): {"Attrs", "Names", "User", "Changed", "Session", "Reason", "Username", "UserID"},
		reflect.TypeFor[domain.Attr]():      {"Name", "Value", "Encrypted", "Created", "Modified", "Expires"},
	}
	for typ, names := range known {
		var got []string
		for i := range typ.NumField() {
			got = append(got, typ.Field(i).Name)
		}
		if !slices.Equal(got, names) {
			t.Errorf("%v has fields %q; roundTrips was written for %q", typ, got, names)
		}
	}
}
