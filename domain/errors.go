package domain

import "errors"

// CodeError is an error the API may disclose: it carries the status code that
// docs/API.md documents for it (E009001, E005001, ...). The HTTP layer maps every
// CodeError to 403 with that code, except the few the spec answers otherwise.
type CodeError struct{ Code string }

func (e *CodeError) Error() string { return "sso: " + e.Code }

// Documented codes (docs/API.md#error-codes).
var (
	ErrUsernameInvalid     = &CodeError{"E001001"}
	ErrUsernameExists      = &CodeError{"E001002"}
	ErrUsernameTooLong     = &CodeError{"E001003"}
	ErrUsernameWhitespace  = &CodeError{"E001004"}
	ErrNoSuchUser          = &CodeError{"E001100"}
	ErrEmailInvalid        = &CodeError{"E002001"}
	ErrEmailExists         = &CodeError{"E002002"}
	ErrEmailTooLong        = &CodeError{"E002003"}
	ErrEmailWhitespace     = &CodeError{"E002004"}
	ErrEmailMissing        = &CodeError{"E002005"}
	ErrPasswordInvalid     = &CodeError{"E003001"}
	ErrPasswordTooShort    = &CodeError{"E003002"}
	ErrPasswordTooLong     = &CodeError{"E003003"}
	ErrPasswordExpired     = &CodeError{"E003004"}
	ErrPasswordAboutToExp  = &CodeError{"E003006"}
	ErrPasswordMustSendNew = &CodeError{"E003007"}
	ErrPasswordNotComplex  = &CodeError{"E003008"}
	ErrAppInvalid          = &CodeError{"E004001"}
	ErrAppNoSignup         = &CodeError{"E004002"}
	ErrNotAllowed          = &CodeError{"E005001"}
	ErrLocked              = &CodeError{"E005002"}
	ErrNotConfirmed        = &CodeError{"E005003"}
	ErrNotApproved         = &CodeError{"E005004"}
	ErrNoSuchSignupToken   = &CodeError{"E005006"}
	ErrSignupConfirmed     = &CodeError{"E005007"}
	ErrTOTPMissing         = &CodeError{"E005008"}
	ErrMetadataNotAllowed  = &CodeError{"E006001"}
	ErrNoSuchSession       = &CodeError{"E007001"}
	ErrInvalidOperation    = &CodeError{"E008001"}
	ErrInvalidInput        = &CodeError{"E008002"}
	ErrMissingInput        = &CodeError{"E008003"}
	ErrAttrExists          = &CodeError{"E009001"}
	ErrNoSuchAttr          = &CodeError{"E009002"}
)

// Code of the warning a successful login may carry (docs/API.md#login step 7).
const WarnPasswordAboutToExpire = "W003005"

// ErrConflict reports that another writer appended to the owner's subject
// since the sequence a command expected. The command is decided again on a
// fresher view; it never reaches a client as such.
var ErrConflict = errors.New("owner changed concurrently")

// ErrBusy reports that the service has more password checks to make than
// it computes at once and queues: the request waited its turn for longer
// than the configured bound, or found the queue full. Nothing was checked
// or changed. The API answers 503 with Retry-After and E008007
// (docs/API.md#error-codes); the client may send the request again later.
var ErrBusy = errors.New("too many password checks at once")

// ErrUnavailable reports a request that could not complete because the
// event store is out of reach: NATS unreachable, the stream without a
// leader or quorum, or too slow to answer within the request's deadline.
// The API answers 503 with Retry-After and E008005
// (docs/API.md#error-codes). For a write it is a definite failure: the
// event was not stored and never will be, so the client may send the
// request again as it is.
var ErrUnavailable = errors.New("event store unavailable")

// ErrOutcomeUnknown reports a write that was sent to the stream but whose
// acknowledgement never came, and that could not be settled by looking for
// its event before the request's deadline: it may have been stored, or may
// still be. The API answers 503 with Retry-After and E008006
// (docs/API.md#error-codes); the client reads the state back to find out.
var ErrOutcomeUnknown = errors.New("write outcome unknown")

// ErrEventTooLarge reports an event larger than the stream accepts. The
// service answers E008002: the request asked to write too much at once.
var ErrEventTooLarge = errors.New("event too large for the stream")

// Hide turns err into the generic E005001 unless inform is true. It is how the
// "inform_if_*" switches of docs/API.md#disclosure are applied.
func Hide(err error, inform bool) error {
	if inform {
		return err
	}
	return ErrNotAllowed
}
