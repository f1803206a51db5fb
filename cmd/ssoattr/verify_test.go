package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/eventstore"
	"github.com/ssoattr/ssoattr/internal/node"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
)

// TestForgedEvents: events published straight to the stream without the
// service's signature, or moved to another owner's subject, are never
// applied, leave their owners writable (before and after a restart), and
// verify reports each with its sequence.
func TestForgedEvents(t *testing.T) {
	dir := t.TempDir()
	inst := nodetest.Start(t, nodetest.WithStoreDir(dir))
	root, _ := inst.SuperUser("forge-root")
	alice, aliceID := inst.User(root, "forge-alice")
	bob, bobID := inst.User(root, "forge-bob")
	auditDo(t, inst, "PUT", "/zato/sso/user/attr", alice, "name", "theme", "value", "dark")
	auditDo(t, inst, "PUT", "/zato/sso/user/attr", bob, "name", "theme", "value", "light")

	if out, errOut, code := auditRun(t, inst, "verify"); code != 0 || !strings.Contains(out, ": 0 bad") {
		t.Fatalf("verify of a clean stream: exit %d, stdout %q, stderr %q; want 0 and no bad event", code, out, errOut)
	}

	js := inst.JetStream()
	ctx := t.Context()
	aliceAttrs, bobAttrs := domain.UserAttrsOwner(aliceID), domain.UserAttrsOwner(bobID)
	now := domain.Truncate(time.Now())
	roleEvent := func(o domain.Owner) []byte {
		data, err := eventstore.Encode(domain.Event{ID: eventstore.NewID(), Kind: domain.KindAttrSet, Owner: o, Time: now,
			Actor: o.User, Data: domain.EventData{Attrs: []domain.Attr{{Name: "role", Value: []byte(`"admin"`),
				Created: now, Modified: now, Expires: domain.Never}}}})
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	publish := func(m *nats.Msg) uint64 {
		t.Helper()
		ack, err := js.PublishMsg(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		return ack.Sequence
	}
	want := map[uint64]string{}
	stream, err := js.Stream(ctx, "SSO")
	if err != nil {
		t.Fatal(err)
	}
	aliceTheme, err := stream.GetLastMsgForSubject(ctx, eventstore.Subject(aliceAttrs)) // signed by the service
	if err != nil {
		t.Fatal(err)
	}

	// Unsigned: alice's account made a super-user, and an attribute of hers.
	u, _, _ := inst.Synced().User(aliceID)
	promoted := u.Clone()
	promoted.IsSuperUser = true
	data, err := eventstore.Encode(domain.Event{ID: eventstore.NewID(), Kind: domain.KindUserUpdated,
		Owner: domain.UserOwner(aliceID), Time: now, Actor: aliceID,
		Data: domain.EventData{User: promoted, Changed: []string{"is_super_user"}}})
	if err != nil {
		t.Fatal(err)
	}
	want[publish(&nats.Msg{Subject: eventstore.Subject(domain.UserOwner(aliceID)), Data: data})] = "unsigned"
	want[publish(&nats.Msg{Subject: eventstore.Subject(aliceAttrs), Data: roleEvent(aliceAttrs)})] = "unsigned"
	// Alice's event, signed with the service's own key for bob's subject,
	// stored there: the signature holds, the binding does not.
	keys, err := node.EventKeys(nodetest.Keys)
	if err != nil {
		t.Fatal(err)
	}
	offSubject := nats.NewMsg(eventstore.Subject(bobAttrs))
	offSubject.Data = roleEvent(aliceAttrs)
	offSubject.Header.Set(eventstore.SignatureHeader, keys.Sign(offSubject.Subject, offSubject.Data))
	want[publish(offSubject)] = "off subject"
	// Alice's stored event, signature and all, published again on bob's subject.
	moved := nats.NewMsg(eventstore.Subject(bobAttrs))
	moved.Data = aliceTheme.Data
	moved.Header.Set(eventstore.SignatureHeader, aliceTheme.Header.Get(eventstore.SignatureHeader))
	want[publish(moved)] = "bad signature"

	check := func(inst *nodetest.Instance, alice, bob string, round int) {
		t.Helper()
		view := inst.Synced()
		if n := view.Skipped(); n != uint64(len(want)) {
			t.Errorf("view skipped %d messages, want %d", n, len(want))
		}
		if n := inst.Store.Rejected(); n != uint64(len(want)) {
			t.Errorf("store rejected %d messages, want %d", n, len(want))
		}
		if u, _, _ := view.User(aliceID); u.IsSuperUser {
			t.Error("the unsigned user.updated made alice a super-user")
		}
		if r := inst.Do("GET", "/zato/sso/user/search", map[string]any{"ust": alice, "current_app": "CRM"}); r.Status == 200 {
			t.Errorf("alice searched users after a forged promotion: %s", r.Raw)
		}
		for _, who := range []struct{ name, ust, theme string }{
			{"alice", alice, fmt.Sprintf("a%d", round)}, {"bob", bob, fmt.Sprintf("b%d", round)},
		} {
			r := inst.Do("GET", "/zato/sso/user/attr", map[string]any{"ust": who.ust, "current_app": "CRM", "name": "role"})
			if r.Status != 200 || r.Body["found"] != false {
				t.Errorf("%s's forged attribute: %d %s, want not found", who.name, r.Status, r.Raw)
			}
			// The owner is not wedged: a write expecting the subject's
			// real last sequence succeeds, and reads back.
			auditDo(t, inst, "PUT", "/zato/sso/user/attr", who.ust, "name", "theme", "value", who.theme)
			r = inst.Do("GET", "/zato/sso/user/attr", map[string]any{"ust": who.ust, "current_app": "CRM", "name": "theme"})
			if r.Body["value"] != who.theme {
				t.Errorf("%s's theme after the write: %s, want %q", who.name, r.Raw, who.theme)
			}
		}
		// The account too stays writable.
		auditDo(t, inst, "PATCH", "/zato/sso/user", root, "user_id", aliceID, "display_name", fmt.Sprintf("Alice %d", round))
	}
	check(inst, alice, bob, 1)

	// No other reader presents them either: the history, a point-in-time
	// read, a replay.
	asOf := domain.FormatTime(time.Now().Add(time.Second))
	for _, ust := range []string{alice, bob} {
		r := inst.Do("GET", "/zato/sso/user/attr/history", map[string]any{"ust": ust, "current_app": "CRM"})
		if r.Status != 200 || strings.Contains(string(r.Raw), `"role"`) || !strings.Contains(string(r.Raw), `"theme"`) {
			t.Errorf("history = %d %s, want the theme changes and no forged role", r.Status, r.Raw)
		}
		r = inst.Do("GET", "/zato/sso/user/attr/names", map[string]any{"ust": ust, "current_app": "CRM", "as_of": asOf})
		if r.Status != 200 || strings.Contains(string(r.Raw), `"role"`) || !strings.Contains(string(r.Raw), `"theme"`) {
			t.Errorf("names as_of now = %d %s, want theme and no forged role", r.Status, r.Raw)
		}
	}
	replayed, replayErr, code := auditRun(t, inst, "replay", "--as-of", asOf, "--out", "-")
	if code != 0 || strings.Contains(replayed, `"role"`) || !strings.Contains(replayed, `"theme"`) {
		t.Errorf("replay: exit %d, stdout %q; want theme and no forged role", code, replayed)
	}
	for seq := range want {
		if !strings.Contains(replayErr, fmt.Sprintf("event at sequence %d refused", seq)) {
			t.Errorf("replay does not say it refused sequence %d: %q", seq, replayErr)
		}
	}

	out, _, code := auditRun(t, inst, "verify")
	if code != 1 || !strings.Contains(out, fmt.Sprintf(": %d bad", len(want))) {
		t.Fatalf("verify after forgeries: exit %d, stdout %q; want 1 and %d bad", code, out, len(want))
	}
	for seq, reason := range want {
		if !strings.Contains(out, fmt.Sprintf("bad: sequence %d (", seq)) || !strings.Contains(out, "): "+reason+"\n") {
			t.Errorf("verify does not report sequence %d as %s:\n%s", seq, reason, out)
		}
	}
	if strings.Contains(out, "admin") {
		t.Errorf("verify shows an event's content:\n%s", out)
	}

	// After a restart the rebuild refuses the same, and nothing is wedged.
	inst.Stop()
	inst = nodetest.Start(t, nodetest.WithStoreDir(dir))
	root = inst.Login("forge-root", nodetest.Password)
	check(inst, inst.Login("forge-alice", nodetest.Password), inst.Login("forge-bob", nodetest.Password), 2)
}
