// Command ssoattr is the SSO attribute service and its admin tool.
//
//	ssoattr serve [flags]                        run the service
//	ssoattr sso create-super-user USERNAME ...   admin commands, through NATS
//
// Run "ssoattr help" for the list of commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ssoattr/ssoattr/sso"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv); err != nil {
		if !errors.Is(err, flag.ErrHelp) && err.Error() != "" {
			fmt.Fprintln(os.Stderr, "ssoattr:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitError carries a specific exit status.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0 // --help asked for the usage, and got it
	}
	return 1
}

const usage = `ssoattr: Zato-compatible SSO user and session attributes, event-sourced on NATS JetStream.

Usage:
  ssoattr serve [flags]                 run the service (embedded NATS by default)
  ssoattr sso COMMAND [args] [flags]    admin commands against a running service
  ssoattr nats [nats-server options]    run a standalone nats-server (for a cluster of replicas)
  ssoattr key                           print a new random Fernet key (for SSOATTR_FERNET_KEY)
  ssoattr setup-stream --nats-url URL   create or update the stream on an external NATS cluster
  ssoattr history --user ID [flags]     a user's attribute changes, read from the stream (auditors)
  ssoattr replay --as-of T --out FILE   write the complete state as it was at T, as JSON lines
  ssoattr watch [--user ID] [--type T]  print events live as they are stored
  ssoattr verify                        check every stored event's signature and subject
  ssoattr version                       the version, commit and Go version of this binary
  ssoattr help [COMMAND]                this text, or COMMAND's (as COMMAND --help)

Admin commands (ssoattr sso COMMAND --help for each):
  create-user USERNAME [--password P] [--email E] [--display-name N] ...
  create-super-user USERNAME --password P [--email E]
  delete-user USERNAME --yes
  lock-user USERNAME
  unlock-user USERNAME
  change-user-password USERNAME --password P [--expiry DAYS] [--must-change]
  reset-user-password USERNAME [--expiry DAYS] [--must-change]
  reset-totp-key USERNAME [--key K]
  login USERNAME
  logout UST

Every command takes --help. Run "ssoattr serve --help" for the service's flags and their
SSOATTR_* variables.
`

// keyCommand is "ssoattr key".
func keyCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("key", func(string) string { return "" })
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: ssoattr key\n\nPrints a new random Fernet key, for SSOATTR_FERNET_KEY.\n")
	}
	if err := fs.parse(args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &exitError{2, fmt.Sprintf("key takes no arguments, got %q", fs.Args())}
	}
	fmt.Fprintln(stdout, sso.NewKey())
	return nil
}

// run is the whole program, testable: args without the program name.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{2, "no command given"}
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr, getenv)
	case "sso":
		return ssoCommand(ctx, args[1:], stdout, stderr, getenv)
	case "nats":
		return natsCommand(ctx, args[1:], stdout, stderr)
	case "key":
		return keyCommand(args[1:], stdout, stderr)
	case "setup-stream":
		return setupStreamCommand(ctx, args[1:], stdout, stderr, getenv)
	case "version", "-version", "--version":
		return versionCommand(args[1:], stdout, stderr)
	case "history":
		return historyCommand(ctx, args[1:], stdout, stderr, getenv)
	case "replay":
		return replayCommand(ctx, args[1:], stdout, stderr, getenv)
	case "watch":
		return watchCommand(ctx, args[1:], stdout, stderr, getenv)
	case "verify":
		return verifyCommand(ctx, args[1:], stdout, stderr, getenv)
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[1] != "help" && !strings.HasPrefix(args[1], "-") {
			return run(ctx, []string{args[1], "--help"}, stdout, stderr, getenv) // "help serve"
		}
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return &exitError{2, fmt.Sprintf("unknown command %q", args[0])}
}
