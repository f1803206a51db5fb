package eventstore

import (
	"bytes"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/jsontext"
)

// ownEvents hands the attribute events this process appends to its own
// follower, so that the follower need not verify and decode the stored
// copy of an event it already holds: under writes that work competes with
// the writers for the cores, and set_vs_thin_write needs it saved
// (docs/PERFORMANCE.md, "Ninth session"). The follower still receives every message, in
// stream order, and takes an event from here only when the stored bytes
// are exactly the bytes that were published for it; anything else it
// decodes as usual. So the view applies the same events in the same order
// either way, provided an event handed over is the one Decode would
// return, which roundTrips checks before an event is offered.
type ownEvents struct {
	following atomic.Int32 // running Follow calls: without one, nothing is kept
	taken     atomic.Int64 // events handed over, for the tests
	mu        sync.Mutex
	bySubject map[string]ownEvent
}

type ownEvent struct {
	data []byte
	sig  string // its signature: a copy of the bytes without it is not ours
	e    domain.Event
}

// offer keeps e, encoded as data and signed with sig, for the follower
// while it is published on subject. It reports whether it did; a caller
// that got true calls withdraw if the publish fails.
func (o *ownEvents) offer(subject string, data []byte, sig string, e domain.Event) bool {
	if o.following.Load() == 0 || !roundTrips(e) {
		return false
	}
	o.mu.Lock()
	if o.bySubject == nil {
		o.bySubject = make(map[string]ownEvent)
	}
	// Another append in flight on this subject loses its entry: at most
	// one of the two is stored, and the follower decodes whichever it is
	// if the bytes differ.
	o.bySubject[subject] = ownEvent{data: data, sig: sig, e: e}
	o.mu.Unlock()
	return true
}

// withdraw forgets what offer kept for subject, if it is still data.
func (o *ownEvents) withdraw(subject string, data []byte) {
	o.mu.Lock()
	if own, ok := o.bySubject[subject]; ok && sameBytes(own.data, data) {
		delete(o.bySubject, subject)
	}
	o.mu.Unlock()
}

// take returns the event offered for subject if data and sig, the stored
// message and its signature, are what was published for it: the same bytes
// on the same subject with the same signature are the event this process
// signed, so the follower need not verify it.
func (o *ownEvents) take(subject string, data []byte, sig string) (domain.Event, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	own, ok := o.bySubject[subject]
	if !ok || own.sig != sig || !bytes.Equal(own.data, data) {
		return domain.Event{}, false
	}
	delete(o.bySubject, subject)
	o.taken.Add(1)
	return own.e, true
}

// follow registers a running follower until the returned func is called;
// the last one to stop clears what is kept.
func (o *ownEvents) follow() (stop func()) {
	o.following.Add(1)
	return func() {
		if o.following.Add(-1) == 0 {
			o.mu.Lock()
			clear(o.bySubject)
			o.mu.Unlock()
		}
	}
}

// sameBytes reports whether a and b are the same slice (not only equal).
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// roundTrips reports whether Decode(Encode(e)) is e exactly (as
// reflect.DeepEqual sees it), for the attribute events it accepts: every
// string valid UTF-8 (Encode replaces invalid bytes), every value compact
// JSON with nothing json.Marshal would escape (Encode rewrites it), every
// time in UTC without a monotonic reading, and nothing in the data but the
// attributes or the names. FuzzRoundTrips checks that claim.
func roundTrips(e domain.Event) bool {
	switch e.Kind {
	case domain.KindAttrCreated, domain.KindAttrSet, domain.KindAttrUpdated:
		if len(e.Data.Attrs) == 0 || e.Data.Names != nil {
			return false
		}
	case domain.KindAttrDeleted:
		if len(e.Data.Names) == 0 || e.Data.Attrs != nil {
			return false
		}
	default:
		return false
	}
	d := e.Data
	if d.User != nil || d.Changed != nil || d.Session != nil || d.Reason != "" || d.Username != "" || d.UserID != "" {
		return false
	}
	if !validUTF8(e.ID, e.Owner.User, e.Owner.Session, e.Actor, e.App, e.RemoteAddr, e.CID) ||
		!validUTF8(d.Names...) || !plainTime(e.Time) {
		return false
	}
	for _, a := range d.Attrs {
		if !utf8.ValidString(a.Name) || len(a.Value) == 0 || !utf8.Valid(a.Value) || !jsontext.IsCompact(a.Value) ||
			!plainTime(a.Created) || !plainTime(a.Modified) || !plainTime(a.Expires) {
			return false
		}
	}
	return true
}

func validUTF8(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// plainTime reports whether t is as Decode returns a time: UTC, no
// monotonic clock reading.
func plainTime(t time.Time) bool { return t == t.UTC().Round(0) }
