package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssoattr/ssoattr/eventstore"
	"github.com/ssoattr/ssoattr/internal/natsctx"
	"github.com/ssoattr/ssoattr/internal/node"
	"github.com/ssoattr/ssoattr/sso"
)

const setupStreamUsage = `Usage: ssoattr setup-stream --nats-url URL [--replicas N] [--stream NAME] [flags]

Creates the event stream on an external NATS cluster, or updates it to the
configuration this version needs, and exits. Run it with a NATS user that
may (an operator's, not the service role: the service may not create,
update, purge or delete the stream, so that nobody can empty it through
NATS while it runs). The service finds the stream as this leaves it. It
retries for a minute while the cluster elects its JetStream leader.
Credentials as for serve: SSOATTR_NATS_USER and SSOATTR_NATS_PASSWORD from
the environment, or the flags below. SSOATTR_FERNET_KEY, the service's key,
signs the stream's record of when events began to be signed.

Flags:
`

// setupStreamCommand is "ssoattr setup-stream".
func setupStreamCommand(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var c Config
	fs := newFlagSet("setup-stream", getenv)
	externalFlags(fs, &c, "the NATS cluster")
	fs.StringEnv(&c.Stream, "stream", "SSOATTR_STREAM", "SSO", "JetStream stream name")
	fs.IntEnv(&c.Replicas, "replicas", "SSOATTR_REPLICAS", 1, "stream replicas")
	fs.Usage = func() { fmt.Fprint(fs.Output(), setupStreamUsage); fs.PrintDefaults() }
	if err := fs.parse(args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &exitError{2, fmt.Sprintf("setup-stream takes no arguments, got %q", fs.Args())}
	}
	c.NATSUser, c.NATSPassword = getenv("SSOATTR_NATS_USER"), getenv("SSOATTR_NATS_PASSWORD")
	errs := c.externalErrors()
	if !c.external() {
		errs = append(errs, errors.New("setup-stream needs --nats-url or --nats-context (the embedded server sets its stream up itself)"))
	}
	if c.Replicas < 1 {
		errs = append(errs, fmt.Errorf("%s: %d is less than 1", fs.source("replicas"), c.Replicas))
	}
	var keys *eventstore.Keys
	if fernet := getenv("SSOATTR_FERNET_KEY"); fernet == "" {
		errs = append(errs, errors.New("set SSOATTR_FERNET_KEY to the key the service uses"))
	} else if ring, err := sso.ParseKeyring(fernet); err != nil {
		errs = append(errs, fmt.Errorf("SSOATTR_FERNET_KEY: %w", err))
	} else if keys, err = node.EventKeys(ring); err != nil {
		errs = append(errs, fmt.Errorf("SSOATTR_FERNET_KEY: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return &exitError{2, err.Error()}
	}
	url, opts, err := natsOptions(c)
	if err != nil {
		return err
	}
	// A refused request gets no answer: end the wait at once, with the
	// server's words.
	ctx, refuse := context.WithCancelCause(ctx)
	defer refuse(nil)
	opts = append(opts, nats.Name("ssoattr-setup-stream"), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		if errors.Is(err, nats.ErrPermissionViolation) {
			refuse(fmt.Errorf("NATS refused this user (give one that may create and update the stream): %w", err))
		}
	}))
	var nc *nats.Conn
	deadline := time.Now().Add(time.Minute)
	for { // the servers may still be starting (docker compose)
		if nc, err = nats.Connect(url, opts...); err == nil || time.Now().After(deadline) {
			break
		}
		fmt.Fprintf(stderr, "connect to %s: %v; retrying\n", natsctx.RedactURL(url), natsctx.RedactError(err, url))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	if err != nil {
		return fmt.Errorf("connect to %s: %w", natsctx.RedactURL(url), natsctx.RedactError(err, url))
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	cfg := eventstore.Config{Stream: c.Stream, Replicas: c.Replicas, Keys: keys}
	for {
		attempt, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err = eventstore.Open(attempt, js, cfg)
		cancel()
		if cause := context.Cause(ctx); cause != nil && errors.Is(cause, nats.ErrPermissionViolation) {
			return cause
		}
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
			break
		}
		fmt.Fprintf(stderr, "stream not ready: %v; retrying\n", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Stream %s ready (%d replicas)\n", c.Stream, c.Replicas)
	return nil
}
