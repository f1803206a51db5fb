package client_test

import (
	"context"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/ssoattr/ssoattr/client"
	"github.com/ssoattr/ssoattr/internal/node"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
	"github.com/ssoattr/ssoattr/sso"
)

func TestLogin(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()

	t.Run("ok", func(t *testing.T) {
		s, err := e.c.Login(ctx, "bob", nodetest.Password, nil)
		must(t, "Login", err)
		if s.UST() == "" || s.Warnings != nil {
			t.Fatalf("Login: UST %q, warnings %q; want a token and no warning", s.UST(), s.Warnings)
		}
		must(t, "Set through the new session", s.User.Attr.Set(ctx, "k", "v", nil))
		if v := getValue(t, e.bob.User.Attr, "k"); v != "v" {
			t.Fatalf("k read from another of bob's sessions = %v, want v", v)
		}
	})
	t.Run("wrong_password", func(t *testing.T) {
		secret := "Wrong-Password-123"
		_, err := e.c.Login(ctx, "bob", secret, nil)
		wantCode(t, "Login with a wrong password", err, client.ErrNotAllowed)
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("error %q contains the password", err)
		}
		_, err = e.c.Login(ctx, "nobody", secret, nil)
		wantCode(t, "Login of an unknown user", err, client.ErrNotAllowed)
	})
	t.Run("unknown_app", func(t *testing.T) {
		c, err := client.New(e.inst.URL, client.WithApp("NOPE"))
		must(t, "New", err)
		_, err = c.Login(ctx, "bob", nodetest.Password, nil)
		wantCode(t, "Login from an unknown app", err, client.ErrAppInvalid)
	})
	t.Run("renew_and_logout", func(t *testing.T) {
		s := e.login(t, "bob")
		must(t, "Set a session attribute", s.Attr.Set(ctx, "tmp", 1, nil))
		exp, err := s.Renew(ctx)
		must(t, "Renew", err)
		if d := time.Until(exp); d < 59*time.Minute || d > 61*time.Minute {
			t.Fatalf("Renew = %v, %v from now; want the 60-minute default", exp, d)
		}
		must(t, "Logout", s.Logout(ctx))
		_, err = s.Attr.Exists(ctx, "tmp", nil)
		wantCode(t, "session attribute after Logout", err, client.ErrNoSuchSession)
		_, err = s.User.Attr.Names(ctx, nil)
		wantCode(t, "user attributes after Logout", err, client.ErrNoSuchSession)
		_, err = s.Renew(ctx)
		wantCode(t, "Renew after Logout", err, client.ErrNoSuchSession)
		must(t, "Logout again (ok, as in Zato)", s.Logout(ctx))
	})
	t.Run("token_from_elsewhere", func(t *testing.T) {
		s := e.c.Session(e.bob.UST())
		if _, err := s.User.Attr.Names(ctx, nil); err != nil {
			t.Fatalf("Names with bob's token: %v", err)
		}
		_, err := e.c.Session("").User.Attr.Names(ctx, nil)
		wantCode(t, "an empty token", err, client.ErrNoSuchSession)
		_, err = e.c.Session("gAAAAAnot-a-token").Attr.Names(ctx, nil)
		wantCode(t, "a forged token", err, client.ErrNoSuchSession)
	})
}

// TestLogin_Options checks the inputs and the answer Zato's login has
// beyond username and password: a TOTP code, the end user's address and
// browser, and the warning of a password about to expire.
func TestLogin_Options(t *testing.T) {
	e := newEnv(t, nodetest.WithConfig(func(c *sso.Config) {
		c.AppsAll = []string{"CRM", "ERP"}
		c.AppsLoginAllowed = c.AppsAll
		c.AppsLoginMetadata = []string{"CRM"}
		// Every password is about to expire: each login warns.
		c.PasswordAboutToExpire = c.PasswordExpiry + 24*time.Hour
	}))
	ctx := t.Context()

	s, err := e.c.Login(ctx, "bob", nodetest.Password, nil)
	must(t, "Login", err)
	if len(s.Warnings) != 1 || s.Warnings[0] != string(client.WarnPasswordAboutToExpire) {
		t.Fatalf("Warnings = %q, want [%s]", s.Warnings, client.WarnPasswordAboutToExpire)
	}
	must(t, "a session with a warning works", s.Attr.Set(ctx, "k", "v", nil))

	// The end user's address and browser, from an app allowed to send them.
	meta := &client.LoginOptions{RemoteAddr: "203.0.113.7", UserAgent: "Firefox 139.0"}
	_, err = e.c.Login(ctx, "bob", nodetest.Password, meta)
	must(t, "Login with metadata", err)
	r := e.inst.Do("GET", "/zato/sso/user/session/list", map[string]any{"ust": e.bob.UST(), "current_app": "CRM"})
	items, _ := r.Body["result"].([]any)
	last, _ := items[len(items)-1].(map[string]any)
	if last["remote_addr"] != meta.RemoteAddr || last["user_agent"] != meta.UserAgent {
		t.Fatalf("the last session = %v, want the address and browser sent", last)
	}
	erp, err := client.New(e.inst.URL, client.WithApp("ERP"))
	must(t, "New", err)
	_, err = erp.Login(ctx, "bob", nodetest.Password, meta)
	wantCode(t, "metadata from an app not allowed to send it", err, client.Code("E006001"))

	// TOTP: a code is required once it is enabled.
	r = e.inst.Do("PATCH", "/zato/sso/user/totp", map[string]any{"ust": e.bob.UST(), "current_app": "CRM"})
	key, _ := r.Body["totp_key"].(string)
	r = e.inst.Do("PATCH", "/zato/sso/user", map[string]any{"ust": e.bob.UST(), "current_app": "CRM", "is_totp_enabled": true})
	if key == "" || r.Status != 200 {
		t.Fatalf("enable TOTP: key %q, %d %s", key, r.Status, r.Raw)
	}
	_, err = e.c.Login(ctx, "bob", nodetest.Password, nil)
	wantCode(t, "Login without a TOTP code", err, client.ErrTOTPMissing)
	code, err := totp.GenerateCode(key, time.Now()) // the service accepts the steps beside the current one
	must(t, "generate a code", err)
	_, err = e.c.Login(ctx, "bob", nodetest.Password, &client.LoginOptions{TOTPCode: code})
	must(t, "Login with a TOTP code", err)
}

// TestError checks what an *client.Error holds and that its text holds no
// secret: no token, no value, no password.
func TestError(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	value := "value-that-is-a-secret"
	must(t, "Create", e.bob.User.Attr.Create(ctx, "pin", value, &client.WriteOptions{Encrypt: true}))
	err := e.bob.User.Attr.Create(ctx, "pin", value, &client.WriteOptions{Encrypt: true})

	var ce *client.Error
	if !errors.As(err, &ce) {
		t.Fatalf("Create of a live name: err = %#v, want an *client.Error", err)
	}
	if ce.Method != "POST" || ce.Path != "/zato/sso/user/attr" || ce.Status != http.StatusForbidden ||
		len(ce.Codes) != 1 || ce.Codes[0] != "E009001" || !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(ce.CID) {
		t.Fatalf("Error = %+v, want POST /zato/sso/user/attr, 403, [E009001] and a cid", ce)
	}
	if !errors.Is(err, client.ErrAttrExists) || !errors.Is(err, client.Code("E009001")) ||
		errors.Is(err, client.ErrNoSuchAttr) || !ce.Has(client.ErrAttrExists) || client.IsRetryable(err) {
		t.Fatalf("Error %v matches the wrong codes", err)
	}
	want := "client: POST /zato/sso/user/attr: HTTP 403, E009001 (attr.already_exists), cid " + ce.CID
	if err.Error() != want {
		t.Fatalf("Error() = %q, want %q", err, want)
	}
	for _, secret := range []string{value, e.bob.UST(), nodetest.Password} {
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("error %q holds a secret", err)
		}
	}
	// Printing a session or its attributes shows no token.
	other := e.bob.SessionByUST(e.super.UST())
	for _, v := range []any{e.bob, e.bob.Attr, e.bob.User, other, other.Attr, *e.bob, *e.bob.Attr, *other} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, e.bob.UST()) || strings.Contains(out, e.super.UST()) {
				t.Fatalf("Sprintf(%s) of a %T = %q holds a token", verb, v, out)
			}
		}
	}
	if got := client.ErrNoSuchSession.Error(); got != "sso E007001 (session.no_such_session)" {
		t.Fatalf("ErrNoSuchSession.Error() = %q", got)
	}

	// A value encoding/json refuses is reported without the value.
	err = e.bob.User.Attr.Set(ctx, "ch", make(chan int), nil)
	if err == nil || errors.As(err, &ce) || !strings.Contains(err.Error(), "chan int") {
		t.Fatalf("Set of a channel: err = %v, want an encoding error naming the type", err)
	}
}

// TestError_Transport checks failures before any answer: they are not
// *client.Error, and a cancelled context is reported as such.
func TestError_Transport(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, "listen", err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c, err := client.New("http://" + addr)
	must(t, "New", err)
	s := c.Session("token-that-is-a-secret")
	err = s.User.Attr.Set(t.Context(), "k", "v", nil)
	var ce *client.Error
	if err == nil || errors.As(err, &ce) || client.IsRetryable(err) || strings.Contains(err.Error(), s.UST()) {
		t.Fatalf("Set to a closed port: err = %v, want a transport error without the token", err)
	}

	e := newEnv(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := e.bob.User.Attr.Set(ctx, "k", "v", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Set with a cancelled context: err = %v, want context.Canceled", err)
	}
}

// TestError_Busy checks the service's answer when too many password
// checks wait (logins sent together to an instance that hashes one at a
// time and lets one wait a millisecond): a retryable ErrBusy with
// Retry-After, and the same login succeeds once the burst is over.
func TestError_Busy(t *testing.T) {
	e := newEnv(t, nodetest.WithConfig(func(c *sso.Config) {
		c.PasswordRounds, c.HashConcurrency, c.HashQueue, c.HashWait = 20_000, 1, 1, time.Millisecond
	}))
	var busy error
	deadline := time.Now().Add(20 * time.Second)
	for busy == nil {
		if time.Now().After(deadline) {
			t.Fatal("no login was answered ErrBusy while others were being checked")
		}
		const n = 6
		errs := make(chan error, n)
		for range n {
			go func() {
				_, err := e.c.Login(t.Context(), "bob", nodetest.Password, nil)
				errs <- err
			}()
		}
		for range n {
			if err := <-errs; errors.Is(err, client.ErrBusy) {
				busy = err
			} else if err != nil {
				t.Fatalf("Login: %v, want success or ErrBusy", err)
			}
		}
	}
	var ce *client.Error
	if !errors.As(busy, &ce) || ce.Status != http.StatusServiceUnavailable || ce.RetryAfter != time.Second ||
		!client.IsRetryable(busy) || ce.CID == "" {
		t.Fatalf("busy: %#v, want a retryable 503 with Retry-After 1s and a cid", busy)
	}
	if want := "client: POST /zato/sso/user/login: HTTP 503, E008007 (common.busy), cid " + ce.CID; busy.Error() != want {
		t.Fatalf("Error() = %q, want %q", busy, want)
	}
	_, err := e.c.Login(t.Context(), "bob", nodetest.Password, nil)
	must(t, "Login after the burst", err)
}

// TestError_Unavailable checks the answers of a service whose NATS server
// has gone: a read is a retryable ErrUnavailable; a write is ErrUnavailable
// too, or ErrOutcomeUnknown if it had been sent, which is not retryable.
func TestError_Unavailable(t *testing.T) {
	url, ns := nodetest.StartNATS(t)
	e := newEnv(t, nodetest.WithNATS(url), func(o *node.Options) { o.RequestTimeout = time.Second })
	ns.Shutdown()
	ns.WaitForShutdown()

	_, err := e.bob.User.Attr.Get(t.Context(), "k", nil)
	wantCode(t, "Get without NATS", err, client.ErrUnavailable)
	var ce *client.Error
	if errors.As(err, &ce); ce.Status != http.StatusServiceUnavailable || ce.RetryAfter <= 0 || !client.IsRetryable(err) {
		t.Fatalf("Get without NATS: %#v, want a retryable 503 with Retry-After", err)
	}
	err = e.bob.User.Attr.Set(t.Context(), "k", "v", nil)
	t.Logf("Set without NATS: %v", err)
	switch {
	case errors.Is(err, client.ErrUnavailable):
		if !client.IsRetryable(err) {
			t.Fatalf("Set without NATS: %v is not retryable", err)
		}
	case errors.Is(err, client.ErrOutcomeUnknown):
		if client.IsRetryable(err) {
			t.Fatalf("Set without NATS: %v is retryable, want a read-back first", err)
		}
	default:
		t.Fatalf("Set without NATS: err = %v, want ErrUnavailable or ErrOutcomeUnknown", err)
	}
	unknown := &client.Error{Status: 503, Codes: []string{"E008006"}, RetryAfter: time.Second}
	if client.IsRetryable(unknown) || !errors.Is(unknown, client.ErrOutcomeUnknown) {
		t.Fatalf("an E008006 answer: IsRetryable true or not ErrOutcomeUnknown")
	}
}

// TestError_Gateway checks answers that come from something in front of
// the service (a proxy, a load balancer): a busy 503 with Retry-After is
// retryable, a 502 page that is not JSON is an *client.Error without codes.
func TestError_Gateway(t *testing.T) {
	var status int
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch status {
		case http.StatusServiceUnavailable:
			w.Header().Set("Retry-After", "3")
			w.Header().Set("X-Zato-CID", "0123456789abcdef01234567")
			w.WriteHeader(status)
			w.Write([]byte(`<html>busy</html>`))
		default:
			w.WriteHeader(status)
			w.Write([]byte(`<html>bad gateway</html>`))
		}
	}))
	t.Cleanup(gw.Close)
	c, err := client.New(gw.URL)
	must(t, "New", err)

	status = http.StatusServiceUnavailable
	_, err = c.Session("t").User.Attr.Get(t.Context(), "k", nil)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 503 || ce.RetryAfter != 3*time.Second ||
		ce.CID != "0123456789abcdef01234567" || !client.IsRetryable(err) {
		t.Fatalf("503: err = %#v, want a retryable *client.Error, Retry-After 3s, the header's cid", err)
	}
	status = http.StatusBadGateway
	_, err = c.Session("t").User.Attr.Get(t.Context(), "k", nil)
	if !errors.As(err, &ce) || ce.Status != 502 || ce.Codes != nil || client.IsRetryable(err) {
		t.Fatalf("502: err = %#v, want a non-retryable *client.Error without codes", err)
	}
}

// TestNew checks base URLs: bad ones are refused, a path prefix is kept
// (the service behind a reverse proxy at /sso/).
func TestNew(t *testing.T) {
	for _, bad := range []string{"", "127.0.0.1:17010", "ftp://h", "http://", "http://h/?q=1", "http://h/#f", ":"} {
		if _, err := client.New(bad); err == nil {
			t.Errorf("New(%q) = nil error, want one", bad)
		}
	}
	if _, err := client.New("http://user:hunter2@h:1/x?q=1"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("New with a password and a query: err = %v, want one without the password", err)
	}

	e := newEnv(t)
	target, err := url.Parse(e.inst.URL)
	must(t, "parse", err)
	var mu sync.Mutex
	var seen []string // what a proxy's access log would hold
	rp := http.StripPrefix("/sso", httputil.NewSingleHostReverseProxy(target))
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.String())
		mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	for _, base := range []string{proxy.URL + "/sso", proxy.URL + "/sso/"} {
		c, err := client.New(base, client.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}),
			client.WithUserAgent("client-test"))
		must(t, "New", err)
		s, err := c.Login(t.Context(), "bob", nodetest.Password, nil)
		must(t, "Login through "+base, err)
		must(t, "Set through "+base, s.User.Attr.Set(t.Context(), "via", base, nil))
	}
	if v := getValue(t, e.bob.User.Attr, "via"); v != proxy.URL+"/sso/" {
		t.Fatalf("via = %v, want the last base URL", v)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, u := range seen {
		if strings.ContainsAny(u, "?#") || strings.Contains(u, "gAAAAA") {
			t.Fatalf("request URL %q: want inputs in the body only", u)
		}
	}
	if len(seen) != 4 {
		t.Fatalf("the proxy saw %d requests, want 4", len(seen))
	}
}

// TestImports keeps the package free of anything but the standard
// library, so that programs outside this module can use it.
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	must(t, "glob", err)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		must(t, "read "+f, err)
		af, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
		must(t, "parse "+f, err)
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if first, _, _ := strings.Cut(p, "/"); strings.Contains(first, ".") {
				t.Errorf("%s imports %s: the client imports the standard library only", f, p)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no imports found: the test reads the wrong directory")
	}
}
