package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

const (
	userAttrPath    = "/zato/sso/user/attr"
	sessionAttrPath = "/zato/sso/session/attr"
)

// Attrs are the attributes of one user or of one session, with the methods
// of Zato's UserAttr and SessionAttr (docs/API.md#user-attributes and
// #session-attributes). Get one from a [Session]: s.User.Attr,
// s.UserByID(id).Attr, s.Attr or s.SessionByUST(t).Attr.
//
// The single forms (Set) send name and value; the Many forms (SetMany)
// send a data list, which the service applies all or nothing: if one item
// fails, none is written, and the error is that of the first failing item.
// A data list holds 1 to 1,000 items or names (docs/API.md#limits); an
// empty or longer one is [ErrInvalidInput].
//
// Every method may return an [*Error]: [ErrNoSuchSession] when the
// session (or the target session) is not live, [ErrNotAllowed] when it may
// not reach these attributes, [ErrInvalidInput] for input the service
// refuses (an empty name, a negative expiration, Encrypt with a value that
// is not a string, a nil value where one is required).
type Attrs struct {
	s         *Session
	path      string
	userID    string // user attributes of another user
	targetUST string // attributes of another session
}

// String names the attributes without a token (%v, %+v and %#v of an
// Attrs would otherwise print the target session's).
func (a Attrs) String() string {
	switch {
	case a.targetUST != "":
		return "client.Attrs{" + a.path + ", another session}"
	case a.userID != "":
		return "client.Attrs{" + a.path + ", user " + a.userID + "}"
	}
	return "client.Attrs{" + a.path + "}"
}

// GoString is String, for %#v.
func (a Attrs) GoString() string { return a.String() }

// Attr is an attribute as the service returns it.
type Attr struct {
	Name string
	// Value is the attribute's JSON value, as stored. For an encrypted
	// attribute read with NoDecrypt it is the ciphertext, a JSON string.
	Value json.RawMessage
	// CreationTime, LastModified and ExpirationTime are in UTC, with
	// microseconds. ExpirationTime is [Never] for an attribute that does
	// not expire.
	CreationTime, LastModified, ExpirationTime time.Time
	// IsEncrypted reports whether the value is stored encrypted.
	IsEncrypted bool
}

// Decode decodes the attribute's JSON value into v, as json.Unmarshal.
func (a *Attr) Decode(v any) error { return json.Unmarshal(a.Value, v) }

// Never is the expiration time of an attribute that never expires
// (9999-12-31T00:00:00).
var Never = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// timeLayout is the API's date-time (docs/API.md#time-format): UTC, no
// zone, microseconds. Parsing accepts the fraction or its absence.
const timeLayout = "2006-01-02T15:04:05.000000"

func parseTime(s string) (time.Time, error) {
	return time.Parse("2006-01-02T15:04:05", s)
}

// formatTime writes an input form of the API's date-time, always with
// microseconds. The service writes its answers with domain.FormatTime,
// which leaves out a zero fraction; the client keeps its own layout because
// it imports only the standard library, and the service reads both.
func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// attrJSON is an attribute object on the wire.
type attrJSON struct {
	Name         string          `json:"name"`
	Value        json.RawMessage `json:"value"`
	CreationTime string          `json:"creation_time"`
	LastModified string          `json:"last_modified"`
	Expiration   string          `json:"expiration_time"`
	IsEncrypted  bool            `json:"is_encrypted"`
}

func (w *attrJSON) attr() (*Attr, error) {
	a := &Attr{Name: w.Name, Value: w.Value, IsEncrypted: w.IsEncrypted}
	var err error
	if a.CreationTime, err = parseTime(w.CreationTime); err != nil {
		return nil, fmt.Errorf("creation_time of %q: %w", w.Name, err)
	}
	if a.LastModified, err = parseTime(w.LastModified); err != nil {
		return nil, fmt.Errorf("last_modified of %q: %w", w.Name, err)
	}
	if a.ExpirationTime, err = parseTime(w.Expiration); err != nil {
		return nil, fmt.Errorf("expiration_time of %q: %w", w.Name, err)
	}
	return a, nil
}

// WriteOptions are the optional inputs of Create, Set, Update and their
// Many forms, as the keyword arguments of Zato's calls. A nil
// *WriteOptions is the zero value.
type WriteOptions struct {
	// Expiration is how long from now the attribute lives. nil: never, when
	// the attribute is created; unchanged, when a live one is updated or set.
	// A pointer to 0 means never (also on update). It is rounded up to whole
	// seconds; a negative one is [ErrInvalidInput]. With Go 1.26,
	// Expiration: new(time.Hour).
	Expiration *time.Duration
	// Encrypt stores the value encrypted; the value must then be a string.
	// On Update and Set, a value written without Encrypt is stored in
	// plaintext, whatever it was before.
	Encrypt bool
}

// Item is one attribute of a Many write (Zato's data list: name, value,
// expiration, encrypt). Unset fields take the call's [WriteOptions].
type Item struct {
	Name string
	// Value is any JSON-encodable value, or a json.RawMessage sent as is.
	// nil leaves the value unchanged in UpdateMany; CreateMany and SetMany
	// require one.
	Value any
	// Expiration overrides the call's (see WriteOptions.Expiration).
	Expiration *time.Duration
	// Encrypt overrides the call's when not nil.
	Encrypt *bool
	// UserID writes this item to another user's attributes (super-users,
	// user attributes only; the service ignores it for session attributes).
	UserID string
}

// seconds is the expiration input: whole seconds, rounded up.
func seconds(d *time.Duration) any {
	if d == nil {
		return nil
	}
	s := int64(*d / time.Second)
	if *d%time.Second > 0 {
		s++
	}
	return s
}

// base returns the body every call of a carries: the caller's token and
// the target.
func (a *Attrs) base() body {
	b := body{"ust": a.s.ust}
	if a.userID != "" {
		b["user_id"] = a.userID
	}
	if a.targetUST != "" {
		b["target_ust"] = a.targetUST
	}
	return b
}

func (a *Attrs) write(ctx context.Context, method string, in body, opts *WriteOptions) error {
	if opts != nil {
		in["expiration"] = seconds(opts.Expiration)
		if opts.Encrypt {
			in["encrypt"] = true
		}
	}
	_, err := a.s.c.call(ctx, method, a.path, in, nil)
	return err
}

func (a *Attrs) writeOne(ctx context.Context, method, name string, value any, opts *WriteOptions) error {
	in := a.base()
	in["name"] = name
	in["value"] = value
	return a.write(ctx, method, in, opts)
}

func (a *Attrs) writeMany(ctx context.Context, method string, items []Item, opts *WriteOptions) error {
	data := make([]body, len(items))
	for i, it := range items {
		d := body{"name": it.Name, "expiration": seconds(it.Expiration)}
		if it.Value != nil {
			d["value"] = it.Value
		}
		if it.Encrypt != nil {
			d["encrypt"] = *it.Encrypt
		}
		if it.UserID != "" {
			d["user_id"] = it.UserID
		}
		for k, v := range d {
			if v == nil {
				delete(d, k)
			}
		}
		data[i] = d
	}
	in := a.base()
	in["data"] = data
	return a.write(ctx, method, in, opts)
}

// Create creates the attribute name with value (POST; Zato: attr.create).
// It returns [ErrAttrExists] if name is live.
func (a *Attrs) Create(ctx context.Context, name string, value any, opts *WriteOptions) error {
	return a.writeOne(ctx, http.MethodPost, name, value, opts)
}

// CreateMany creates every item, or none (POST with data; Zato:
// attr.create_many). It returns [ErrAttrExists] if any name is live or
// repeated in items.
func (a *Attrs) CreateMany(ctx context.Context, items []Item, opts *WriteOptions) error {
	return a.writeMany(ctx, http.MethodPost, items, opts)
}

// Set creates name or, if it is live, replaces its value (PUT, an upsert;
// Zato: attr.set).
func (a *Attrs) Set(ctx context.Context, name string, value any, opts *WriteOptions) error {
	return a.writeOne(ctx, http.MethodPut, name, value, opts)
}

// SetMany sets every item, or none (PUT with data; Zato: attr.set_many). A
// name repeated in items is set in order: the last one wins.
func (a *Attrs) SetMany(ctx context.Context, items []Item, opts *WriteOptions) error {
	return a.writeMany(ctx, http.MethodPut, items, opts)
}

// Update changes the live attribute name (PATCH; Zato: attr.update). A nil
// value leaves the value as it is (to change only the expiration). It
// returns [ErrNoSuchAttr] if name is not live.
func (a *Attrs) Update(ctx context.Context, name string, value any, opts *WriteOptions) error {
	return a.writeOne(ctx, http.MethodPatch, name, value, opts)
}

// UpdateMany updates every item, or none (PATCH with data; Zato:
// attr.update_many). It returns [ErrNoSuchAttr] if any name is not live.
func (a *Attrs) UpdateMany(ctx context.Context, items []Item, opts *WriteOptions) error {
	return a.writeMany(ctx, http.MethodPatch, items, opts)
}

// ReadOptions are the optional inputs of Get, Exists, Names and their Many
// forms. A nil *ReadOptions is the zero value.
type ReadOptions struct {
	// AsOf reads the attributes as the service would have answered at that
	// moment (as_of); the zero time reads them now. Decrypted values come
	// from the stream's past events; an attribute that had expired at AsOf
	// is not found.
	AsOf time.Time
	// NoDecrypt returns an encrypted value as stored, its ciphertext
	// (decrypt=false). Get and GetMany only.
	NoDecrypt bool
}

func (a *Attrs) read(ctx context.Context, path string, in body, opts *ReadOptions, decrypt bool, out any) error {
	if opts != nil {
		if !opts.AsOf.IsZero() {
			in["as_of"] = formatTime(opts.AsOf)
		}
		if decrypt && opts.NoDecrypt {
			in["decrypt"] = false
		}
	}
	_, err := a.s.c.call(ctx, http.MethodGet, path, in, out)
	return err
}

// Get returns the attribute name, or nil if it is not live (GET; Zato:
// attr.get, which returns None then).
func (a *Attrs) Get(ctx context.Context, name string, opts *ReadOptions) (*Attr, error) {
	in := a.base()
	in["name"] = name
	var out struct {
		Found bool `json:"found"`
		attrJSON
	}
	if err := a.read(ctx, a.path, in, opts, true, &out); err != nil {
		return nil, err
	}
	if !out.Found {
		return nil, nil
	}
	at, err := out.attr()
	if err != nil {
		return nil, fmt.Errorf("client: GET %s: %w", a.path, err)
	}
	return at, nil
}

// GetMany returns the attributes names, keyed by name; the value is nil
// for a name that is not live (GET with data; Zato: attr.get_many).
func (a *Attrs) GetMany(ctx context.Context, names []string, opts *ReadOptions) (map[string]*Attr, error) {
	in := a.base()
	in["data"] = nonNil(names)
	var out struct {
		Result map[string]*attrJSON `json:"result"`
	}
	if err := a.read(ctx, a.path, in, opts, true, &out); err != nil {
		return nil, err
	}
	res := make(map[string]*Attr, len(out.Result))
	for n, w := range out.Result {
		if w == nil {
			res[n] = nil
			continue
		}
		at, err := w.attr()
		if err != nil {
			return nil, fmt.Errorf("client: GET %s: %w", a.path, err)
		}
		res[n] = at
	}
	return res, nil
}

// Exists reports whether name is live (GET .../exists; Zato: attr.exists).
func (a *Attrs) Exists(ctx context.Context, name string, opts *ReadOptions) (bool, error) {
	in := a.base()
	in["name"] = name
	var out struct {
		Result bool `json:"result"`
	}
	err := a.read(ctx, a.path+"/exists", in, opts, false, &out)
	return out.Result, err
}

// ExistsMany reports which of names are live, keyed by name (GET
// .../exists with data; Zato: attr.exists_many).
func (a *Attrs) ExistsMany(ctx context.Context, names []string, opts *ReadOptions) (map[string]bool, error) {
	in := a.base()
	in["data"] = nonNil(names)
	var out struct {
		Result map[string]bool `json:"result"`
	}
	if err := a.read(ctx, a.path+"/exists", in, opts, false, &out); err != nil {
		return nil, err
	}
	return out.Result, nil
}

// Names returns the names of the live attributes, sorted by byte order
// (GET .../names; Zato: attr.names).
func (a *Attrs) Names(ctx context.Context, opts *ReadOptions) ([]string, error) {
	var out struct {
		Result []string `json:"result"`
	}
	if err := a.read(ctx, a.path+"/names", a.base(), opts, false, &out); err != nil {
		return nil, err
	}
	if out.Result == nil {
		out.Result = []string{}
	}
	return out.Result, nil
}

// Delete deletes name (DELETE; Zato: attr.delete). Deleting a name that
// is not live is not an error.
func (a *Attrs) Delete(ctx context.Context, name string) error {
	in := a.base()
	in["name"] = name
	_, err := a.s.c.call(ctx, http.MethodDelete, a.path, in, nil)
	return err
}

// DeleteMany deletes names, all or none (DELETE with data; Zato:
// attr.delete_many). Names that are not live are ignored.
func (a *Attrs) DeleteMany(ctx context.Context, names []string) error {
	in := a.base()
	in["data"] = nonNil(names)
	_, err := a.s.c.call(ctx, http.MethodDelete, a.path, in, nil)
	return err
}

// nonNil sends an empty list for a nil one, so that the service answers
// ErrInvalidInput ("data is empty") rather than "neither name nor data".
func nonNil(names []string) []string {
	if names == nil {
		return []string{}
	}
	return names
}
