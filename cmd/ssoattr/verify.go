package main

import (
	"context"
	"fmt"
	"io"

	"github.com/ssoattr/ssoattr/eventstore"
)

const verifyUsage = `Usage: ssoattr verify [--data-dir D | --nats-context FILE] [--nats-url URL]

Reads the whole stream and checks every event: its signature (events stored
before signing was turned on, below the stream's high-water mark, may be
unsigned), that it is stored on its own owner's subject, and that it
decodes. Prints how many events were checked and each bad one, with its
sequence and the reason, never its content. Exits 1 if any is bad.

It connects as the reader role (the data directory's nats/reader.json, or
--nats-context). The keys come from SSOATTR_FERNET_KEY or else the data
directory's fernet.key, as the service's own.

Flags:
`

// verifyCommand is "ssoattr verify".
func verifyCommand(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("verify", getenv)
	var sf streamFlags
	sf.register(fs)
	fs.Usage = func() { fmt.Fprint(fs.Output(), verifyUsage); fs.PrintDefaults() }
	if err := fs.parse(args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return &exitError{2, fmt.Sprintf("verify takes no arguments, got %q", fs.Args())}
	}
	ctx, nc, st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer nc.Close()
	last, err := st.LastSeq(ctx)
	if err != nil {
		return refusal(ctx, err)
	}
	var checked, bad int
	err = st.Scan(ctx, nil, 1, last, func(m eventstore.Msg) bool {
		checked++
		if m.Err != nil {
			bad++
			fmt.Fprintf(stdout, "bad: sequence %d (%s): %s\n", m.Seq, m.Subject, eventstore.Reason(m.Err))
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("read stream: %w", refusal(ctx, err))
	}
	fmt.Fprintf(stdout, "checked %d events up to sequence %d (signed from sequence %d): %d bad\n",
		checked, last, st.SignedFrom(), bad)
	if bad > 0 {
		return &exitError{1, fmt.Sprintf("verify: %d bad events", bad)}
	}
	return nil
}
