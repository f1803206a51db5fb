package eventstore_test

import (
	"testing"

	"github.com/ssoattr/ssoattr/domain"
)

func TestLanded(t *testing.T) {
	s, _ := openStore(t)
	owner := domain.UserAttrsOwner("zusrlanded")
	stored := attrEvent(owner, "a")
	seq, err := s.Append(t.Context(), stored, 0)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}

	t.Run("the_last_event_of_its_subject", func(t *testing.T) {
		got, ok, err := s.Landed(t.Context(), stored, 0)
		if err != nil || !ok || got != seq {
			t.Fatalf("Landed = (%d, %v, %v), want (%d, true, nil)", got, ok, err, seq)
		}
	})
	t.Run("an_event_never_stored", func(t *testing.T) {
		if _, ok, err := s.Landed(t.Context(), attrEvent(owner, "b"), 0); ok || err != nil {
			t.Fatalf("Landed(never stored) = (%v, %v), want (false, nil)", ok, err)
		}
	})
	t.Run("a_subject_without_events", func(t *testing.T) {
		if _, ok, err := s.Landed(t.Context(), attrEvent(domain.UserAttrsOwner("zusrempty"), "a"), 0); ok || err != nil {
			t.Fatalf("Landed(empty subject) = (%v, %v), want (false, nil)", ok, err)
		}
	})
	t.Run("found_after_a_later_event", func(t *testing.T) {
		if _, err := s.Append(t.Context(), attrEvent(owner, "c"), seq); err != nil {
			t.Fatalf("Append: %v", err)
		}
		// A writer whose acknowledgement was lost must not be told it
		// failed because someone wrote after it.
		got, ok, err := s.Landed(t.Context(), stored, 0)
		if err != nil || !ok || got != seq {
			t.Fatalf("Landed after a later event = (%d, %v, %v), want (%d, true, nil)", got, ok, err, seq)
		}
	})
}
