package projections

import (
	"container/heap"
	"context"
	"encoding/json"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unique"

	"github.com/ssoattr/ssoattr/domain"
)

// attrName is an attribute's name as the view's maps key it: interned
// with unique.Make. Applications give all their users the same names, so
// every owner holding a name shares one copy of it, and a map probe
// compares a pointer where it would otherwise read the name's bytes: at a
// million attributes those are a cache miss away, in a start-up rebuild as
// in each write.
type attrName = unique.Handle[string]

// attrVal is an attribute as the view keeps it: compact, because the view
// holds every live attribute of every user in memory.
type attrVal struct {
	value                     string // JSON text (ciphertext JSON string when enc)
	created, modified, expiry int64  // Unix microseconds
	enc                       bool
}

func toVal(a *domain.Attr) attrVal {
	return attrVal{value: string(a.Value), created: a.Created.UnixMicro(),
		modified: a.Modified.UnixMicro(), expiry: a.Expires.UnixMicro(), enc: a.Encrypted}
}

func (v *attrVal) attr(name string) domain.Attr {
	return domain.Attr{Name: name, Value: json.RawMessage(v.value), Encrypted: v.enc,
		Created: time.UnixMicro(v.created).UTC(), Modified: time.UnixMicro(v.modified).UTC(),
		Expires: time.UnixMicro(v.expiry).UTC()}
}

// attrSet is one owner's attributes and the sequence of its last event.
type attrSet struct {
	seq   uint64
	attrs map[attrName]attrVal
}

type userEntry struct {
	user *domain.User // replaced, never changed in place: readers may keep it
	seq  uint64
}

type sessionEntry struct {
	sess *domain.Session // replaced, never changed in place
	seq  uint64
}

type claim struct {
	userID, username string
	seq              uint64
}

// View is the in-memory projection of the stream.
type View struct {
	now func() time.Time

	mu           sync.RWMutex
	users        map[string]userEntry           // by user id
	claims       map[string]claim               // by username-claim token
	byName       map[string]string              // username -> user id
	signups      map[string]string              // sign-up token hash -> user id
	sessions     map[string]sessionEntry        // by session id
	userSessions map[string]map[string]struct{} // user id -> session ids
	uattrs       map[string]*attrSet            // by user id
	sattrs       map[string]*attrSet            // by session id
	skipped      uint64                         // messages refused (see Skipped)
	kinds        map[string]uint64              // events applied, by kind (see AppliedKinds)

	applied atomic.Uint64
	waits   waits
	sweeps  sweepCounts
}

// waits are the sequences callers of WaitApplied are waiting for. Each
// awaited sequence has one channel, closed when the view applies it, so a
// waiter wakes once, when its own sequence is there: under a write load
// dozens of requests wait for the view at once, each for a sequence of its
// own, and one channel closed at every applied event woke all of them at
// every event.
type waits struct {
	next atomic.Uint64 // lowest awaited sequence; math.MaxUint64 when nobody waits
	mu   sync.Mutex
	seqs seqHeap // awaited sequences, lowest first
	chs  map[uint64]chan struct{}
}

// seqHeap is a min-heap of sequences (container/heap).
type seqHeap []uint64

func (h seqHeap) Len() int           { return len(h) }
func (h seqHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h seqHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *seqHeap) Push(x any)        { *h = append(*h, x.(uint64)) }
func (h *seqHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// channel returns the channel closed once seq is applied.
func (w *waits) channel(seq uint64) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch, ok := w.chs[seq]
	if !ok {
		ch = make(chan struct{})
		w.chs[seq] = ch
		heap.Push(&w.seqs, seq)
		w.next.Store(w.seqs[0])
	}
	return ch
}

// wake closes the channels of every awaited sequence up to applied.
func (w *waits) wake(applied uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.seqs) > 0 && w.seqs[0] <= applied {
		seq := heap.Pop(&w.seqs).(uint64)
		close(w.chs[seq])
		delete(w.chs, seq)
	}
	next := uint64(math.MaxUint64)
	if len(w.seqs) > 0 {
		next = w.seqs[0]
	}
	w.next.Store(next)
}

// NewView returns an empty view that reads the time from now.
func NewView(now func() time.Time) *View {
	v := &View{
		now:          now,
		users:        make(map[string]userEntry),
		claims:       make(map[string]claim),
		byName:       make(map[string]string),
		signups:      make(map[string]string),
		sessions:     make(map[string]sessionEntry),
		userSessions: make(map[string]map[string]struct{}),
		uattrs:       make(map[string]*attrSet),
		sattrs:       make(map[string]*attrSet),
		kinds:        make(map[string]uint64),
	}
	v.waits.chs = make(map[uint64]chan struct{})
	v.waits.next.Store(math.MaxUint64)
	return v
}

// Applied returns the sequence of the last stream message the view applied.
func (v *View) Applied() uint64 { return v.applied.Load() }

// WaitApplied blocks until the view has applied sequence seq, or ctx ends
// (returning its error).
func (v *View) WaitApplied(ctx context.Context, seq uint64) error {
	if v.applied.Load() >= seq {
		return nil
	}
	ch := v.waits.channel(seq)
	// advance stores applied, then reads waits.next; channel stored next,
	// now this reads applied: one of the two sees the other's store, so
	// either advance closes ch or this returns (and closes it, for any
	// other waiter of seq).
	if a := v.applied.Load(); a >= seq {
		v.waits.wake(a)
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (v *View) advance(seq uint64) {
	v.applied.Store(seq)
	if seq >= v.waits.next.Load() {
		v.waits.wake(seq)
	}
}

// Handle applies one stream message: an event, or a message the reader
// refused (err != nil: unsigned, forged, stored on another owner's subject,
// or not decodable), which is counted and not applied. For a refused
// message e holds only the owner of the subject it is stored on: that
// owner's last sequence becomes seq all the same, since the stream's
// expected-sequence check counts every message on the subject, so later
// writes to the owner still succeed. It is the follower's handler.
func (v *View) Handle(seq uint64, e domain.Event, err error) {
	if err != nil {
		v.mu.Lock()
		v.skipped++
		v.touch(e.Owner, seq)
		v.mu.Unlock()
		v.advance(seq)
		return
	}
	v.Apply(e, seq)
}

// touch records seq as the last sequence of o's subject without changing
// its state. An owner the view holds nothing of keeps nothing: a user or
// session that does not exist cannot be written to, and a new one gets a
// fresh id (a username claim, keyed by a hash, is kept as a free claim).
func (v *View) touch(o domain.Owner, seq uint64) {
	switch o.Kind {
	case domain.OwnerUserAttrs, domain.OwnerSessionAttrs:
		sets, key := v.uattrs, o.User
		if o.Kind == domain.OwnerSessionAttrs {
			sets, key = v.sattrs, o.Session
		}
		set := sets[key]
		if set == nil {
			if o.Kind == domain.OwnerSessionAttrs {
				if _, ok := v.sessions[key]; !ok {
					return
				}
			} else if _, ok := v.users[key]; !ok {
				return
			}
			set = &attrSet{attrs: make(map[attrName]attrVal)}
			sets[key] = set
		}
		set.seq = seq
	case domain.OwnerUser:
		if ue, ok := v.users[o.User]; ok {
			ue.seq = seq
			v.users[o.User] = ue
		}
	case domain.OwnerSession:
		if se, ok := v.sessions[o.Session]; ok {
			se.seq = seq
			v.sessions[o.Session] = se
		}
	case domain.OwnerUsername:
		c := v.claims[o.User]
		c.seq = seq
		v.claims[o.User] = c
	}
}

// Skipped returns how many stream messages the view has refused to apply
// (see Handle); each was logged, with its sequence, by the store that
// delivered it. It never decreases.
func (v *View) Skipped() uint64 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.skipped
}

// Apply applies e, stored at stream sequence seq. Events must arrive in
// stream order; Apply is called by one goroutine only.
func (v *View) Apply(e domain.Event, seq uint64) {
	v.mu.Lock()
	v.countKind(e.Kind)
	switch e.Owner.Kind {
	case domain.OwnerUserAttrs:
		v.applyAttrs(v.uattrs, e.Owner.User, e, seq)
	case domain.OwnerSessionAttrs:
		v.applyAttrs(v.sattrs, e.Owner.Session, e, seq)
	case domain.OwnerUser:
		v.applyUser(e, seq)
	case domain.OwnerSession:
		v.applySession(e, seq)
	case domain.OwnerUsername:
		v.applyClaim(e, seq)
	}
	v.mu.Unlock()
	v.advance(seq)
}

func (v *View) applyAttrs(sets map[string]*attrSet, key string, e domain.Event, seq uint64) {
	set := sets[key]
	if set == nil {
		if e.Owner.Kind == domain.OwnerSessionAttrs {
			if _, ok := v.sessions[key]; !ok {
				return // the session has ended: nothing of it is kept
			}
		} else if _, ok := v.users[key]; !ok {
			return // the user was deleted
		}
		set = &attrSet{attrs: make(map[attrName]attrVal, len(e.Data.Attrs))}
		sets[key] = set
	}
	set.seq = seq
	switch e.Kind {
	case domain.KindAttrCreated, domain.KindAttrSet, domain.KindAttrUpdated:
		for i := range e.Data.Attrs {
			a := &e.Data.Attrs[i]
			set.attrs[unique.Make(a.Name)] = toVal(a)
		}
	case domain.KindAttrDeleted, domain.KindAttrExpired, domain.KindAttrRemoved:
		for _, n := range e.Data.Names {
			delete(set.attrs, unique.Make(n))
		}
	}
}

func (v *View) applyUser(e domain.Event, seq uint64) {
	id := e.Owner.User
	old, had := v.users[id]
	if had && old.user.SignUpTokenHash != "" {
		delete(v.signups, old.user.SignUpTokenHash)
	}
	if e.Kind == domain.KindUserDeleted {
		delete(v.users, id)
		if had && v.byName[old.user.Username] == id {
			delete(v.byName, old.user.Username)
		}
		for sid := range v.userSessions[id] {
			v.dropSession(sid)
		}
		delete(v.userSessions, id)
		delete(v.uattrs, id)
		return
	}
	u := e.Data.User
	if u == nil {
		return
	}
	v.users[id] = userEntry{user: u, seq: seq}
	if had && old.user.Username != u.Username && v.byName[old.user.Username] == id {
		delete(v.byName, old.user.Username)
	}
	v.byName[u.Username] = id
	if u.SignUpTokenHash != "" {
		v.signups[u.SignUpTokenHash] = id
	}
}

func (v *View) applySession(e domain.Event, seq uint64) {
	sid := e.Owner.Session
	if e.Kind == domain.KindSessionEnded {
		v.dropSession(sid)
		return
	}
	s := e.Data.Session
	if s == nil {
		return
	}
	if _, ok := v.users[s.UserID]; !ok {
		return // a login that raced the user's deletion
	}
	v.sessions[sid] = sessionEntry{sess: s, seq: seq}
	m := v.userSessions[s.UserID]
	if m == nil {
		m = make(map[string]struct{}, 1)
		v.userSessions[s.UserID] = m
	}
	m[sid] = struct{}{}
}

func (v *View) dropSession(sid string) {
	if se, ok := v.sessions[sid]; ok {
		if m := v.userSessions[se.sess.UserID]; m != nil {
			delete(m, sid)
		}
	}
	delete(v.sessions, sid)
	delete(v.sattrs, sid)
}

func (v *View) applyClaim(e domain.Event, seq uint64) {
	c := claim{seq: seq}
	if e.Kind == domain.KindUsernameClaimed {
		c.userID, c.username = e.Data.UserID, e.Data.Username
	}
	v.claims[e.Owner.User] = c
}

// User returns the account with that id. The returned value is shared and
// must not be changed; Clone it to derive a new state. ok is false if there
// is no such user.
func (v *View) User(id string) (u *domain.User, seq uint64, ok bool) {
	v.mu.RLock()
	ue, ok := v.users[id]
	v.mu.RUnlock()
	return ue.user, ue.seq, ok
}

// UserByName returns the account with that username.
func (v *View) UserByName(username string) (*domain.User, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	id, ok := v.byName[username]
	if !ok {
		return nil, false
	}
	return v.users[id].user, true
}

// UserBySignupToken returns the account whose sign-up token hashes to hash.
func (v *View) UserBySignupToken(hash string) (*domain.User, uint64, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	id, ok := v.signups[hash]
	if !ok {
		return nil, 0, false
	}
	ue := v.users[id]
	return ue.user, ue.seq, true
}

// Users calls fn for every account, in no particular order, until fn
// returns false. fn runs under the view's read lock and must not block.
func (v *View) Users(fn func(*domain.User) bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	for _, ue := range v.users {
		if !fn(ue.user) {
			return
		}
	}
}

// HasSuperUser reports whether any account is a super-user.
func (v *View) HasSuperUser() bool {
	found := false
	v.Users(func(u *domain.User) bool { found = u.IsSuperUser; return !found })
	return found
}

// UsernameClaim returns the holder of a username (empty if free) and the
// sequence of the claim subject's last event.
func (v *View) UsernameClaim(username string) (userID string, seq uint64) {
	v.mu.RLock()
	c := v.claims[domain.UsernameOwner(username).User]
	v.mu.RUnlock()
	return c.userID, c.seq
}

// Session returns the live session with that internal id.
func (v *View) Session(id string) (s *domain.Session, seq uint64, ok bool) {
	v.mu.RLock()
	se, ok := v.sessions[id]
	v.mu.RUnlock()
	if !ok || !se.sess.Live(v.now()) {
		return nil, 0, false
	}
	return se.sess, se.seq, true
}

// UserSessions returns the user's live sessions, oldest first.
func (v *View) UserSessions(userID string) []*domain.Session {
	now := v.now()
	v.mu.RLock()
	out := make([]*domain.Session, 0, len(v.userSessions[userID]))
	for sid := range v.userSessions[userID] {
		if s := v.sessions[sid].sess; s.Live(now) {
			out = append(out, s)
		}
	}
	v.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func (v *View) set(o domain.Owner) *attrSet {
	if o.Kind == domain.OwnerSessionAttrs {
		return v.sattrs[o.Session]
	}
	return v.uattrs[o.User]
}

// OwnerSeq returns the sequence of the owner's last event (0 if none), the
// version the next append to it must expect. Deleting or sweeping an
// attribute keeps it: the stream still holds that event.
func (v *View) OwnerSeq(o domain.Owner) uint64 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	switch o.Kind {
	case domain.OwnerUser:
		return v.users[o.User].seq
	case domain.OwnerSession:
		return v.sessions[o.Session].seq
	case domain.OwnerUsername:
		return v.claims[o.User].seq
	}
	if s := v.set(o); s != nil {
		return s.seq
	}
	return 0
}

// Snapshot returns the owner's last sequence and its stored attributes of the
// given names, live or not, read at one instant. A write decides against it.
// A name asked for twice comes back twice (domain.LookupIn takes either).
func (v *View) Snapshot(o domain.Owner, names []string) (uint64, []domain.Attr) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	s := v.set(o)
	if s == nil {
		return 0, nil
	}
	var out []domain.Attr
	for _, n := range names {
		if a, ok := s.attrs[unique.Make(n)]; ok {
			out = append(out, a.attr(n))
		}
	}
	return s.seq, out
}

// Get returns the owner's live attribute of that name, or domain.ErrNoSuchAttr.
func (v *View) Get(o domain.Owner, name string) (domain.Attr, error) {
	now := v.now().UnixMicro()
	v.mu.RLock()
	defer v.mu.RUnlock()
	if s := v.set(o); s != nil {
		if a, ok := s.attrs[unique.Make(name)]; ok && domain.LiveAt(a.expiry, now) {
			return a.attr(name), nil
		}
	}
	return domain.Attr{}, domain.ErrNoSuchAttr
}

// Exists reports whether the owner has a live attribute of that name.
func (v *View) Exists(o domain.Owner, name string) bool {
	now := v.now().UnixMicro()
	v.mu.RLock()
	defer v.mu.RUnlock()
	if s := v.set(o); s != nil {
		a, ok := s.attrs[unique.Make(name)]
		return ok && domain.LiveAt(a.expiry, now)
	}
	return false
}

// Names returns the names of the owner's live attributes, sorted by byte order.
func (v *View) Names(o domain.Owner) []string {
	now := v.now().UnixMicro()
	v.mu.RLock()
	var out []string
	if s := v.set(o); s != nil {
		out = make([]string, 0, len(s.attrs))
		for n, a := range s.attrs {
			if domain.LiveAt(a.expiry, now) {
				out = append(out, n.Value())
			}
		}
	}
	v.mu.RUnlock()
	sort.Strings(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// Len returns how many attributes (user and session, live or awaiting a
// sweep) the view holds.
func (v *View) Len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	n := 0
	for _, s := range v.uattrs {
		n += len(s.attrs)
	}
	for _, s := range v.sattrs {
		n += len(s.attrs)
	}
	return n
}
