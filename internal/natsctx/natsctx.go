// Package natsctx reads and writes NATS CLI context files (the JSON files
// `nats context` keeps), turns them into connect options, and redacts the
// secrets a NATS URL may carry before it is logged or put in an error.
//
// The service writes one context file per role into its data directory
// (internal/node); the CLI, replicas and any NATS tool connect with them.
package natsctx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Context is a NATS CLI context file. Every key the nats CLI writes is
// here, so a file this package writes reads like one `nats context save`
// wrote; keys this package cannot honour (nsc, user_jwt, socks_proxy,
// Windows certificate stores) make Options fail rather than be ignored.
type Context struct {
	Description          string   `json:"description"`
	URL                  string   `json:"url"`
	SocksProxy           string   `json:"socks_proxy"`
	Token                string   `json:"token"`
	User                 string   `json:"user"`
	Password             string   `json:"password"`
	Creds                string   `json:"creds"`
	NKey                 string   `json:"nkey"`
	Cert                 string   `json:"cert"`
	Key                  string   `json:"key"`
	CA                   string   `json:"ca"`
	NSC                  string   `json:"nsc"`
	JetStreamDomain      string   `json:"jetstream_domain"`
	JetStreamAPIPrefix   string   `json:"jetstream_api_prefix"`
	JetStreamEventPrefix string   `json:"jetstream_event_prefix"`
	InboxPrefix          string   `json:"inbox_prefix"`
	UserJWT              string   `json:"user_jwt"`
	ColorScheme          string   `json:"color_scheme"`
	TLSFirst             bool     `json:"tls_first"`
	WinCertStore         string   `json:"windows_cert_store"`
	WinCertMatchBy       string   `json:"windows_cert_match_by"`
	WinCertMatch         string   `json:"windows_cert_match"`
	WinCACertsMatch      []string `json:"windows_ca_certs_match"`
}

// Load reads the context file at path. Its error names the file.
func Load(path string) (Context, error) {
	var c Context
	data, err := os.ReadFile(path)
	if err != nil {
		return c, err // *fs.PathError: names the file
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("%s: not a NATS context file: %w", path, err)
	}
	return c, nil
}

// Write writes c to path with mode 0600, replacing the file atomically (a
// reader never sees half a file), and creates its directory with mode 0700
// if needed.
func Write(path string, c Context) error {
	if c.WinCACertsMatch == nil {
		c.WinCACertsMatch = []string{}
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename there is nothing left to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// Options returns the connect options c describes: credentials, TLS and
// the inbox prefix. The URL is not among them (nats.Connect takes it).
func (c Context) Options() ([]nats.Option, error) {
	var unsupported []string
	for key, v := range map[string]string{"nsc": c.NSC, "user_jwt": c.UserJWT, "socks_proxy": c.SocksProxy,
		"windows_cert_store": c.WinCertStore} {
		if v != "" {
			unsupported = append(unsupported, key)
		}
	}
	if len(unsupported) > 0 {
		return nil, fmt.Errorf("context keys not supported here: %s", strings.Join(unsupported, ", "))
	}
	var opts []nats.Option
	switch {
	case c.Creds != "":
		opts = append(opts, nats.UserCredentials(c.Creds))
	case c.NKey != "":
		o, err := nats.NkeyOptionFromSeed(c.NKey)
		if err != nil {
			return nil, fmt.Errorf("nkey: %w", err)
		}
		opts = append(opts, o)
	}
	if c.User != "" {
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	}
	if c.Token != "" {
		opts = append(opts, nats.Token(c.Token))
	}
	if c.Cert != "" || c.Key != "" {
		if c.Cert == "" || c.Key == "" {
			return nil, errors.New("a client certificate needs both cert and key")
		}
		opts = append(opts, nats.ClientCert(c.Cert, c.Key))
	}
	if c.CA != "" {
		opts = append(opts, nats.RootCAs(c.CA))
	}
	if c.TLSFirst {
		opts = append(opts, nats.TLSHandshakeFirst())
	}
	if c.InboxPrefix != "" {
		opts = append(opts, nats.CustomInboxPrefix(c.InboxPrefix))
	}
	return opts, nil
}

// JetStream returns the JetStream API on nc with c's domain or API prefix.
func (c Context) JetStream(nc *nats.Conn) (jetstream.JetStream, error) {
	switch {
	case c.JetStreamDomain != "":
		return jetstream.NewWithDomain(nc, c.JetStreamDomain)
	case c.JetStreamAPIPrefix != "":
		return jetstream.NewWithAPIPrefix(nc, c.JetStreamAPIPrefix)
	}
	return jetstream.New(nc)
}

// RedactURL returns urls (one NATS URL or a comma-separated list) with
// every password and token replaced, for logs and errors:
// nats://user:xxxxx@host, nats://xxxxx@host (a token). Anything that does
// not parse as a URL is replaced whole when it contains an '@'.
func RedactURL(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		s := strings.TrimSpace(p)
		if !strings.Contains(s, "@") {
			continue
		}
		u, err := url.Parse(s)
		if err != nil || u.User == nil {
			parts[i] = "(redacted URL)"
			continue
		}
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		} else {
			u.User = url.User("xxxxx")
		}
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}

// RedactError returns err with every password and token of urls (as
// RedactURL finds them) replaced in its message; errors.Is and errors.As
// still see err. A URL that fails to parse can come back whole inside the
// parser's error, which is why connect errors pass through here.
func RedactError(err error, urls string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	redacted := msg
	for _, p := range strings.Split(urls, ",") {
		s := strings.TrimSpace(p)
		at := strings.LastIndex(s, "@")
		if at < 0 {
			continue
		}
		userinfo := s[:at]
		if i := strings.Index(userinfo, "://"); i >= 0 {
			userinfo = userinfo[i+3:]
		}
		if userinfo == "" {
			continue
		}
		redacted = strings.ReplaceAll(redacted, userinfo, "xxxxx")
		if _, pass, ok := strings.Cut(userinfo, ":"); ok && pass != "" {
			redacted = strings.ReplaceAll(redacted, pass, "xxxxx")
		}
	}
	if redacted == msg {
		return err
	}
	return &redactedError{msg: redacted, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
