package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/docs"
	"github.com/ssoattr/ssoattr/internal/apicheck"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
)

// TestOpenAPI_EveryOperation sends each operation of docs/openapi.json to a
// real instance, in both modes where an operation has two, and fails unless
// each answers 200: nodetest's Do checks every answer against the document
// (status, headers, body), so each documented success shape, and the error
// answers sent along the way, are checked against real responses. It also
// fails when the document has an operation this test does not send.
func TestOpenAPI_EveryOperation(t *testing.T) {
	d, err := apicheck.Load()
	if err != nil {
		t.Fatal(err)
	}
	inst, root, _ := apiSetup(t)
	bobUST, bobID := inst.User(root, "bob")
	var answered []string // "METHOD path" of each 200
	do := func(method, path string, body map[string]any, wantStatus int) map[string]any {
		t.Helper()
		var b any // a nil map would be sent as null
		if body != nil {
			b = body
		}
		r := inst.Do(method, path, b)
		if r.Status != wantStatus {
			t.Fatalf("%s %s = %d %s, want %d", method, path, r.Status, r.Raw, wantStatus)
		}
		if r.Status == http.StatusOK {
			p, _, _ := strings.Cut(path, "?")
			answered = append(answered, method+" "+p)
		}
		return r.Body
	}

	// Probes and the document itself.
	do("GET", "/healthz", nil, 200)
	do("GET", "/livez", nil, 200)
	do("GET", "/readyz", nil, 200)
	r := inst.Do("GET", "/openapi.json", nil)
	if !bytes.Equal(r.Raw, docs.OpenAPI) {
		t.Fatal("GET /openapi.json is not docs/openapi.json")
	}
	answered = append(answered, "GET /openapi.json")
	mreq, err := http.NewRequest("GET", inst.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	mresp, err := http.DefaultClient.Do(mreq)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	mbody, err := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	if err != nil || mresp.StatusCode != 200 || !bytes.Contains(mbody, []byte("ssoattr_http_requests_total")) {
		t.Fatalf("GET /metrics = %d, %v, %.200q: want the metrics", mresp.StatusCode, err, mbody)
	}
	nodetest.CheckAnswer(t, mreq, mresp, nil) // text: status and headers
	answered = append(answered, "GET /metrics")

	// Attributes, user and session, single and many mode, and their errors.
	for _, p := range []string{"/zato/sso/user/attr", "/zato/sso/session/attr"} {
		do("POST", p, apiReq(bobUST, "name", "a", "value", "x", "expiration", 3600), 200)
		do("POST", p, apiReq(bobUST, "data", []map[string]any{{"name": "b", "value": map[string]any{"k": []any{1, true}}},
			{"name": "s", "value": "secret", "encrypt": true}}), 200)
		do("POST", p, apiReq(bobUST, "name", "a", "value", "x"), 403) // E009001
		do("PUT", p, apiReq(bobUST, "name", "a", "value", 42), 200)
		do("PUT", p, apiReq(bobUST, "data", []map[string]any{{"name": "c", "value": nil}}), 403) // E008002
		do("PATCH", p, apiReq(bobUST, "name", "a", "expiration", 0), 200)
		do("PATCH", p, apiReq(bobUST, "data", []map[string]any{{"name": "gone", "value": 1}}), 403) // E009002
		do("GET", p, apiReq(bobUST, "name", "s"), 200)
		do("GET", p, apiReq(bobUST, "name", "s", "decrypt", false), 200)
		do("GET", p, apiReq(bobUST, "name", "gone"), 200)
		do("GET", p, apiReq(bobUST, "data", []string{"a", "b", "gone"}), 200)
		do("GET", p+apiQuery(apiReq(bobUST, "name", "a", "as_of", time.Now().UTC().Format("2006-01-02T15:04:05.000000"))), nil, 200)
		do("GET", p, apiReq("", "name", "a"), 400)                    // E008003
		do("GET", p, map[string]any{"ust": bobUST, "name": "a"}, 400) // E008003
		do("GET", p+"/exists", apiReq(bobUST, "name", "a"), 200)
		do("GET", p+"/exists", apiReq(bobUST, "data", []string{"a", "gone"}), 200)
		do("GET", p+"/names", apiReq(bobUST), 200)
		do("GET", p+"/names", apiReq("gAAAAAno-such-token"), 403) // E007001
		h := do("GET", p+"/history", apiReq(bobUST, "limit", 2), 200)
		next, _ := h["next"].(string)
		if next == "" {
			t.Fatalf("GET %s/history with limit 2: no next cursor after %d changes", p, 6)
		}
		do("GET", p+"/history", apiReq(bobUST, "after", next, "decrypt", false), 200)
		do("DELETE", p, apiReq(bobUST, "name", "a"), 200)
		do("DELETE", p, apiReq(bobUST, "data", []string{"b", "never"}), 200)
	}
	do("GET", "/zato/sso/user/attr", apiReq(bobUST, "user_id", "zusrnosuchuser", "name", "a"), 403) // E005001

	// Users.
	do("GET", "/zato/sso/user", apiReq(bobUST), 200)
	do("GET", "/zato/sso/user", apiReq(root, "user_id", bobID), 200)
	do("PATCH", "/zato/sso/user", apiReq(bobUST, "display_name", "Bob B", "email", "bob@example.com"), 200)
	do("PATCH", "/zato/sso/user", apiReq(bobUST), 403) // E008003 (nothing to update)
	do("PATCH", "/zato/sso/user/password", apiReq(bobUST, "old_password", nodetest.Password, "new_password", "Another-Long-9-Secret"), 200)
	do("PATCH", "/zato/sso/user/totp", apiReq(bobUST), 200)
	do("GET", "/zato/sso/user/search", apiReq(root, "page_size", 1), 200)
	do("GET", "/zato/sso/user/search", apiReq(bobUST), 403) // E005001
	carol := do("POST", "/zato/sso/user", apiReq(root, "username", "carol", "password", nodetest.Password,
		"first_name", "Carol", "email", "carol@example.com"), 200)
	carolID, _ := carol["user_id"].(string)
	do("POST", "/zato/sso/user/approve", apiReq(root, "user_id", carolID), 200)
	do("POST", "/zato/sso/user/reject", apiReq(root, "user_id", carolID), 200)
	do("POST", "/zato/sso/user/lock", apiReq(root, "user_id", carolID), 200)
	do("DELETE", "/zato/sso/user/lock", apiReq(root, "user_id", carolID), 200)
	do("DELETE", "/zato/sso/user", apiReq(root, "user_id", carolID), 200)
	do("DELETE", "/zato/sso/user", apiReq(root, "user_id", carolID), 403) // E001100
	su := do("POST", "/zato/sso/user/signup", map[string]any{"current_app": "CRM", "username": "dave",
		"password": nodetest.Password}, 200)
	do("PATCH", "/zato/sso/user/signup", map[string]any{"current_app": "CRM", "confirm_token": su["confirm_token"]}, 200)
	do("POST", "/zato/sso/user/signup", map[string]any{"current_app": "CRM", "username": "dave",
		"password": nodetest.Password}, 403)

	// Sessions.
	do("POST", "/zato/sso/user/session", apiReq(root, "target_ust", bobUST), 200)
	do("GET", "/zato/sso/user/session", apiReq(root, "target_ust", bobUST), 200)
	do("PATCH", "/zato/sso/user/session", apiReq(bobUST), 200)
	do("GET", "/zato/sso/user/session/list", apiReq(bobUST), 200)
	do("GET", "/zato/sso/user/session/list", apiReq(root, "target_ust", bobUST), 200)

	// The event stream: its head (the body goes on until it is closed).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := url.Values{"ust": {root}, "current_app": {"CRM"}, "user_id": {bobID}}
	req, err := http.NewRequestWithContext(ctx, "GET", inst.URL+"/zato/sso/events?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /zato/sso/events: %v", err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET /zato/sso/events = %d, want 200", resp.StatusCode)
	}
	nodetest.CheckAnswer(t, req, resp, nil)
	cancel()
	resp.Body.Close()
	answered = append(answered, "GET /zato/sso/events")
	do("GET", "/zato/sso/events", apiReq(bobUST), 403) // E005001

	// Login, plain and with the warning of a password about to expire.
	login := map[string]any{"current_app": "CRM", "username": "bob", "password": "Another-Long-9-Secret"}
	do("POST", "/zato/sso/user/login", login, 200)
	do("PATCH", "/zato/sso/user", apiReq(root, "user_id", bobID,
		"password_expiry", time.Now().UTC().Add(48*time.Hour).Format("2006-01-02T15:04:05")), 200)
	if w := do("POST", "/zato/sso/user/login", login, 200); w["status"] != "warning" {
		t.Fatalf("login with a password about to expire: status %v, want warning", w["status"])
	}

	// Routing errors, and logout last.
	do("GET", "/zato/sso/no/such/path", apiReq(bobUST), 404)
	do("PUT", "/zato/sso/user/login", nil, 405)
	do("POST", "/zato/sso/user/login", map[string]any{"current_app": "CRM", "username": "bob", "password": "wrong"}, 403)
	do("POST", "/zato/sso/user/logout", apiReq(bobUST), 200)

	for _, op := range d.Operations() {
		if !slices.Contains(answered, op) {
			t.Errorf("docs/openapi.json documents %s, which this test never had answered 200: add it", op)
		}
	}
}
