package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ssoattr/ssoattr/internal/node"
)

// parseInterleaved parses flags that may come before or after positional
// arguments ("create-super-user alice --password x"), returning the
// positionals. Help and mistakes go where parseFlags sends them.
func parseInterleaved(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args, stdout, stderr); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// adminCmd is one "ssoattr sso" command: it fills an AdminRequest from its
// flags and one positional argument, sends it to the running service over
// NATS and prints the reply.
type adminCmd struct {
	usage string
	flags func(fs *flag.FlagSet, req *node.AdminRequest)
	// arg stores the positional argument (default: the username).
	arg func(req *node.AdminRequest, v string)
	// check refuses a request before it is sent (a missing required flag).
	check func(req *node.AdminRequest) error
	done  func(w io.Writer, req node.AdminRequest, r node.AdminReply)
}

func optString(fs *flag.FlagSet, name, usage string, dst **string) {
	fs.Func(name, usage, func(s string) error { *dst = &s; return nil })
}

// passwordFlags are the flags of the commands that set a password.
func passwordFlags(fs *flag.FlagSet, req *node.AdminRequest) {
	fs.Int64Var(&req.ExpiryDays, "expiry", 0, "password expiry in days (default: the service's password.expiry)")
	fs.BoolFunc("must-change", "whether the user must change the password at next login\n(--must-change or --must-change=false; default: leave the flag as it is)",
		func(s string) error {
			v, err := strconv.ParseBool(s)
			if err != nil {
				return err
			}
			req.MustChange = &v
			return nil
		})
}

func requirePassword(req *node.AdminRequest) error {
	if req.Password == "" {
		return errors.New("--password is required")
	}
	return nil
}

var adminCmds = map[string]adminCmd{
	"create-user": {
		usage: "create-user USERNAME [--password P] [--email E] [--display-name N] [--first-name N] [--middle-name N] [--last-name N]\n\n" +
			"Creates an approved regular user. Without --password a random password is set and printed once.",
		flags: func(fs *flag.FlagSet, req *node.AdminRequest) {
			fs.StringVar(&req.Password, "password", "", "the new user's password (default: a random one, printed)")
			optString(fs, "email", "the new user's e-mail address", &req.Email)
			optString(fs, "display-name", "the name shown to people", &req.DisplayName)
			optString(fs, "first-name", "first name", &req.FirstName)
			optString(fs, "middle-name", "middle name", &req.MiddleName)
			optString(fs, "last-name", "last name", &req.LastName)
		},
		done: func(w io.Writer, _ node.AdminRequest, r node.AdminReply) {
			fmt.Fprintf(w, "User created (%s)\n", r.UserID)
			if r.Password != "" {
				fmt.Fprintf(w, "Password: %s\n", r.Password)
			}
		},
	},
	"create-super-user": {
		usage: "create-super-user USERNAME --password P [--email E]\n\nCreates an approved super-user (approval_status_mod_by \"auto\", sign_up_status \"final\").",
		flags: func(fs *flag.FlagSet, req *node.AdminRequest) {
			fs.StringVar(&req.Password, "password", "", "the new user's password (required)")
			optString(fs, "email", "the new user's e-mail address", &req.Email)
		},
		check: requirePassword,
		done: func(w io.Writer, _ node.AdminRequest, r node.AdminReply) {
			fmt.Fprintf(w, "User created (%s)\n", r.UserID)
		},
	},
	"delete-user": {
		usage: "delete-user USERNAME --yes\n\nDeletes a user (regular or super-user) with all of their sessions, user attributes and\nsession attributes. This cannot be undone, so --yes is required.",
		flags: func(fs *flag.FlagSet, req *node.AdminRequest) {
			fs.BoolVar(&req.Confirm, "yes", false, "confirm the deletion (required)")
		},
		check: func(req *node.AdminRequest) error {
			if !req.Confirm {
				return fmt.Errorf("refusing to delete user `%s` without --yes (this cannot be undone)", req.Username)
			}
			return nil
		},
		done: func(w io.Writer, req node.AdminRequest, _ node.AdminReply) {
			fmt.Fprintf(w, "Deleted user `%s`\n", req.Username)
		},
	},
	"lock-user": {
		usage: "lock-user USERNAME\n\nLocks an account: the user cannot log in and their sessions stop working until unlocked.\nLocking a locked account is not an error.",
		done: func(w io.Writer, req node.AdminRequest, _ node.AdminReply) {
			fmt.Fprintf(w, "Locked user account `%s`\n", req.Username)
		},
	},
	"unlock-user": {
		usage: "unlock-user USERNAME\n\nUnlocks an account. Unlocking an unlocked account is not an error.",
		done: func(w io.Writer, req node.AdminRequest, _ node.AdminReply) {
			fmt.Fprintf(w, "Unlocked user account `%s`\n", req.Username)
		},
	},
	"change-user-password": {
		usage: "change-user-password USERNAME --password P [--expiry DAYS] [--must-change[=false]]\n\n" +
			"Sets the user's password to P, which must pass the password policy.",
		flags: func(fs *flag.FlagSet, req *node.AdminRequest) {
			fs.StringVar(&req.Password, "password", "", "the new password (required)")
			passwordFlags(fs, req)
		},
		check: requirePassword,
		done: func(w io.Writer, req node.AdminRequest, _ node.AdminReply) {
			fmt.Fprintf(w, "Changed password for user `%s`\n", req.Username)
		},
	},
	"reset-user-password": {
		usage: "reset-user-password USERNAME [--expiry DAYS] [--must-change[=false]]\n\n" +
			"Sets a random password and prints it. It cannot be shown again.",
		flags: passwordFlags,
		done:  func(w io.Writer, _ node.AdminRequest, r node.AdminReply) { fmt.Fprintln(w, r.Password) },
	},
	"reset-totp-key": {
		usage: "reset-totp-key USERNAME [--key K]\n\nSets the user's TOTP key. Without --key a key is generated and printed.",
		flags: func(fs *flag.FlagSet, req *node.AdminRequest) {
			fs.StringVar(&req.Key, "key", "", "the key to set: at least 16 base32 characters (default: generate one)")
		},
		done: func(w io.Writer, req node.AdminRequest, r node.AdminReply) {
			if req.Key != "" {
				fmt.Fprintf(w, "TOTP key reset for user `%s`\n", req.Username)
				return
			}
			fmt.Fprintln(w, r.Key)
		},
	},
	"login": {
		usage: "login USERNAME\n\nOpens a session for the user without a password and prints its UST. The account must not be\nlocked, unconfirmed, unapproved or have an expired password.",
		done:  func(w io.Writer, _ node.AdminRequest, r node.AdminReply) { fmt.Fprintln(w, r.UST) },
	},
	"logout": {
		usage: "logout UST\n\nEnds the session of that token, with its session attributes. An unknown or expired token is\nnot an error.",
		arg:   func(req *node.AdminRequest, v string) { req.UST = v },
		done:  func(w io.Writer, _ node.AdminRequest, _ node.AdminReply) { fmt.Fprintln(w, "Logged out") },
	},
}

// ssoUsage is the help of "ssoattr sso".
const ssoUsage = `Usage: ssoattr sso COMMAND [args] [flags]

Admin commands, sent over NATS to a running service (as zato sso does to a
Zato server). Run "ssoattr sso COMMAND --help" for each command's flags.

Commands:
`

func ssoHelp(w io.Writer) {
	fmt.Fprint(w, ssoUsage)
	for _, name := range slices.Sorted(maps.Keys(adminCmds)) {
		first, _, _ := strings.Cut(adminCmds[name].usage, "\n")
		fmt.Fprintf(w, "  %s\n", first)
	}
}

func ssoCommand(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		ssoHelp(stderr)
		return &exitError{2, "sso: no command given"}
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		ssoHelp(stdout)
		return nil
	}
	cmd, ok := adminCmds[args[0]]
	if !ok {
		ssoHelp(stderr)
		return &exitError{2, fmt.Sprintf("sso: unknown command %q", args[0])}
	}
	var req node.AdminRequest
	fs := newFlagSet(args[0], getenv)
	var cf clientFlags
	cf.register(fs, node.RoleAdmin)
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the service")
	verbose := fs.Bool("verbose", false, "say which service is asked")
	if cmd.flags != nil {
		cmd.flags(fs.FlagSet, &req)
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ssoattr sso %s\n\nAs with zato sso, a server location may come first (ssoattr sso %s /opt/server ...);\n"+
			"it is ignored: the service is found through NATS.\n\nFlags:\n", cmd.usage, args[0])
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs.FlagSet, args[1:], stdout, stderr)
	if err != nil {
		return err
	}
	if len(pos) == 2 {
		pos = pos[1:] // zato sso's SERVER_LOCATION argument, kept for compatible scripts
	}
	if len(pos) != 1 {
		fs.Usage()
		return &exitError{2, fmt.Sprintf("sso %s: want 1 argument, got %d", args[0], len(pos))}
	}
	if cmd.arg != nil {
		cmd.arg(&req, pos[0])
	} else {
		req.Username = pos[0]
	}
	if cmd.check != nil {
		if err := cmd.check(&req); err != nil {
			return &exitError{2, fmt.Sprintf("sso %s: %v", args[0], err)}
		}
	}
	ctx, nc, _, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer nc.Close()
	if *verbose {
		fmt.Fprintf(stderr, "Sending %s to the ssoattr service at %s\n", args[0], nc.ConnectedUrlRedacted())
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	reply, err := node.Admin(ctx, nc, args[0], req)
	if err != nil {
		return refusal(ctx, err)
	}
	if reply.Error != "" {
		fmt.Fprintln(stderr, reply.Error)
		return &exitError{1, ""} // already said
	}
	cmd.done(stdout, req, reply)
	return nil
}
