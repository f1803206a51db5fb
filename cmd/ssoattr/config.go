package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/ssoattr/ssoattr/httpapi"
	"github.com/ssoattr/ssoattr/internal/node"
	"github.com/ssoattr/ssoattr/sso"
)

// Config is the service's configuration: flags, each with an SSOATTR_*
// environment fallback, validated once.
type Config struct {
	HTTPAddr   string
	DataDir    string
	NATSListen string
	NATSURL    string
	// An external cluster's credentials and TLS (see natsOptions).
	NATSContext, NATSCreds, NATSNKey   string
	NATSTLSCA, NATSTLSCert, NATSTLSKey string
	Apps                               []string
	Stream                             string
	Replicas                           int
	ReadConsistency                    string
	TrustProxy                         bool
	LogFormat                          string
	LogLevel                           string
	SessionExpiry                      time.Duration
	PasswordRounds                     int
	HashConcurrency, HashQueue         int
	HashWait                           time.Duration
	SweepInterval                      time.Duration
	ShutdownTimeout                    time.Duration
	RequestTimeout                     time.Duration
	Sync                               time.Duration // node.Options.Sync: node.SyncAlways or an interval
	// From the environment only: secrets never go on a command line.
	FernetKey     string // SSOATTR_FERNET_KEY
	AdminPassword string // SSOATTR_ADMIN_PASSWORD
	NATSUser      string // SSOATTR_NATS_USER
	NATSPassword  string // SSOATTR_NATS_PASSWORD
}

// external reports whether the service uses an external NATS cluster
// rather than its embedded server.
func (c Config) external() bool { return c.NATSURL != "" || c.NATSContext != "" }

// externalFlags defines the flags that connect to an external NATS; url
// describes --nats-url. SSOATTR_NATS_USER and SSOATTR_NATS_PASSWORD, from
// the environment only, complete them.
func externalFlags(fs *flagSet, c *Config, url string) {
	fs.StringEnv(&c.NATSURL, "nats-url", "SSOATTR_NATS_URL", "", url)
	fs.StringEnv(&c.NATSContext, "nats-context", "SSOATTR_NATS_CONTEXT", "", "connect to an external NATS as this NATS context file says (e.g. an embedded instance's <data-dir>/nats/service.json); --nats-url overrides its URL")
	fs.StringEnv(&c.NATSCreds, "nats-creds", "SSOATTR_NATS_CREDS", "", "external NATS: a credentials file (JWT and nkey seed)")
	fs.StringEnv(&c.NATSNKey, "nats-nkey", "SSOATTR_NATS_NKEY", "", "external NATS: a file holding an nkey seed")
	fs.StringEnv(&c.NATSTLSCA, "nats-tls-ca", "SSOATTR_NATS_TLS_CA", "", "external NATS: CA certificates (PEM) to verify the servers with")
	fs.StringEnv(&c.NATSTLSCert, "nats-tls-cert", "SSOATTR_NATS_TLS_CERT", "", "external NATS: client certificate (PEM), with --nats-tls-key")
	fs.StringEnv(&c.NATSTLSKey, "nats-tls-key", "SSOATTR_NATS_TLS_KEY", "", "external NATS: the client certificate's key (PEM)")
}

// externalErrors checks the external NATS settings that go in pairs.
func (c Config) externalErrors() []error {
	var errs []error
	if c.NATSPassword != "" && c.NATSUser == "" {
		errs = append(errs, errors.New("SSOATTR_NATS_PASSWORD needs SSOATTR_NATS_USER"))
	}
	if (c.NATSTLSCert == "") != (c.NATSTLSKey == "") {
		errs = append(errs, errors.New("--nats-tls-cert and --nats-tls-key go together"))
	}
	return errs
}

// parseServe reads serve's flags; a flag not given takes its environment
// variable, then its default.
func parseServe(args []string, stdout, stderr io.Writer, getenv func(string) string) (Config, error) {
	var c Config
	fs := newFlagSet("serve", getenv)
	var apps string
	fs.StringEnv(&c.HTTPAddr, "http-addr", "SSOATTR_HTTP_ADDR", "127.0.0.1:17010", "HTTP listen address")
	fs.StringEnv(&c.DataDir, "data-dir", "SSOATTR_DATA_DIR", "./data", "data directory of the embedded NATS server and the generated key")
	fs.StringEnv(&c.NATSListen, "nats-listen", "SSOATTR_NATS_LISTEN", "127.0.0.1:4222", "client listener of the embedded NATS server, for the CLI and subscribers")
	externalFlags(fs, &c, "use this external NATS cluster instead of the embedded server; the instance then keeps no local state")
	fs.StringEnv(&apps, "apps", "SSOATTR_APPS", "CRM", "comma-separated application names (apps.all, login and signup allowed)")
	fs.StringEnv(&c.Stream, "stream", "SSOATTR_STREAM", "SSO", "JetStream stream name")
	fs.IntEnv(&c.Replicas, "replicas", "SSOATTR_REPLICAS", 1, "stream replicas on a NATS cluster")
	fs.StringEnv(&c.ReadConsistency, "read-consistency", "SSOATTR_READ_CONSISTENCY", "strict", `"strict": every request sees every change acknowledged before it began, by any replica; "local": only what this process has applied`)
	fs.BoolEnv(&c.TrustProxy, "trust-proxy", "SSOATTR_TRUST_PROXY", false, "take the client address from X-Forwarded-For")
	fs.StringEnv(&c.LogFormat, "log-format", "SSOATTR_LOG_FORMAT", "text", `"text" or "json"`)
	fs.StringEnv(&c.LogLevel, "log-level", "SSOATTR_LOG_LEVEL", "info", `"debug", "info", "warn" or "error"`)
	fs.DurationEnv(&c.SessionExpiry, "session-expiry", "SSOATTR_SESSION_EXPIRY", 60*time.Minute, "session lifetime (session.expiry)")
	fs.IntEnv(&c.PasswordRounds, "password-rounds", "SSOATTR_PASSWORD_ROUNDS", 120000, "PBKDF2-SHA512 rounds for new password hashes")
	fs.IntEnv(&c.HashConcurrency, "hash-concurrency", "SSOATTR_HASH_CONCURRENCY", 0, "password hash computations at once (0: one fewer than the cores the process may use, at least 1)")
	fs.IntEnv(&c.HashQueue, "hash-queue", "SSOATTR_HASH_QUEUE", sso.DefaultHashQueue, "requests that may wait for a password hash computation; more are answered 503 E008007")
	fs.DurationEnv(&c.HashWait, "hash-wait", "SSOATTR_HASH_WAIT", sso.DefaultHashWait, "how long a request may wait for a password hash computation before 503 E008007")
	fs.DurationEnv(&c.SweepInterval, "sweep-interval", "SSOATTR_SWEEP_INTERVAL", 10*time.Second, "how often expired attributes and sessions are freed")
	fs.DurationEnv(&c.ShutdownTimeout, "shutdown-timeout", "SSOATTR_SHUTDOWN_TIMEOUT", 10*time.Second, "how long the drain may take on shutdown (SIGTERM): keep it above --request-timeout plus 1 s, so every request received is answered")
	fs.DurationEnv(&c.RequestTimeout, "request-timeout", "SSOATTR_REQUEST_TIMEOUT", httpapi.DefaultRequestTimeout, "deadline of one request: one that cannot complete for want of NATS is answered 503 by then (docs/API.md#error-codes)")
	var sync string
	fs.StringEnv(&sync, "sync", "SSOATTR_SYNC", "2m", `embedded server: "always" (flush every event to disk before it is acknowledged) or how often stored events are flushed (README "Durability")`)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: ssoattr serve [flags]\n\nRuns the service. Each flag not given takes the environment variable named\n"+
			"in its description, then its default. Secrets come from the environment only:\n"+
			"  SSOATTR_FERNET_KEY      Fernet key(s), comma-separated; the first encrypts (default: generated into the data directory)\n"+
			"  SSOATTR_ADMIN_PASSWORD  password of the first super-user \"admin\" (default: random, printed once)\n"+
			"  SSOATTR_NATS_USER, SSOATTR_NATS_PASSWORD  external NATS: user and password\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.parse(args, stdout, stderr); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	c.FernetKey, c.AdminPassword = getenv("SSOATTR_FERNET_KEY"), getenv("SSOATTR_ADMIN_PASSWORD")
	c.NATSUser, c.NATSPassword = getenv("SSOATTR_NATS_USER"), getenv("SSOATTR_NATS_PASSWORD")
	var errs []error
	for _, a := range strings.Split(apps, ",") {
		if a = strings.TrimSpace(a); a != "" {
			c.Apps = append(c.Apps, a)
		}
	}
	if len(c.Apps) == 0 {
		errs = append(errs, fmt.Errorf("%s: at least one application is needed", fs.source("apps")))
	}
	if sync == "always" {
		c.Sync = node.SyncAlways
	} else if d, err := time.ParseDuration(sync); err != nil || d <= 0 {
		errs = append(errs, fmt.Errorf("%s: %q is neither always nor a positive duration", fs.source("sync"), sync))
	} else {
		c.Sync = d
	}
	if c.external() && fs.given("sync") {
		errs = append(errs, errors.New("--sync is the embedded server's: an external cluster's servers set their own sync_interval"))
	}
	for name, d := range map[string]time.Duration{"session-expiry": c.SessionExpiry,
		"sweep-interval": c.SweepInterval, "shutdown-timeout": c.ShutdownTimeout, "hash-wait": c.HashWait,
		"request-timeout": c.RequestTimeout} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s: %s is not a positive duration", fs.source(name), d))
		}
	}
	for name, n := range map[string]int{"password-rounds": c.PasswordRounds, "replicas": c.Replicas, "hash-queue": c.HashQueue} {
		if n < 1 {
			errs = append(errs, fmt.Errorf("%s: %d is less than 1", fs.source(name), n))
		}
	}
	if c.HashConcurrency < 0 {
		errs = append(errs, fmt.Errorf("%s: %d is negative", fs.source("hash-concurrency"), c.HashConcurrency))
	}
	if c.ReadConsistency != "strict" && c.ReadConsistency != "local" {
		errs = append(errs, fmt.Errorf("%s: %q is neither strict nor local", fs.source("read-consistency"), c.ReadConsistency))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("%s: %q is neither text nor json", fs.source("log-format"), c.LogFormat))
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", fs.source("http-addr"), err))
	}
	if !c.external() {
		if _, _, err := net.SplitHostPort(c.NATSListen); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", fs.source("nats-listen"), err))
		}
		if c.DataDir == "" {
			errs = append(errs, errors.New("--data-dir: the embedded NATS server needs a data directory"))
		}
		for name, v := range map[string]string{"nats-creds": c.NATSCreds, "nats-nkey": c.NATSNKey, "nats-tls-ca": c.NATSTLSCA,
			"nats-tls-cert": c.NATSTLSCert, "nats-tls-key": c.NATSTLSKey, "SSOATTR_NATS_USER": c.NATSUser} {
			if v != "" {
				errs = append(errs, fmt.Errorf("%s is for an external NATS: give --nats-url or --nats-context too", name))
			}
		}
	} else if c.FernetKey == "" {
		errs = append(errs, errors.New("with an external NATS (--nats-url, --nats-context) the instance keeps no local state: set SSOATTR_FERNET_KEY to the key the other instances use"))
	}
	errs = append(errs, c.externalErrors()...)
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return c, errors.Join(errs...)
}
