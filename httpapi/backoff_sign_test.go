package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/node"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
)

// Tests of the back-off records' signatures (docs/API.md#login-back-off):
// a record the service did not write counts as a fresh back-off window,
// never as "no failures" and never as an error.

// backoffKV returns the instance's back-off bucket, opened as the service
// role (which may write to it, as anything able to publish on its
// subjects could), and the key of username's record.
func backoffKV(t *testing.T, inst *nodetest.Instance, username string) (jetstream.KeyValue, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := inst.JetStream().KeyValue(ctx, "SSO_BACKOFF")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte(username))
	return kv, "user." + hex.EncodeToString(h[:])
}

// putRaw stores value under key, bypassing the service.
func putRaw(t *testing.T, kv jetstream.KeyValue, key string, value []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kv.Put(ctx, key, value); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

// wantTrustedRecord fails unless the record under key verifies again (the
// service replaced what was written there).
func wantTrustedRecord(t *testing.T, inst *nodetest.Instance, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	before := inst.Attempts.Rejected()
	if _, _, err := inst.Attempts.Get(ctx, key, domain.UserBackoff); err != nil {
		t.Fatal(err)
	}
	if inst.Attempts.Rejected() != before {
		t.Fatalf("record %s still does not verify", key)
	}
}

func TestBackoffSign_UnsignedResetRefused(t *testing.T) {
	var clock nodetest.OffsetClock
	inst := nodetest.Start(t, nodetest.WithNow(clock.Now), longWindows)
	root, _ := inst.SuperUser("root")
	_, victim := inst.User(root, "victim")
	for range domain.UserFailThreshold {
		wantLogin(t, "wrong password", loginFrom(t, inst, "", "victim", "Wrong-Horse-7"), false)
	}
	kv, key := backoffKV(t, inst, "victim")
	putRaw(t, kv, key, []byte(`{"failures":0}`))

	rejected := inst.Attempts.Rejected()
	wantLogin(t, "right password after an unsigned reset, within the window", loginFrom(t, inst, "", "victim", nodetest.Password), false)
	if inst.Attempts.Rejected() <= rejected {
		t.Fatalf("back-off records rejected: %d, want more than %d", inst.Attempts.Rejected(), rejected)
	}
	if failures, until := backoffOf(t, inst, root, victim); failures != domain.UserFailThreshold || until == "" {
		t.Fatalf("a super-user sees login_failures %v, login_refused_until %q; want %d and a window", failures, until, domain.UserFailThreshold)
	}
	// Not locked out for ever: after the window the right password
	// works, and the record is the service's own again.
	clock.Advance(window)
	wantLogin(t, "right password after the window", loginFrom(t, inst, "", "victim", nodetest.Password), true)
	wantLogin(t, "a wrong password", loginFrom(t, inst, "", "victim", "Wrong-Horse-7"), false)
	wantTrustedRecord(t, inst, key)
}

func TestBackoffSign_Garbage(t *testing.T) {
	var clock nodetest.OffsetClock
	inst := nodetest.Start(t, nodetest.WithNow(clock.Now), longWindows)
	root, _ := inst.SuperUser("root")
	_, victim := inst.User(root, "victim")
	kv, key := backoffKV(t, inst, "victim")
	// Another user's record, signed by the service: bound to its key, it
	// does not verify under the victim's.
	inst.User(root, "other")
	wantLogin(t, "other's wrong password", loginFrom(t, inst, "", "other", "Wrong-Horse-7"), false)
	_, otherKey := backoffKV(t, inst, "other")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	others, err := kv.Get(ctx, otherKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, garbage := range []string{"\x00\xff garbage", "", "deadbeef.AAAA {\"failures\":0}", string(others.Value())} {
		putRaw(t, kv, key, []byte(garbage))
		r := loginFrom(t, inst, "", "victim", nodetest.Password)
		if r.Status == http.StatusInternalServerError {
			t.Fatalf("login over the record %q: %d %s", garbage, r.Status, r.Raw)
		}
		wantLogin(t, "right password over the record "+garbage, r, false)
		if _, until := backoffOf(t, inst, root, victim); until == "" {
			t.Fatalf("record %q: a super-user sees no window", garbage)
		}
	}
	// A failure after the window replaces the record with a signed one
	// (the threshold's failures and one more: a doubled window).
	clock.Advance(window)
	wantLogin(t, "a wrong password after the window", loginFrom(t, inst, "", "victim", "Wrong-Horse-7"), false)
	wantTrustedRecord(t, inst, key)
	if failures, _ := backoffOf(t, inst, root, victim); failures != domain.UserFailThreshold+1 {
		t.Fatalf("after a failure over an untrusted record: login_failures %v, want %d", failures, domain.UserFailThreshold+1)
	}
}

// TestBackoffSign_ReaderPushConsumer: the reader role may create a push
// consumer on the event stream delivering into a user's back-off record.
// nats-server accepts it, but delivers nothing: no role may subscribe to
// the bucket's subjects, so the consumer never has interest. Were an
// event delivered there (its JSON, as its bytes), the record would not
// verify and the back-off would hold.
func TestBackoffSign_ReaderPushConsumer(t *testing.T) {
	var clock nodetest.OffsetClock
	inst := nodetest.Start(t, nodetest.WithNow(clock.Now), longWindows)
	root, _ := inst.SuperUser("root")
	inst.User(root, "victim")
	for range domain.UserFailThreshold {
		wantLogin(t, "wrong password", loginFrom(t, inst, "", "victim", "Wrong-Horse-7"), false)
	}
	kv, key := backoffKV(t, inst, "victim")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c, err := inst.JetStreamAs(node.RoleReader).CreateOrUpdatePushConsumer(ctx, "SSO", jetstream.ConsumerConfig{
		DeliverSubject: "$KV.SSO_BACKOFF." + key, DeliverPolicy: jetstream.DeliverAllPolicy, AckPolicy: jetstream.AckNonePolicy})
	if err != nil {
		t.Fatalf("the reader's push consumer into the back-off bucket: %v (the server refuses it: no gap)", err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.PushBound || info.Delivered.Consumer != 0 {
		t.Fatalf("the push consumer is bound (%v) or delivered %d: someone may subscribe to the bucket's subjects",
			info.PushBound, info.Delivered.Consumer)
	}
	wantLogin(t, "right password within the window", loginFrom(t, inst, "", "victim", nodetest.Password), false)

	// What a delivery would store: an event's JSON over the record.
	stream, err := inst.JetStream().Stream(ctx, "SSO")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := stream.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	putRaw(t, kv, key, ev.Data)
	rejected := inst.Attempts.Rejected()
	wantLogin(t, "right password over an event's JSON, within the window", loginFrom(t, inst, "", "victim", nodetest.Password), false)
	if inst.Attempts.Rejected() <= rejected {
		t.Fatal("the event's JSON in the record was not rejected")
	}
	clock.Advance(window)
	wantLogin(t, "right password after the window", loginFrom(t, inst, "", "victim", nodetest.Password), true)
}
