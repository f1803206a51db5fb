package node

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/ssoattr/ssoattr/eventstore"
	"github.com/ssoattr/ssoattr/internal/natsctx"
)

// Role is one of the NATS users of an ssoattr deployment. Each has its own
// context file in the data directory, its own inbox prefix, and exactly the
// permissions its job needs, enforced by nats-server.
type Role string

// The roles. The service appends events and answers admin commands; the
// admin role sends admin commands (ssoattr sso ...) and reads their
// replies; the reader reads the stream (history, replay, watch, verify,
// subscribers) and can change nothing.
const (
	RoleService Role = "service"
	RoleAdmin   Role = "admin"
	RoleReader  Role = "reader"
)

// Roles lists the roles in the order their files are written.
var Roles = []Role{RoleService, RoleAdmin, RoleReader}

// InboxPrefix returns the role's inbox prefix: replies to its requests
// come there, and it is the only inbox the role may subscribe to, so no
// role sees another's replies (an admin reply can carry a password or a
// UST).
func (r Role) InboxPrefix() string { return "_INBOX_" + string(r) }

// ContextFile returns the path of the role's context file in dir (the
// data directory's "nats" directory).
func (r Role) ContextFile(dir string) string { return filepath.Join(dir, string(r)+".json") }

// setupUser is the user that creates or updates the stream when an
// embedded server starts. Its password is made afresh by each start and
// exists only in this process's memory, and it may connect in-process only:
// no role in a context file can change the stream's configuration.
const setupUser = "ssoattr-setup"

// loadCredentials returns each role's context, read from its file in dir
// or, when there is none yet, made with a new random password (it is
// written by saveCredentials, once the server listens).
func loadCredentials(dir string) (map[Role]natsctx.Context, error) {
	creds := make(map[Role]natsctx.Context, len(Roles))
	for _, r := range Roles {
		path := r.ContextFile(dir)
		c, err := natsctx.Load(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			c = natsctx.Context{User: string(r), Password: newPassword(), InboxPrefix: r.InboxPrefix(),
				Description: "ssoattr " + string(r) + " role"}
		case err != nil:
			return nil, fmt.Errorf("credentials of the %s role: %w", r, err)
		case c.User != string(r) || c.Password == "" || c.InboxPrefix != r.InboxPrefix():
			return nil, fmt.Errorf("credentials of the %s role: %s must name user %q with a password and inbox_prefix %q (delete it to have a new one made)",
				r, path, r, r.InboxPrefix())
		}
		creds[r] = c
	}
	return creds, nil
}

// saveCredentials writes the context file of each role whose URL is not
// url (new ones have none), so the files always name the server as it
// listens now: dir with mode 0700, the files 0600.
func saveCredentials(dir string, creds map[Role]natsctx.Context, url string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("credentials directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("credentials directory: %w", err)
	}
	for _, r := range Roles {
		c := creds[r]
		if c.URL == url {
			// Kept private even if someone loosened its mode.
			if err := os.Chmod(r.ContextFile(dir), 0o600); err != nil {
				return fmt.Errorf("credentials of the %s role: %w", r, err)
			}
			continue
		}
		c.URL = url
		if err := natsctx.Write(r.ContextFile(dir), c); err != nil {
			return fmt.Errorf("credentials of the %s role: %w", r, err)
		}
		creds[r] = c
	}
	return nil
}

// newPassword returns 32 random characters (about 190 bits).
func newPassword() string { return rand.Text() + rand.Text()[:6] }

// Users returns the nats-server users of the roles with their permissions
// on stream (the stream's name), for a server that embeds ssoattr or
// stands beside it (tests). setupPassword, when not empty, adds the
// in-process setup user that may manage streams.
func Users(creds map[Role]natsctx.Context, stream, setupPassword string) []*server.User {
	var users []*server.User
	for _, r := range Roles {
		users = append(users, &server.User{Username: creds[r].User, Password: creds[r].Password,
			Permissions: Permissions(r, stream)})
	}
	if setupPassword != "" {
		users = append(users, &server.User{Username: setupUser, Password: setupPassword,
			AllowedConnectionTypes: map[string]struct{}{jwt.ConnectionTypeInProcess: {}}})
	}
	return users
}

// Permissions returns what role may publish and subscribe to, given the
// stream's name. README.md#nats-roles-and-credentials shows the same as a
// nats-server configuration, for an external cluster.
//
// The service may use the JetStream API (its follower, reads, a key-value
// bucket of its own) but not delete, purge, create or update the event
// stream, nor delete a message or restore a snapshot: the stream, created
// with deletes and purges denied and no limits, can then not be emptied
// through any role, the service's included. It answers admin commands
// through response permissions: it may publish to the reply subject of a
// request it received, once, and to no other inbox.
//
// The reader may read the stream (stream info, direct and plain message
// gets, and consumers it creates: ordered consumers and their pulls) and
// subscribe to the events' subjects; it can publish no event, send no admin
// command, and delete only consumers whose names it knows (its own: the
// names are random and it cannot list the stream's consumers).
func Permissions(r Role, stream string) *server.Permissions {
	api := "$JS.API."
	switch r {
	case RoleService:
		return &server.Permissions{
			Publish: &server.SubjectPermission{
				Allow: []string{eventstore.Prefix + ".>", api + ">", "$JS.ACK.>", "$JS.FC.>", "$KV.>"},
				Deny: []string{api + "STREAM.DELETE.>", api + "STREAM.PURGE.>", api + "STREAM.RESTORE.>",
					api + "ACCOUNT.PURGE.>", api + "STREAM.MSG.DELETE." + stream,
					api + "STREAM.CREATE." + stream, api + "STREAM.UPDATE." + stream},
			},
			Subscribe: &server.SubjectPermission{Allow: []string{AdminSubject + ">", r.InboxPrefix() + ".>"}},
			Response:  &server.ResponsePermission{MaxMsgs: 1},
		}
	case RoleAdmin:
		return &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: []string{AdminSubject + ">"}},
			Subscribe: &server.SubjectPermission{Allow: []string{r.InboxPrefix() + ".>"}},
		}
	case RoleReader:
		return &server.Permissions{
			Publish: &server.SubjectPermission{Allow: []string{
				api + "INFO", api + "STREAM.NAMES", api + "STREAM.LIST", api + "STREAM.INFO." + stream,
				api + "CONSUMER.CREATE." + stream, api + "CONSUMER.CREATE." + stream + ".>",
				api + "CONSUMER.INFO." + stream + ".*", api + "CONSUMER.DELETE." + stream + ".*",
				api + "CONSUMER.MSG.NEXT." + stream + ".*",
				api + "DIRECT.GET." + stream, api + "DIRECT.GET." + stream + ".>", api + "STREAM.MSG.GET." + stream,
				"$JS.ACK." + stream + ".>", "$JS.FC." + stream + ".>",
			}},
			Subscribe: &server.SubjectPermission{Allow: []string{eventstore.Prefix + ".>", r.InboxPrefix() + ".>"}},
		}
	}
	panic("unknown role " + string(r))
}
