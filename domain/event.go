package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"
)

// Event kinds. A stored event keeps its kind forever; a new shape gets a new
// kind. docs/events.md documents each one with an example.
const (
	// Attribute events, on a user's or a session's attribute subject.
	KindAttrCreated = "attr.created" // POST: every item is a new attribute
	KindAttrSet     = "attr.set"     // PUT: each item created or replaced
	KindAttrUpdated = "attr.updated" // PATCH: each item existed and was changed
	KindAttrDeleted = "attr.deleted" // DELETE: Names were removed
	KindAttrExpired = "attr.expired" // sweep: Names passed their expiry
	KindAttrRemoved = "attr.removed" // the owner ended (session end, user deletion)

	// Account events, on the user's subject. Each carries the full new
	// state of the account (secrets encrypted), so applying one is a replace.
	KindUserCreated         = "user.created"
	KindUserUpdated         = "user.updated"
	KindUserApproved        = "user.approved"
	KindUserRejected        = "user.rejected"
	KindUserLocked          = "user.locked"
	KindUserUnlocked        = "user.unlocked"
	KindUserPasswordChanged = "user.password_changed"
	KindUserTOTPChanged     = "user.totp_changed"
	KindUserSignupConfirmed = "user.signup_confirmed"
	KindUserDeleted         = "user.deleted"

	// Session events, on the session's subject.
	KindSessionCreated = "session.created"
	KindSessionRenewed = "session.renewed"
	KindSessionEnded   = "session.ended"

	// Username claims, on the username's subject: they make usernames unique
	// across every writer of the stream.
	KindUsernameClaimed  = "username.claimed"
	KindUsernameReleased = "username.released"
)

// Kinds lists every event kind above, in the order docs/events.md documents
// them. Everything that needs the set of kinds (the decoder, the events
// endpoint's filter, metrics, the CLI) derives it from here: a new kind is
// added to the constants and to this list, nowhere else.
var Kinds = []string{
	KindAttrCreated, KindAttrSet, KindAttrUpdated, KindAttrDeleted, KindAttrExpired, KindAttrRemoved,
	KindUserCreated, KindUserUpdated, KindUserApproved, KindUserRejected, KindUserLocked,
	KindUserUnlocked, KindUserPasswordChanged, KindUserTOTPChanged, KindUserSignupConfirmed, KindUserDeleted,
	KindSessionCreated, KindSessionRenewed, KindSessionEnded,
	KindUsernameClaimed, KindUsernameReleased,
}

// KnownKind reports whether k is one of Kinds.
func KnownKind(k string) bool { return slices.Contains(Kinds, k) }

// Reasons recorded in session.ended and attr.removed events.
const (
	ReasonLogout      = "logout"
	ReasonExpired     = "expired"
	ReasonUserDeleted = "user_deleted"
)

// OwnerKind says what an owner is; each owner is one subject in the stream.
type OwnerKind string

// Owner kinds.
const (
	OwnerUser         OwnerKind = "user"     // an account
	OwnerUsername     OwnerKind = "username" // a username claim
	OwnerSession      OwnerKind = "session"  // a session
	OwnerUserAttrs    OwnerKind = "uattr"    // a user's attributes
	OwnerSessionAttrs OwnerKind = "sattr"    // a session's attributes
)

// Owner names the consistency boundary an event belongs to. User is the
// user id (for OwnerUsername, the username's hash); Session is set for the
// session-scoped kinds.
type Owner struct {
	Kind    OwnerKind
	User    string
	Session string
}

// String returns "kind/user" or "kind/user/session".
func (o Owner) String() string {
	if o.Session != "" {
		return string(o.Kind) + "/" + o.User + "/" + o.Session
	}
	return string(o.Kind) + "/" + o.User
}

// UserOwner returns the owner of a user account.
func UserOwner(userID string) Owner { return Owner{Kind: OwnerUser, User: userID} }

// UserAttrsOwner returns the owner of a user's attributes.
func UserAttrsOwner(userID string) Owner { return Owner{Kind: OwnerUserAttrs, User: userID} }

// SessionOwner returns the owner of a session.
func SessionOwner(userID, sessionID string) Owner {
	return Owner{Kind: OwnerSession, User: userID, Session: sessionID}
}

// SessionAttrsOwner returns the owner of a session's attributes.
func SessionAttrsOwner(userID, sessionID string) Owner {
	return Owner{Kind: OwnerSessionAttrs, User: userID, Session: sessionID}
}

// UsernameOwner returns the owner of a username claim. The token is a hash,
// so any username (dots, spaces, wildcards) maps to a valid subject token.
func UsernameOwner(username string) Owner {
	h := sha256.Sum256([]byte(username))
	return Owner{Kind: OwnerUsername, User: hex.EncodeToString(h[:16])}
}

// Event is one immutable change. eventstore writes it as a CloudEvents 1.0
// JSON message on its owner's subject.
type Event struct {
	ID    string // ULID
	Kind  string
	Owner Owner
	Time  time.Time

	// Who caused it, for the audit trail.
	Actor      string // user id, or "auto"/"cli"/"system"
	App        string
	RemoteAddr string
	CID        string

	Data EventData
}

// EventData is the payload of an event; which fields are set depends on Kind.
type EventData struct {
	Attrs   []Attr   `json:"attrs,omitempty"`   // attr.created/set/updated: the attributes as written
	Names   []string `json:"names,omitempty"`   // attr.deleted/expired/removed
	User    *User    `json:"user,omitempty"`    // user.*: the account after the change
	Changed []string `json:"changed,omitempty"` // user.updated: the fields that changed
	Session *Session `json:"session,omitempty"` // session.created/renewed: the session after the change
	Reason  string   `json:"reason,omitempty"`  // session.ended, attr.removed
	// Username claims.
	Username string `json:"username,omitempty"`
	UserID   string `json:"user_id,omitempty"`
}

// Pending is an event about to be appended, with the sequence its owner's
// subject must be at (0: no event yet). A command produces one Pending per
// owner it touches.
type Pending struct {
	Event    Event
	Expected uint64
}
