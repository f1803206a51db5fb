package main

import (
	"context"
	"fmt"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/eventstore"
)

// userFlagHelp is the help of --user on the commands that read a user's
// events.
const userFlagHelp = "the user: an id (zusr…) or a username; " +
	"ids are printed by 'ssoattr sso create-user', shown by 'ssoattr watch' and in GET /zato/sso/user/search answers"

// resolveUser returns the id of the user that v names: a username whose
// claim the stream holds now, else a user id the stream has events of.
// It is an exitError (status 1) when neither is found, so that a typo does
// not look like a user without changes.
func resolveUser(ctx context.Context, st *eventstore.Store, v string) (string, error) {
	if v == "" {
		return "", &exitError{2, "--user is empty"}
	}
	var id string
	err := st.ReadOwners(ctx, []domain.Owner{domain.UsernameOwner(v)}, 1, func(_ uint64, e domain.Event) bool {
		switch e.Kind {
		case domain.KindUsernameClaimed:
			id = e.Data.UserID
		case domain.KindUsernameReleased:
			id = ""
		}
		return true
	})
	if err != nil {
		return "", fmt.Errorf("look up username %q: %w", v, err)
	}
	if id != "" {
		return id, nil
	}
	if domain.IsToken(v) {
		ok, err := st.HasEvents(ctx, domain.UserOwner(v))
		if err != nil {
			return "", fmt.Errorf("look up user id %q: %w", v, err)
		}
		if ok {
			return v, nil
		}
	}
	return "", &exitError{1, fmt.Sprintf("no user with the username or id %q in stream %s "+
		"(ids are printed by 'ssoattr sso create-user', shown by 'ssoattr watch' and in GET /zato/sso/user/search answers)",
		v, st.StreamName())}
}
