package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
)

const never = "9999-12-31T00:00:00"

// attrFieldSet is what a found attribute answers with (docs/API.md#attribute-object + found).
var attrFieldSet = []string{"creation_time", "expiration_time", "found", "is_encrypted", "last_modified", "name", "value"}

// attrGet returns the single-mode GET answer for name.
func attrGet(t *testing.T, inst *nodetest.Instance, ust, name string, kv ...any) map[string]any {
	t.Helper()
	r := inst.Do("GET", apiAttr, apiReq(ust, append([]any{"name", name}, kv...)...))
	apiWant(t, "GET "+name, r, "")
	return r.Body
}

// attrNames returns the names answer.
func attrNames(t *testing.T, inst *nodetest.Instance, ust string, kv ...any) []string {
	t.Helper()
	r := inst.Do("GET", apiAttr+"/names", apiReq(ust, kv...))
	apiWant(t, "names", r, "")
	list, ok := r.Body["result"].([]any)
	if !ok {
		t.Fatalf("names = %s, want a result list", r.Raw)
	}
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = v.(string)
	}
	return out
}

func attrExists(t *testing.T, inst *nodetest.Instance, ust, name string, kv ...any) bool {
	t.Helper()
	r := inst.Do("GET", apiAttr+"/exists", apiReq(ust, append([]any{"name", name}, kv...)...))
	apiWant(t, "exists "+name, r, "")
	b, ok := r.Body["result"].(bool)
	if !ok {
		t.Fatalf("exists %s = %s, want a bool result", name, r.Raw)
	}
	return b
}

// attrTime reads a date-time (docs/API.md#time-format) field.
func attrTime(t *testing.T, a map[string]any, key string) time.Time {
	t.Helper()
	s, _ := a[key].(string)
	if !timePattern.MatchString(s) {
		t.Fatalf("%s = %#v, want a date-time (docs/API.md#time-format)", key, a[key])
	}
	tm, err := domain.ParseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// lastSeq returns the stream's last sequence, to show a refused write
// appended nothing.
func lastSeq(t *testing.T, inst *nodetest.Instance) uint64 {
	t.Helper()
	seq, err := inst.Store.LastSeq(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

func item(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func TestAttrs_Single(t *testing.T) {
	inst, root, _ := apiSetup(t)
	alice, _ := inst.User(root, "alice")

	t.Run("create and get (8.1, 8.8)", func(t *testing.T) {
		apiWant(t, "POST", inst.Do("POST", apiAttr, map[string]any{"current_ust": alice, "current_app": "CRM",
			"name": "ui.theme", "value": "dark", "expiration": 7200}), "")
		a := attrGet(t, inst, alice, "ui.theme")
		if got := userKeys(a); !slices.Equal(got, attrFieldSet) {
			t.Fatalf("GET fields = %q, want %q", got, attrFieldSet)
		}
		if a["found"] != true || a["name"] != "ui.theme" || a["value"] != "dark" || a["is_encrypted"] != false {
			t.Fatalf("GET = %v", a)
		}
		created, modified, expires := attrTime(t, a, "creation_time"), attrTime(t, a, "last_modified"), attrTime(t, a, "expiration_time")
		if !created.Equal(modified) || expires.Sub(created) != 7200*time.Second {
			t.Fatalf("times: created %v, modified %v, expires %v; want modified = created, expires = created + 7200 s", created, modified, expires)
		}
		if d := time.Since(created); d < -time.Second || d > time.Minute {
			t.Fatalf("creation_time %v is not now", created)
		}
	})

	t.Run("not found (8.9)", func(t *testing.T) {
		r := inst.Query("GET", apiAttr, map[string]string{"ust": alice, "current_app": "CRM", "name": "gone"})
		apiWant(t, "GET gone", r, "")
		if got := userKeys(r.Body); !slices.Equal(got, []string{"found"}) || r.Body["found"] != false {
			t.Fatalf("GET gone = %s, want only found: false", r.Raw)
		}
	})

	t.Run("values keep their JSON type", func(t *testing.T) {
		for i, v := range []string{`"s"`, `""`, `0`, `-1.5`, `12345678901234`, `true`, `false`, `[]`, `{}`,
			`{"lang":"en","tz":"UTC"}`, `[1,"a",null,{"b":[true]}]`, `"ünï <&> \"q\" \\ 名前"`} {
			name := "v" + string(rune('a'+i))
			body := []byte(`{"ust":"` + alice + `","current_app":"CRM","name":"` + name + `","value":` + v + `}`)
			apiWant(t, "PUT value "+v, inst.Do("PUT", apiAttr, body), "")
			a := attrGet(t, inst, alice, name)
			var want any
			_ = json.Unmarshal([]byte(v), &want)
			if !reflect.DeepEqual(a["value"], want) {
				t.Fatalf("value %s came back as %#v", v, a["value"])
			}
		}
	})

	t.Run("POST on a live name is E009001", func(t *testing.T) {
		apiWant(t, "POST", inst.Do("POST", apiAttr, apiReq(alice, "name", "dup", "value", 1)), "")
		apiWant(t, "POST again", inst.Do("POST", apiAttr, apiReq(alice, "name", "dup", "value", 2)), "E009001")
		if a := attrGet(t, inst, alice, "dup"); a["value"] != float64(1) {
			t.Fatalf("value after a refused create = %v, want 1", a["value"])
		}
	})

	t.Run("POST and PUT without value are E008002 (API.md#d5)", func(t *testing.T) {
		for _, m := range []string{"POST", "PUT"} {
			apiWant(t, m+" no value", inst.Do(m, apiAttr, apiReq(alice, "name", "novalue")), "E008002")
			apiWant(t, m+" null value", inst.Do(m, apiAttr, apiReq(alice, "name", "novalue", "value", nil)), "E008002")
		}
		if attrExists(t, inst, alice, "novalue") {
			t.Fatal("novalue exists after refused writes")
		}
	})

	t.Run("PUT upserts; on a live name it keeps creation_time and expiry", func(t *testing.T) {
		apiWant(t, "PUT new", inst.Do("PUT", apiAttr, apiReq(alice, "name", "up", "value", "a", "expiration", 3600)), "")
		first := attrGet(t, inst, alice, "up")
		apiWant(t, "PUT live", inst.Do("PUT", apiAttr, apiReq(alice, "name", "up", "value", "b")), "")
		second := attrGet(t, inst, alice, "up")
		if second["value"] != "b" || second["creation_time"] != first["creation_time"] ||
			second["expiration_time"] != first["expiration_time"] || second["last_modified"] == first["last_modified"] {
			t.Fatalf("after PUT on a live name: %v\nbefore: %v\nwant new value and last_modified, same creation and expiry", second, first)
		}
		apiWant(t, "PUT expiration 0", inst.Do("PUT", apiAttr, apiReq(alice, "name", "up", "value", "c", "expiration", 0)), "")
		if a := attrGet(t, inst, alice, "up"); a["expiration_time"] != never {
			t.Fatalf("PUT with expiration 0: expiration_time = %v, want %s (API.md#d10)", a["expiration_time"], never)
		}
	})

	t.Run("PATCH (8.6, 8.7, API.md#d3, API.md#d4, API.md#d10)", func(t *testing.T) {
		apiWant(t, "PATCH missing", inst.Do("PATCH", apiAttr, apiReq(alice, "name", "no.such", "value", "v")), "E009002")
		apiWant(t, "PATCH missing, no value", inst.Do("PATCH", apiAttr, apiReq(alice, "name", "no.such")), "E009002")
		if attrExists(t, inst, alice, "no.such") {
			t.Fatal("PATCH of a missing name created it")
		}
		apiWant(t, "POST", inst.Do("POST", apiAttr, apiReq(alice, "name", "p", "value", map[string]any{"k": 1}, "expiration", 3600)), "")
		before := attrGet(t, inst, alice, "p")

		apiWant(t, "PATCH expiration only", inst.Do("PATCH", apiAttr, apiReq(alice, "name", "p", "expiration", 60)), "")
		a := attrGet(t, inst, alice, "p")
		if !reflect.DeepEqual(a["value"], before["value"]) || a["creation_time"] != before["creation_time"] {
			t.Fatalf("PATCH without value: %v, want value and creation_time unchanged from %v (API.md#d4)", a, before)
		}
		if d := attrTime(t, a, "expiration_time").Sub(attrTime(t, a, "last_modified")); d != time.Minute {
			t.Fatalf("PATCH expiration 60: expiration_time - last_modified = %v, want 60s", d)
		}

		apiWant(t, "PATCH touch", inst.Do("PATCH", apiAttr, apiReq(alice, "name", "p")), "")
		b := attrGet(t, inst, alice, "p")
		if b["last_modified"] == a["last_modified"] || b["expiration_time"] != a["expiration_time"] {
			t.Fatalf("PATCH touch: %v, want a new last_modified and the same expiry as %v", b, a)
		}

		apiWant(t, "PATCH expiration 0", inst.Do("PATCH", apiAttr, apiReq(alice, "name", "p", "expiration", 0)), "")
		if a := attrGet(t, inst, alice, "p"); a["expiration_time"] != never {
			t.Fatalf("PATCH expiration 0: expiration_time = %v, want %s (API.md#d10)", a["expiration_time"], never)
		}

		apiWant(t, "PATCH empty string", inst.Do("PATCH", apiAttr, apiReq(alice, "name", "p", "value", "")), "")
		if a := attrGet(t, inst, alice, "p"); a["value"] != "" {
			t.Fatalf("PATCH value \"\": value = %#v, want \"\" (API.md#d4)", a["value"])
		}
	})

	t.Run("negative or malformed expiration is E008002 (API.md#d10)", func(t *testing.T) {
		apiWant(t, "POST", inst.Do("POST", apiAttr, apiReq(alice, "name", "ex", "value", 1)), "")
		for _, m := range []string{"POST", "PUT", "PATCH"} {
			for _, exp := range []any{-1, "-5", 1.5, "soon", true, []int{1}} {
				apiWant(t, m+" expiration", inst.Do(m, apiAttr, apiReq(alice, "name", "ex2", "value", 1, "expiration", exp)), "E008002")
			}
		}
		apiWant(t, "PATCH expiration -1 on a live name", inst.Do("PATCH", apiAttr, apiReq(alice, "name", "ex", "expiration", -1)), "E008002")
		apiWant(t, "PUT many, the request's expiration -1, each item its own", inst.Do("PUT", apiAttr,
			apiReq(alice, "expiration", -1, "data", []any{item("name", "ex6", "value", 1, "expiration", 5)})), "E008002")
		apiWant(t, "POST expiration as digits", inst.Do("POST", apiAttr, apiReq(alice, "name", "ex3", "value", 1, "expiration", "30")), "")
		a := attrGet(t, inst, alice, "ex3")
		if d := attrTime(t, a, "expiration_time").Sub(attrTime(t, a, "creation_time")); d != 30*time.Second {
			t.Fatalf("expiration \"30\": expires after %v, want 30s", d)
		}
		apiWant(t, "POST expiration 5.0", inst.Do("POST", apiAttr, apiReq(alice, "name", "ex4", "value", 1, "expiration", 5.0)), "")
		apiWant(t, "POST huge expiration", inst.Do("POST", apiAttr, apiReq(alice, "name", "ex5", "value", 1, "expiration", int64(1)<<40)), "")
		if a := attrGet(t, inst, alice, "ex5"); a["expiration_time"] != never {
			t.Fatalf("expiration 2^40 s: expiration_time = %v, want clamped to %s", a["expiration_time"], never)
		}
	})

	t.Run("encryption (API.md#d6)", func(t *testing.T) {
		apiWant(t, "POST encrypted", inst.Do("POST", apiAttr, apiReq(alice, "name", "api.secret", "value", "s3cr3t-value", "encrypt", true)), "")
		a := attrGet(t, inst, alice, "api.secret")
		if a["value"] != "s3cr3t-value" || a["is_encrypted"] != true {
			t.Fatalf("GET encrypted = %v, want the plaintext, is_encrypted true", a)
		}
		raw := attrGet(t, inst, alice, "api.secret", "decrypt", false)
		if s, _ := raw["value"].(string); !strings.HasPrefix(s, "gAAAAA") || raw["is_encrypted"] != true {
			t.Fatalf("GET decrypt:false = %v, want the Fernet ciphertext", raw)
		}

		apiWant(t, "PATCH expiration only, encrypt false", inst.Do("PATCH", apiAttr, apiReq(alice, "name", "api.secret", "expiration", 600, "encrypt", false)), "")
		if a := attrGet(t, inst, alice, "api.secret"); a["is_encrypted"] != true || a["value"] != "s3cr3t-value" {
			t.Fatalf("after PATCH without value: %v, want still encrypted (encrypt ignored)", a)
		}
		apiWant(t, "PUT plain over encrypted", inst.Do("PUT", apiAttr, apiReq(alice, "name", "api.secret", "value", "plain")), "")
		if a := attrGet(t, inst, alice, "api.secret", "decrypt", false); a["is_encrypted"] != false || a["value"] != "plain" {
			t.Fatalf("after PUT without encrypt: %v, want plain, is_encrypted false", a)
		}
		apiWant(t, "PATCH encrypt", inst.Do("PATCH", apiAttr, apiReq(alice, "name", "api.secret", "value", "again", "encrypt", "true")), "")
		a = attrGet(t, inst, alice, "api.secret")
		raw = attrGet(t, inst, alice, "api.secret", "decrypt", "f")
		if a["is_encrypted"] != true || a["value"] != "again" || !strings.HasPrefix(raw["value"].(string), "gAAAAA") {
			t.Fatalf("after PATCH with encrypt: %v / %v, want encrypted again", a, raw)
		}
		apiWant(t, "PATCH plain value", inst.Do("PATCH", apiAttr, apiReq(alice, "name", "api.secret", "value", 7)), "")
		if a := attrGet(t, inst, alice, "api.secret"); a["is_encrypted"] != false || a["value"] != float64(7) {
			t.Fatalf("after PATCH with a plain value: %v, want 7, is_encrypted false", a)
		}

		for _, v := range []any{5, true, map[string]any{"a": 1}, []string{"x"}} {
			for _, m := range []string{"POST", "PUT", "PATCH"} {
				apiWant(t, m+" encrypt non-string", inst.Do(m, apiAttr, apiReq(alice, "name", "api.secret", "value", v, "encrypt", true)), "E008002")
			}
		}
		apiWant(t, "encrypt not a bool", inst.Do("PUT", apiAttr, apiReq(alice, "name", "e", "value", "v", "encrypt", "sometimes")), "E008002")
		apiWant(t, "decrypt not a bool", inst.Do("GET", apiAttr, apiReq(alice, "name", "e", "decrypt", 2)), "E008002")
		apiWant(t, "encrypt an empty string", inst.Do("PUT", apiAttr, apiReq(alice, "name", "empty.secret", "value", "", "encrypt", true)), "")
		if a := attrGet(t, inst, alice, "empty.secret"); a["value"] != "" || a["is_encrypted"] != true {
			t.Fatalf("encrypted empty string = %v", a)
		}
	})

	t.Run("names: validation", func(t *testing.T) {
		apiWant(t, "empty name", inst.Do("PUT", apiAttr, apiReq(alice, "name", "", "value", 1)), "E008002")
		apiWant(t, "192-character name", inst.Do("PUT", apiAttr, apiReq(alice, "name", strings.Repeat("é", 192), "value", 1)), "E008002")
		apiWant(t, "191-character name", inst.Do("PUT", apiAttr, apiReq(alice, "name", strings.Repeat("é", 191), "value", 1)), "")
		apiWant(t, "name not a string", inst.Do("PUT", apiAttr, apiReq(alice, "name", 5, "value", 1)), "E008002")
		apiWant(t, "GET empty name", inst.Do("GET", apiAttr, apiReq(alice, "name", "")), "E008002")
		apiWant(t, "DELETE empty name", inst.Do("DELETE", apiAttr, apiReq(alice, "name", "")), "E008002")
	})

	t.Run("no name and no data is E008002 (8.14)", func(t *testing.T) {
		for _, c := range []struct{ method, path string }{
			{"POST", apiAttr}, {"PUT", apiAttr}, {"PATCH", apiAttr}, {"GET", apiAttr}, {"DELETE", apiAttr}, {"GET", apiAttr + "/exists"},
		} {
			apiWant(t, c.method+" "+c.path, inst.Do(c.method, c.path, apiReq(alice)), "E008002")
			apiWant(t, c.method+" "+c.path+" null name", inst.Do(c.method, c.path, apiReq(alice, "name", nil, "value", 1)), "E008002")
		}
	})

	t.Run("delete is idempotent", func(t *testing.T) {
		apiWant(t, "DELETE missing", inst.Do("DELETE", apiAttr, apiReq(alice, "name", "never.existed")), "")
		apiWant(t, "PUT", inst.Do("PUT", apiAttr, apiReq(alice, "name", "del", "value", 1)), "")
		apiWant(t, "DELETE", inst.Do("DELETE", apiAttr, apiReq(alice, "name", "del")), "")
		if attrExists(t, inst, alice, "del") {
			t.Fatal("exists after DELETE = true")
		}
		apiWant(t, "DELETE again", inst.Do("DELETE", apiAttr, apiReq(alice, "name", "del")), "")
		apiWant(t, "POST after DELETE", inst.Do("POST", apiAttr, apiReq(alice, "name", "del", "value", 2)), "")
	})

	t.Run("names are sorted by byte order (8.12)", func(t *testing.T) {
		bob, _ := inst.User(root, "bob")
		if got := attrNames(t, inst, bob); len(got) != 0 {
			t.Fatalf("names of a new user = %q, want []", got)
		}
		if r := inst.Do("GET", apiAttr+"/names", apiReq(bob)); !bytes.Contains(r.Raw, []byte(`"result":[]`)) {
			t.Fatalf("names of a new user = %s, want result: []", r.Raw)
		}
		for _, n := range []string{"ui.theme", "prefs", "cart.id", "api.secret", "Zeta", "a b", "é"} {
			apiWant(t, "PUT "+n, inst.Do("PUT", apiAttr, apiReq(bob, "name", n, "value", 1)), "")
		}
		want := []string{"Zeta", "a b", "api.secret", "cart.id", "prefs", "ui.theme", "é"}
		if got := attrNames(t, inst, bob); !slices.Equal(got, want) {
			t.Fatalf("names = %q, want %q", got, want)
		}
	})
}

func TestAttrs_Many(t *testing.T) {
	inst, root, _ := apiSetup(t)
	alice, _ := inst.User(root, "alice")

	t.Run("create several with per-item overrides (8.2)", func(t *testing.T) {
		r := inst.Do("POST", apiAttr, apiReq(alice, "encrypt", false, "expiration", 600, "data", []any{
			item("name", "cart.id", "value", "c-8812"),
			item("name", "api.secret", "value", "s3cr3t-value", "encrypt", true),
			item("name", "prefs", "value", map[string]any{"lang": "en", "tz": "UTC"}, "expiration", 0),
		}))
		apiWant(t, "POST many", r, "")
		for name, want := range map[string]struct {
			ttl time.Duration // 0: never
			enc bool
		}{"cart.id": {600 * time.Second, false}, "api.secret": {600 * time.Second, true}, "prefs": {0, false}} {
			a := attrGet(t, inst, alice, name)
			if a["is_encrypted"] != want.enc {
				t.Errorf("%s: is_encrypted = %v, want %v", name, a["is_encrypted"], want.enc)
			}
			if want.ttl == 0 {
				if a["expiration_time"] != never {
					t.Errorf("%s: expiration_time = %v, want never", name, a["expiration_time"])
				}
			} else if d := attrTime(t, a, "expiration_time").Sub(attrTime(t, a, "creation_time")); d != want.ttl {
				t.Errorf("%s: expires %v after creation, want %v", name, d, want.ttl)
			}
		}
		if a := attrGet(t, inst, alice, "api.secret"); a["value"] != "s3cr3t-value" {
			t.Errorf("api.secret = %v, want the plaintext", a["value"])
		}
	})

	t.Run("a live name fails the whole list (8.3)", func(t *testing.T) {
		apiWant(t, "PUT ui.theme", inst.Do("PUT", apiAttr, apiReq(alice, "name", "ui.theme", "value", "dark")), "")
		r := inst.Do("POST", apiAttr, apiReq(alice, "data", []any{item("name", "new.one", "value", "x"), item("name", "ui.theme", "value", "light")}))
		apiWant(t, "POST many with a live name", r, "E009001")
		if attrExists(t, inst, alice, "new.one") || attrGet(t, inst, alice, "ui.theme")["value"] != "dark" {
			t.Fatal("a refused many-mode create wrote something")
		}
	})

	t.Run("a name repeated in a POST list is E009001", func(t *testing.T) {
		r := inst.Do("POST", apiAttr, apiReq(alice, "data", []any{item("name", "rep", "value", 1), item("name", "rep", "value", 2)}))
		apiWant(t, "POST many with a repeated name", r, "E009001")
		if attrExists(t, inst, alice, "rep") {
			t.Fatal("rep exists after a refused create")
		}
	})

	t.Run("in PUT and PATCH lists the last occurrence wins", func(t *testing.T) {
		apiWant(t, "PUT many", inst.Do("PUT", apiAttr, apiReq(alice, "data", []any{
			item("name", "last", "value", 1), item("name", "last", "value", 2, "expiration", 60)})), "")
		a := attrGet(t, inst, alice, "last")
		if a["value"] != float64(2) || a["expiration_time"] == never {
			t.Fatalf("after PUT [1, 2]: %v, want 2 with an expiry", a)
		}
		apiWant(t, "PATCH many", inst.Do("PATCH", apiAttr, apiReq(alice, "data", []any{
			item("name", "last", "value", 3), item("name", "last", "expiration", 0)})), "")
		if a := attrGet(t, inst, alice, "last"); a["value"] != float64(3) || a["expiration_time"] != never {
			t.Fatalf("after PATCH [3, expiration 0]: %v, want 3 never expiring", a)
		}
	})

	t.Run("PATCH list with a missing name changes nothing (API.md#d3)", func(t *testing.T) {
		before := attrGet(t, inst, alice, "ui.theme")
		seq := lastSeq(t, inst)
		r := inst.Do("PATCH", apiAttr, apiReq(alice, "data", []any{item("name", "ui.theme", "value", "light"), item("name", "no.such", "value", 1)}))
		apiWant(t, "PATCH many", r, "E009002")
		if a := attrGet(t, inst, alice, "ui.theme"); a["value"] != before["value"] || a["last_modified"] != before["last_modified"] {
			t.Fatalf("after a refused PATCH: %v, want unchanged %v", a, before)
		}
		if got := lastSeq(t, inst); got != seq {
			t.Fatalf("stream moved from %d to %d on a refused PATCH", seq, got)
		}
	})

	t.Run("get many (8.10) and one-element lists (API.md#d8)", func(t *testing.T) {
		r := inst.Do("GET", apiAttr, apiReq(alice, "data", []string{"prefs", "gone", "prefs"}))
		apiWant(t, "GET many", r, "")
		res, ok := r.Body["result"].(map[string]any)
		if !ok || len(res) != 2 || res["gone"] != nil || r.Body["found"] != nil {
			t.Fatalf("GET many = %s, want result {prefs: {...}, gone: null}", r.Raw)
		}
		if !bytes.Contains(r.Raw, []byte(`"gone":null`)) {
			t.Fatalf("GET many = %s, want gone: null present", r.Raw)
		}
		prefs, _ := res["prefs"].(map[string]any)
		if got := userKeys(prefs); !slices.Equal(got, []string{"creation_time", "expiration_time", "is_encrypted", "last_modified", "name", "value"}) {
			t.Fatalf("attribute object fields = %q", got)
		}
		if !reflect.DeepEqual(prefs["value"], map[string]any{"lang": "en", "tz": "UTC"}) || prefs["expiration_time"] != never {
			t.Fatalf("prefs = %v", prefs)
		}
		r = inst.Do("GET", apiAttr, apiReq(alice, "data", []string{"prefs"}))
		if res, ok := r.Body["result"].(map[string]any); !ok || len(res) != 1 || r.Body["found"] != nil {
			t.Fatalf("GET with a one-element list = %s, want the many-mode result object", r.Raw)
		}
		r = inst.Do("GET", apiAttr, apiReq(alice, "data", []string{"api.secret"}, "decrypt", false))
		sec, _ := r.Body["result"].(map[string]any)["api.secret"].(map[string]any)
		if s, _ := sec["value"].(string); !strings.HasPrefix(s, "gAAAAA") {
			t.Fatalf("GET many decrypt:false = %s, want ciphertext", r.Raw)
		}
	})

	t.Run("exists single and many (8.11)", func(t *testing.T) {
		if !attrExists(t, inst, alice, "prefs") || attrExists(t, inst, alice, "gone") {
			t.Fatal("exists single: prefs false or gone true")
		}
		r := inst.Do("GET", apiAttr+"/exists", apiReq(alice, "data", []string{"prefs", "gone"}))
		if res, _ := r.Body["result"].(map[string]any); res["prefs"] != true || res["gone"] != false || len(res) != 2 {
			t.Fatalf("exists many = %s, want {prefs: true, gone: false}", r.Raw)
		}
		r = inst.Do("GET", apiAttr+"/exists", apiReq(alice, "data", []string{"gone"}))
		if res, ok := r.Body["result"].(map[string]any); !ok || res["gone"] != false {
			t.Fatalf("exists with a one-element list = %s, want {gone: false} (API.md#d8)", r.Raw)
		}
	})

	t.Run("delete many (8.13)", func(t *testing.T) {
		apiWant(t, "DELETE many", inst.Do("DELETE", apiAttr, apiReq(alice, "data", []string{"cart.id", "never.existed"})), "")
		if attrExists(t, inst, alice, "cart.id") || !attrExists(t, inst, alice, "prefs") {
			t.Fatal("DELETE many removed the wrong names")
		}
		seq := lastSeq(t, inst)
		apiWant(t, "DELETE only missing names", inst.Do("DELETE", apiAttr, apiReq(alice, "data", []string{"cart.id", "x"})), "")
		if got := lastSeq(t, inst); got != seq {
			t.Fatalf("deleting only missing names appended to the stream (%d -> %d)", seq, got)
		}
	})

	t.Run("name takes precedence over data", func(t *testing.T) {
		apiWant(t, "PUT both", inst.Do("PUT", apiAttr, apiReq(alice, "name", "by.name", "value", 1, "data", []any{item("name", "by.data", "value", 2)})), "")
		if !attrExists(t, inst, alice, "by.name") || attrExists(t, inst, alice, "by.data") {
			t.Fatal("with name and data both sent, data was used")
		}
		r := inst.Do("GET", apiAttr, apiReq(alice, "name", "by.name", "data", []string{"x"}))
		if r.Body["found"] != true {
			t.Fatalf("GET with name and data = %s, want the single-mode answer", r.Raw)
		}
	})

	t.Run("bad lists are E008002", func(t *testing.T) {
		for _, c := range []struct {
			what   string
			method string
			data   any
		}{
			{"empty list", "PUT", []any{}},
			{"not a list", "PUT", "x"},
			{"object instead of list", "PUT", item("name", "a", "value", 1)},
			{"item not an object", "PUT", []any{1}},
			{"item without name", "PUT", []any{item("value", 1)}},
			{"item with empty name", "PUT", []any{item("name", "", "value", 1)}},
			{"item with long name", "PUT", []any{item("name", strings.Repeat("n", 192), "value", 1)}},
			{"POST item without value", "POST", []any{item("name", "a")}},
			{"PUT item with null value", "PUT", []any{item("name", "a", "value", nil)}},
			{"item with negative expiration", "PATCH", []any{item("name", "prefs", "expiration", -1)}},
			{"item encrypting a number", "PUT", []any{item("name", "a", "value", 1, "encrypt", true)}},
			{"item with user_id not a string", "PUT", []any{item("name", "a", "value", 1, "user_id", 5)}},
			{"GET list of numbers", "GET", []any{1}},
			{"GET list with an empty name", "GET", []any{"a", ""}},
			{"GET empty list", "GET", []any{}},
			{"DELETE list of objects", "DELETE", []any{item("name", "a")}},
		} {
			apiWant(t, c.method+" "+c.what, inst.Do(c.method, apiAttr, apiReq(alice, "data", c.data)), "E008002")
		}
		apiWant(t, "exists list of numbers", inst.Do("GET", apiAttr+"/exists", apiReq(alice, "data", []any{1})), "E008002")
		if attrExists(t, inst, alice, "a") {
			t.Fatal("a refused list wrote a")
		}
	})
}

func TestAttrs_Permissions(t *testing.T) {
	inst, root, rootID := apiSetup(t)
	alice, aliceID := inst.User(root, "alice")
	bob, bobID := inst.User(root, "bob")
	apiWant(t, "bob's own attribute", inst.Do("PUT", apiAttr, apiReq(bob, "name", "x", "value", "bob's")), "")

	ops := []struct {
		method, path string
		kv           []any
	}{
		{"POST", apiAttr, []any{"name", "y", "value", "v"}},
		{"PUT", apiAttr, []any{"name", "x", "value", "y"}},
		{"PATCH", apiAttr, []any{"name", "x", "value", "y"}},
		{"GET", apiAttr, []any{"name", "x"}},
		{"DELETE", apiAttr, []any{"name", "x"}},
		{"GET", apiAttr + "/exists", []any{"name", "x"}},
		{"GET", apiAttr + "/names", nil},
	}

	t.Run("a regular user on another user is E005001 (8.5)", func(t *testing.T) {
		for _, op := range ops {
			for _, target := range []string{bobID, rootID, "zusr0000"} {
				kv := append([]any{"user_id", target}, op.kv...)
				apiWant(t, op.method+" "+op.path+" as alice on "+target, inst.Do(op.method, op.path, apiReq(alice, kv...)), "E005001")
			}
		}
		if a := attrGet(t, inst, bob, "x"); a["value"] != "bob's" {
			t.Fatalf("bob's attribute after alice's attempts = %v", a["value"])
		}
	})

	t.Run("a regular user naming herself", func(t *testing.T) {
		apiWant(t, "PUT own user_id", inst.Do("PUT", apiAttr, apiReq(alice, "user_id", aliceID, "name", "own", "value", 1)), "")
		if got := attrNames(t, inst, alice, "user_id", aliceID); !slices.Equal(got, []string{"own"}) {
			t.Fatalf("names with own user_id = %q, want [own]", got)
		}
		apiWant(t, "PUT many with own per-item user_id", inst.Do("PUT", apiAttr, apiReq(alice, "data", []any{
			item("name", "own2", "value", 2, "user_id", aliceID)})), "")
	})

	t.Run("a super-user on another user (8.4)", func(t *testing.T) {
		apiWant(t, "PUT as root on alice", inst.Do("PUT", apiAttr, apiReq(root, "user_id", aliceID, "name", "quota.max", "value", 50)), "")
		if a := attrGet(t, inst, alice, "quota.max"); a["value"] != float64(50) {
			t.Fatalf("alice reads quota.max = %v, want 50", a["value"])
		}
		for _, op := range ops {
			kv := append([]any{"user_id", bobID}, op.kv...)
			apiWant(t, op.method+" "+op.path+" as root on bob", inst.Do(op.method, op.path, apiReq(root, kv...)), "")
		}
		if attrNames(t, inst, root) == nil || len(attrNames(t, inst, root)) != 0 {
			t.Fatal("root's own attributes changed while acting on bob")
		}
	})

	t.Run("a super-user on an unknown user is E001100", func(t *testing.T) {
		for _, op := range ops {
			kv := append([]any{"user_id", "zusr0000"}, op.kv...)
			apiWant(t, op.method+" "+op.path+" as root on nobody", inst.Do(op.method, op.path, apiReq(root, kv...)), "E001100")
		}
	})

	t.Run("a super-user writes to two users in one call (4.4)", func(t *testing.T) {
		apiWant(t, "PUT many to alice and bob", inst.Do("PUT", apiAttr, apiReq(root, "data", []any{
			item("name", "both", "value", "for alice", "user_id", aliceID),
			item("name", "both", "value", "for bob", "user_id", bobID),
			item("name", "both", "value", "for root"),
		})), "")
		for ust, want := range map[string]string{alice: "for alice", bob: "for bob", root: "for root"} {
			if a := attrGet(t, inst, ust, "both"); a["value"] != want {
				t.Fatalf("both = %v, want %q", a["value"], want)
			}
		}
		// The request-level user_id is the default for items without one.
		apiWant(t, "POST many, request user_id alice, one item for bob", inst.Do("POST", apiAttr, apiReq(root, "user_id", aliceID, "data", []any{
			item("name", "dflt", "value", 1),
			item("name", "dflt", "value", 2, "user_id", bobID),
		})), "")
		if attrGet(t, inst, alice, "dflt")["value"] != float64(1) || attrGet(t, inst, bob, "dflt")["value"] != float64(2) {
			t.Fatal("per-item user_id did not override the request's")
		}
	})
}

// TestAttrs_ManyModeIsAllOrNothing: one bad item changes nothing, for
// every kind of failure, also across users; the stream does not move.
func TestAttrs_ManyModeIsAllOrNothing(t *testing.T) {
	inst, root, _ := apiSetup(t)
	alice, aliceID := inst.User(root, "alice")
	_, bobID := inst.User(root, "bob")
	apiWant(t, "seed alice", inst.Do("PUT", apiAttr, apiReq(alice, "data", []any{item("name", "live", "value", "old"), item("name", "keep", "value", "old")})), "")
	apiWant(t, "seed bob", inst.Do("PUT", apiAttr, apiReq(root, "user_id", bobID, "name", "live", "value", "bob-old")), "")

	tests := []struct {
		name   string
		ust    string
		method string
		data   []any
		code   string
	}{
		{"validation error in the last item", alice, "PUT", []any{
			item("name", "keep", "value", "new"), item("name", "fresh", "value", 1), item("name", "bad", "value", 1, "encrypt", true)}, "E008002"},
		{"validation error: bad expiration", alice, "POST", []any{
			item("name", "fresh", "value", 1), item("name", "fresh2", "value", 1, "expiration", "later")}, "E008002"},
		{"E009001 on a live name", alice, "POST", []any{
			item("name", "fresh", "value", 1), item("name", "fresh2", "value", 2), item("name", "live", "value", "new")}, "E009001"},
		{"E009002 on a missing name", alice, "PATCH", []any{
			item("name", "keep", "value", "new"), item("name", "fresh", "value", 1)}, "E009002"},
		{"another user's item as a regular user", alice, "PUT", []any{
			item("name", "keep", "value", "new"), item("name", "fresh", "value", 1, "user_id", bobID)}, "E005001"},
		{"super-user: E009001 on the second user", root, "POST", []any{
			item("name", "fresh", "value", 1, "user_id", aliceID), item("name", "live", "value", "new", "user_id", bobID)}, "E009001"},
		{"super-user: unknown second user", root, "PUT", []any{
			item("name", "keep", "value", "new", "user_id", aliceID), item("name", "fresh", "value", 1, "user_id", "zusr0000")}, "E001100"},
		{"super-user: E009002 on the first user", root, "PATCH", []any{
			item("name", "fresh", "value", 1, "user_id", aliceID), item("name", "live", "value", "new", "user_id", bobID)}, "E009002"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seq := lastSeq(t, inst)
			apiWant(t, tt.method+" many", inst.Do(tt.method, apiAttr, apiReq(tt.ust, "data", tt.data)), tt.code)
			if got := lastSeq(t, inst); got != seq {
				t.Fatalf("stream's last sequence moved from %d to %d", seq, got)
			}
			if got := attrNames(t, inst, alice); !slices.Equal(got, []string{"keep", "live"}) {
				t.Fatalf("alice's names = %q, want [keep live]", got)
			}
			for name, want := range map[string]string{"keep": "old", "live": "old"} {
				if a := attrGet(t, inst, alice, name); a["value"] != want {
					t.Fatalf("alice's %s = %v, want %q", name, a["value"], want)
				}
			}
			if got := attrNames(t, inst, root, "user_id", bobID); !slices.Equal(got, []string{"live"}) {
				t.Fatalf("bob's names = %q, want [live]", got)
			}
			if a := attrGet(t, inst, root, "live", "user_id", bobID); a["value"] != "bob-old" {
				t.Fatalf("bob's live = %v, want bob-old", a["value"])
			}
		})
	}
}

// TestAttrs_Expiry uses real one-second expirations: an expired attribute
// is gone for get, exists and names at once, and does not block a new one
// (docs/API.md#attribute-operations, docs/API.md#d7).
func TestAttrs_Expiry(t *testing.T) {
	t.Parallel()
	inst, root, _ := apiSetup(t)
	alice, _ := inst.User(root, "alice")
	posted := time.Now()
	apiWant(t, "POST short-lived", inst.Do("POST", apiAttr, apiReq(alice, "expiration", 1, "data", []any{
		item("name", "otp", "value", "123456"),
		item("name", "for.create", "value", "old"),
		item("name", "for.set", "value", "old", "encrypt", true),
		item("name", "for.patch", "value", "old"),
		item("name", "for.many", "value", "old"),
		item("name", "stays", "value", "here", "expiration", 0),
	})), "")
	if !attrExists(t, inst, alice, "otp") && time.Since(posted) < 900*time.Millisecond {
		t.Fatal("otp does not exist right after creation")
	}
	created := attrGet(t, inst, alice, "for.create")

	deadline := time.Now().Add(5 * time.Second)
	for attrExists(t, inst, alice, "otp") {
		if time.Now().After(deadline) {
			t.Fatal("otp still exists 5s after it was created with expiration 1")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if a := attrGet(t, inst, alice, "otp"); a["found"] != false {
		t.Fatalf("GET expired = %v, want found false", a)
	}
	if got := attrNames(t, inst, alice); !slices.Equal(got, []string{"stays"}) {
		t.Fatalf("names after expiry = %q, want [stays]", got)
	}
	r := inst.Do("GET", apiAttr, apiReq(alice, "data", []string{"otp", "stays"}))
	if res, _ := r.Body["result"].(map[string]any); res["otp"] != nil || res["stays"] == nil {
		t.Fatalf("GET many after expiry = %s, want otp null", r.Raw)
	}

	// docs/API.md#d7: expired = nonexistent for every operation.
	apiWant(t, "POST over an expired name", inst.Do("POST", apiAttr, apiReq(alice, "name", "for.create", "value", "new")), "")
	a := attrGet(t, inst, alice, "for.create")
	if a["value"] != "new" || a["expiration_time"] != never || a["creation_time"] == created["creation_time"] {
		t.Fatalf("after POST over an expired name: %v, want a fresh attribute", a)
	}
	apiWant(t, "PUT over an expired name", inst.Do("PUT", apiAttr, apiReq(alice, "name", "for.set", "value", "new")), "")
	if a := attrGet(t, inst, alice, "for.set"); a["value"] != "new" || a["is_encrypted"] != false || a["expiration_time"] != never {
		t.Fatalf("after PUT over an expired name: %v, want a fresh plain attribute that never expires", a)
	}
	apiWant(t, "PATCH an expired name", inst.Do("PATCH", apiAttr, apiReq(alice, "name", "for.patch", "value", "new")), "E009002")
	apiWant(t, "POST many over an expired name", inst.Do("POST", apiAttr, apiReq(alice, "data", []any{item("name", "for.many", "value", "new")})), "")
	apiWant(t, "DELETE an expired name", inst.Do("DELETE", apiAttr, apiReq(alice, "name", "for.patch")), "")
	if got := attrNames(t, inst, alice); !slices.Equal(got, []string{"for.create", "for.many", "for.set", "stays"}) {
		t.Fatalf("names = %q", got)
	}
}

// TestAttrs_NamesRoundTrip: names are user input, kept in the payload, and
// come back byte for byte whatever characters they hold.
func TestAttrs_NamesRoundTrip(t *testing.T) {
	inst, root, _ := apiSetup(t)
	alice, _ := inst.User(root, "alice")
	names := []string{"ui.theme", "a.b.c.d", "*", ">", "a*b", "x>y", "sso.>", "$JS.API.>", "with space", " leading",
		"trailing ", "tab\there", "new\nline", "ünïcødé", "名前", "emoji 🎉", "quote\"back\\slash", "<&>", "..", "%2F/?#&="}
	for _, n := range names {
		apiWant(t, "PUT "+n, inst.Do("PUT", apiAttr, apiReq(alice, "name", n, "value", n)), "")
		a := attrGet(t, inst, alice, n)
		if a["name"] != n || a["value"] != n {
			t.Fatalf("GET %q = name %q, value %q", n, a["name"], a["value"])
		}
		if !attrExists(t, inst, alice, n) {
			t.Fatalf("exists %q = false", n)
		}
		if !strings.ContainsAny(n, "\"\\\t\n") {
			if r := inst.Do("GET", apiAttr, apiReq(alice, "name", n)); !bytes.Contains(r.Raw, []byte(`"name":"`+n+`"`)) {
				t.Fatalf("GET %q: the answer %s does not hold the name's bytes unescaped", n, r.Raw)
			}
		}
	}
	want := slices.Clone(names)
	slices.Sort(want)
	if got := attrNames(t, inst, alice); !slices.Equal(got, want) {
		t.Fatalf("names = %q\nwant %q", got, want)
	}
	r := inst.Do("GET", apiAttr, apiReq(alice, "data", names))
	res, _ := r.Body["result"].(map[string]any)
	for _, n := range names {
		if a, _ := res[n].(map[string]any); a["name"] != n {
			t.Fatalf("GET many: result[%q] = %v", n, res[n])
		}
	}
	// The query string carries them too.
	if r := inst.Query("GET", apiAttr, map[string]string{"ust": alice, "current_app": "CRM", "name": "%2F/?#&="}); r.Body["value"] != "%2F/?#&=" {
		t.Fatalf("GET by query = %s", r.Raw)
	}
	for _, n := range names {
		apiWant(t, "DELETE "+n, inst.Do("DELETE", apiAttr, apiReq(alice, "name", n)), "")
		if attrExists(t, inst, alice, n) {
			t.Fatalf("exists %q after DELETE = true", n)
		}
	}
	if got := attrNames(t, inst, alice); len(got) != 0 {
		t.Fatalf("names after deleting all = %q", got)
	}
}

// streamBytes reads every message of the stream with a raw JetStream
// consumer and returns their payloads.
func streamBytes(t *testing.T, inst *nodetest.Instance) [][]byte {
	t.Helper()
	js := inst.JetStream()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	last := lastSeq(t, inst)
	cons, err := js.OrderedConsumer(ctx, inst.Store.StreamName(), jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for uint64(len(out)) < last {
		batch, err := cons.Fetch(int(last)-len(out), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for msg := range batch.Messages() {
			out = append(out, slices.Concat([]byte(msg.Subject()+" "), msg.Data()))
		}
		if err := batch.Error(); err != nil {
			t.Fatal(err)
		}
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d messages", len(out), last)
		}
	}
	return out
}

// TestAttrs_StreamHoldsNoPlaintext: encrypted values, passwords, password
// hashes, TOTP keys, e-mails and tokens never reach the stream in clear.
func TestAttrs_StreamHoldsNoPlaintext(t *testing.T) {
	inst, root, _ := apiSetup(t)
	r := inst.Do("POST", apiUser, apiReq(root, "username", "alice", "password", "Alice-Own-Pass-2031", "auto_approve", true,
		"email", "alice-mail@example.com", "totp_key", "JBSWY3DPEHPK3PXPJBSWY3DP"))
	apiWant(t, "create alice", r, "")
	alice := inst.Login("alice", "Alice-Own-Pass-2031")
	secrets := []string{"PLAINTEXT-single-post", "PLAINTEXT-single-put", "PLAINTEXT-patch", "PLAINTEXT-many-1", "PLAINTEXT-many-2"}
	apiWant(t, "POST", inst.Do("POST", apiAttr, apiReq(alice, "name", "s1", "value", secrets[0], "encrypt", true)), "")
	apiWant(t, "PUT", inst.Do("PUT", apiAttr, apiReq(alice, "name", "s2", "value", secrets[1], "encrypt", true)), "")
	apiWant(t, "PATCH", inst.Do("PATCH", apiAttr, apiReq(alice, "name", "s2", "value", secrets[2], "encrypt", true)), "")
	apiWant(t, "PUT many", inst.Do("PUT", apiAttr, apiReq(alice, "encrypt", true, "data", []any{
		item("name", "s3", "value", secrets[3]), item("name", "s4", "value", secrets[4])})), "")
	apiWant(t, "PUT visible", inst.Do("PUT", apiAttr, apiReq(alice, "name", "v", "value", "VISIBLE-plain-value")), "")

	msgs := streamBytes(t, inst)
	all := bytes.Join(msgs, []byte("\n"))
	if !bytes.Contains(all, []byte("VISIBLE-plain-value")) {
		t.Fatal("the plain control value is not in the stream: the search is broken")
	}
	forbidden := append(slices.Clone(secrets), "Alice-Own-Pass-2031", nodetest.Password, "$pbkdf2", "pbkdf2-sha512",
		"alice-mail@example.com", "JBSWY3DPEHPK3PXP", alice, root)
	for _, s := range forbidden {
		if i := bytes.Index(all, []byte(s)); i >= 0 {
			t.Errorf("the stream holds %q in clear: ...%s...", s, all[max(0, i-80):min(len(all), i+len(s)+20)])
		}
	}
	// The hash is there, encrypted.
	var hashes int
	for _, m := range msgs {
		if bytes.Contains(m, []byte(`"password_hash":"gAAAAA`)) {
			hashes++
		}
	}
	if hashes == 0 {
		t.Fatal("no user event holds a Fernet-encrypted password_hash")
	}
}
