package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/nats-io/nats.go"

	"github.com/ssoattr/ssoattr/eventstore"
	"github.com/ssoattr/ssoattr/internal/natsctx"
	"github.com/ssoattr/ssoattr/internal/node"
	"github.com/ssoattr/ssoattr/sso"
)

func newLogger(c Config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// loadKeys returns the Fernet keyring: SSOATTR_FERNET_KEY, or else the key
// in the data directory, generated (mode 0600) on first start.
func loadKeys(c Config, log *slog.Logger) (*sso.Keyring, error) {
	if c.FernetKey != "" {
		return sso.ParseKeyring(c.FernetKey)
	}
	path := filepath.Join(c.DataDir, "fernet.key")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		key := sso.NewKey()
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create key file: %w", err)
		}
		if _, err := f.WriteString(key + "\n"); err != nil {
			f.Close()
			return nil, fmt.Errorf("write key file: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("write key file: %w", err)
		}
		log.Info("generated a Fernet key; back it up, and give it to replicas as SSOATTR_FERNET_KEY", slog.String("path", path))
		return sso.ParseKeyring(key)
	}
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	return sso.ParseKeyring(strings.TrimSpace(string(data)))
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	c, err := parseServe(args, stdout, stderr, getenv)
	if err != nil {
		return err
	}
	log := newLogger(c, stderr)
	// Before anything is created (a key, context files, the store): a
	// second serve on the same ports fails at once, naming the address,
	// and leaves nothing behind.
	if err := portsFree(c); err != nil {
		return err
	}
	keys, err := loadKeys(c, log)
	if err != nil {
		return err
	}
	cfg := sso.DefaultConfig()
	cfg.AppsAll, cfg.AppsLoginAllowed, cfg.AppsSignupAllowed = c.Apps, c.Apps, c.Apps
	cfg.SessionExpiry = c.SessionExpiry
	cfg.PasswordRounds = c.PasswordRounds
	cfg.HashConcurrency, cfg.HashQueue, cfg.HashWait = c.HashConcurrency, c.HashQueue, c.HashWait
	cfg.LocalReads = c.ReadConsistency == "local"
	natsURL, natsOpts, err := natsOptions(c)
	if err != nil {
		return err
	}
	o := node.Options{
		NATSURL: natsURL, NATSOptions: natsOpts, NATSListen: c.NATSListen,
		Stream: eventstore.Config{Stream: c.Stream, Replicas: c.Replicas},
		SSO:    cfg, Keys: keys, HTTPAddr: c.HTTPAddr, TrustProxy: c.TrustProxy,
		SweepInterval: c.SweepInterval, RequestTimeout: c.RequestTimeout, Sync: c.Sync, Log: log,
	}
	if !c.external() {
		o.StoreDir = filepath.Join(c.DataDir, "jetstream")
		o.CredsDir = filepath.Join(c.DataDir, "nats")
	}
	n, err := node.Start(ctx, o)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped by a signal while starting: a normal stop
		}
		return err
	}
	password, created, err := n.SSO.Bootstrap(ctx, c.AdminPassword)
	if err != nil {
		shutdown(n, c)
		if ctx.Err() != nil {
			log.Info("stopped")
			return nil
		}
		return fmt.Errorf("bootstrap: %w", err)
	}
	if created {
		log.Info("created the first super-user", slog.String("username", "admin"))
		if c.AdminPassword == "" {
			// Printed once, to the terminal, never to the log.
			fmt.Fprintf(stdout, "Created super-user \"admin\" with password: %s\n", password)
		}
	}
	log.Info("ready", slog.String("http", n.HTTPAddr()), slog.String("nats", n.NATSURL()))
	<-ctx.Done()
	log.Info("shutting down")
	shutdown(n, c)
	log.Info("stopped")
	return nil
}

// natsOptions returns the external cluster's URL and the options that
// authenticate the service there: the context file's first, then the
// flags' and the environment's, which take precedence.
func natsOptions(c Config) (string, []nats.Option, error) {
	if !c.external() {
		return "", nil, nil
	}
	url := c.NATSURL
	var opts []nats.Option
	if c.NATSContext != "" {
		ctx, err := natsctx.Load(c.NATSContext)
		if err != nil {
			return "", nil, fmt.Errorf("--nats-context: %w", err)
		}
		if opts, err = ctx.Options(); err != nil {
			return "", nil, fmt.Errorf("--nats-context %s: %w", c.NATSContext, err)
		}
		if url == "" {
			url = ctx.URL
		}
		if url == "" {
			return "", nil, fmt.Errorf("--nats-context %s names no URL: give --nats-url", c.NATSContext)
		}
	}
	if c.NATSCreds != "" {
		opts = append(opts, nats.UserCredentials(c.NATSCreds))
	}
	if c.NATSNKey != "" {
		o, err := nats.NkeyOptionFromSeed(c.NATSNKey)
		if err != nil {
			return "", nil, fmt.Errorf("--nats-nkey: %w", err)
		}
		opts = append(opts, o)
	}
	if c.NATSUser != "" {
		opts = append(opts, nats.UserInfo(c.NATSUser, c.NATSPassword))
	}
	if c.NATSTLSCA != "" {
		opts = append(opts, nats.RootCAs(c.NATSTLSCA))
	}
	if c.NATSTLSCert != "" {
		opts = append(opts, nats.ClientCert(c.NATSTLSCert, c.NATSTLSKey))
	}
	return url, opts, nil
}

// portsFree checks that the HTTP address and, with the embedded server,
// the NATS address can be listened on now.
func portsFree(c Config) error {
	addrs := [][2]string{{"--http-addr", c.HTTPAddr}}
	if !c.external() {
		addrs = append(addrs, [2]string{"--nats-listen", c.NATSListen})
	}
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a[1])
		if err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				return fmt.Errorf("%s %s: the address is in use (another ssoattr serve?): %w", a[0], a[1], err)
			}
			return fmt.Errorf("%s %s: %w", a[0], a[1], err)
		}
		ln.Close()
	}
	return nil
}

func shutdown(n *node.Node, c Config) {
	ctx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
	defer cancel()
	n.Close(ctx)
}
