package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/eventstore"
	"github.com/ssoattr/ssoattr/internal/node"
	"github.com/ssoattr/ssoattr/sso"
)

// streamFlags are the flags of the commands that read the stream directly,
// as the reader role.
type streamFlags struct {
	clientFlags
	stream string
	// fernetKey (SSOATTR_FERNET_KEY), or else the data directory's
	// fernet.key, gives the keys that verify the events' signatures.
	fernetKey string
}

func (f *streamFlags) register(fs *flagSet) {
	f.clientFlags.register(fs, node.RoleReader)
	fs.StringEnv(&f.stream, "stream", "SSOATTR_STREAM", "SSO", "JetStream stream name")
	f.fernetKey = fs.getenv("SSOATTR_FERNET_KEY")
}

// open connects to NATS and attaches to the existing stream, read only,
// with the keys that verify its events. The returned context ends if the
// server refuses a request (see clientFlags.connect); pass errors through
// refusal.
func (f *streamFlags) open(ctx context.Context) (context.Context, *nats.Conn, *eventstore.Store, error) {
	ctx, nc, c, err := f.connect(ctx)
	if err != nil {
		return ctx, nil, nil, err
	}
	keys, err := f.keys()
	if err != nil {
		nc.Close()
		return ctx, nil, nil, err
	}
	js, err := jetStream(nc, c)
	if err != nil {
		nc.Close()
		return ctx, nil, nil, err
	}
	st, err := eventstore.Attach(ctx, js, eventstore.Config{Stream: f.stream, Keys: keys})
	if err != nil {
		nc.Close()
		return ctx, nil, nil, refusal(ctx, err)
	}
	return ctx, nc, st, nil
}

// keys returns the keys that verify the events: derived from
// SSOATTR_FERNET_KEY, or else from the data directory's fernet.key, which
// a reader never creates. Its error names what it looked for.
func (f *streamFlags) keys() (*eventstore.Keys, error) {
	text, from := f.fernetKey, "SSOATTR_FERNET_KEY"
	if text == "" {
		from = filepath.Join(f.dataDir, "fernet.key")
		data, err := os.ReadFile(from)
		if err != nil {
			return nil, fmt.Errorf("the service's key, which verifies its events: read %s (or set SSOATTR_FERNET_KEY or --data-dir): %w", from, err)
		}
		text = strings.TrimSpace(string(data))
	}
	ring, err := sso.ParseKeyring(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	return node.EventKeys(ring)
}

// noteRefused tells a CLI reader's user about a stored message that was
// not shown: its sequence and why, never its content.
func noteRefused(stderr io.Writer, m eventstore.Msg) {
	fmt.Fprintf(stderr, "ssoattr: event at sequence %d refused: %s\n", m.Seq, eventstore.Reason(m.Err))
}

// timeFlag parses an optional date-time (docs/API.md#time-format) flag value.
func timeFlag(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := domain.ParseTime(s)
	if err != nil {
		return time.Time{}, &exitError{2, fmt.Sprintf("--%s: %q is not a date-time (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.ffffff][Z|±HH:MM])", name, s)}
	}
	return t, nil
}

// auditChange is one line of history --json.
type auditChange struct {
	Seq        uint64          `json:"seq"`
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Time       string          `json:"time"`
	Scope      string          `json:"scope"` // "user" or "session"
	SessionID  string          `json:"session_id,omitempty"`
	Name       string          `json:"name"`
	Value      json.RawMessage `json:"value,omitempty"` // as stored: ciphertext when encrypted
	Encrypted  *bool           `json:"is_encrypted,omitempty"`
	Expires    string          `json:"expiration_time,omitempty"`
	Reason     string          `json:"reason,omitempty"`
	Actor      string          `json:"actor_user_id,omitempty"`
	App        string          `json:"current_app,omitempty"`
	RemoteAddr string          `json:"remote_addr,omitempty"`
	CID        string          `json:"cid,omitempty"`
}

func newAuditChange(owner domain.Owner, ch sso.Change) auditChange {
	out := auditChange{Seq: ch.Seq, ID: ch.ID, Type: ch.Type, Time: domain.FormatTime(ch.Time),
		Scope: "user", Name: ch.Name, Reason: ch.Reason, Actor: ch.Actor, App: ch.App,
		RemoteAddr: ch.RemoteAddr, CID: ch.CID}
	if owner.Kind == domain.OwnerSessionAttrs {
		out.Scope, out.SessionID = "session", owner.Session
	}
	if a := ch.Attr; a != nil {
		enc := a.Encrypted
		out.Value, out.Encrypted, out.Expires = a.Value, &enc, domain.FormatTime(a.Expires)
	}
	return out
}

const historyUsage = `Usage: ssoattr history --user ID|USERNAME [--name N] [--since T] [--until T] [--json] [--data-dir D | --nats-context F] [--nats-url URL]

Prints every change of a user's attributes, user and session attributes
alike, in stream order, read from the stream over NATS. Times are date-times
(docs/API.md#time-format: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.ffffff], UTC
unless Z/±HH:MM says otherwise); --since and --until are inclusive. Encrypted values stay
ciphertext. The default output is a table; --json prints one JSON object per
change.

Flags:
`

// historyCommand is "ssoattr history".
func historyCommand(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("history", getenv)
	var sf streamFlags
	sf.register(fs)
	user := fs.String("user", "", userFlagHelp+" (required)")
	name := fs.String("name", "", "only this attribute")
	sinceText := fs.String("since", "", "only changes at or after this time")
	untilText := fs.String("until", "", "only changes at or before this time")
	asJSON := fs.Bool("json", false, "print JSON lines instead of a table")
	fs.Usage = func() { fmt.Fprint(fs.Output(), historyUsage); fs.PrintDefaults() }
	if err := fs.parse(args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return &exitError{2, fmt.Sprintf("history takes no arguments, got %q", fs.Args())}
	}
	if *user == "" {
		fs.Usage()
		return &exitError{2, "history: --user is required"}
	}
	since, err := timeFlag("since", *sinceText)
	if err != nil {
		return err
	}
	until, err := timeFlag("until", *untilText)
	if err != nil {
		return err
	}
	ctx, nc, st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer nc.Close()
	userID, err := resolveUser(ctx, st, *user)
	if err != nil {
		return err
	}

	var table *tabwriter.Writer
	if !*asJSON {
		table = tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(table, "SEQ\tTIME\tTYPE\tSCOPE\tNAME\tVALUE\tEXPIRES\tACTOR\tAPP\tADDRESS")
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	var werr error
	filters := eventstore.UserFilters(userID, domain.OwnerUserAttrs, domain.OwnerSessionAttrs)
	err = st.Scan(ctx, filters, 1, 0, func(m eventstore.Msg) bool {
		e := m.Event
		if m.Err != nil {
			noteRefused(stderr, m)
			return true
		}
		if !since.IsZero() && e.Time.Before(since) || !until.IsZero() && e.Time.After(until) {
			return true
		}
		for _, ch := range sso.Changes(m.Seq, e) {
			if *name != "" && ch.Name != *name {
				continue
			}
			c := newAuditChange(e.Owner, ch)
			if table == nil {
				werr = enc.Encode(c)
			} else {
				_, werr = fmt.Fprintln(table, tableRow(c))
			}
			if werr != nil {
				return false
			}
		}
		return true
	})
	if err == nil {
		err = werr
	}
	if err == nil && table != nil {
		err = table.Flush()
	}
	return refusal(ctx, err)
}

// tableRow is a change as a row of the history table.
func tableRow(c auditChange) string {
	typ, scope := c.Type, c.Scope
	if c.Reason != "" {
		typ += " (" + c.Reason + ")"
	}
	if c.SessionID != "" {
		scope += " " + c.SessionID
	}
	value, expires := "-", "-"
	switch {
	case c.Encrypted != nil && *c.Encrypted:
		value = "(encrypted)"
	case c.Value != nil:
		value = shorten(string(c.Value), 40)
	}
	if c.Expires != "" {
		expires = c.Expires
	}
	cells := []string{fmt.Sprint(c.Seq), c.Time, typ, scope, shorten(c.Name, 40), value, expires,
		orDash(c.Actor), orDash(c.App), orDash(c.RemoteAddr)}
	for i, s := range cells {
		// A cell is user input: keep the table's structure whatever it holds.
		cells[i] = strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return ' '
			}
			return r
		}, s)
	}
	return strings.Join(cells, "\t")
}

func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
