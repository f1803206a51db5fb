package projections

import (
	"math"
	"testing"
)

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// waits closes each awaited sequence's channel once the view reaches it,
// and only then; waiters of one sequence share its channel, and nothing is
// left registered once everything awaited is applied.
func TestWaits_WakeOnlyWhatIsApplied(t *testing.T) {
	v := NewView(nil)
	w := &v.waits
	five, three := w.channel(5), w.channel(3)
	if again := w.channel(5); again != five {
		t.Fatal("two waiters of sequence 5 got different channels")
	}
	if got := w.next.Load(); got != 3 {
		t.Fatalf("next = %d, want 3", got)
	}
	v.advance(2)
	if closed(three) || closed(five) {
		t.Fatal("a channel closed at sequence 2")
	}
	v.advance(4)
	if !closed(three) || closed(five) {
		t.Fatalf("at sequence 4: 3 closed %v, 5 closed %v; want true, false", closed(three), closed(five))
	}
	if got := w.next.Load(); got != 5 {
		t.Fatalf("next = %d, want 5", got)
	}
	v.advance(9)
	if !closed(five) {
		t.Fatal("5 not closed at sequence 9")
	}
	if len(w.chs) != 0 || len(w.seqs) != 0 || w.next.Load() != math.MaxUint64 {
		t.Fatalf("after everything awaited was applied: %d channels, %d sequences, next %d; want none", len(w.chs), len(w.seqs), w.next.Load())
	}
}
