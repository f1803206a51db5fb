package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/internal/node"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestSubscriber_ReaderContext: the example, connected with the reader
// role's context file as its README says, prints a user's attribute change.
func TestSubscriber_ReaderContext(t *testing.T) {
	inst := nodetest.Start(t)
	ust, userID := inst.SuperUser("boss")
	r := inst.Do("PUT", "/zato/sso/user/attr", map[string]any{"ust": ust, "current_app": "CRM",
		"name": "ui.theme", "value": "dark"})
	if r.Status != 200 {
		t.Fatalf("PUT attr: %d %s", r.Status, r.Raw)
	}
	nc, err := connect(inst.ContextFile(node.RoleReader), "")
	if err != nil {
		t.Fatalf("connect with reader.json: %v", err)
	}
	defer nc.Close()
	ctx, cancel := context.WithCancel(t.Context())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- subscribe(ctx, nc, "SSO", userID, true, &out) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), `ui.theme = "dark"`) {
		select {
		case err := <-done:
			done <- err // for the deferred wait
			t.Fatalf("subscribe ended: %v; printed %q", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no change printed within 10s; printed %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
