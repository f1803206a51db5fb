package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultApp is the application name sent as current_app unless
// [WithApp] gives another: "CRM", the one Zato's default configuration
// allows.
const DefaultApp = "CRM"

// maxAnswer bounds the size of an answer the client reads.
const maxAnswer = 64 << 20

// Client calls one ssoattr service. It is safe for concurrent use.
type Client struct {
	base      string // scheme://host[/prefix], no trailing slash
	hc        *http.Client
	app       string
	userAgent string
}

// Option configures a [Client].
type Option func(*Client)

// WithHTTPClient sends requests through hc (its transport, timeouts,
// TLS settings) instead of [http.DefaultClient].
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithApp sets current_app, the application the calls are made from
// (default [DefaultApp]). The service refuses applications it does not
// know with [ErrAppInvalid].
func WithApp(app string) Option { return func(c *Client) { c.app = app } }

// WithUserAgent sets the User-Agent header of every request; the service
// records it with each login.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client of the service at baseURL, such as
// "http://127.0.0.1:17010" (a path prefix is kept: "https://gw/sso" calls
// "https://gw/sso/zato/sso/..."). It returns an error if baseURL is not an
// absolute http or https URL.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		err = ue.Err // its text would quote the URL, which may hold a password
	}
	if err != nil {
		return nil, fmt.Errorf("client: base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q: want http:// or https:// and a host", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("client: base URL %q: no query or fragment", u.Redacted())
	}
	c := &Client{base: strings.TrimRight(u.String(), "/"), hc: http.DefaultClient,
		app: DefaultApp, userAgent: "ssoattr-go-client"}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		c.hc = http.DefaultClient
	}
	return c, nil
}

// body is a request's JSON object. Fields whose value is nil are left out.
type body map[string]any

// envelope is the part of every answer the client reads itself.
type envelope struct {
	CID       string   `json:"cid"`
	Status    string   `json:"status"`
	SubStatus []string `json:"sub_status"`
}

// call sends in as the JSON body of method path and decodes the answer
// into out (if not nil). The answer's envelope is returned for callers
// that read its status (login's warning).
func (c *Client) call(ctx context.Context, method, path string, in body, out any) (envelope, error) {
	in["current_app"] = c.app
	for k, v := range in {
		if v == nil {
			delete(in, k)
		}
	}
	data, err := json.Marshal(in)
	if err != nil {
		// The error of encoding/json may quote the value: it is not wrapped
		// into the text, only kept for errors.As.
		return envelope{}, &encodeError{err: err}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(data))
	if err != nil {
		return envelope{}, fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.hc.Do(req)
	if err != nil {
		// net/http's error names the URL, which holds no secrets: every
		// input is in the body.
		return envelope{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return envelope{}, fmt.Errorf("client: %s %s: read answer: %w", method, path, err)
	}
	var env envelope
	jsonErr := json.Unmarshal(raw, &env)
	if env.CID == "" {
		env.CID = resp.Header.Get("X-Zato-Cid")
	}
	if resp.StatusCode != http.StatusOK || env.Status == "error" {
		e := &Error{Method: method, Path: path, Status: resp.StatusCode, Codes: env.SubStatus,
			CID: env.CID, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
		return env, e
	}
	if len(raw) > maxAnswer {
		return env, fmt.Errorf("client: %s %s: answer larger than %d bytes", method, path, maxAnswer)
	}
	if jsonErr != nil {
		return env, fmt.Errorf("client: %s %s: answer is not JSON (cid %s): %w", method, path, env.CID, jsonErr)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return env, fmt.Errorf("client: %s %s: decode answer (cid %s): %w", method, path, env.CID, err)
		}
	}
	return env, nil
}

// encodeError is an input that encoding/json cannot encode, such as a
// channel or a NaN attribute value.
type encodeError struct{ err error }

func (e *encodeError) Error() string {
	var ut *json.UnsupportedTypeError
	if errors.As(e.err, &ut) {
		return "client: encode request: cannot encode a " + ut.Type.String() + " as JSON"
	}
	return "client: encode request: a value cannot be encoded as JSON"
}

func (e *encodeError) Unwrap() error { return e.err }

// Login logs username in from the client's application, as Zato's
// self.sso.user.login does, and returns the new session (POST
// /zato/sso/user/login, docs/API.md#login). A wrong username or password
// is [ErrNotAllowed]; see the [LoginOptions] for TOTP codes and password
// changes. A login that succeeds with a warning (the password is about to
// expire) has it in [Session.Warnings].
func (c *Client) Login(ctx context.Context, username, password string, opts *LoginOptions) (*Session, error) {
	if opts == nil {
		opts = &LoginOptions{}
	}
	in := body{"username": username, "password": password}
	for k, v := range map[string]string{"totp_code": opts.TOTPCode, "new_password": opts.NewPassword,
		"remote_addr": opts.RemoteAddr, "user_agent": opts.UserAgent} {
		if v != "" {
			in[k] = v
		}
	}
	var out struct {
		UST string `json:"ust"`
	}
	env, err := c.call(ctx, http.MethodPost, "/zato/sso/user/login", in, &out)
	if err != nil {
		return nil, err
	}
	if out.UST == "" {
		return nil, fmt.Errorf("client: POST /zato/sso/user/login: answer has no ust (cid %s)", env.CID)
	}
	s := c.Session(out.UST)
	if env.Status == "warning" {
		s.Warnings = env.SubStatus
	}
	return s, nil
}

// LoginOptions are the optional inputs of [Client.Login].
type LoginOptions struct {
	// TOTPCode is the current code of an account with TOTP enabled.
	TOTPCode string
	// NewPassword replaces the password of an account that must change it.
	NewPassword string
	// RemoteAddr and UserAgent record the end user's address and browser
	// instead of the client's own; the service accepts them only from
	// applications it allows to send them.
	RemoteAddr, UserAgent string
}
