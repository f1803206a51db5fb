// Command subscriber is a minimal subscriber to ssoattr's events: it prints
// every change of one user's attributes (user and session attributes) as it
// is stored. It uses only the NATS client, not ssoattr's packages, to show
// what any NATS client in any language has to do; docs/events.md describes
// the subjects and the payloads.
//
//	go run ./examples/subscriber --user zusr... [--data-dir ./data | --nats-context FILE] [--nats-url URL] [--from-start]
//
// It connects as the service's reader role, with the NATS context file
// ssoattr serve wrote to <data-dir>/nats/reader.json (the same file
// `nats --context` reads): that role may read the events and nothing else.
//
// It reads through a JetStream ordered consumer. A plain NATS subscription to
// the same subjects would also see publishes the stream refused (a writer
// that lost a race, such as a second replica's expirer), so it is not used.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// event is the part of a stored CloudEvent this subscriber reads.
type event struct {
	ID      string `json:"id"`
	Type    string `json:"type"`    // io.ssoattr.attr.set.v1, ...
	Subject string `json:"subject"` // sso.uattr.<user> or sso.sattr.<user>.<session>
	Time    string `json:"time"`
	Actor   string `json:"actoruserid"`
	Data    struct {
		Attrs []struct {
			Name      string          `json:"name"`
			Value     json.RawMessage `json:"value"` // ciphertext when is_encrypted
			Encrypted bool            `json:"is_encrypted"`
			Expires   string          `json:"expiration_time"`
		} `json:"attrs"`
		Names  []string `json:"names"`
		Reason string   `json:"reason"`
	} `json:"data"`
}

// natsContext is the part of a NATS CLI context file the subscriber uses.
type natsContext struct {
	URL         string `json:"url"`
	User        string `json:"user"`
	Password    string `json:"password"`
	Creds       string `json:"creds"`
	CA          string `json:"ca"`
	InboxPrefix string `json:"inbox_prefix"`
}

// connect connects as the context file at path says; url, if set, replaces
// its URL.
func connect(path, url string) (*nats.Conn, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("NATS credentials: %w", err)
	}
	var c natsContext
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if url != "" {
		c.URL = url
	}
	opts := []nats.Option{nats.Name("ssoattr-subscriber")}
	if c.User != "" {
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	}
	if c.Creds != "" {
		opts = append(opts, nats.UserCredentials(c.Creds))
	}
	if c.CA != "" {
		opts = append(opts, nats.RootCAs(c.CA))
	}
	if c.InboxPrefix != "" {
		// The reader may subscribe to its own inbox only.
		opts = append(opts, nats.CustomInboxPrefix(c.InboxPrefix))
	}
	return nats.Connect(c.URL, opts...)
}

func main() {
	dataDir := flag.String("data-dir", "./data", "the ssoattr service's data directory (its nats/reader.json)")
	contextFile := flag.String("nats-context", "", "a NATS context file (default: <data-dir>/nats/reader.json)")
	natsURL := flag.String("nats-url", "", "NATS URL, instead of the context file's")
	stream := flag.String("stream", "SSO", "stream name")
	user := flag.String("user", "", "the user id whose attributes to follow (required)")
	fromStart := flag.Bool("from-start", false, "replay the user's past changes first")
	flag.Parse()
	if *user == "" {
		flag.Usage()
		os.Exit(2)
	}
	if *contextFile == "" {
		*contextFile = filepath.Join(*dataDir, "nats", "reader.json")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	nc, err := connect(*contextFile, *natsURL)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	if err := subscribe(ctx, nc, *stream, *user, *fromStart, os.Stdout); err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
}

func subscribe(ctx context.Context, nc *nats.Conn, stream, user string, fromStart bool, w io.Writer) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	cfg := jetstream.OrderedConsumerConfig{
		// One user's attributes: their own, and those of each of their sessions.
		FilterSubjects: []string{"sso.uattr." + user, "sso.sattr." + user + ".*"},
		DeliverPolicy:  jetstream.DeliverNewPolicy,
	}
	if fromStart {
		cfg.DeliverPolicy = jetstream.DeliverAllPolicy
	}
	cons, err := js.OrderedConsumer(ctx, stream, cfg)
	if err != nil {
		return err
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	defer it.Stop()
	context.AfterFunc(ctx, it.Stop)
	for {
		msg, err := it.Next()
		if err != nil {
			return err
		}
		meta, err := msg.Metadata()
		if err != nil {
			return err
		}
		var e event
		if err := json.Unmarshal(msg.Data(), &e); err != nil {
			log.Printf("seq %d: not an ssoattr event: %v", meta.Sequence.Stream, err)
			continue
		}
		show(w, meta.Sequence.Stream, e)
	}
}

func show(w io.Writer, seq uint64, e event) {
	kind := strings.TrimSuffix(strings.TrimPrefix(e.Type, "io.ssoattr."), ".v1")
	scope := "user"
	if strings.HasPrefix(e.Subject, "sso.sattr.") {
		scope = "session " + e.Subject[strings.LastIndexByte(e.Subject, '.')+1:]
	}
	fmt.Fprintf(w, "%d %s %s (%s, by %s)\n", seq, e.Time, kind, scope, e.Actor)
	for _, a := range e.Data.Attrs {
		value := string(a.Value)
		if a.Encrypted {
			value = "(encrypted)"
		}
		fmt.Fprintf(w, "    %s = %s (expires %s)\n", a.Name, value, a.Expires)
	}
	for _, n := range e.Data.Names {
		fmt.Fprintf(w, "    %s gone", n)
		if e.Data.Reason != "" {
			fmt.Fprintf(w, " (%s)", e.Data.Reason)
		}
		fmt.Fprintln(w)
	}
}
