package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
	"github.com/ssoattr/ssoattr/sso"
)

// Tests of what a hostile client may send: oversized many-mode reads,
// altered tokens, query strings and bodies that do not parse.

// manyNames returns n distinct attribute names.
func manyNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("n%05d", i)
	}
	return out
}

func TestHostile_ManyModeReadsCapped(t *testing.T) {
	inst, root, _ := apiSetup(t)
	sattr := "/zato/sso/session/attr"
	apiWant(t, "PUT", inst.Do("PUT", apiAttr, apiReq(root, "name", "n00000", "value", "v")), "")
	apiWant(t, "PUT session", inst.Do("PUT", sattr, apiReq(root, "name", "n00000", "value", "v")), "")
	atMax, over := manyNames(domain.MaxItems), manyNames(domain.MaxItems+1)
	for _, c := range []struct{ method, path string }{
		{"GET", apiAttr}, {"GET", apiAttr + "/exists"}, {"DELETE", apiAttr},
		{"GET", sattr}, {"GET", sattr + "/exists"}, {"DELETE", sattr},
	} {
		what := c.method + " " + c.path
		apiWant(t, what+" over the cap", inst.Do(c.method, c.path, apiReq(root, "data", over)), "E008002")
		apiWant(t, what+" over the cap, as_of", inst.Do(c.method, c.path,
			apiReq(root, "data", over, "as_of", "2030-01-01T00:00:00")), "E008002")
		q := apiQuery(map[string]any{"ust": root, "current_app": "CRM", "data": over})
		apiWant(t, what+" over the cap in the query string", inst.Do(c.method, c.path+q, nil), "E008002")
	}
	// Nothing was deleted by the refused DELETEs; the cap itself is allowed.
	r := inst.Do("GET", apiAttr, apiReq(root, "data", atMax))
	apiWant(t, "GET at the cap", r, "")
	if got := r.Body["result"].(map[string]any)["n00000"]; got == nil {
		t.Fatalf("GET at the cap: n00000 = nil, want the attribute (a refused DELETE removed it?)")
	}
	apiWant(t, "exists at the cap", inst.Do("GET", apiAttr+"/exists", apiReq(root, "data", atMax)), "")
	apiWant(t, "DELETE at the cap", inst.Do("DELETE", sattr, apiReq(root, "data", atMax)), "")
	r = inst.Do("GET", apiAttr+"/exists", apiReq(root, "name", "n00000"))
	if r.Body["result"] != true {
		t.Fatalf("exists n00000 after the refused DELETE = %s, want true", r.Raw)
	}
}

func TestHostile_NonCanonicalUSTRefused(t *testing.T) {
	inst, root, _ := apiSetup(t)
	names := func(ust string) string {
		r := inst.Do("GET", apiAttr+"/names", map[string]any{"ust": ust, "current_app": "CRM"})
		if r.Status == http.StatusOK {
			return ""
		}
		return r.SubStatus()
	}
	if code := names(root); code != "" {
		t.Fatalf("names with the real UST = %s, want ok", code)
	}
	half := len(root) / 2
	for _, alt := range []struct{ name, ust string }{
		{"trailing byte", root + "x"},
		{"extra padding", root + "="},
		{"trailing newline", root + "\n"},
		{"leading space", " " + root},
		{"line break inside", root[:half] + "\r\n" + root[half:]},
		{"padding dropped", strings.TrimRight(root, "=")},
	} {
		if alt.ust == root {
			continue // no padding to drop
		}
		if code := names(alt.ust); code != "E007001" {
			t.Errorf("names with the UST and a %s = %q, want E007001", alt.name, code)
		}
		// In the query string as well (where '+' and '=' need escaping).
		r := inst.Do("GET", apiAttr+"/names"+apiQuery(map[string]any{"ust": alt.ust, "current_app": "CRM"}), nil)
		if r.SubStatus() != "E007001" {
			t.Errorf("names with the UST and a %s in the query string = %d %s, want E007001", alt.name, r.Status, r.Raw)
		}
	}
	// Logging out with an altered token answers ok (logout never tells)
	// but does not end the real session.
	apiWant(t, "logout with UST+x", inst.Do("POST", "/zato/sso/user/logout", apiReq(root+"x")), "")
	if code := names(root); code != "" {
		t.Fatalf("names with the real UST after logging out with UST+x = %s, want ok: the session ended", code)
	}
	apiWant(t, "logout", inst.Do("POST", "/zato/sso/user/logout", apiReq(root)), "")
	if code := names(root); code != "E007001" {
		t.Fatalf("names after the real logout = %q, want E007001", code)
	}
}

func TestHostile_UnparseableQueryStringRefused(t *testing.T) {
	inst, root, _ := apiSetup(t)
	body := apiReq(root, "name", "k", "value", "from-body")
	many := make([]string, 10_001)
	for i := range many {
		many[i] = fmt.Sprintf("p%d=1", i)
	}
	for _, c := range []struct{ name, query string }{
		{"invalid escape", "?current_app=%zz"},
		{"semicolon", "?current_app=CRM;name=k"},
		{"bare semicolon", "?;"},
		{"more than 10000 parameters", "?" + strings.Join(many, "&")},
	} {
		r := apiDo(t, inst, "PUT", apiAttr+c.query, "", body)
		apiWant400(t, "PUT with a query string with a "+c.name, r, "E008002")
		r = apiDo(t, inst, "GET", apiAttr+c.query, "", apiReq(root, "name", "k"))
		apiWant400(t, "GET with a query string with a "+c.name, r, "E008002")
	}
	// The body's values did not apply.
	r := inst.Do("GET", apiAttr, apiReq(root, "name", "k"))
	if r.Status != http.StatusOK || r.Body["found"] != false {
		t.Fatalf("GET k after the refused PUTs = %d %s, want found false", r.Status, r.Raw)
	}
	// A query string that parses still works, beside the body.
	apiWant(t, "PUT with a good query string", apiDo(t, inst, "PUT", apiAttr+"?value=q", "", body), "")
}

func TestHostile_BodyNotAnObjectRefused(t *testing.T) {
	inst, root, _ := apiSetup(t)
	for _, body := range []string{`[1]`, `"x"`, `1`, `null`, `true`, `{"a":1} x`, `{"a":1}{}`,
		`{"a":`, `{"current_app":"CRM","ust":"` + root + `","name":"k","value":"v"`, "\x00", `{'a':1}`} {
		for _, ct := range []string{"", "application/json", "application/x-www-form-urlencoded"} {
			r := apiDo(t, inst, "PUT", apiAttr, ct, body)
			apiWant400(t, fmt.Sprintf("PUT with body %q (%s)", body, ct), r, "E008002")
		}
	}
	r := inst.Do("GET", apiAttr, apiReq(root, "name", "k"))
	if r.Status != http.StatusOK || r.Body["found"] != false {
		t.Fatalf("GET k after the refused PUTs = %d %s, want found false", r.Status, r.Raw)
	}
}

func TestHostile_PasswordHashingBounded(t *testing.T) {
	// One hash at a time, one request waiting for it, for a millisecond;
	// a check takes tens of milliseconds at these rounds (more under -race), so logins
	// sent together find the slot taken.
	inst := nodetest.Start(t, nodetest.WithConfig(func(c *sso.Config) {
		c.PasswordRounds, c.HashConcurrency, c.HashQueue, c.HashWait = 20_000, 1, 1, time.Millisecond
	}))
	login := map[string]any{"username": "nobody", "password": "wrong-password", "current_app": "CRM"}
	deadline := time.Now().Add(20 * time.Second)
	for busy := 0; busy == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no login was answered 503 E008007 while others were being checked")
		}
		const n = 6
		answers := make(chan nodetest.Response, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				r, err := apiRaw(inst.URL, "POST", "/zato/sso/user/login", "", mustJSON(t, login))
				if err != nil {
					t.Error(err)
				}
				answers <- r
			})
		}
		wg.Wait()
		close(answers)
		for r := range answers {
			switch {
			case r.Status == http.StatusForbidden && r.SubStatus() == "E005001":
			case r.Status == http.StatusServiceUnavailable && r.SubStatus() == "E008007":
				busy++
				if got := r.Header.Get("Retry-After"); got != "1" {
					t.Fatalf("503 answer's Retry-After = %q, want 1", got)
				}
				if r.Body["status"] != "error" || !cidPattern.MatchString(fmt.Sprint(r.Body["cid"])) || len(r.Body) != 3 {
					t.Fatalf("503 answer = %s, want only cid, status error and sub_status", r.Raw)
				}
			default:
				t.Fatalf("login = %d %s, want 403 E005001 or 503 E008007", r.Status, r.Raw)
			}
		}
	}
	// Once the burst is over, a password check runs again.
	r := inst.Do("POST", "/zato/sso/user/login", login)
	apiWant(t, "login after the burst", r, "E005001")
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
