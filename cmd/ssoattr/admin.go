package main

import (
	"context"

	"flag"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ssoattr/ssoattr/internal/node"
)

// parseInterleaved parses flags that may come before or after positional
// arguments ("create-super-user alice --password x"), returning the
// positionals.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
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

type adminCmd struct {
	usage string
	flags func(fs *flag.FlagSet, req *node.AdminRequest)
	args  int // positional arguments: the username
	done  func(w io.Writer, r node.AdminReply)
}

var adminCmds = map[string]adminCmd{
	"create-super-user": {
		usage: "create-super-user USERNAME --password P [--email E]\n\nCreates an approved super-user (approval_status_mod_by \"auto\", sign_up_status \"final\").",
		flags: func(fs *flag.FlagSet, req *node.AdminRequest) {
			fs.StringVar(&req.Password, "password", "", "the new user's password (required)")
			fs.Func("email", "the new user's e-mail address", func(s string) error { req.Email = &s; return nil })
		},
		args: 1,
		done: func(w io.Writer, r node.AdminReply) { fmt.Fprintf(w, "User created (%s)\n", r.UserID) },
	},
	"reset-totp-key": {
		usage: "reset-totp-key USERNAME [--key K]\n\nSets the user's TOTP key, generating one when --key is not given, and prints it.",
		flags: func(fs *flag.FlagSet, req *node.AdminRequest) {
			fs.StringVar(&req.Key, "key", "", "the key to set: at least 16 base32 characters (default: generate one)")
		},
		args: 1,
		done: func(w io.Writer, r node.AdminReply) { fmt.Fprintln(w, r.Key) },
	},
}

func ssoCommand(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{2, "sso: no command given"}
	}
	cmd, ok := adminCmds[args[0]]
	if !ok {
		fmt.Fprint(stderr, usage)
		return &exitError{2, fmt.Sprintf("sso: unknown command %q", args[0])}
	}
	var req node.AdminRequest
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	natsURL := getenv("SSOATTR_NATS_URL")
	if natsURL == "" {
		natsURL = "nats://127.0.0.1:4222"
	}
	fs.StringVar(&natsURL, "nats-url", natsURL, "NATS URL of the running service (SSOATTR_NATS_URL)")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the service")
	cmd.flags(fs, &req)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: ssoattr sso %s\n\nFlags:\n", cmd.usage)
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != cmd.args {
		fs.Usage()
		return &exitError{2, fmt.Sprintf("sso %s: want %d argument(s), got %d", args[0], cmd.args, len(pos))}
	}
	req.Username = pos[0]
	if args[0] == "create-super-user" && req.Password == "" {
		return &exitError{2, "sso create-super-user: --password is required"}
	}
	nc, err := nats.Connect(natsURL, nats.Name("ssoattr-cli"))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", natsURL, err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	reply, err := node.Admin(ctx, nc, args[0], req)
	if err != nil {
		return err
	}
	if reply.Error != "" {
		fmt.Fprintln(stderr, reply.Error)
		return &exitError{1, ""} // already said
	}
	cmd.done(stdout, reply)
	return nil
}
