package httpapi_test

import (
	"fmt"
	"testing"

	"github.com/ssoattr/ssoattr/domain"
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

