package natsctx_test

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssoattr/ssoattr/internal/natsctx"
)

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"nats://127.0.0.1:4222":                          "nats://127.0.0.1:4222",
		"nats://svc:s3cret@a:4222":                       "nats://svc:xxxxx@a:4222",
		"nats://t0ken@a:4222":                            "nats://xxxxx@a:4222",
		"nats://a:4222,nats://u:p4ss@b:4222":             "nats://a:4222,nats://u:xxxxx@b:4222",
		"nats://u:p%40ss@b:4222":                         "nats://u:xxxxx@b:4222",
		"nats://u:bad pass@b:4222%zz":                    "(redacted URL)",
		"tls://u:s3cret@a:4222, nats://v:s3cret2@b:4222": "tls://u:xxxxx@a:4222,nats://v:xxxxx@b:4222",
	} {
		if got := natsctx.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactError(t *testing.T) {
	urls := "nats://a:4222,nats://u:s3cret@b:4222%zz"
	_, parseErr := url.Parse("nats://u:s3cret@b:4222%zz")
	err := natsctx.RedactError(parseErr, urls)
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("RedactError = %q, still holds the password", err)
	}
	if !errors.Is(err, parseErr) {
		t.Fatal("the redacted error no longer wraps the original")
	}
	plain := errors.New("no servers available")
	if got := natsctx.RedactError(plain, urls); got != plain {
		t.Fatalf("RedactError of an error without secrets = %v, want it unchanged", got)
	}
}

func TestWriteAndLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "reader.json")
	in := natsctx.Context{URL: "nats://127.0.0.1:4222", User: "reader", Password: "pw", InboxPrefix: "_INBOX_reader"}
	if err := natsctx.Write(path, in); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("written file: %v, %v; want mode 0600", fi.Mode(), err)
	}
	out, err := natsctx.Load(path)
	if err != nil || out.URL != in.URL || out.User != in.User || out.Password != in.Password || out.InboxPrefix != in.InboxPrefix {
		t.Fatalf("Load = %+v, %v; want %+v", out, err, in)
	}
	if _, err := natsctx.Load(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Fatalf("Load of a missing file = %v, want an error naming it", err)
	}
	if _, err := (natsctx.Context{NSC: "nsc://x"}).Options(); err == nil {
		t.Fatal("Options of a context with nsc succeeded, want an error (not supported)")
	}
}
