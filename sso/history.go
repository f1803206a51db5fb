package sso

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

// EventLog reads the stream's past, for histories and point-in-time reads.
// The Store given to New must implement it too; eventstore.Store does.
type EventLog interface {
	// ReadOwners delivers the events of the owners in stream order, from
	// sequence from to the end of the stream, until h returns false.
	ReadOwners(ctx context.Context, owners []domain.Owner, from uint64, h func(seq uint64, e domain.Event) bool) error
	// HasEvents reports whether the stream holds any event of o.
	HasEvents(ctx context.Context, o domain.Owner) (bool, error)
	// SessionUser returns the user of a session, live or ended ("" if none).
	SessionUser(ctx context.Context, sessionID string) (string, error)
}

var errNoEventLog = errors.New("the event store cannot read the stream's past")

func (s *Service) eventLog() (EventLog, error) {
	l, ok := s.store.(EventLog)
	if !ok {
		return nil, errNoEventLog
	}
	return l, nil
}

// HistoryQuery selects the changes a history returns.
type HistoryQuery struct {
	Name  *string   // only this attribute (domain.CheckHistoryName); nil for every one
	Since time.Time // changes at or after this event time; zero: from the start
	Until time.Time // changes at or before this event time; zero: to the end
	// Limit is the page size asked for, as sent (domain.HistoryLimit).
	Limit   int64
	After   string // the cursor of the previous page ("" for the first)
	Decrypt bool   // return encrypted values as plaintext
}

// Change is one attribute's change. An event writing a data list of ten
// attributes makes ten changes, numbered by Index within the event.
type Change struct {
	Seq    uint64
	Index  int
	ID     string // the event's id
	Type   string // created, set, updated, deleted, expired, removed
	Time   time.Time
	Name   string
	Attr   *domain.Attr // the attribute as written (created, set, updated); nil otherwise
	Reason string       // removed: logout, expired, user_deleted
	// Who did it: a user id, or "system" (expiry), "cli".
	Actor, App, RemoteAddr, CID string
}

// Changes returns the attribute changes an event records, in order; none
// for an event that is not about attributes.
func Changes(seq uint64, e domain.Event) []Change {
	typ, ok := strings.CutPrefix(e.Kind, "attr.")
	if !ok {
		return nil
	}
	c := Change{Seq: seq, ID: e.ID, Type: typ, Time: e.Time, Reason: e.Data.Reason,
		Actor: e.Actor, App: e.App, RemoteAddr: e.RemoteAddr, CID: e.CID}
	out := make([]Change, 0, len(e.Data.Attrs)+len(e.Data.Names))
	for i := range e.Data.Attrs {
		a := e.Data.Attrs[i]
		c.Index, c.Name, c.Attr = len(out), a.Name, &a
		out = append(out, c)
	}
	for _, n := range e.Data.Names {
		c.Index, c.Name, c.Attr = len(out), n, nil
		out = append(out, c)
	}
	return out
}

// HistoryPage is one page of a history, in stream order. Next is the
// cursor of the following page; "" on the last page.
type HistoryPage struct {
	Changes []Change
	Next    string
}

// cursor is a position in a history: after change Index of event Seq.
type cursor struct {
	seq uint64
	idx int
}

const cursorPrefix = "h1."

func (c cursor) String() string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s%d.%d", cursorPrefix, c.seq, c.idx))
}

func parseCursor(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	rest, ok := strings.CutPrefix(string(b), cursorPrefix)
	if err != nil || !ok {
		return cursor{}, domain.ErrInvalidInput
	}
	seqText, idxText, _ := strings.Cut(rest, ".")
	seq, err1 := strconv.ParseUint(seqText, 10, 64)
	idx, err2 := strconv.Atoi(idxText)
	if err1 != nil || err2 != nil || seq == 0 || idx < 0 {
		return cursor{}, domain.ErrInvalidInput
	}
	return cursor{seq, idx}, nil
}

// AttrHistory returns the changes of the target's attributes (docs/API.md#user-attributes and docs/API.md#session-attributes
// targets: user_id, or target_ust), one page at a time, read from the
// stream's subject of that owner. Regular users see only their own
// attributes. A super-user may read the history of a deleted user; the
// owner of a session (or a super-user) may read the history of its
// attributes after it has ended, while its UST still decrypts. Errors: the
// authentication errors, ErrNotAllowed, ErrNoSuchUser, ErrNoSuchSession,
// ErrInvalidInput (a bad name filter or cursor).
func (s *Service) AttrHistory(ctx context.Context, m Meta, ust string, scope AttrScope, q HistoryQuery) (HistoryPage, error) {
	if err := domain.CheckHistoryName(q.Name); err != nil {
		return HistoryPage{}, err
	}
	var after cursor
	if q.After != "" {
		var err error
		if after, err = parseCursor(q.After); err != nil {
			return HistoryPage{}, err
		}
	}
	limit := domain.HistoryLimit(q.Limit)
	events, err := s.eventLog()
	if err != nil {
		return HistoryPage{}, err
	}
	c, err := s.begin(ctx, ust, m)
	if err != nil {
		return HistoryPage{}, err
	}
	owner, err := s.auditOwner(ctx, c, scope)
	if err != nil {
		return HistoryPage{}, err
	}
	var out []Change
	err = events.ReadOwners(ctx, []domain.Owner{owner}, max(after.seq, 1), func(seq uint64, e domain.Event) bool {
		if !q.Since.IsZero() && e.Time.Before(q.Since) || !q.Until.IsZero() && e.Time.After(q.Until) {
			return true
		}
		for _, ch := range Changes(seq, e) {
			if seq == after.seq && ch.Index <= after.idx || q.Name != nil && ch.Name != *q.Name {
				continue
			}
			out = append(out, ch)
			if len(out) > limit {
				return false
			}
		}
		return true
	})
	if err != nil {
		return HistoryPage{}, fmt.Errorf("read history of %s: %w", owner, err)
	}
	var page HistoryPage
	if len(out) > limit {
		out = out[:limit]
		page.Next = cursor{out[limit-1].Seq, out[limit-1].Index}.String()
	}
	if q.Decrypt {
		for i := range out {
			if a := out[i].Attr; a != nil && a.Encrypted {
				if a.Value, err = s.decryptValue(a.Value); err != nil {
					return HistoryPage{}, fmt.Errorf("attribute %q of %s at %d: %w", a.Name, owner, out[i].Seq, err)
				}
			}
		}
	}
	page.Changes = out
	return page, nil
}

// auditOwner resolves the owner of a history or point-in-time read. It is
// attrOwner with two additions for auditors: a super-user may name a user
// who has since been deleted, and a target_ust may name a session that has
// ended (its user is found in the stream), which its owner and super-users
// may still read.
func (s *Service) auditOwner(ctx context.Context, c *Caller, scope AttrScope) (domain.Owner, error) {
	events, err := s.eventLog()
	if err != nil {
		return domain.Owner{}, err
	}
	if !scope.Session {
		uid := scope.UserID
		if uid == "" || uid == c.User.ID {
			return domain.UserAttrsOwner(c.User.ID), nil
		}
		if !c.User.IsSuperUser {
			return domain.Owner{}, domain.ErrNotAllowed
		}
		if _, _, ok := s.view.User(uid); ok {
			return domain.UserAttrsOwner(uid), nil
		}
		if !domain.IsToken(uid) {
			return domain.Owner{}, domain.ErrNoSuchUser
		}
		if found, err := events.HasEvents(ctx, domain.UserOwner(uid)); err != nil {
			return domain.Owner{}, err
		} else if !found {
			return domain.Owner{}, domain.ErrNoSuchUser
		}
		return domain.UserAttrsOwner(uid), nil
	}
	if scope.TargetUST == "" {
		return domain.SessionAttrsOwner(c.User.ID, c.Session.ID), nil
	}
	sid, err := s.keys.OpenUST(scope.TargetUST)
	if err != nil {
		return domain.Owner{}, err
	}
	var uid string
	if sess, _, ok := s.view.Session(sid); ok {
		uid = sess.UserID
	} else if uid, err = events.SessionUser(ctx, sid); err != nil {
		return domain.Owner{}, err
	} else if uid == "" {
		return domain.Owner{}, domain.ErrNoSuchSession
	}
	if uid != c.User.ID && !c.User.IsSuperUser {
		return domain.Owner{}, domain.ErrNotAllowed
	}
	return domain.SessionAttrsOwner(uid, sid), nil
}

// pointInTime is the state of one attribute owner, rebuilt from its own
// events and those of the account (and session) it belongs to, with the
// same rules as the view: attributes of an account that does not exist, or
// of a session that has ended, are not kept.
type pointInTime struct {
	owner domain.Owner
	user  bool            // the account exists
	sess  *domain.Session // the session (session attributes); nil if none or ended
	attrs map[string]domain.Attr
}

func (p *pointInTime) apply(e domain.Event) {
	switch e.Owner.Kind {
	case domain.OwnerUser:
		if e.Kind == domain.KindUserDeleted {
			p.user, p.sess = false, nil
			clear(p.attrs)
		} else if e.Data.User != nil {
			p.user = true
		}
	case domain.OwnerSession:
		if e.Kind == domain.KindSessionEnded {
			p.sess = nil
			clear(p.attrs)
		} else if e.Data.Session != nil && p.user {
			p.sess = e.Data.Session
		}
	case domain.OwnerUserAttrs, domain.OwnerSessionAttrs:
		if !p.user || p.owner.Kind == domain.OwnerSessionAttrs && p.sess == nil {
			return
		}
		switch e.Kind {
		case domain.KindAttrCreated, domain.KindAttrSet, domain.KindAttrUpdated:
			for _, a := range e.Data.Attrs {
				p.attrs[a.Name] = a
			}
		case domain.KindAttrDeleted, domain.KindAttrExpired, domain.KindAttrRemoved:
			for _, n := range e.Data.Names {
				delete(p.attrs, n)
			}
		}
	}
}

// attrsAt returns the attributes of owner that were live at the moment at,
// reading only the subjects involved: the attributes, the session (for
// session attributes) and, if it has been deleted, the account. Events count when their time is at or
// before at. For session attributes the session must have been live at
// that moment, as the service would then have answered; otherwise
// ErrNoSuchSession.
func (s *Service) attrsAt(ctx context.Context, owner domain.Owner, at time.Time) (map[string]domain.Attr, error) {
	events, err := s.eventLog()
	if err != nil {
		return nil, err
	}
	p := &pointInTime{owner: owner, attrs: make(map[string]domain.Attr)}
	owners := []domain.Owner{owner}
	if owner.Kind == domain.OwnerSessionAttrs {
		owners = append(owners, domain.SessionOwner(owner.User, owner.Session))
	}
	// An account that exists now has existed since before its first
	// attribute (ids are never reused): only a deleted one needs its events.
	if _, _, ok := s.view.User(owner.User); ok {
		p.user = true
	} else {
		owners = append(owners, domain.UserOwner(owner.User))
	}
	err = events.ReadOwners(ctx, owners, 1, func(_ uint64, e domain.Event) bool {
		if !e.Time.After(at) {
			p.apply(e)
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("read %s as of %s: %w", owner, domain.FormatTime(at), err)
	}
	if owner.Kind == domain.OwnerSessionAttrs && (p.sess == nil || !p.sess.Live(at)) {
		return nil, domain.ErrNoSuchSession
	}
	for n, a := range p.attrs {
		if !a.Live(at) {
			delete(p.attrs, n)
		}
	}
	return p.attrs, nil
}

// stateAt authenticates the caller, resolves the owner as a history does,
// and returns its live attributes at the moment at (a moment in the future
// is taken as now).
func (s *Service) stateAt(ctx context.Context, m Meta, ust string, scope AttrScope, at time.Time) (map[string]domain.Attr, error) {
	c, err := s.begin(ctx, ust, m)
	if err != nil {
		return nil, err
	}
	owner, err := s.auditOwner(ctx, c, scope)
	if err != nil {
		return nil, err
	}
	if now := s.clock(); at.After(now) {
		at = now
	}
	return s.attrsAt(ctx, owner, domain.Truncate(at))
}

// GetAttrsAt is GetAttrs as the service would have answered at the moment
// at, expiry included (the as_of input).
func (s *Service) GetAttrsAt(ctx context.Context, m Meta, ust string, scope AttrScope, names []string, decrypt bool, at time.Time) ([]AttrResult, error) {
	if err := domain.CheckNames(names, s.cfg.MaxItems); err != nil {
		return nil, err
	}
	state, err := s.stateAt(ctx, m, ust, scope, at)
	if err != nil {
		return nil, err
	}
	return s.results(names, decrypt, func(n string) (domain.Attr, bool) { a, ok := state[n]; return a, ok })
}

// AttrsExistAt is AttrsExist at the moment at.
func (s *Service) AttrsExistAt(ctx context.Context, m Meta, ust string, scope AttrScope, names []string, at time.Time) ([]AttrResult, error) {
	if err := domain.CheckNames(names, s.cfg.MaxItems); err != nil {
		return nil, err
	}
	state, err := s.stateAt(ctx, m, ust, scope, at)
	if err != nil {
		return nil, err
	}
	return s.results(names, false, func(n string) (domain.Attr, bool) {
		_, ok := state[n]
		return domain.Attr{Name: n}, ok
	})
}

// AttrNamesAt is AttrNames at the moment at.
func (s *Service) AttrNamesAt(ctx context.Context, m Meta, ust string, scope AttrScope, at time.Time) ([]string, error) {
	state, err := s.stateAt(ctx, m, ust, scope, at)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(state))
	for n := range state {
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

// AuthorizeEvents checks that the caller token belongs to a super-user, who
// alone may watch the event stream (GET /zato/sso/events).
func (s *Service) AuthorizeEvents(ctx context.Context, m Meta, ust string) error {
	c, err := s.begin(ctx, ust, m)
	if err != nil {
		return err
	}
	return requireSuper(c)
}
