// Command subscriber is a minimal subscriber to ssoattr's events: it prints
// every change of one user's attributes (user and session attributes) as it
// is stored. It uses only the NATS client, not ssoattr's packages, to show
// what any NATS client in any language has to do; docs/events.md describes
// the subjects and the payloads.
//
//	go run ./examples/subscriber --user zusr... [--nats-url nats://127.0.0.1:4222] [--from-start]
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
	"log"
	"os"
	"os/signal"
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

func main() {
	natsURL := flag.String("nats-url", "nats://127.0.0.1:4222", "NATS URL of the ssoattr stream")
	stream := flag.String("stream", "SSO", "stream name")
	user := flag.String("user", "", "the user id whose attributes to follow (required)")
	fromStart := flag.Bool("from-start", false, "replay the user's past changes first")
	flag.Parse()
	if *user == "" {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := subscribe(ctx, *natsURL, *stream, *user, *fromStart); err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
}

func subscribe(ctx context.Context, url, stream, user string, fromStart bool) error {
	nc, err := nats.Connect(url)
	if err != nil {
		return err
	}
	defer nc.Close()
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
		show(meta.Sequence.Stream, e)
	}
}

func show(seq uint64, e event) {
	kind := strings.TrimSuffix(strings.TrimPrefix(e.Type, "io.ssoattr."), ".v1")
	scope := "user"
	if strings.HasPrefix(e.Subject, "sso.sattr.") {
		scope = "session " + e.Subject[strings.LastIndexByte(e.Subject, '.')+1:]
	}
	fmt.Printf("%d %s %s (%s, by %s)\n", seq, e.Time, kind, scope, e.Actor)
	for _, a := range e.Data.Attrs {
		value := string(a.Value)
		if a.Encrypted {
			value = "(encrypted)"
		}
		fmt.Printf("    %s = %s (expires %s)\n", a.Name, value, a.Expires)
	}
	for _, n := range e.Data.Names {
		fmt.Printf("    %s gone", n)
		if e.Data.Reason != "" {
			fmt.Printf(" (%s)", e.Data.Reason)
		}
		fmt.Println()
	}
}
