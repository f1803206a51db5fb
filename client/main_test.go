package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/client"
	"github.com/ssoattr/ssoattr/internal/node"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
	"github.com/ssoattr/ssoattr/sso"
)

// serverURL is the service the examples call: a real instance TestMain
// starts, with the super-user "admin" whose password is adminPassword.
var serverURL string

const adminPassword = nodetest.Password

// TestMain starts the examples' instance (the tests start their own).
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "client-examples")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := node.Start(ctx, node.Options{StoreDir: dir, NATSListen: "127.0.0.1:0",
		HTTPAddr: "127.0.0.1:0", SSO: nodetest.Config(), Keys: nodetest.Keys})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start the examples' instance:", err)
		return 1
	}
	defer n.Close(context.Background())
	if _, err := n.SSO.CreateSuperUser(ctx, sso.Meta{App: "test"}, "admin", adminPassword, nil); err != nil {
		fmt.Fprintln(os.Stderr, "create admin:", err)
		return 1
	}
	serverURL = "http://" + n.HTTPAddr()
	return m.Run()
}

// env is a test's own instance, a client of it, a super-user and a
// regular user, both logged in.
type env struct {
	inst           *nodetest.Instance
	c              *client.Client
	super, bob     *client.Session
	superID, bobID string
}

func newEnv(t *testing.T, opts ...nodetest.Option) *env {
	t.Helper()
	inst := nodetest.Start(t, opts...)
	c, err := client.New(inst.URL, client.WithHTTPClient(&http.Client{Transport: checked{t}}))
	if err != nil {
		t.Fatalf("New(%q): %v", inst.URL, err)
	}
	e := &env{inst: inst, c: c}
	var superUST, bobUST string
	superUST, e.superID = inst.SuperUser("root")
	bobUST, e.bobID = inst.User(superUST, "bob")
	e.super, e.bob = c.Session(superUST), c.Session(bobUST)
	return e
}

// checked is a transport that checks every answer against the API's
// OpenAPI document (nodetest.CheckAnswer), so that what the client sends
// and reads is what the document describes.
type checked struct{ t *testing.T }

func (c checked) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	nodetest.CheckAnswer(c.t, req, resp, raw)
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	return resp, nil
}

// login logs username in through the client.
func (e *env) login(t *testing.T, username string) *client.Session {
	t.Helper()
	s, err := e.c.Login(t.Context(), username, nodetest.Password, nil)
	if err != nil {
		t.Fatalf("Login(%q): %v", username, err)
	}
	return s
}

// user creates a regular user and logs it in through the client.
func (e *env) user(t *testing.T, username string) (*client.Session, string) {
	t.Helper()
	ust, id := e.inst.User(e.super.UST(), username)
	return e.c.Session(ust), id
}

// wantCode fails unless err is an *client.Error carrying code, with a cid.
func wantCode(t *testing.T, what string, err error, code client.Code) {
	t.Helper()
	if !errors.Is(err, code) {
		t.Fatalf("%s: err = %v, want %s", what, err, code)
	}
	var ce *client.Error
	if !errors.As(err, &ce) || ce.CID == "" || ce.Status == 0 {
		t.Fatalf("%s: err = %#v, want an *client.Error with a status and a cid", what, err)
	}
}

// must fails the test on err.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
