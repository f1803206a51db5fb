package client

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Session is a logged-in session: its token (the UST) and handles on the
// attributes it may reach. It is safe for concurrent use, except that
// Warnings must not be changed while calls run.
type Session struct {
	c   *Client
	ust string

	// User is the session's own user; User.Attr are that user's attributes
	// (Zato: self.sso.user.get_current_user(...).attr).
	User *User
	// Attr are this session's attributes (Zato:
	// self.sso.user.session.get(cid, ust, ust, ...).attr). They end with
	// the session.
	Attr *Attrs
	// Warnings are the codes of a login that succeeded with a warning
	// ([WarnPasswordAboutToExpire]); nil otherwise.
	Warnings []string
}

// User is a user whose attributes a session may reach: its own, or, for
// a super-user, anyone's.
type User struct {
	// ID is the user_id the requests name; "" for the session's own user.
	ID string
	// Attr are the user's attributes (Zato's UserAttr).
	Attr *Attrs
}

// TargetSession is a session, possibly another one, whose attributes a
// session may reach: one of the same user's sessions or, for a
// super-user, anyone's.
type TargetSession struct {
	// Attr are the target session's attributes (Zato's SessionAttr).
	Attr *Attrs
}

// Session returns a session for a UST obtained elsewhere (from a web
// front-end, or an earlier [Client.Login]). Nothing is checked until it
// is used: a token that is not live gives [ErrNoSuchSession] then.
func (c *Client) Session(ust string) *Session {
	s := &Session{c: c, ust: ust}
	s.User = &User{Attr: &Attrs{s: s, path: userAttrPath}}
	s.Attr = &Attrs{s: s, path: sessionAttrPath}
	return s
}

// UST returns the session's token. Treat it as a password: it is never
// part of an error's text.
func (s *Session) UST() string { return s.ust }

// String describes the session without its token, so that printing a
// Session (%v, %+v) does not leak it.
func (s Session) String() string {
	if len(s.Warnings) > 0 {
		return fmt.Sprintf("client.Session{Warnings: %q}", s.Warnings)
	}
	return "client.Session{}"
}

// GoString is String, for %#v.
func (s Session) GoString() string { return s.String() }

// UserByID returns the user with that user_id, for a super-user acting on
// another user's attributes (Zato: self.sso.user.get_user_by_id). Calls
// for another user made by a regular user fail with [ErrNotAllowed]; a
// super-user naming a user that does not exist gets [ErrUserIDInvalid].
func (s *Session) UserByID(userID string) *User {
	return &User{ID: userID, Attr: &Attrs{s: s, path: userAttrPath, userID: userID}}
}

// SessionByUST returns the session whose token is targetUST, for acting
// on its attributes (Zato: self.sso.user.session.get(cid, target_ust,
// current_ust, ...)). A regular user may target their own sessions only
// ([ErrNotAllowed] otherwise); a target that is not live is
// [ErrNoSuchSession].
func (s *Session) SessionByUST(targetUST string) *TargetSession {
	return &TargetSession{Attr: &Attrs{s: s, path: sessionAttrPath, targetUST: targetUST}}
}

// Logout ends the session and deletes its attributes (POST
// /zato/sso/user/logout, docs/API.md#logout). As in Zato, the service
// answers ok whether or not the session was still live.
func (s *Session) Logout(ctx context.Context) error {
	_, err := s.c.call(ctx, http.MethodPost, "/zato/sso/user/logout", body{"ust": s.ust}, nil)
	return err
}

// Renew extends the session by the service's session lifetime from now and
// returns its new expiration time (PATCH /zato/sso/user/session). A session
// that is not live is [ErrNoSuchSession].
func (s *Session) Renew(ctx context.Context) (time.Time, error) {
	var out struct {
		Expiration string `json:"expiration_time"`
	}
	if _, err := s.c.call(ctx, http.MethodPatch, "/zato/sso/user/session", body{"ust": s.ust}, &out); err != nil {
		return time.Time{}, err
	}
	t, err := parseTime(out.Expiration)
	if err != nil {
		return time.Time{}, fmt.Errorf("client: PATCH /zato/sso/user/session: expiration_time: %w", err)
	}
	return t, nil
}
