package domain

import (
	"encoding/json"
	"time"
	"unicode/utf8"
)

// MaxNameLen is the longest attribute name, in characters (docs/API.md#attribute-inputs).
const MaxNameLen = 191

// MaxItems is the most attributes one request may name: the items of a
// many-mode write, and the names of a many-mode GET, exists or DELETE.
// Past it the request is ErrInvalidInput (E008002), so that one request
// cannot make the service read or write without bound.
const MaxItems = 1000

// CheckItems returns ErrInvalidInput unless n, the number of items or
// names a many-mode request sends, is between 1 and limit.
func CheckItems(n, limit int) error {
	if n < 1 || n > limit {
		return ErrInvalidInput
	}
	return nil
}

// Attr is one attribute as stored: a user attribute or a session attribute.
type Attr struct {
	Name string `json:"name"`
	// Value is the JSON text of the value. For an encrypted attribute it is
	// the JSON string of the ciphertext, never the plaintext.
	Value     json.RawMessage `json:"value,omitempty"`
	Encrypted bool            `json:"is_encrypted,omitempty"`
	Created   time.Time       `json:"creation_time"`
	Modified  time.Time       `json:"last_modified"`
	Expires   time.Time       `json:"expiration_time"`
}

// Live reports whether a is visible at now (docs/API.md#attribute-operations: expiration_time > now).
func (a *Attr) Live(now time.Time) bool { return LiveAt(a.Expires.UnixMicro(), now.UnixMicro()) }

// LiveAt is the liveness rule of an attribute on Unix microseconds, the
// resolution the service keeps times in (Truncate) and the form the view
// holds expiry times in: an attribute expiring at expires is visible at now
// while expiration_time > now. On times whole to the microsecond it is
// exactly now.Before(expires); a now with a fraction of a microsecond
// counts as its whole microsecond.
func LiveAt(expires, now int64) bool { return now < expires }

// ValidName reports whether name is an acceptable attribute name: 1 to 191
// characters of valid UTF-8.
func ValidName(name string) bool {
	return name != "" && utf8.ValidString(name) && utf8.RuneCountInString(name) <= MaxNameLen
}

// CheckNames is the input rule of a read or delete: 1 to limit names, each
// a ValidName. It returns ErrInvalidInput otherwise.
func CheckNames(names []string, limit int) error {
	if err := CheckItems(len(names), limit); err != nil {
		return err
	}
	for _, n := range names {
		if !ValidName(n) {
			return ErrInvalidInput
		}
	}
	return nil
}

// AttrWrite is one item of a create, set or update command, after the HTTP
// layer has checked its types and encrypted its value where asked.
type AttrWrite struct {
	Name string
	// Value is the JSON text to store (ciphertext JSON string when Encrypt).
	// Nil means "no value sent", which only an update accepts.
	Value   json.RawMessage
	Encrypt bool
	// Expiration is seconds from now; nil means "not sent" (docs/API.md#expiration-and-encryption).
	Expiration *int64
}

// CheckExpiration is the rule of an expiration in seconds from now
// (docs/API.md#expiration-and-encryption): nil (not sent), 0 (never) or
// more. A negative one is ErrInvalidInput (docs/API.md#d10).
func CheckExpiration(seconds *int64) error {
	if seconds != nil && *seconds < 0 {
		return ErrInvalidInput
	}
	return nil
}

// Check is the input rule of one item of a write op, the same before and
// after its value is encrypted: a ValidName; an expiration CheckExpiration
// accepts; a value, unless op is an update (docs/API.md#d5); a JSON string
// when Encrypt, since only text is encrypted; a value nested at most
// MaxValueDepth deep. It returns ErrInvalidInput otherwise.
func (w *AttrWrite) Check(op AttrOp) error {
	switch {
	case !ValidName(w.Name):
		return ErrInvalidInput
	case CheckExpiration(w.Expiration) != nil:
		return ErrInvalidInput
	case w.Value == nil:
		if op != OpUpdate {
			return ErrInvalidInput
		}
	case w.Encrypt && (len(w.Value) == 0 || w.Value[0] != '"'):
		return ErrInvalidInput
	case !ValidValue(w.Value):
		return ErrInvalidInput
	}
	return nil
}

// AttrOp is the kind of attribute write a command performs.
type AttrOp int

// Attribute write operations.
const (
	OpCreate AttrOp = iota // POST: fails if the name is live
	OpSet                  // PUT: upsert
	OpUpdate               // PATCH: fails if the name is not live
)

// Kind returns the event kind that records op.
func (op AttrOp) Kind() string {
	switch op {
	case OpCreate:
		return KindAttrCreated
	case OpSet:
		return KindAttrSet
	default:
		return KindAttrUpdated
	}
}

// AttrLookup returns the stored attribute of that name, live or not.
type AttrLookup func(name string) (Attr, bool)

// smallSet is the size up to which a linear scan finds a name faster than
// a map, and without the map's allocation (a write names one attribute far
// more often than ten).
const smallSet = 8

// LookupIn returns the AttrLookup over attrs. A name that is in attrs more
// than once must stand for the same attribute each time.
func LookupIn(attrs []Attr) AttrLookup {
	if len(attrs) <= smallSet {
		return func(name string) (Attr, bool) {
			for i := range attrs {
				if attrs[i].Name == name {
					return attrs[i], true
				}
			}
			return Attr{}, false
		}
	}
	index := make(map[string]int, len(attrs))
	for i := range attrs {
		index[attrs[i].Name] = i
	}
	return func(name string) (Attr, bool) {
		i, ok := index[name]
		if !ok {
			return Attr{}, false
		}
		return attrs[i], true
	}
}

// AttrTx decides a multi-item attribute write against one owner's current
// attributes. Items are applied in order to a working copy, so a later item
// sees the effect of an earlier one; nothing is stored until the caller
// appends the event built from Result. A Tx is not safe for concurrent use.
type AttrTx struct {
	now    time.Time
	lookup AttrLookup
	out    []Attr         // the items applied so far, in order
	last   map[string]int // name -> index of its last write in out; built once out outgrows a scan
}

// NewAttrTx starts a decision at time now over the attributes lookup reads.
func NewAttrTx(now time.Time, lookup AttrLookup) *AttrTx {
	return &AttrTx{now: Truncate(now), lookup: lookup}
}

// written returns the index in out of the last write of name.
func (tx *AttrTx) written(name string) (int, bool) {
	if tx.last != nil {
		i, ok := tx.last[name]
		return i, ok
	}
	for i := len(tx.out) - 1; i >= 0; i-- {
		if tx.out[i].Name == name {
			return i, true
		}
	}
	return 0, false
}

func (tx *AttrTx) current(name string) (Attr, bool) {
	if i, ok := tx.written(name); ok {
		return tx.out[i], true
	}
	a, ok := tx.lookup(name)
	if !ok || !a.Live(tx.now) {
		return Attr{}, false
	}
	return a, true
}

// Apply decides one item. It returns ErrAttrExists for a create of a live
// name, ErrNoSuchAttr for an update of a name that is not live, and
// ErrInvalidInput for an item that fails AttrWrite.Check.
func (tx *AttrTx) Apply(op AttrOp, w AttrWrite) error {
	if err := w.Check(op); err != nil {
		return err
	}
	cur, live := tx.current(w.Name)
	var next Attr
	switch {
	case op == OpCreate && live:
		return ErrAttrExists
	case op == OpUpdate && !live:
		return ErrNoSuchAttr
	case !live: // create, or a set of a name that is not live (docs/API.md#attribute-operations, docs/API.md#d7)
		next = Attr{Name: w.Name, Value: w.Value, Encrypted: w.Encrypt,
			Created: tx.now, Modified: tx.now, Expires: Never}
		if w.Expiration != nil {
			next.Expires = ExpiresAfter(tx.now, *w.Expiration)
		}
	default: // update, or a set of a live name
		next = cur
		next.Modified = tx.now
		if w.Value != nil { // docs/API.md#d4, docs/API.md#d6: a written value rewrites is_encrypted
			next.Value, next.Encrypted = w.Value, w.Encrypt
		}
		if w.Expiration != nil {
			next.Expires = ExpiresAfter(tx.now, *w.Expiration)
		}
	}
	tx.out = append(tx.out, next)
	switch {
	case tx.last != nil:
		tx.last[w.Name] = len(tx.out) - 1
	case len(tx.out) > smallSet:
		tx.last = make(map[string]int, 2*len(tx.out))
		for i := range tx.out {
			tx.last[tx.out[i].Name] = i
		}
	}
	return nil
}

// Result returns the attributes written, in the order they were applied.
func (tx *AttrTx) Result() []Attr { return tx.out }

// LiveNames returns those of names that are live at now, each once, in the
// order given; it is what a delete command removes.
func LiveNames(now time.Time, lookup AttrLookup, names []string) []string {
	seen := make(map[string]bool, len(names))
	var out []string
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		if a, ok := lookup(n); ok && a.Live(now) {
			out = append(out, n)
		}
	}
	return out
}
