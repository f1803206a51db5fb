package sso

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

// AttrScope selects whose attributes an operation acts on.
type AttrScope struct {
	// Session selects session attributes (docs/API.md#session-attributes) instead of user attributes.
	Session bool
	// UserID is the target user of user attributes (docs/API.md#target-user; empty: the caller).
	// Session attributes ignore it.
	UserID string
	// TargetUST is the session of session attributes (empty: the caller's).
	TargetUST string
}

// AttrItem is one item of a write. Value is the JSON text of the plaintext;
// the service encrypts it when Encrypt is set.
type AttrItem struct {
	domain.AttrWrite
	// UserID overrides the scope's target user for this item (user
	// attributes, many mode; docs/API.md#many-mode).
	UserID string
}

// AttrWrites is the input of a write: its items in order, and the
// request's own expiration, which an item that sends none takes
// (docs/API.md#many-mode).
type AttrWrites struct {
	Items []AttrItem
	// Expiration is the request's expiration, seconds from now; nil when
	// not sent.
	Expiration *int64
}

// AttrResult is one attribute of a read; Attr is nil when the name is not live.
type AttrResult struct {
	Name string
	Attr *domain.Attr
}

// begin is the start of every authenticated operation: the read-your-writes
// barrier, then authentication (docs/API.md#caller-authentication).
func (s *Service) begin(ctx context.Context, ust string, m Meta) (*Caller, error) {
	if err := s.Sync(ctx); err != nil {
		return nil, err
	}
	return s.Authenticate(ust, m)
}

// attrOwner resolves the owner of the attributes an item or a request acts on.
func (s *Service) attrOwner(c *Caller, scope AttrScope, itemUserID string) (domain.Owner, error) {
	if !scope.Session {
		uid := scope.UserID
		if itemUserID != "" {
			uid = itemUserID
		}
		u, err := s.targetUser(c, uid)
		if err != nil {
			return domain.Owner{}, err
		}
		return domain.UserAttrsOwner(u.ID), nil
	}
	sess := c.Session
	if scope.TargetUST != "" {
		var err error
		if sess, _, err = s.session(scope.TargetUST); err != nil {
			return domain.Owner{}, err
		}
	}
	if sess.UserID != c.User.ID && !c.User.IsSuperUser {
		return domain.Owner{}, domain.ErrNotAllowed
	}
	return domain.SessionAttrsOwner(sess.UserID, sess.ID), nil
}

// WriteAttrs creates (OpCreate), sets (OpSet) or updates (OpUpdate) the items,
// all or nothing (docs/API.md#many-mode). Each owner touched gets one event; a write to
// several owners (a super-user's many-mode list naming several users) is one
// atomic batch. It returns the first failing item's error: ErrAttrExists,
// ErrNoSuchAttr, ErrNotAllowed, ErrNoSuchUser, ErrInvalidInput (also for
// the request's own expiration, used or not), or an authentication error.
func (s *Service) WriteAttrs(ctx context.Context, m Meta, ust string, scope AttrScope, op domain.AttrOp, w AttrWrites) error {
	items := w.Items
	if err := domain.CheckItems(len(items), s.cfg.MaxItems); err != nil {
		return err
	}
	if err := domain.CheckExpiration(w.Expiration); err != nil {
		return err
	}
	for i := range items {
		if items[i].Expiration == nil {
			items[i].Expiration = w.Expiration
		}
		if err := items[i].Check(op); err != nil {
			return err
		}
	}
	c, err := s.begin(ctx, ust, m)
	if err != nil {
		return err
	}
	// Encrypt once, outside the decision that may run again after a conflict.
	size := 0
	for i := range items {
		it := &items[i]
		if it.Encrypt && it.Value != nil {
			var plain string
			if err := json.Unmarshal(it.Value, &plain); err != nil {
				return domain.ErrInvalidInput
			}
			it.Value, _ = json.Marshal(s.keys.EncryptString(plain))
		}
		size += len(it.Name) + len(it.Value)
	}
	if size > s.cfg.MaxWriteBytes {
		return domain.ErrInvalidInput
	}
	return s.commit(ctx, func(now time.Time) ([]domain.Pending, error) {
		// Resolve every item's owner first, so each owner's attributes are
		// read once, together with its sequence.
		var owners ownerWrites
		at := make([]int, len(items)) // item -> its owner's index in owners
		failAt, failErr := len(items), error(nil)
		for i, it := range items {
			o, err := s.attrOwner(c, scope, it.UserID)
			if err != nil {
				failAt, failErr = i, err
				break
			}
			at[i] = owners.add(o, it.Name)
		}
		for i := range owners.list {
			w := &owners.list[i]
			seq, snap := s.view.Snapshot(w.owner, w.names)
			w.seq, w.tx = seq, domain.NewAttrTx(now, domain.LookupIn(snap))
		}
		// Apply in list order: the first failing item decides the answer.
		for i := range failAt {
			if err := owners.list[at[i]].tx.Apply(op, items[i].AttrWrite); err != nil {
				return nil, err
			}
		}
		if failErr != nil {
			return nil, failErr
		}
		ps := make([]domain.Pending, 0, len(owners.list))
		for _, w := range owners.list {
			ps = append(ps, domain.Pending{Expected: w.seq,
				Event: s.event(m, c.User.ID, op.Kind(), w.owner, now, domain.EventData{Attrs: w.tx.Result()})})
		}
		return ps, nil
	})
}

// ownerWrites groups a write's items by owner, in the order the owners
// first appear. Almost every write has one owner; only a super-user's
// many-mode list can name many, and only then is a map worth its cost.
type ownerWrites struct {
	list  []ownerWrite
	index map[domain.Owner]int // built once list outgrows a scan
}

type ownerWrite struct {
	owner domain.Owner
	names []string
	seq   uint64
	tx    *domain.AttrTx
}

// scanOwners is how many owners a write finds by scanning before it
// indexes them (as domain.LookupIn does for names).
const scanOwners = 8

// add records that an item names o and the attribute name; it returns o's
// index in list.
func (ws *ownerWrites) add(o domain.Owner, name string) int {
	i, ok := ws.find(o)
	if !ok {
		i = len(ws.list)
		ws.list = append(ws.list, ownerWrite{owner: o})
		switch {
		case ws.index != nil:
			ws.index[o] = i
		case len(ws.list) > scanOwners:
			ws.index = make(map[domain.Owner]int, 2*len(ws.list))
			for j, w := range ws.list {
				ws.index[w.owner] = j
			}
		}
	}
	ws.list[i].names = append(ws.list[i].names, name)
	return i
}

func (ws *ownerWrites) find(o domain.Owner) (int, bool) {
	if ws.index != nil {
		i, ok := ws.index[o]
		return i, ok
	}
	for i := range ws.list {
		if ws.list[i].owner == o {
			return i, true
		}
	}
	return 0, false
}

// DeleteAttrs removes the named attributes; names that are not live are
// ignored (docs/API.md#attribute-operations). Nothing is appended when none of them is live.
func (s *Service) DeleteAttrs(ctx context.Context, m Meta, ust string, scope AttrScope, names []string) error {
	if err := domain.CheckNames(names, s.cfg.MaxItems); err != nil {
		return err
	}
	c, err := s.begin(ctx, ust, m)
	if err != nil {
		return err
	}
	return s.commit(ctx, func(now time.Time) ([]domain.Pending, error) {
		owner, err := s.attrOwner(c, scope, "")
		if err != nil {
			return nil, err
		}
		seq, snap := s.view.Snapshot(owner, names)
		live := domain.LiveNames(now, domain.LookupIn(snap), names)
		if len(live) == 0 {
			return nil, nil
		}
		return []domain.Pending{{Expected: seq,
			Event: s.event(m, c.User.ID, domain.KindAttrDeleted, owner, now, domain.EventData{Names: live})}}, nil
	})
}

// GetAttrs returns the named attributes, one result per distinct name in the
// order asked. With decrypt, encrypted values come back as plaintext; a value
// that cannot be decrypted is an internal error (docs/API.md#expiration-and-encryption). More names than
// Config.MaxItems is domain.ErrInvalidInput.
func (s *Service) GetAttrs(ctx context.Context, m Meta, ust string, scope AttrScope, names []string, decrypt bool) ([]AttrResult, error) {
	if err := domain.CheckNames(names, s.cfg.MaxItems); err != nil {
		return nil, err
	}
	owner, err := s.readOwner(ctx, m, ust, scope)
	if err != nil {
		return nil, err
	}
	return s.results(names, decrypt, func(n string) (domain.Attr, bool) {
		a, err := s.view.Get(owner, n)
		return a, err == nil
	})
}

// results returns one AttrResult per distinct name, in the order asked,
// reading each through get (ok false: not live). With decrypt, encrypted
// values come back as plaintext. The live reads and the as_of reads share
// it; their callers have checked the names (domain.CheckNames).
func (s *Service) results(names []string, decrypt bool, get func(name string) (domain.Attr, bool)) ([]AttrResult, error) {
	out := make([]AttrResult, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		r := AttrResult{Name: n}
		if a, ok := get(n); ok {
			if decrypt && a.Encrypted {
				var err error
				if a.Value, err = s.decryptValue(a.Value); err != nil {
					return nil, fmt.Errorf("decrypt attribute %q: %w", n, err)
				}
			}
			r.Attr = &a
		}
		out = append(out, r)
	}
	return out, nil
}

func (s *Service) decryptValue(v json.RawMessage) (json.RawMessage, error) {
	var tok string
	if err := json.Unmarshal(v, &tok); err != nil {
		return nil, err
	}
	plain, err := s.keys.Decrypt(tok)
	if err != nil {
		return nil, err
	}
	return json.Marshal(string(plain))
}

// AttrsExist reports, for each distinct name in order, whether it is live
// (Attr is non-nil, with only the name, when it is). More names than
// Config.MaxItems is domain.ErrInvalidInput.
func (s *Service) AttrsExist(ctx context.Context, m Meta, ust string, scope AttrScope, names []string) ([]AttrResult, error) {
	if err := domain.CheckNames(names, s.cfg.MaxItems); err != nil {
		return nil, err
	}
	owner, err := s.readOwner(ctx, m, ust, scope)
	if err != nil {
		return nil, err
	}
	return s.results(names, false, func(n string) (domain.Attr, bool) {
		return domain.Attr{Name: n}, s.view.Exists(owner, n)
	})
}

// AttrNames returns the names of the live attributes, sorted.
func (s *Service) AttrNames(ctx context.Context, m Meta, ust string, scope AttrScope) ([]string, error) {
	owner, err := s.readOwner(ctx, m, ust, scope)
	if err != nil {
		return nil, err
	}
	return s.view.Names(owner), nil
}

func (s *Service) readOwner(ctx context.Context, m Meta, ust string, scope AttrScope) (domain.Owner, error) {
	c, err := s.begin(ctx, ust, m)
	if err != nil {
		return domain.Owner{}, err
	}
	return s.attrOwner(c, scope, "")
}
