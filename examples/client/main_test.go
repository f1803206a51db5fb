package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ssoattr/ssoattr/internal/node/nodetest"
)

// TestRun runs the program against a real instance and checks what it
// prints.
func TestRun(t *testing.T) {
	inst := nodetest.Start(t)
	inst.SuperUser("admin")
	var out strings.Builder
	if err := run(t.Context(), []string{"--url", inst.URL, "--user", "admin"}, nodetest.Password, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	want := regexp.MustCompile(`^my-attribute "my-value" encrypted=false expires=never
my-attr1     "my-value1" encrypted=false expires=never
my-attr2     "my-value2" encrypted=true expires=never
my-attr3     "my-value3" encrypted=false expires=1h0m0s
create again: HTTP 403 \[E009001\] \(attribute exists: true\)
history: set my-attribute at \S+
deleted; 0 of them left
$`)
	if !want.MatchString(out.String()) {
		t.Fatalf("output:\n%s\nwant it to match:\n%s", out.String(), want)
	}
	if err := run(t.Context(), []string{"--url", inst.URL}, "", &out); err == nil {
		t.Fatal("run without a password: want an error")
	}
}
