package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/eventstore"
	"github.com/ssoattr/ssoattr/projections"
)

const replayUsage = `Usage: ssoattr replay --as-of T --out FILE [--data-dir D | --nats-context F] [--nats-url URL]

Rebuilds the complete state as it was at T (a date-time, docs/API.md#time-format) from the
stream, with the service's own projection, and writes it to FILE as JSON
lines, in this order: each user, then that user's sessions, user attributes
and session attributes (only what was live at T). Records keep the stored
form: secrets (password hashes, TOTP keys, encrypted values and e-mails) stay
encrypted. "-" writes to standard output. On a terminal, progress goes to
standard error.

Flags:
`

// replayRecord is one line of the replay output.
type replayRecord struct {
	Type      string          `json:"type"` // user, session, user_attr, session_attr
	UserID    string          `json:"user_id,omitempty"`
	SessionID string          `json:"session_id,omitempty"`
	User      *domain.User    `json:"user,omitempty"`
	Session   *domain.Session `json:"session,omitempty"`
	Attr      *domain.Attr    `json:"attr,omitempty"`
}

// replayCommand is "ssoattr replay".
func replayCommand(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("replay", getenv)
	var sf streamFlags
	sf.register(fs)
	asOfText := fs.String("as-of", "", "the moment to rebuild (required)")
	out := fs.String("out", "", `the file to write ("-": standard output) (required)`)
	fs.Usage = func() { fmt.Fprint(fs.Output(), replayUsage); fs.PrintDefaults() }
	if err := fs.parse(args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 || *asOfText == "" || *out == "" {
		fs.Usage()
		return &exitError{2, "replay: --as-of and --out are required, and nothing else"}
	}
	at, err := timeFlag("as-of", *asOfText)
	if err != nil {
		return err
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

	view := projections.NewView(func() time.Time { return at })
	progress := newProgress(stderr, last)
	var applied, skipped int
	err = st.Scan(ctx, nil, 1, last, func(m eventstore.Msg) bool {
		switch {
		case m.Err != nil:
			view.Handle(m.Seq, m.Event, m.Err)
			noteRefused(stderr, m)
			skipped++
		case !m.Event.Time.After(at):
			view.Apply(m.Event, m.Seq)
			applied++
		}
		progress.update(m.Seq)
		return true
	})
	progress.done()
	if err != nil {
		return fmt.Errorf("read stream: %w", refusal(ctx, err))
	}

	w := stdout
	var f *os.File
	if *out != "-" {
		if f, err = os.Create(*out); err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	n, err := writeState(bw, view)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil && f != nil {
		err = f.Close()
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	fmt.Fprintf(stderr, "replayed %d events up to sequence %d: %d users, %d sessions, %d attributes as of %s",
		applied, last, n.users, n.sessions, n.attrs, domain.FormatTime(at))
	if skipped > 0 {
		fmt.Fprintf(stderr, " (%d events refused)", skipped)
	}
	fmt.Fprintln(stderr)
	return nil
}

type stateCounts struct{ users, sessions, attrs int }

// writeState writes what the view holds live at its clock's time, users by
// id, sessions oldest first, attributes by name.
func writeState(w io.Writer, v *projections.View) (stateCounts, error) {
	var n stateCounts
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	var users []*domain.User
	v.Users(func(u *domain.User) bool { users = append(users, u); return true })
	slices.SortFunc(users, func(a, b *domain.User) int { return cmp.Compare(a.ID, b.ID) })
	attrs := func(o domain.Owner, rec replayRecord) error {
		for _, name := range v.Names(o) {
			a, err := v.Get(o, name)
			if err != nil {
				continue
			}
			rec.Attr = &a
			if err := enc.Encode(rec); err != nil {
				return err
			}
			n.attrs++
		}
		return nil
	}
	for _, u := range users {
		if err := enc.Encode(replayRecord{Type: "user", UserID: u.ID, User: u}); err != nil {
			return n, err
		}
		n.users++
		sessions := v.UserSessions(u.ID)
		for _, s := range sessions {
			if err := enc.Encode(replayRecord{Type: "session", UserID: u.ID, SessionID: s.ID, Session: s}); err != nil {
				return n, err
			}
			n.sessions++
		}
		if err := attrs(domain.UserAttrsOwner(u.ID), replayRecord{Type: "user_attr", UserID: u.ID}); err != nil {
			return n, err
		}
		for _, s := range sessions {
			if err := attrs(domain.SessionAttrsOwner(u.ID, s.ID),
				replayRecord{Type: "session_attr", UserID: u.ID, SessionID: s.ID}); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// progress shows how far a replay has got, on a terminal only: redirected
// to a file, a stream of carriage returns would be noise.
type progress struct {
	w     io.Writer // nil: not a terminal
	last  uint64
	shown time.Time
}

func newProgress(stderr io.Writer, last uint64) *progress {
	p := &progress{last: last}
	if f, ok := stderr.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.w = f
		}
	}
	return p
}

func (p *progress) update(seq uint64) {
	if p.w == nil || p.last == 0 || time.Since(p.shown) < 100*time.Millisecond && seq < p.last {
		return
	}
	p.shown = time.Now()
	fmt.Fprintf(p.w, "\rreplaying: %d of %d events (%d%%)", seq, p.last, seq*100/p.last)
}

func (p *progress) done() {
	if p.w != nil && !p.shown.IsZero() {
		fmt.Fprintln(p.w)
	}
}
