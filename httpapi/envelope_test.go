package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
	"github.com/ssoattr/ssoattr/sso"
)

// Helpers shared by the foundation tests (envelope, users, attrs, replicas).

const apiAttr = "/zato/sso/user/attr"

// apiReq builds a request body: the caller token as ust, current_app CRM,
// then the key/value pairs. An empty ust is left out.
func apiReq(ust string, kv ...any) map[string]any {
	m := map[string]any{"current_app": "CRM"}
	if ust != "" {
		m["ust"] = ust
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// apiWant fails unless r is 200 ok (code "") or 403 error with that code.
func apiWant(t *testing.T, what string, r nodetest.Response, code string) {
	t.Helper()
	if code == "" {
		if r.Status != http.StatusOK || r.Body["status"] != "ok" {
			t.Fatalf("%s = %d %s, want 200 ok", what, r.Status, r.Raw)
		}
		return
	}
	if r.Status != http.StatusForbidden || r.Body["status"] != "error" || r.SubStatus() != code {
		t.Fatalf("%s = %d %s, want 403 %s", what, r.Status, r.Raw, code)
	}
	if l, _ := r.Body["sub_status"].([]any); len(l) != 1 {
		t.Fatalf("%s: sub_status = %v, want exactly [%s]", what, r.Body["sub_status"], code)
	}
	for k := range r.Body {
		if k != "cid" && k != "status" && k != "sub_status" {
			t.Fatalf("%s: error answer has key %q, want only cid, status, sub_status: %s", what, k, r.Raw)
		}
	}
}

// apiWant400 fails unless r is docs/API.md#http-status's 400 answer with that code.
func apiWant400(t *testing.T, what string, r nodetest.Response, code string) {
	t.Helper()
	if r.Status != http.StatusBadRequest || r.Body["status"] != "error" || r.SubStatus() != code ||
		r.Body["result"] != "Error" || r.Body["details"] != "Bad request" {
		t.Fatalf("%s = %d %s, want 400 %s with result Error, details Bad request", what, r.Status, r.Raw, code)
	}
}

// apiRaw sends body as is with the given Content-Type ("" sends none).
// Safe to call from any goroutine: it reports failures as errors.
func apiRaw(baseURL, method, path, contentType string, body []byte) (nodetest.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, baseURL+path, rd)
	if err != nil {
		return nodetest.Response{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nodetest.Response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nodetest.Response{}, err
	}
	r := nodetest.Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	err = json.Unmarshal(raw, &r.Body)
	return r, err
}

// apiDo is apiRaw for the test goroutine: JSON-encodes body (unless it is
// a string or []byte) and fails the test on transport errors.
func apiDo(t *testing.T, inst *nodetest.Instance, method, path, contentType string, body any) nodetest.Response {
	t.Helper()
	var data []byte
	switch b := body.(type) {
	case nil:
	case string:
		data = []byte(b)
	case []byte:
		data = b
	default:
		var err error
		if data, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	r, err := apiRaw(inst.URL, method, path, contentType, data)
	if err != nil {
		t.Fatalf("%s %s: %v (%q)", method, path, err, r.Raw)
	}
	if req, err := http.NewRequest(method, inst.URL+path, nil); err == nil {
		nodetest.CheckAnswer(t, req, &http.Response{StatusCode: r.Status, Header: r.Header}, r.Raw)
	}
	return r
}

// apiQuery encodes fields (strings, or JSON for anything else) as a query string.
func apiQuery(fields map[string]any) string {
	q := url.Values{}
	for k, v := range fields {
		if s, ok := v.(string); ok {
			q.Set(k, s)
			continue
		}
		b, _ := json.Marshal(v)
		q.Set(k, string(b))
	}
	return "?" + q.Encode()
}

// apiSetup starts an instance with a super-user and returns its token.
func apiSetup(t *testing.T, opts ...nodetest.Option) (inst *nodetest.Instance, rootUST, rootID string) {
	t.Helper()
	inst = nodetest.Start(t, opts...)
	rootUST, rootID = inst.SuperUser("root")
	return inst, rootUST, rootID
}

var cidPattern = regexp.MustCompile(`^[0-9a-f]{24}$`)

// TestEnvelope covers docs/API.md#input to docs/API.md#processing-order on the attribute endpoints.
func TestEnvelope(t *testing.T) {
	inst, root, _ := apiSetup(t)
	alice, _ := inst.User(root, "alice")

	t.Run("cid header equals body cid", func(t *testing.T) {
		seen := map[string]bool{}
		for _, r := range []nodetest.Response{
			inst.Do("PUT", apiAttr, apiReq(alice, "name", "cid", "value", 1)),             // 200
			inst.Do("PATCH", apiAttr, apiReq(alice, "name", "none", "value", 1)),          // 403
			inst.Do("GET", apiAttr, []byte(`[1]`)),                                        // 400
			inst.Do("GET", "/zato/sso/nope", nil),                                         // 404
			inst.Do("PUT", apiAttr+"/names", apiReq(alice)),                               // 405
			inst.Do("POST", "/zato/sso/user/login", map[string]any{"current_app": "CRM"}), // 400
		} {
			cid, _ := r.Body["cid"].(string)
			if !cidPattern.MatchString(cid) || r.Header.Get("X-Zato-CID") != cid {
				t.Fatalf("%d answer: body cid %q, X-Zato-CID %q; want the same 24 lower-case hex characters",
					r.Status, cid, r.Header.Get("X-Zato-CID"))
			}
			if seen[cid] {
				t.Fatalf("cid %q repeated across requests", cid)
			}
			seen[cid] = true
			if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Fatalf("%d answer: Content-Type %q, want application/json; charset=utf-8", r.Status, ct)
			}
			if !bytes.HasPrefix(r.Raw, []byte(`{"cid":"`+cid+`","status":"`)) {
				t.Fatalf("answer %s does not start with cid then status", r.Raw)
			}
		}
	})

	t.Run("unknown path is 404 E008001", func(t *testing.T) {
		for _, p := range []string{"/zato/sso/nope", "/zato/sso/user/attr/", "/zato/sso/user/attr/x", "/zato/sso/user/create", "/zato/sso/USER/attr"} {
			r := inst.Do("GET", p, apiReq(alice))
			if r.Status != http.StatusNotFound || r.Body["status"] != "error" || r.SubStatus() != "E008001" {
				t.Fatalf("GET %s = %d %s, want 404 E008001", p, r.Status, r.Raw)
			}
		}
	})

	t.Run("unsupported method is 405 E008001 with Allow", func(t *testing.T) {
		for _, c := range []struct{ method, path, allow string }{
			{"PUT", apiAttr + "/names", "GET"},
			{"POST", apiAttr + "/exists", "GET"},
			{"DELETE", "/zato/sso/user/login", "POST"}, // docs/API.md#d32
			{"GET", "/zato/sso/user/logout", "POST"},
			{"PUT", "/zato/sso/user", "GET"},
		} {
			r := inst.Do(c.method, c.path, apiReq(alice))
			if r.Status != http.StatusMethodNotAllowed || r.Body["status"] != "error" || r.SubStatus() != "E008001" {
				t.Fatalf("%s %s = %d %s, want 405 E008001", c.method, c.path, r.Status, r.Raw)
			}
			if allow := r.Header.Get("Allow"); !strings.Contains(allow, c.allow) || strings.Contains(allow, c.method) {
				t.Fatalf("%s %s: Allow = %q, want it to list %s and not %s", c.method, c.path, allow, c.allow, c.method)
			}
		}
	})

	t.Run("a body that is not a JSON object is 400 E008002", func(t *testing.T) {
		for _, body := range []string{`[1,2]`, `"x"`, `42`, `null`, `true`, `{bad`, `{"current_app":"CRM"} {}`, `name=x&value=y`, `{"a":}`} {
			r := inst.Do("PUT", apiAttr, []byte(body))
			apiWant400(t, "PUT body "+body, r, "E008002")
		}
	})

	t.Run("a blank body is no body", func(t *testing.T) {
		q := apiQuery(apiReq(alice, "name", "blank", "value", "v"))
		apiWant(t, "PUT with a blank body", apiDo(t, inst, "PUT", apiAttr+q, "", " \n\t "), "")
	})

	t.Run("missing required keys are 400 E008003", func(t *testing.T) {
		apiWant400(t, "no current_app (8.14)", inst.Do("GET", apiAttr, map[string]any{"ust": alice, "name": "prefs"}), "E008003")
		apiWant400(t, "no ust nor current_ust", inst.Do("GET", apiAttr+"/names", map[string]any{"current_app": "CRM"}), "E008003")
		apiWant400(t, "nothing at all", inst.Do("GET", apiAttr+"/names", nil), "E008003")
		// Presence is what counts: null is present, and fails later (docs/API.md#common-fields).
		apiWant(t, "ust null", inst.Do("GET", apiAttr+"/names", map[string]any{"current_app": "CRM", "ust": nil}), "E007001")
	})

	t.Run("current_app", func(t *testing.T) {
		apiWant(t, "unknown app", inst.Do("GET", apiAttr+"/names", map[string]any{"current_app": "ERP", "ust": alice}), "E004001")
		apiWant(t, "empty app", inst.Do("GET", apiAttr+"/names", map[string]any{"current_app": "", "ust": alice}), "E004001")
		apiWant(t, "app of another case", inst.Do("GET", apiAttr+"/names", map[string]any{"current_app": "crm", "ust": alice}), "E004001")
		// The app is checked before the token (1.5 step 4 before 6).
		apiWant(t, "unknown app, bad token", inst.Do("GET", apiAttr+"/names", map[string]any{"current_app": "ERP", "ust": "junk"}), "E004001")
	})

	t.Run("ust and current_ust are synonyms (API.md#d2)", func(t *testing.T) {
		apiWant(t, "PUT with current_ust", inst.Do("PUT", apiAttr, map[string]any{"current_ust": alice, "current_app": "CRM",
			"name": "syn", "value": "v"}), "")
		r := inst.Do("GET", apiAttr, map[string]any{"ust": alice, "current_app": "CRM", "name": "syn"})
		if r.Body["value"] != "v" {
			t.Fatalf("GET with ust after PUT with current_ust = %s, want value v", r.Raw)
		}
		apiWant(t, "both, equal", inst.Do("GET", apiAttr+"/names", map[string]any{"ust": alice, "current_ust": alice, "current_app": "CRM"}), "")
		apiWant(t, "both, different", inst.Do("GET", apiAttr+"/names", map[string]any{"ust": alice, "current_ust": root, "current_app": "CRM"}), "E008002")
		apiWant(t, "current_ust in the query, ust in the body, different",
			inst.Do("GET", apiAttr+"/names"+apiQuery(map[string]any{"current_ust": root}), apiReq(alice)), "E008002")
	})

	t.Run("bad caller tokens are E007001", func(t *testing.T) {
		sid := nodetest.SessionID(t, alice)
		for name, tok := range map[string]any{
			"empty":            "",
			"garbage":          "not-a-token",
			"Fernet-looking":   "gAAAAABnA1x9kQ-garbage",
			"raw session id":   sid, // docs/API.md#d28
			"truncated":        alice[:len(alice)-4],
			"other key's UST":  "gAAAAABpZx3mT3b7mM7d0o6p1B8r9E2Q7y1hXz3aJ4eQ8rW5jK0sL2nV6cY9uB3dF7gH1iK4mN8pR2tV6xZ0bD4fH8jL2nP6rT0vX4zB8dF2hJ6lN0pR4tV8xZ2bD6fH0jL4nP8rT2vX6z",
			"a number is 8002": 5,
		} {
			want := "E007001"
			if name == "a number is 8002" {
				want = "E008002"
			}
			apiWant(t, "token "+name, inst.Do("GET", apiAttr+"/names", map[string]any{"ust": tok, "current_app": "CRM"}), want)
		}
	})

	t.Run("the body is JSON whatever the Content-Type", func(t *testing.T) {
		for i, ct := range []string{"", "application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"} {
			name := "ct" + string(rune('0'+i))
			body, _ := json.Marshal(apiReq(alice, "name", name, "value", ct))
			apiWant(t, "PUT with Content-Type "+ct, apiDo(t, inst, "PUT", apiAttr, ct, body), "")
			get, _ := json.Marshal(apiReq(alice, "name", name))
			r := apiDo(t, inst, "GET", apiAttr, ct, get)
			if r.Body["found"] != true || r.Body["value"] != ct {
				t.Fatalf("GET with Content-Type %q = %s, want value %q", ct, r.Raw, ct)
			}
		}
	})

	t.Run("inputs in the query string on every method", func(t *testing.T) {
		q := func(kv ...any) string { return apiQuery(apiReq(alice, kv...)) }
		apiWant(t, "PUT by query", inst.Do("PUT", apiAttr+q("name", "qs", "value", "from-query", "expiration", "600"), nil), "")
		apiWant(t, "POST many by query", inst.Do("POST", apiAttr+q("data", []any{map[string]any{"name": "qs2", "value": 2}}), nil), "")
		apiWant(t, "PATCH by query", inst.Do("PATCH", apiAttr+q("name", "qs2", "expiration", "0"), nil), "")
		r := inst.Do("GET", apiAttr+q("name", "qs"), nil)
		if r.Body["value"] != "from-query" || r.Body["expiration_time"] == "9999-12-31T00:00:00" {
			t.Fatalf("GET by query = %s, want the string from the query string, expiring", r.Raw)
		}
		r = inst.Do("GET", apiAttr+q("data", []string{"qs", "qs2"}, "decrypt", "false"), nil)
		res, _ := r.Body["result"].(map[string]any)
		if qs2, _ := res["qs2"].(map[string]any); qs2["value"] != float64(2) || qs2["expiration_time"] != "9999-12-31T00:00:00" {
			t.Fatalf("GET many by query = %s, want qs2 = 2 never expiring", r.Raw)
		}
		r = inst.Do("GET", apiAttr+"/exists"+q("data", []string{"qs", "nope"}), nil)
		if res, _ := r.Body["result"].(map[string]any); res["qs"] != true || res["nope"] != false {
			t.Fatalf("exists by query = %s", r.Raw)
		}
		apiWant(t, "DELETE by query", inst.Do("DELETE", apiAttr+q("data", []string{"qs", "qs2"}), nil), "")
		if r := inst.Do("GET", apiAttr+"/exists"+q("name", "qs"), nil); r.Body["result"] != false {
			t.Fatalf("exists after DELETE by query = %s, want false", r.Raw)
		}
		// Typing of query values (docs/API.md#input).
		apiWant(t, "encrypt=yes", inst.Do("PUT", apiAttr+q("name", "qe", "value", "s", "encrypt", "yes"), nil), "")
		if r := inst.Do("GET", apiAttr+q("name", "qe", "decrypt", "0"), nil); r.Body["is_encrypted"] != true ||
			!strings.HasPrefix(r.Body["value"].(string), "gAAAAA") {
			t.Fatalf("GET decrypt=0 after encrypt=yes = %s, want ciphertext", r.Raw)
		}
		for _, bad := range [][]any{
			{"name", "qb", "value", "v", "encrypt", "maybe"},
			{"name", "qb", "value", "v", "expiration", "1.5"},
			{"name", "qb", "value", "v", "expiration", "ten"},
			{"name", "qb", "value", "v", "expiration", "-1"},
			{"data", "not-json"},
			{"data", `{"name":"x"}`},
		} {
			apiWant(t, "PUT by query "+q(bad...), inst.Do("PUT", apiAttr+q(bad...), nil), "E008002")
		}
	})

	t.Run("the query string wins over the body", func(t *testing.T) {
		body := apiReq(alice, "name", "from-body", "value", "body")
		r := inst.Do("PUT", apiAttr+apiQuery(map[string]any{"name": "from-query", "value": "query"}), body)
		apiWant(t, "PUT", r, "")
		if r := inst.Do("GET", apiAttr, apiReq(alice, "name", "from-query")); r.Body["value"] != "query" {
			t.Fatalf("GET from-query = %s, want value query", r.Raw)
		}
		if r := inst.Do("GET", apiAttr, apiReq(alice, "name", "from-body")); r.Body["found"] != false {
			t.Fatalf("GET from-body = %s, want found false", r.Raw)
		}
		// Also for the caller token and the app.
		r = inst.Do("GET", apiAttr+"/names"+apiQuery(map[string]any{"current_app": "ERP"}), apiReq(alice))
		apiWant(t, "app ERP in the query, CRM in the body", r, "E004001")
	})

	t.Run("processing order (1.5, 4.8)", func(t *testing.T) {
		// Input checks (step 5) come before authentication (step 6).
		apiWant(t, "bad token, no name", inst.Do("GET", apiAttr, apiReq("junk")), "E008002")
		apiWant(t, "bad token, bad expiration", inst.Do("PUT", apiAttr, apiReq("junk", "name", "a", "value", 1, "expiration", -1)), "E008002")
		apiWant(t, "bad token, encrypt a number", inst.Do("PUT", apiAttr, apiReq("junk", "name", "a", "value", 1, "encrypt", true)), "E008002")
		// The attribute rules the service checks (domain.AttrWrite.Check,
		// domain.CheckNames) are input checks too, on every endpoint.
		long := strings.Repeat("n", domain.MaxNameLen+1)
		tooMany := make([]any, domain.MaxItems+1)
		for i := range tooMany {
			tooMany[i] = map[string]any{"name": fmt.Sprint("n", i), "value": 1}
		}
		for _, c := range []struct {
			what, method, path string
			kv                 []any
		}{
			{"PUT a name too long", "PUT", apiAttr, []any{"name", long, "value", 1}},
			{"POST without a value", "POST", apiAttr, []any{"name", "a"}},
			{"PUT many, too many items", "PUT", apiAttr, []any{"data", tooMany}},
			{"GET a name too long", "GET", apiAttr, []any{"name", long}},
			{"GET many, an empty name", "GET", apiAttr, []any{"data", []string{"a", ""}}},
			{"GET as_of, a name too long", "GET", apiAttr, []any{"name", long, "as_of", "2030-01-01T00:00:00"}},
			{"exists as_of, no names", "GET", apiAttr + "/exists", []any{"data", []string{}, "as_of", "2030-01-01T00:00:00"}},
			{"DELETE a name too long", "DELETE", apiAttr, []any{"name", long}},
		} {
			apiWant(t, "bad token, "+c.what, inst.Do(c.method, c.path, apiReq("junk", c.kv...)), "E008002")
		}
		apiWant(t, "bad token, good input", inst.Do("PUT", apiAttr, apiReq("junk", "name", "a", "value", 1)), "E007001")
		// Authentication comes before permissions and the operation.
		apiWant(t, "bad token, another user", inst.Do("GET", apiAttr, apiReq("junk", "name", "a", "user_id", "zusr0000")), "E007001")
		// The app is checked before input types.
		apiWant(t, "unknown app, bad input", inst.Do("GET", apiAttr, map[string]any{"current_app": "ERP", "ust": alice}), "E004001")
		// Missing keys (400) come before the app.
		apiWant400(t, "no token, unknown app", inst.Do("GET", apiAttr, map[string]any{"current_app": "ERP"}), "E008003")
	})

	t.Run("size limits", func(t *testing.T) {
		big := bytes.Repeat([]byte(" "), 1<<20)
		body := append([]byte(`{"current_app":"CRM","ust":"`+alice+`","name":"big","value":"x"}`), big...)
		apiWant400(t, "a body over 1 MiB", inst.Do("PUT", apiAttr, body), "E008002")
		apiWant(t, "a value over the write limit", inst.Do("PUT", apiAttr, apiReq(alice, "name", "big", "value", strings.Repeat("x", 600<<10))), "E008002")
		if r := inst.Do("GET", apiAttr+"/exists", apiReq(alice, "name", "big")); r.Body["result"] != false {
			t.Fatalf("exists big = %s, want false", r.Raw)
		}
	})

	t.Run("unknown keys are ignored", func(t *testing.T) {
		apiWant(t, "PUT with extra keys", inst.Do("PUT", apiAttr, apiReq(alice, "name", "extra", "value", 1, "colour", "blue", "is_super_user", true)), "")
	})
}

// TestEnvelope_AppNotDisclosed checks apps.inform_if_app_invalid off (docs/API.md#common-fields).
func TestEnvelope_AppNotDisclosed(t *testing.T) {
	inst := nodetest.Start(t, nodetest.WithConfig(func(c *sso.Config) { c.AppsInformIfAppInvalid = false }))
	apiWant(t, "unknown app", inst.Do("GET", apiAttr+"/names", map[string]any{"current_app": "ERP", "ust": "x"}), "E005001")
}
