package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ssoattr/ssoattr/internal/node"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
	"github.com/ssoattr/ssoattr/sso"
)

// apiCall sends a JSON body from any goroutine and returns the HTTP status
// and the code ("ok" on success).
func apiCall(baseURL, method, path string, body map[string]any) (int, string, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return 0, "", err
	}
	r, err := apiRaw(baseURL, method, path, "", data)
	if err != nil {
		return 0, "", fmt.Errorf("%s %s: %w (%q)", method, path, err, r.Raw)
	}
	if r.Body["status"] == "ok" {
		return r.Status, "ok", nil
	}
	return r.Status, r.SubStatus(), nil
}

// twoReplicas starts two instances on one NATS server and stream.
func twoReplicas(t *testing.T) (a, b *nodetest.Instance) {
	t.Helper()
	url, _ := nodetest.StartNATS(t)
	a, b = nodetest.Start(t, nodetest.WithNATS(url)), nodetest.Start(t, nodetest.WithNATS(url))
	// Concurrent requests make the client dial connections it may never
	// use; the server's Shutdown waits 5 s for such connections unless the
	// client closes them first (this cleanup runs before the instances stop).
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	return a, b
}

// TestReplicas_RestartKeepsEverything stops an instance and starts a new
// one on the same data directory: users, sessions and attributes survive.
func TestReplicas_RestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	first := nodetest.Start(t, nodetest.WithStoreDir(dir))
	root, rootID := first.SuperUser("root")
	alice, aliceID := first.User(root, "alice")
	apiWant(t, "PUT", first.Do("PUT", apiAttr, apiReq(alice, "data", []any{
		item("name", "plain", "value", map[string]any{"k": []int{1, 2}}),
		item("name", "secret", "value", "s3cr3t", "encrypt", true),
		item("name", "short", "value", 1, "expiration", 3600),
	})), "")
	apiWant(t, "PUT on alice as root", first.Do("PUT", apiAttr, apiReq(root, "user_id", aliceID, "name", "by.root", "value", "r")), "")
	apiWant(t, "DELETE", first.Do("PUT", apiAttr, apiReq(alice, "name", "deleted", "value", 1)), "")
	apiWant(t, "DELETE", first.Do("DELETE", apiAttr, apiReq(alice, "name", "deleted")), "")
	before := attrGet(t, first, alice, "short")
	loggedOut := first.Login("alice", nodetest.Password)
	apiWant(t, "logout", first.Do("POST", apiLogout, apiReq(loggedOut)), "")
	first.Stop()

	second := nodetest.Start(t, nodetest.WithStoreDir(dir))
	if got := attrNames(t, second, alice); !slices.Equal(got, []string{"by.root", "plain", "secret", "short"}) {
		t.Fatalf("names after restart = %q, want [by.root plain secret short]", got)
	}
	if a := attrGet(t, second, alice, "secret"); a["value"] != "s3cr3t" || a["is_encrypted"] != true {
		t.Fatalf("encrypted attribute after restart = %v", a)
	}
	if a := attrGet(t, second, alice, "short"); a["expiration_time"] != before["expiration_time"] || a["creation_time"] != before["creation_time"] {
		t.Fatalf("short after restart = %v, want the times of %v", a, before)
	}
	if r := second.Do("GET", apiUser, apiReq(root, "user_id", aliceID)); r.Body["username"] != "alice" || r.Body["approval_status_mod_by"] != rootID {
		t.Fatalf("GET alice after restart = %s", r.Raw)
	}
	apiWant(t, "the logged-out session after restart", second.Do("GET", apiUser, apiReq(loggedOut)), "E007001")
	apiWant(t, "login after restart", apiLoginAs(second, "alice", nodetest.Password), "")
	apiWant(t, "create alice again after restart", second.Do("POST", apiUser, apiReq(root, "username", "alice")), "E001002")
	// Writes after the restart expect the sequences the stream holds.
	apiWant(t, "POST after restart", second.Do("POST", apiAttr, apiReq(alice, "name", "after", "value", 1)), "")
	apiWant(t, "POST a deleted name after restart", second.Do("POST", apiAttr, apiReq(alice, "name", "deleted", "value", 2)), "")
	apiWant(t, "POST a live name after restart", second.Do("POST", apiAttr, apiReq(alice, "name", "plain", "value", 2)), "E009001")
}

// TestReplicas_ReadYourWrites: what one instance acknowledged, the other
// answers at once, with no retry. Two topologies, as their read barriers
// differ: two replicas of an external server ask it for the stream's last
// sequence; an instance with the embedded server reads the server's own
// state, and a replica connected to that server asks it.
func TestReplicas_ReadYourWrites(t *testing.T) {
	t.Run("external", func(t *testing.T) { testReadYourWrites(t, twoReplicas) })
	t.Run("embedded", func(t *testing.T) {
		testReadYourWrites(t, func(t *testing.T) (a, b *nodetest.Instance) {
			a = nodetest.Start(t)
			b = nodetest.Start(t, nodetest.WithNATS(a.NATSURL()))
			t.Cleanup(http.DefaultClient.CloseIdleConnections)
			return a, b
		})
	})
}

func testReadYourWrites(t *testing.T, start func(*testing.T) (a, b *nodetest.Instance)) {
	a, b := start(t)
	root, _ := a.SuperUser("root")
	// A user created on a logs in on b at once, and b's token works on a.
	apiWant(t, "create on a", a.Do("POST", apiUser, apiReq(root, "username", "alice", "password", nodetest.Password, "auto_approve", true)), "")
	alice := b.Login("alice", nodetest.Password)
	for i := range 20 {
		w, r := a, b
		if i%2 == 1 {
			w, r = b, a
		}
		name := fmt.Sprintf("k%d", i%3)
		apiWant(t, "PUT", w.Do("PUT", apiAttr, apiReq(alice, "name", name, "value", i)), "")
		if got := attrGet(t, r, alice, name); got["value"] != float64(i) {
			t.Fatalf("write %d through one instance, read through the other = %v, want %d", i, got["value"], i)
		}
		apiWant(t, "DELETE", w.Do("DELETE", apiAttr, apiReq(alice, "name", "gone"+name)), "")
		if attrExists(t, r, alice, "gone"+name) {
			t.Fatal("a delete through one instance is not seen through the other")
		}
		apiWant(t, "PUT gone", w.Do("PUT", apiAttr, apiReq(alice, "name", "gone"+name, "value", 1)), "")
	}
	// A logout through one instance ends the session for the other.
	apiWant(t, "logout on a", a.Do("POST", apiLogout, apiReq(alice)), "")
	apiWant(t, "names on b after logout on a", b.Do("GET", apiAttr+"/names", apiReq(alice)), "E007001")
}

// TestReplicas_ReadYourOwnWrites: a read right after a write to the same
// instance sees it. With strict reads the write is answered before the
// view applies it and the read's barrier waits; with local reads there is
// no barrier, so the write waits for the view before it is answered.
func TestReplicas_ReadYourOwnWrites(t *testing.T) {
	for _, local := range []bool{false, true} {
		t.Run(fmt.Sprintf("local=%v", local), func(t *testing.T) {
			inst := nodetest.Start(t, nodetest.WithConfig(func(c *sso.Config) { c.LocalReads = local }))
			root, _ := inst.SuperUser("root")
			for i := range 300 {
				name := fmt.Sprintf("k%d", i%5)
				apiWant(t, "PUT", inst.Do("PUT", apiAttr, apiReq(root, "name", name, "value", i)), "")
				if got := attrGet(t, inst, root, name); got["value"] != float64(i) {
					t.Fatalf("write %d, then a read on the same instance = %v, want %d", i, got["value"], i)
				}
			}
		})
	}
}

// TestReplicas_RacingCreatesOneWins: many writers on two instances create
// the same attribute; exactly one succeeds, the rest get E009001.
func TestReplicas_RacingCreatesOneWins(t *testing.T) {
	a, b := twoReplicas(t)
	root, _ := a.SuperUser("root")
	alice, _ := a.User(root, "alice")
	const perInstance = 10
	for round := range 3 {
		name := fmt.Sprintf("race%d", round)
		results := make(chan string, 2*perInstance)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, inst := range []*nodetest.Instance{a, b} {
			for i := range perInstance {
				wg.Go(func() {
					<-start
					status, code, err := apiCall(inst.URL, "POST", apiAttr, apiReq(alice, "name", name, "value", fmt.Sprintf("%s-%d", inst.URL, i)))
					if err != nil {
						results <- err.Error()
						return
					}
					results <- fmt.Sprintf("%d %s", status, code)
				})
			}
		}
		close(start)
		wg.Wait()
		close(results)
		counts := map[string]int{}
		for r := range results {
			counts[r]++
		}
		if counts["200 ok"] != 1 || counts["403 E009001"] != 2*perInstance-1 || len(counts) != 2 {
			t.Fatalf("round %d: answers %v, want one 200 ok and %d 403 E009001", round, counts, 2*perInstance-1)
		}
		// Both instances agree on the winner.
		va, vb := attrGet(t, a, alice, name)["value"], attrGet(t, b, alice, name)["value"]
		if va != vb || va == nil {
			t.Fatalf("round %d: a reads %v, b reads %v", round, va, vb)
		}
	}
}

// TestReplicas_ConcurrentWritesToOneUser: writers on two instances set
// different attributes of one user at the same time; every write succeeds.
func TestReplicas_ConcurrentWritesToOneUser(t *testing.T) {
	a, b := twoReplicas(t)
	root, _ := a.SuperUser("root")
	alice, _ := a.User(root, "alice")
	const goroutines, writes = 20, 5
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed []string
		want   []string
	)
	for _, inst := range []*nodetest.Instance{a, b} {
		for g := range goroutines {
			wg.Go(func() {
				for w := range writes {
					name := fmt.Sprintf("%s/g%02d/w%d", strings.TrimPrefix(inst.URL, "http://"), g, w)
					status, code, err := apiCall(inst.URL, "PUT", apiAttr, apiReq(alice, "name", name, "value", w))
					mu.Lock()
					want = append(want, name)
					if err != nil || status != 200 || code != "ok" {
						failed = append(failed, fmt.Sprintf("%s: %d %s %v", name, status, code, err))
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("%d of %d writes failed, first: %s", len(failed), len(want), failed[0])
	}
	slices.Sort(want)
	for _, inst := range []*nodetest.Instance{a, b} {
		if got := attrNames(t, inst, alice); !slices.Equal(got, want) {
			t.Fatalf("names through %s: %d names, want all %d", inst.URL, len(got), len(want))
		}
	}
}

// TestReplicas_UndecryptableValueIs500: an encrypted value that the reading
// instance's key cannot open is a server failure, E008004 with HTTP 500,
// never E008002 (docs/API.md#expiration-and-encryption); other attributes stay readable.
func TestReplicas_UndecryptableValueIs500(t *testing.T) {
	url, _ := nodetest.StartNATS(t)
	otherKeys, err := sso.ParseKeyring(sso.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	a := nodetest.Start(t, nodetest.WithNATS(url))
	// b shares a's event signing keys (else neither would accept the
	// other's events at all), but not its Fernet key.
	signKeys, err := node.EventKeys(nodetest.Keys)
	if err != nil {
		t.Fatal(err)
	}
	b := nodetest.Start(t, nodetest.WithNATS(url), func(o *node.Options) { o.Keys, o.Stream.Keys = otherKeys, signKeys })
	rootA, _ := a.SuperUser("root-a")
	_, bobID := b.SuperUser("bob") // b's accounts and tokens use b's key
	bob := b.Login("bob", nodetest.Password)
	apiWant(t, "PUT encrypted through a", a.Do("PUT", apiAttr, apiReq(rootA, "user_id", bobID, "name", "sealed", "value", "s", "encrypt", true)), "")
	apiWant(t, "PUT plain through a", a.Do("PUT", apiAttr, apiReq(rootA, "user_id", bobID, "name", "plain", "value", "p")), "")

	r := b.Do("GET", apiAttr, apiReq(bob, "name", "sealed"))
	if r.Status != 500 || r.Body["status"] != "error" || r.SubStatus() != "E008004" {
		t.Fatalf("GET of a value b cannot decrypt = %d %s, want 500 E008004", r.Status, r.Raw)
	}
	if r := b.Do("GET", apiAttr, apiReq(bob, "name", "sealed", "decrypt", false)); r.Status != 200 || !strings.HasPrefix(r.Body["value"].(string), "gAAAAA") {
		t.Fatalf("GET decrypt:false = %d %s, want the ciphertext", r.Status, r.Raw)
	}
	if r := b.Do("GET", apiAttr, apiReq(bob, "name", "plain")); r.Body["value"] != "p" {
		t.Fatalf("GET plain = %s", r.Raw)
	}
}
