package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/eventstore"
)

const watchUsage = `Usage: ssoattr watch [--user ID|USERNAME] [--type T[,T...]] [--json] [--data-dir D | --nats-context F] [--nats-url URL]

Prints the events stored from now on, as they arrive, until interrupted:
every user's or only one user's (account, sessions and attributes), of
every kind or only the kinds --type lists (attr.set, session.ended, ...; see
docs/events.md). It reads through a JetStream ordered consumer, so it shows
exactly what the stream stored: a plain NATS subscription would also show
publishes the stream refused (a writer that lost a race). --json prints
each event's stored CloudEvents JSON, one per line. What it watches is said
once on standard error when it starts; events go to standard output.

Flags:
`

// watchCommand is "ssoattr watch".
func watchCommand(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("watch", getenv)
	var sf streamFlags
	sf.register(fs)
	user := fs.String("user", "", "only this user's events: "+userFlagHelp)
	types := fs.String("type", "", "only these event kinds, comma-separated")
	asJSON := fs.Bool("json", false, "print the stored CloudEvents JSON")
	fs.Usage = func() { fmt.Fprint(fs.Output(), watchUsage); fs.PrintDefaults() }
	if err := fs.parse(args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return &exitError{2, fmt.Sprintf("watch takes no arguments, got %q", fs.Args())}
	}
	var kinds []string
	if *types != "" {
		for _, k := range strings.Split(*types, ",") {
			if k = strings.TrimSpace(k); !slices.Contains(domain.Kinds, k) {
				return &exitError{2, fmt.Sprintf("watch: unknown event kind %q (known: %s)", k, strings.Join(domain.Kinds, ", "))}
			}
			kinds = append(kinds, k)
		}
	}
	ctx, nc, st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer nc.Close()
	userID, what := "", "every user's events"
	if *user != "" {
		if userID, err = resolveUser(ctx, st, *user); err != nil {
			return err
		}
		what = fmt.Sprintf("the events of user %s", userID)
		if userID != *user {
			what = fmt.Sprintf("the events of user %q (%s)", *user, userID)
		}
	}
	if len(kinds) > 0 {
		what += " of kind " + strings.Join(kinds, ", ")
	}
	// An idle watch prints nothing else: say that it is running, and on what.
	fmt.Fprintf(stderr, "watching %s stored from now on in stream %s at %s; Ctrl-C stops\n",
		what, st.StreamName(), nc.ConnectedUrlRedacted())
	err = st.TailEvents(ctx, userID, kinds, 0, func(seq uint64, e domain.Event, data []byte) error {
		if *asJSON {
			_, err := fmt.Fprintf(stdout, "%s\n", data)
			return err
		}
		_, err := fmt.Fprintln(stdout, watchLine(seq, e))
		return err
	}, func(seq uint64, err error) { noteRefused(stderr, eventstore.Msg{Seq: seq, Err: err}) })
	if err = refusal(ctx, err); errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil // interrupted: the normal end
	}
	return err
}

// watchLine is an event as one readable line: sequence, time, kind, owner,
// what changed and who did it. Attribute values are left out.
func watchLine(seq uint64, e domain.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d  %s  %s  %s", seq, domain.FormatTime(e.Time), e.Kind, e.Owner)
	d := e.Data
	var names []string
	for _, a := range d.Attrs {
		names = append(names, a.Name)
	}
	names = append(names, d.Names...)
	if len(names) > 0 {
		fmt.Fprintf(&b, "  names=%q", names)
	}
	if d.Reason != "" {
		fmt.Fprintf(&b, "  reason=%s", d.Reason)
	}
	if len(d.Changed) > 0 {
		fmt.Fprintf(&b, "  changed=%s", strings.Join(d.Changed, ","))
	}
	if d.Username != "" {
		fmt.Fprintf(&b, "  username=%q", d.Username)
	}
	for _, kv := range [][2]string{{"actor", e.Actor}, {"app", e.App}, {"addr", e.RemoteAddr}, {"cid", e.CID}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, "  %s=%s", kv[0], kv[1])
		}
	}
	return b.String()
}
