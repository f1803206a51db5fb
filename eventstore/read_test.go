package eventstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/eventstore"
)

// rdStore opens a store on a fresh embedded JetStream server.
func rdStore(t *testing.T) *eventstore.Store {
	t.Helper()
	s, _ := openStore(t)
	return s
}

// rdAppend appends an attribute event to o and returns its sequence.
func rdAppend(t *testing.T, s *eventstore.Store, o domain.Owner, expected uint64) uint64 {
	t.Helper()
	now := time.Now().UTC()
	e := domain.Event{ID: eventstore.NewID(), Kind: domain.KindAttrSet, Owner: o, Time: now,
		Data: domain.EventData{Attrs: []domain.Attr{{Name: "n", Value: json.RawMessage(`1`),
			Created: now, Modified: now, Expires: domain.Never}}}}
	seq, err := s.Append(t.Context(), e, expected)
	if err != nil {
		t.Fatalf("Append to %s: %v", o, err)
	}
	return seq
}

// rdScan collects the sequences Scan delivers, with a deadline: Scan must
// return by itself.
func rdScan(t *testing.T, s *eventstore.Store, filters []string, from, to uint64, stopAfter int) []uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	var got []uint64
	err := s.Scan(ctx, filters, from, to, func(m eventstore.Msg) bool {
		if m.Err != nil {
			t.Errorf("message %d: %v", m.Seq, m.Err)
		}
		got = append(got, m.Seq)
		return len(got) != stopAfter
	})
	if err != nil {
		t.Fatalf("Scan(%v, %d, %d) = %v, want it to end by itself", filters, from, to, err)
	}
	return got
}

func TestScan(t *testing.T) {
	s := rdStore(t)
	alice, bob := domain.UserAttrsOwner("zusra"), domain.UserAttrsOwner("zusrb")
	sess := domain.SessionAttrsOwner("zusra", "zust1")
	var aliceSeqs, sessSeqs []uint64
	var la, lb, ls uint64
	for i := range 4 {
		la = rdAppend(t, s, alice, la)
		aliceSeqs = append(aliceSeqs, la)
		lb = rdAppend(t, s, bob, lb)
		if i%2 == 0 {
			ls = rdAppend(t, s, sess, ls)
			sessSeqs = append(sessSeqs, ls)
		}
	}
	lb = rdAppend(t, s, bob, lb) // the stream ends with another owner's event
	aliceFilter := eventstore.Subject(alice)
	both := slices.Sorted(slices.Values(append(slices.Clone(aliceSeqs), sessSeqs...)))

	for _, tc := range []struct {
		name      string
		filters   []string
		from, to  uint64
		stopAfter int
		want      []uint64
	}{
		{"one owner, ending before the stream does", []string{aliceFilter}, 1, 0, 0, aliceSeqs},
		{"several filters, in stream order", eventstore.UserFilters("zusra", domain.OwnerUserAttrs, domain.OwnerSessionAttrs), 0, 0, 0, both},
		{"from a sequence", []string{aliceFilter}, aliceSeqs[2], 0, 0, aliceSeqs[2:]},
		{"up to a sequence", []string{aliceFilter}, 1, aliceSeqs[1] + 1, 0, aliceSeqs[:2]},
		{"stopped by the handler", []string{aliceFilter}, 1, 0, 3, aliceSeqs[:3]},
		{"past the end", []string{aliceFilter}, lb + 1, 0, 0, nil},
		{"a subject without messages", []string{"sso.uattr.zusrnobody"}, 1, 0, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := rdScan(t, s, tc.filters, tc.from, tc.to, tc.stopAfter); !slices.Equal(got, tc.want) {
				t.Fatalf("Scan = %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("Read with a filter ends at the stream's end", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		var got []uint64
		err := s.Read(ctx, []string{aliceFilter}, 0, func(seq uint64, _ domain.Event, _ error) { got = append(got, seq) })
		if err != nil || !slices.Equal(got, aliceSeqs) {
			t.Fatalf("Read = %v, %v; want %v, nil", got, err, aliceSeqs)
		}
	})

	t.Run("ReadOwners", func(t *testing.T) {
		var got []uint64
		err := s.ReadOwners(t.Context(), []domain.Owner{alice, sess}, 1, func(seq uint64, e domain.Event) bool {
			got = append(got, seq)
			return true
		})
		if err != nil || !slices.Equal(got, both) {
			t.Fatalf("ReadOwners = %v, %v; want %v, nil", got, err, both)
		}
	})

	t.Run("SessionUser and HasEvents", func(t *testing.T) {
		if _, err := s.Append(t.Context(), domain.Event{ID: eventstore.NewID(), Kind: domain.KindSessionCreated,
			Owner: domain.SessionOwner("zusra", "zust1"), Time: time.Now(),
			Data: domain.EventData{Session: &domain.Session{ID: "zust1", UserID: "zusra"}}}, 0); err != nil {
			t.Fatal(err)
		}
		for sid, want := range map[string]string{"zust1": "zusra", "zust2": "", "not a token!": ""} {
			if got, err := s.SessionUser(t.Context(), sid); err != nil || got != want {
				t.Fatalf("SessionUser(%q) = %q, %v; want %q", sid, got, err, want)
			}
		}
		for o, want := range map[domain.Owner]bool{alice: true, domain.UserOwner("zusra"): false} {
			if got, err := s.HasEvents(t.Context(), o); err != nil || got != want {
				t.Fatalf("HasEvents(%s) = %v, %v; want %v", o, got, err, want)
			}
		}
	})
}

func TestTail_ResumesWithoutGapOrDuplicate(t *testing.T) {
	s := rdStore(t)
	alice, bob := domain.UserAttrsOwner("zusra"), domain.UserAttrsOwner("zusrb")
	var la, lb uint64
	la = rdAppend(t, s, alice, la) // before the tail: not delivered

	// tail follows alice's attributes from `from` until it has n events.
	tail := func(from uint64, n int, during func()) []uint64 {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		errStop := errors.New("enough")
		var got []uint64
		done := make(chan error, 1)
		go func() {
			done <- s.TailEvents(ctx, "zusra", []string{domain.KindAttrSet}, from, func(seq uint64, e domain.Event, data []byte) error {
				if e.Owner != alice || len(data) == 0 {
					t.Errorf("event %d of %s with %d bytes, want alice's", seq, e.Owner, len(data))
				}
				got = append(got, seq)
				if len(got) == n {
					return errStop
				}
				return nil
			}, nil)
		}()
		during()
		if err := <-done; !errors.Is(err, errStop) {
			t.Fatalf("TailEvents = %v, want the handler's error", err)
		}
		return got
	}
	var want []uint64
	first := tail(la+1, 3, func() {
		for range 5 {
			la = rdAppend(t, s, alice, la)
			want = append(want, la)
			lb = rdAppend(t, s, bob, lb)
		}
	})
	rest := tail(first[len(first)-1]+1, 2, func() {})
	if got := append(first, rest...); !slices.Equal(got, want) {
		t.Fatalf("tailed %v then %v, want %v", first, rest, want)
	}
}

func TestUserFilters(t *testing.T) {
	for _, tc := range []struct {
		user  string
		kinds []domain.OwnerKind
		want  []string
	}{
		{"", nil, []string{"sso.>"}},
		{"zusra", nil, []string{"sso.user.zusra", "sso.uattr.zusra", "sso.session.zusra.*", "sso.sattr.zusra.*"}},
		{"zusra", []domain.OwnerKind{domain.OwnerUserAttrs, domain.OwnerSessionAttrs, domain.OwnerUsername},
			[]string{"sso.uattr.zusra", "sso.sattr.zusra.*"}},
		{"", []domain.OwnerKind{domain.OwnerUserAttrs, domain.OwnerUsername}, []string{"sso.uattr.*", "sso.username.*"}},
	} {
		if got := eventstore.UserFilters(tc.user, tc.kinds...); !slices.Equal(got, tc.want) {
			t.Errorf("UserFilters(%q, %v) = %v, want %v", tc.user, tc.kinds, got, tc.want)
		}
	}
}
