package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssoattr/ssoattr/internal/natsctx"
	"github.com/ssoattr/ssoattr/internal/node"
)

// clientFlags are the flags of a command that talks to a running service's
// NATS as one role, and find its credentials as Zato's CLI finds its
// server, on disk: the role's context file in the data directory
// (<data-dir>/nats/admin.json for "sso", reader.json for the readers), or
// the file --nats-context names. --nats-url overrides the file's URL.
type clientFlags struct {
	role        node.Role
	dataDir     string
	contextFile string
	url         string
}

func (f *clientFlags) register(fs *flagSet, role node.Role) {
	f.role = role
	fs.StringEnv(&f.dataDir, "data-dir", "SSOATTR_DATA_DIR", "./data",
		fmt.Sprintf("the running service's data directory; the credentials are its nats/%s.json", role))
	fs.StringEnv(&f.contextFile, "nats-context", "SSOATTR_NATS_CONTEXT", "",
		"a NATS context file to connect with, instead of the data directory's")
	fs.StringEnv(&f.url, "nats-url", "SSOATTR_NATS_URL", "", "NATS URL, instead of the context file's")
}

// contextPath returns the context file the command reads.
func (f *clientFlags) contextPath() string {
	if f.contextFile != "" {
		return f.contextFile
	}
	return f.role.ContextFile(filepath.Join(f.dataDir, "nats"))
}

// connect connects with the role's credentials. The returned context ends,
// with the server's words as its cause (see refusal), when the server
// refuses something the command sends: a request it may not make would
// otherwise just wait for its timeout.
func (f *clientFlags) connect(ctx context.Context) (context.Context, *nats.Conn, natsctx.Context, error) {
	path := f.contextPath()
	c, err := natsctx.Load(path)
	if err != nil {
		return ctx, nil, c, fmt.Errorf("no NATS credentials for the %s role: %w (run in the service's directory, or give --data-dir or --nats-context)", f.role, err)
	}
	if f.url != "" {
		c.URL = f.url
	}
	if c.URL == "" {
		return ctx, nil, c, fmt.Errorf("%s names no NATS URL; give --nats-url", path)
	}
	opts, err := c.Options()
	if err != nil {
		return ctx, nil, c, fmt.Errorf("%s: %w", path, err)
	}
	if c.InboxPrefix == "" {
		// The role's own inbox: the only one its NATS user may read.
		opts = append([]nats.Option{nats.CustomInboxPrefix(f.role.InboxPrefix())}, opts...)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	opts = append(opts, nats.Name("ssoattr-cli"), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		if errors.Is(err, nats.ErrPermissionViolation) {
			cancel(fmt.Errorf("NATS refused the %s role (%s): %w", f.role, path, err))
		}
	}))
	nc, err := nats.Connect(c.URL, opts...)
	if err != nil {
		cancel(nil)
		return ctx, nil, c, fmt.Errorf("connect to %s as %s (%s): %w", natsctx.RedactURL(c.URL), f.role, path,
			natsctx.RedactError(err, c.URL))
	}
	return ctx, nc, c, nil
}

// refusal returns the server's refusal that ended ctx, if that is what
// ended it, or else err.
func refusal(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); err != nil && cause != nil && errors.Is(cause, nats.ErrPermissionViolation) {
		return cause
	}
	return err
}

// jetStream returns the JetStream API as c configures it (domain, prefix).
func jetStream(nc *nats.Conn, c natsctx.Context) (jetstream.JetStream, error) {
	js, err := c.JetStream(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	return js, nil
}
