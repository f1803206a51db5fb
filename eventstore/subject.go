package eventstore

import (
	"errors"
	"strings"

	"github.com/ssoattr/ssoattr/domain"
)

// Prefix is the first token of every subject the service writes.
const Prefix = "sso"

// Subject returns the subject of an owner: sso.<kind>.<user>[.<session>].
// Tokens are ids the service generated (or a username's hash), never user input.
func Subject(o domain.Owner) string {
	n := len(Prefix) + 1 + len(o.Kind) + 1 + len(o.User)
	if o.Session != "" {
		n += 1 + len(o.Session)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(Prefix)
	b.WriteByte('.')
	b.WriteString(string(o.Kind))
	b.WriteByte('.')
	b.WriteString(o.User)
	if o.Session != "" {
		b.WriteByte('.')
		b.WriteString(o.Session)
	}
	return b.String()
}

var errBadSubject = errors.New("not an ssoattr subject")

// ParseSubject is the inverse of Subject.
func ParseSubject(s string) (domain.Owner, error) {
	prefix, rest, ok := strings.Cut(s, ".")
	if !ok || prefix != Prefix {
		return domain.Owner{}, errBadSubject
	}
	kind, rest, ok := strings.Cut(rest, ".")
	if !ok {
		return domain.Owner{}, errBadSubject
	}
	user, session, _ := strings.Cut(rest, ".")
	if strings.Contains(session, ".") {
		return domain.Owner{}, errBadSubject
	}
	o := domain.Owner{User: user, Session: session}
	switch o.Kind = domain.OwnerKind(kind); o.Kind {
	case domain.OwnerSession, domain.OwnerSessionAttrs:
		if o.Session == "" {
			return domain.Owner{}, errBadSubject
		}
	case domain.OwnerUser, domain.OwnerUserAttrs, domain.OwnerUsername:
		if o.Session != "" || strings.HasSuffix(rest, ".") {
			return domain.Owner{}, errBadSubject
		}
	default:
		return domain.Owner{}, errBadSubject
	}
	return o, nil
}
