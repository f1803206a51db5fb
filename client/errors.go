package client

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Code is a status code of the API, as sent in sub_status ("E009001"). A
// Code is an error, so it serves as a sentinel: errors.Is(err, code)
// reports whether err is an [*Error] carrying that code. Any code works,
// including those without a named constant: errors.Is(err,
// client.Code("E005002")).
type Code string

// Error returns the code and, when known, Zato's name for it.
func (c Code) Error() string {
	if name, ok := codeNames[c]; ok {
		return "sso " + string(c) + " (" + name + ")"
	}
	return "sso " + string(c)
}

// The codes a client most often tests for. docs/API.md lists them all.
const (
	ErrUserIDInvalid   Code = "E001100" // user_id.invalid: no user has that user_id (super-users only)
	ErrAppInvalid      Code = "E004001" // app_list.invalid: current_app unknown or not allowed
	ErrNotAllowed      Code = "E005001" // auth.not_allowed: the generic "you may not do this"
	ErrLocked          Code = "E005002" // auth.locked: the account is locked
	ErrNotApproved     Code = "E005004" // auth.not_approved
	ErrTOTPMissing     Code = "E005008" // auth.totp_missing: the account needs a TOTP code
	ErrNoSuchSession   Code = "E007001" // session.no_such_session: token unknown, expired or logged out
	ErrInvalidInput    Code = "E008002" // common.invalid_input
	ErrMissingInput    Code = "E008003" // common.missing_input: a required key is missing (HTTP 400)
	ErrInternal        Code = "E008004" // common.internal_error (HTTP 500)
	ErrAttrExists      Code = "E009001" // attr.already_exists: Create of a live name
	ErrNoSuchAttr      Code = "E009002" // attr.no_such_attr: Update of a name that is not live
	ErrPasswordExpired Code = "E003004" // password.expired
	// ErrUnavailable (HTTP 503, with Retry-After) is a request the service
	// could not complete for want of its event store (NATS unreachable, no
	// quorum, too slow). A write answered so was not stored and never will
	// be: it may be sent again as it is. Not a Zato code.
	ErrUnavailable Code = "E008005" // common.unavailable
	// ErrOutcomeUnknown (HTTP 503, with Retry-After) is a write that was
	// sent to the event store but not acknowledged in time: it may have been
	// stored, now or later. Read the state back (Get, Exists, History)
	// before sending it again; [IsRetryable] is false for it
	// (docs/API.md#outcome-unknown). Not a Zato code.
	ErrOutcomeUnknown Code = "E008006" // common.outcome_unknown
	// ErrBusy (HTTP 503, with Retry-After) is a request that found too many
	// password checks waiting: nothing was checked or changed, so it may be
	// sent again after Error.RetryAfter. Not a Zato code.
	ErrBusy Code = "E008007" // common.busy
)

// WarnPasswordAboutToExpire is the warning a successful login may carry
// (see [Session.Warnings]).
const WarnPasswordAboutToExpire Code = "W003005"

// codeNames are Zato's names of the codes (zato.sso.status_code).
var codeNames = map[Code]string{
	"E001001": "username.invalid", "E001002": "username.exists", "E001003": "username.too_long",
	"E001004": "username.has_whitespace", "E001100": "user_id.invalid",
	"E002001": "email.invalid", "E002002": "email.exists", "E002003": "email.too_long",
	"E002004": "email.has_whitespace", "E002005": "email.missing",
	"E003001": "password.invalid", "E003002": "password.too_short", "E003003": "password.too_long",
	"E003004": "password.expired", "W003005": "password.w_about_to_exp",
	"E003006": "password.e_about_to_exp", "E003007": "password.must_send_new",
	"E003008": "password.not_complex_enough",
	"E004001": "app_list.invalid", "E004002": "app_list.no_signup",
	"E005001": "auth.not_allowed", "E005002": "auth.locked", "E005003": "auth.invalid_signup_status",
	"E005004": "auth.not_approved", "E005006": "auth.no_such_sign_up_token",
	"E005007": "auth.sign_up_confirmed", "E005008": "auth.totp_missing",
	"E006001": "metadata.not_allowed", "E007001": "session.no_such_session",
	"E008001": "common.invalid_operation", "E008002": "common.invalid_input",
	"E008003": "common.missing_input", "E008004": "common.internal_error",
	"E008005": "common.unavailable", "E008006": "common.outcome_unknown", "E008007": "common.busy",
	"E009001": "attr.already_exists", "E009002": "attr.no_such_attr",
}

// Error is an error answer of the service: any HTTP status other than 200,
// or a 200 whose status is "error". It never holds the request's inputs,
// so its text is safe to log.
type Error struct {
	Method string   // the request's method
	Path   string   // the request's path, without the base URL
	Status int      // the HTTP status
	Codes  []string // sub_status: the API's codes, usually one ("E009001")
	// CID is the request's correlation id (the cid field, or the
	// X-Zato-CID header): the service logs its failures under it.
	CID string
	// RetryAfter is the Retry-After header of the answer, zero if none.
	RetryAfter time.Duration
}

// Error says what failed, with the codes (and their Zato names) and the cid.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("client: ")
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.Path)
	b.WriteString(": HTTP ")
	b.WriteString(strconv.Itoa(e.Status))
	for i, c := range e.Codes {
		if i == 0 {
			b.WriteString(", ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(Code(c).Error()[len("sso "):])
	}
	if e.CID != "" {
		b.WriteString(", cid ")
		b.WriteString(e.CID)
	}
	return b.String()
}

// Is reports whether target is a [Code] that e carries.
func (e *Error) Is(target error) bool {
	c, ok := target.(Code)
	return ok && e.Has(c)
}

// Has reports whether e carries code.
func (e *Error) Has(code Code) bool { return slices.Contains(e.Codes, string(code)) }

// IsRetryable reports whether err is an answer saying the service could
// not take the request now and did nothing (HTTP 503, or 429, such as
// [ErrUnavailable] and [ErrBusy]): the same request may be sent again,
// after [Error.RetryAfter] if the service gave one. It is false for
// [ErrOutcomeUnknown], a write that may have been stored, and for a
// transport error, after which whether a write was carried out is not
// known either: read back before sending such a write again.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && !e.Has(ErrOutcomeUnknown) &&
		(e.Status == http.StatusServiceUnavailable || e.Status == http.StatusTooManyRequests)
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(h); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
