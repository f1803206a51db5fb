package httpapi_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
)

const (
	auUserAttr    = "/zato/sso/user/attr"
	auSessionAttr = "/zato/sso/session/attr"
)

// auStart is 2031-05-04T09:10:11Z, where the audit tests' manual clocks start.
var auStart = time.Date(2031, 5, 4, 9, 10, 11, 0, time.UTC)

// auReq is a request body: the caller token, current_app and key/value pairs.
func auReq(ust string, kv ...any) map[string]any {
	m := map[string]any{"ust": ust, "current_app": "CRM"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// auDo sends a request and checks its sub_status ("" for success).
func auDo(t *testing.T, inst *nodetest.Instance, method, path string, body map[string]any, code string) nodetest.Response {
	t.Helper()
	r := inst.Do(method, path, body)
	if got := r.SubStatus(); got != code || code == "" && r.Status != 200 {
		t.Fatalf("%s %s = %d %s, want sub_status %q", method, path, r.Status, r.Raw, code)
	}
	return r
}

// auHistory reads a whole history, page after page of the given size (0:
// the default), and returns the changes.
func auHistory(t *testing.T, inst *nodetest.Instance, path string, body map[string]any, limit int) []map[string]any {
	t.Helper()
	var out []map[string]any
	for page := 0; ; page++ {
		if limit > 0 {
			body["limit"] = limit
		}
		r := auDo(t, inst, "GET", path+"/history", body, "")
		list, ok := r.Body["result"].([]any)
		if !ok {
			t.Fatalf("history result = %s, want a list", r.Raw)
		}
		if limit > 0 && len(list) > limit {
			t.Fatalf("page of %d changes, want at most %d", len(list), limit)
		}
		for _, c := range list {
			out = append(out, c.(map[string]any))
		}
		next, ok := r.Body["next"].(string)
		if !ok {
			return out
		}
		if page > 1000 {
			t.Fatal("history does not end")
		}
		body["after"] = next
	}
}

// auBrief is a change as "type name", for comparing lists.
func auBrief(cs []map[string]any) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = fmt.Sprintf("%v %v", c["type"], c["name"])
	}
	return out
}

func TestHistory(t *testing.T) {
	clock := nodetest.NewManualClock(auStart)
	inst := nodetest.Start(t, nodetest.WithNow(clock.Now), nodetest.WithExpiryInterval(time.Hour))
	root, _ := inst.SuperUser("au-root")
	alice, aliceID := inst.User(root, "au-alice")
	bob, bobID := inst.User(root, "au-bob")

	t1 := clock.Advance(time.Second)
	post := auDo(t, inst, "POST", auUserAttr, auReq(alice, "data", []any{
		map[string]any{"name": "a", "value": "s3cret", "encrypt": true},
		map[string]any{"name": "b", "value": 1}}), "")
	t2 := clock.Advance(time.Second)
	auDo(t, inst, "PUT", auUserAttr, auReq(alice, "name", "a", "value", "v2"), "")
	t3 := clock.Advance(time.Second)
	auDo(t, inst, "PATCH", auUserAttr, auReq(alice, "name", "b", "expiration", 5), "")
	t4 := clock.Advance(time.Second)
	auDo(t, inst, "DELETE", auUserAttr, auReq(alice, "name", "a"), "")
	t5 := clock.Advance(5 * time.Second)
	res, err := inst.SSO.Expire(t.Context(), inst.View)
	if err != nil || res.Attrs != 1 {
		t.Fatalf("Expire = %+v, %v; want one attr.expired", res, err)
	}

	full := auHistory(t, inst, auUserAttr, auReq(alice), 0)

	t.Run("records every change with who made it", func(t *testing.T) {
		want := []struct {
			typ, name string
			value     any // nil: no value key
			enc       bool
			at        time.Time
			expires   time.Time
			actor     string
		}{
			{"created", "a", "s3cret", true, t1, domain.Never, aliceID},
			{"created", "b", 1.0, false, t1, domain.Never, aliceID},
			{"set", "a", "v2", false, t2, domain.Never, aliceID},
			{"updated", "b", 1.0, false, t3, t3.Add(5 * time.Second), aliceID},
			{"deleted", "a", nil, false, t4, time.Time{}, aliceID},
			{"expired", "b", nil, false, t5, time.Time{}, "system"},
		}
		if len(full) != len(want) {
			t.Fatalf("history = %v, want %d changes", auBrief(full), len(want))
		}
		var lastSeq float64
		for i, w := range want {
			c := full[i]
			what := fmt.Sprintf("change %d (%v)", i, c)
			if c["type"] != w.typ || c["name"] != w.name || c["time"] != domain.FormatTime(w.at) || c["actor_user_id"] != w.actor {
				t.Fatalf("%s: want type %s, name %s, time %s, actor %s", what, w.typ, w.name, domain.FormatTime(w.at), w.actor)
			}
			seq, _ := c["seq"].(float64)
			id, _ := c["id"].(string)
			if seq < lastSeq || seq < 1 || len(id) != 26 {
				t.Fatalf("%s: seq %v after %v, id %q; want increasing sequences and ULID ids", what, seq, lastSeq, id)
			}
			lastSeq = seq
			_, hasValue := c["value"]
			if w.value == nil {
				if hasValue || c["is_encrypted"] != nil || c["expiration_time"] != nil {
					t.Fatalf("%s: want no value, is_encrypted or expiration_time", what)
				}
				continue
			}
			if c["value"] != w.value || c["is_encrypted"] != w.enc || c["expiration_time"] != domain.FormatTime(w.expires) {
				t.Fatalf("%s: want value %v, is_encrypted %v, expiration_time %s", what, w.value, w.enc, domain.FormatTime(w.expires))
			}
		}
		if full[0]["seq"] != full[1]["seq"] || full[0]["id"] != full[1]["id"] {
			t.Fatalf("the two items of one POST: %v and %v, want one event (same seq and id)", full[0], full[1])
		}
		if c := full[0]; c["cid"] != post.Body["cid"] || c["current_app"] != "CRM" || c["remote_addr"] != "127.0.0.1" {
			t.Fatalf("POST change = %v, want cid %v, current_app CRM, remote_addr 127.0.0.1", c, post.Body["cid"])
		}
		if c := full[5]; c["current_app"] != "ssoattr" || !strings.HasPrefix(c["cid"].(string), "expiry-") {
			t.Fatalf("expired change = %v, want current_app ssoattr and an expiry- cid", c)
		}
	})

	t.Run("encrypted values stay ciphertext unless decrypt", func(t *testing.T) {
		cs := auHistory(t, inst, auUserAttr, auReq(alice, "name", "a", "decrypt", false), 0)
		if v, _ := cs[0]["value"].(string); !strings.HasPrefix(v, "gAAAAA") || strings.Contains(v, "s3cret") {
			t.Fatalf("value with decrypt false = %q, want Fernet ciphertext", v)
		}
	})

	t.Run("pages follow the cursor without gap or repeat", func(t *testing.T) {
		for _, limit := range []int{1, 2, 4, 5, 1000} {
			got := auHistory(t, inst, auUserAttr, auReq(alice), limit)
			if !slices.Equal(auBrief(got), auBrief(full)) {
				t.Fatalf("pages of %d = %v, want %v", limit, auBrief(got), auBrief(full))
			}
		}
		r := inst.Do("GET", auUserAttr+"/history", auReq(alice, "limit", 3))
		if _, ok := r.Body["next"].(string); !ok {
			t.Fatalf("first page of 3 = %s, want a next cursor", r.Raw)
		}
		r = inst.Do("GET", auUserAttr+"/history", auReq(alice, "limit", 6))
		if _, ok := r.Body["next"]; ok {
			t.Fatalf("page holding every change = %s, want no next", r.Raw)
		}
		auDo(t, inst, "GET", auUserAttr+"/history", auReq(alice, "after", "not-a-cursor"), "E008002")
		auDo(t, inst, "GET", auUserAttr+"/history", auReq(alice, "since", "yesterday"), "E008002")
		// The name filter is an attribute name (domain.CheckHistoryName), checked
		// before the caller is authenticated, as the other input checks.
		for _, name := range []string{"", strings.Repeat("n", domain.MaxNameLen+1)} {
			auDo(t, inst, "GET", auUserAttr+"/history", auReq(alice, "name", name), "E008002")
			auDo(t, inst, "GET", auUserAttr+"/history", auReq("junk", "name", name), "E008002")
		}
		r = auDo(t, inst, "GET", auUserAttr+"/history", auReq(alice, "limit", -5), "")
		if list, _ := r.Body["result"].([]any); len(list) != len(full) || r.Body["next"] != nil {
			t.Fatalf("history with limit -5 = %s, want all %d changes on one page (the default size)", r.Raw, len(full))
		}
	})

	t.Run("filters by name and time", func(t *testing.T) {
		got := auBrief(auHistory(t, inst, auUserAttr, auReq(alice, "name", "b"), 0))
		if want := []string{"created b", "updated b", "expired b"}; !slices.Equal(got, want) {
			t.Fatalf("history of b = %v, want %v", got, want)
		}
		got = auBrief(auHistory(t, inst, auUserAttr, auReq(alice, "since", domain.FormatTime(t2), "until", domain.FormatTime(t3)), 0))
		if want := []string{"set a", "updated b"}; !slices.Equal(got, want) {
			t.Fatalf("history from t2 to t3 = %v, want %v", got, want)
		}
	})

	t.Run("only super-users read other users' history", func(t *testing.T) {
		auDo(t, inst, "GET", auUserAttr+"/history", auReq(alice, "user_id", bobID), "E005001")
		got := auHistory(t, inst, auUserAttr, auReq(root, "user_id", aliceID), 0)
		if !slices.Equal(auBrief(got), auBrief(full)) {
			t.Fatalf("alice's history read by a super-user = %v, want %v", auBrief(got), auBrief(full))
		}
		auDo(t, inst, "GET", auUserAttr+"/history", auReq(root, "user_id", "zusrnosuchuser"), "E001100")
	})

	t.Run("a deleted user's history stays readable by super-users", func(t *testing.T) {
		clock.Advance(time.Second)
		auDo(t, inst, "PUT", auUserAttr, auReq(bob, "name", "x", "value", "y"), "")
		auDo(t, inst, "DELETE", "/zato/sso/user", auReq(root, "user_id", bobID), "")
		got := auBrief(auHistory(t, inst, auUserAttr, auReq(root, "user_id", bobID), 0))
		if want := []string{"set x", "removed x"}; !slices.Equal(got, want) {
			t.Fatalf("history of the deleted bob = %v, want %v", got, want)
		}
	})

	t.Run("an ended session's history is readable by its owner", func(t *testing.T) {
		clock.Advance(time.Second)
		second := inst.Login("au-alice", nodetest.Password)
		auDo(t, inst, "PUT", auSessionAttr, auReq(second, "name", "cart", "value", []any{1, 2}), "")
		auDo(t, inst, "POST", "/zato/sso/user/logout", auReq(second), "")
		cs := auHistory(t, inst, auSessionAttr, auReq(alice, "target_ust", second), 0)
		if got, want := auBrief(cs), []string{"set cart", "removed cart"}; !slices.Equal(got, want) {
			t.Fatalf("history of the ended session = %v, want %v", got, want)
		}
		if cs[1]["reason"] != domain.ReasonLogout {
			t.Fatalf("removal = %v, want reason logout", cs[1])
		}
		if got := auHistory(t, inst, auSessionAttr, auReq(root, "target_ust", second), 0); len(got) != 2 {
			t.Fatalf("the super-user reads %v, want the 2 changes", auBrief(got))
		}
		carol, _ := inst.User(root, "au-carol")
		auDo(t, inst, "GET", auSessionAttr+"/history", auReq(carol, "target_ust", second), "E005001")
		auDo(t, inst, "GET", auSessionAttr+"/history", auReq(alice, "target_ust", "gAAAAAnot-a-token"), "E007001")
		if got := auHistory(t, inst, auSessionAttr, auReq(alice), 0); len(got) != 0 {
			t.Fatalf("history of alice's own untouched session = %v, want none", auBrief(got))
		}
	})
}
