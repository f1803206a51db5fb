package client

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"time"
)

// HistoryOptions select the changes [Attrs.History] returns. A nil
// *HistoryOptions is the zero value: every change, first page.
type HistoryOptions struct {
	Name  string    // only this attribute's changes; "" for all
	Since time.Time // changes at or after this moment; zero: from the start
	Until time.Time // changes at or before this moment; zero: to now
	// Limit is the page size; 0 is the service's default (100), and it
	// caps larger values (at 1000).
	Limit int
	// After is the cursor of the page to read: the Next of the previous
	// page, "" for the first.
	After string
	// NoDecrypt returns encrypted values as stored (their ciphertext).
	NoDecrypt bool
}

// Change is one change of one attribute, as the service's event stream
// records it (docs/API.md#attribute-history).
type Change struct {
	Seq  uint64    // the stream sequence of the event that made it
	ID   string    // the event's id
	Type string    // created, set, updated, deleted, expired, removed
	Time time.Time // when it happened, UTC
	Name string
	// Value, IsEncrypted and ExpirationTime are the attribute as written,
	// for created, set and updated; empty otherwise.
	Value          json.RawMessage
	IsEncrypted    bool
	ExpirationTime time.Time
	// Reason says why a removed attribute went: logout, expired,
	// user_deleted.
	Reason string
	// Who and from where: the acting user's id ("system" for expiry), the
	// application, the remote address and the request's correlation id.
	ActorUserID, CurrentApp, RemoteAddr, CID string
}

// HistoryPage is one page of changes, oldest first.
type HistoryPage struct {
	Changes []Change
	// Next is the cursor of the next page (HistoryOptions.After); "" on
	// the last page.
	Next string
}

type changeJSON struct {
	Seq         uint64          `json:"seq"`
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	Time        string          `json:"time"`
	Name        string          `json:"name"`
	Value       json.RawMessage `json:"value"`
	IsEncrypted bool            `json:"is_encrypted"`
	Expiration  string          `json:"expiration_time"`
	Reason      string          `json:"reason"`
	Actor       string          `json:"actor_user_id"`
	App         string          `json:"current_app"`
	RemoteAddr  string          `json:"remote_addr"`
	CID         string          `json:"cid"`
}

// History returns a page of the changes of these attributes, in the order
// they happened (GET .../history). Zato has no such call: the service keeps
// every change as an event. Expired and deleted attributes and ended
// sessions keep their history.
func (a *Attrs) History(ctx context.Context, opts *HistoryOptions) (*HistoryPage, error) {
	if opts == nil {
		opts = &HistoryOptions{}
	}
	in := a.base()
	if opts.Name != "" {
		in["name"] = opts.Name
	}
	if !opts.Since.IsZero() {
		in["since"] = formatTime(opts.Since)
	}
	if !opts.Until.IsZero() {
		in["until"] = formatTime(opts.Until)
	}
	if opts.Limit != 0 {
		in["limit"] = opts.Limit
	}
	if opts.After != "" {
		in["after"] = opts.After
	}
	if opts.NoDecrypt {
		in["decrypt"] = false
	}
	var out struct {
		Result []changeJSON `json:"result"`
		Next   string       `json:"next"`
	}
	path := a.path + "/history"
	if _, err := a.s.c.call(ctx, http.MethodGet, path, in, &out); err != nil {
		return nil, err
	}
	page := &HistoryPage{Changes: make([]Change, len(out.Result)), Next: out.Next}
	for i, w := range out.Result {
		ch := Change{Seq: w.Seq, ID: w.ID, Type: w.Type, Name: w.Name, Value: w.Value,
			IsEncrypted: w.IsEncrypted, Reason: w.Reason, ActorUserID: w.Actor,
			CurrentApp: w.App, RemoteAddr: w.RemoteAddr, CID: w.CID}
		var err error
		if ch.Time, err = parseTime(w.Time); err != nil {
			return nil, fmt.Errorf("client: GET %s: time of change %d: %w", path, w.Seq, err)
		}
		if w.Expiration != "" {
			if ch.ExpirationTime, err = parseTime(w.Expiration); err != nil {
				return nil, fmt.Errorf("client: GET %s: expiration_time of change %d: %w", path, w.Seq, err)
			}
		}
		page.Changes[i] = ch
	}
	return page, nil
}

// HistoryAll iterates over every change opts selects, reading page after
// page (opts.Limit changes each) from opts.After on. It stops at the first
// error, which it yields with a zero Change.
func (a *Attrs) HistoryAll(ctx context.Context, opts *HistoryOptions) iter.Seq2[Change, error] {
	return func(yield func(Change, error) bool) {
		o := HistoryOptions{}
		if opts != nil {
			o = *opts
		}
		for {
			page, err := a.History(ctx, &o)
			if err != nil {
				yield(Change{}, err)
				return
			}
			for _, ch := range page.Changes {
				if !yield(ch, nil) {
					return
				}
			}
			if page.Next == "" {
				return
			}
			o.After = page.Next
		}
	}
}
