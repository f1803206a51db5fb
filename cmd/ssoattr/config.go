package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Config is the service's configuration: flags, each with an SSOATTR_*
// environment fallback, validated once.
type Config struct {
	HTTPAddr        string
	DataDir         string
	NATSListen      string
	NATSURL         string
	Apps            []string
	Stream          string
	Replicas        int
	ReadConsistency string
	TrustProxy      bool
	LogFormat       string
	LogLevel        string
	SessionExpiry   time.Duration
	PasswordRounds  int
	SweepInterval   time.Duration
	ShutdownTimeout time.Duration
	// From the environment only: secrets never go on a command line.
	FernetKey     string // SSOATTR_FERNET_KEY
	AdminPassword string // SSOATTR_ADMIN_PASSWORD
}

// parseServe reads serve's flags; a flag not given takes its environment
// variable, then its default.
func parseServe(args []string, stderr io.Writer, getenv func(string) string) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := getenv("SSOATTR_" + name); v != "" {
			return v
		}
		return def
	}
	var apps, sessionExpiry, rounds, replicas, sweep, shutdown string
	fs.StringVar(&c.HTTPAddr, "http-addr", env("HTTP_ADDR", "127.0.0.1:17010"), "HTTP listen address (SSOATTR_HTTP_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", env("DATA_DIR", "./data"), "data directory of the embedded NATS server and the generated key (SSOATTR_DATA_DIR)")
	fs.StringVar(&c.NATSListen, "nats-listen", env("NATS_LISTEN", "127.0.0.1:4222"), "client listener of the embedded NATS server, for the CLI and subscribers (SSOATTR_NATS_LISTEN)")
	fs.StringVar(&c.NATSURL, "nats-url", env("NATS_URL", ""), "use this external NATS cluster instead of the embedded server; the instance then keeps no local state (SSOATTR_NATS_URL)")
	fs.StringVar(&apps, "apps", env("APPS", "CRM"), "comma-separated application names (apps.all, login and signup allowed) (SSOATTR_APPS)")
	fs.StringVar(&c.Stream, "stream", env("STREAM", "SSO"), "JetStream stream name (SSOATTR_STREAM)")
	fs.StringVar(&replicas, "replicas", env("REPLICAS", "1"), "stream replicas on a NATS cluster (SSOATTR_REPLICAS)")
	fs.StringVar(&c.ReadConsistency, "read-consistency", env("READ_CONSISTENCY", "strict"), `"strict": every request sees every change acknowledged before it began, by any replica; "local": only what this process has applied (SSOATTR_READ_CONSISTENCY)`)
	fs.BoolVar(&c.TrustProxy, "trust-proxy", env("TRUST_PROXY", "") == "true", "take the client address from X-Forwarded-For (SSOATTR_TRUST_PROXY)")
	fs.StringVar(&c.LogFormat, "log-format", env("LOG_FORMAT", "text"), `"text" or "json" (SSOATTR_LOG_FORMAT)`)
	fs.StringVar(&c.LogLevel, "log-level", env("LOG_LEVEL", "info"), `"debug", "info", "warn" or "error" (SSOATTR_LOG_LEVEL)`)
	fs.StringVar(&sessionExpiry, "session-expiry", env("SESSION_EXPIRY", "60m"), "session lifetime (session.expiry) (SSOATTR_SESSION_EXPIRY)")
	fs.StringVar(&rounds, "password-rounds", env("PASSWORD_ROUNDS", "120000"), "PBKDF2-SHA512 rounds for new password hashes (SSOATTR_PASSWORD_ROUNDS)")
	fs.StringVar(&sweep, "sweep-interval", env("SWEEP_INTERVAL", "10s"), "how often expired attributes and sessions are freed (SSOATTR_SWEEP_INTERVAL)")
	fs.StringVar(&shutdown, "shutdown-timeout", env("SHUTDOWN_TIMEOUT", "5s"), "how long in-flight requests may take on shutdown (SSOATTR_SHUTDOWN_TIMEOUT)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: ssoattr serve [flags]\n\nRuns the service. Secrets come from the environment only:\n"+
			"  SSOATTR_FERNET_KEY      Fernet key(s), comma-separated; the first encrypts (default: generated into the data directory)\n"+
			"  SSOATTR_ADMIN_PASSWORD  password of the first super-user \"admin\" (default: random, printed once)\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	c.FernetKey, c.AdminPassword = getenv("SSOATTR_FERNET_KEY"), getenv("SSOATTR_ADMIN_PASSWORD")
	var errs []error
	for _, a := range strings.Split(apps, ",") {
		if a = strings.TrimSpace(a); a != "" {
			c.Apps = append(c.Apps, a)
		}
	}
	if len(c.Apps) == 0 {
		errs = append(errs, errors.New("--apps: at least one application is needed"))
	}
	dur := func(name, s string, dst *time.Duration) {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("--%s: %q is not a positive duration", name, s))
		}
		*dst = d
	}
	dur("session-expiry", sessionExpiry, &c.SessionExpiry)
	dur("sweep-interval", sweep, &c.SweepInterval)
	dur("shutdown-timeout", shutdown, &c.ShutdownTimeout)
	num := func(name, s string, min int, dst *int) {
		n, err := strconv.Atoi(s)
		if err != nil || n < min {
			errs = append(errs, fmt.Errorf("--%s: %q is not a whole number ≥ %d", name, s, min))
		}
		*dst = n
	}
	num("password-rounds", rounds, 1, &c.PasswordRounds)
	num("replicas", replicas, 1, &c.Replicas)
	if c.ReadConsistency != "strict" && c.ReadConsistency != "local" {
		errs = append(errs, fmt.Errorf("--read-consistency: %q is neither strict nor local", c.ReadConsistency))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format: %q is neither text nor json", c.LogFormat))
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("--http-addr: %w", err))
	}
	if c.NATSURL == "" {
		if _, _, err := net.SplitHostPort(c.NATSListen); err != nil {
			errs = append(errs, fmt.Errorf("--nats-listen: %w", err))
		}
		if c.DataDir == "" {
			errs = append(errs, errors.New("--data-dir: the embedded NATS server needs a data directory"))
		}
	} else if c.FernetKey == "" {
		errs = append(errs, errors.New("with --nats-url the instance keeps no local state: set SSOATTR_FERNET_KEY to the key the other instances use"))
	}
	return c, errors.Join(errs...)
}
