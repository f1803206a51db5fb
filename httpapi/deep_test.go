package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
)

// nested returns a JSON array nested depth deep.
func nested(depth int) string { return strings.Repeat("[", depth) + strings.Repeat("]", depth) }

// TestAttrs_DeepValueIsRefusedOrReplays: a value nested deeper than any
// reader could read back in its event is refused with E008002, single or
// many mode, user or session attribute; the deepest value accepted is
// stored, survives a restart (the rebuild decodes its event), and its owner
// stays writable. Never accepted, then lost.
func TestAttrs_DeepValueIsRefusedOrReplays(t *testing.T) {
	dir := t.TempDir()
	inst := nodetest.Start(t, nodetest.WithStoreDir(dir))
	root, _ := inst.SuperUser("deep-root")
	alice, _ := inst.User(root, "deep-alice")

	refused := func(what, path, body string) {
		t.Helper()
		r := inst.Do("PUT", path, []byte(body))
		if r.Status == 200 || r.SubStatus() != "E008002" {
			t.Fatalf("%s = %d %s, want E008002", what, r.Status, r.Raw)
		}
	}
	head := fmt.Sprintf(`{"ust":%q,"current_app":"CRM",`, alice)
	// 9,998 deep: the request parser reads it (its body nests 9,999 deep),
	// but its event would nest past what the event decoder reads.
	refused("PUT of a value nested 9998 deep", apiAttr, head+`"name":"deep","value":`+nested(9998)+`}`)
	refused("PUT of a value one over the limit", apiAttr, head+`"name":"deep","value":`+nested(domain.MaxValueDepth+1)+`}`)
	refused("many-mode PUT of a value one over the limit", apiAttr,
		head+`"data":[{"name":"ok","value":1},{"name":"deep","value":`+nested(domain.MaxValueDepth+1)+`}]}`)
	refused("session attribute PUT one over the limit", "/zato/sso/session/attr",
		head+`"name":"deep","value":`+nested(domain.MaxValueDepth+1)+`}`)
	if r := inst.Do("GET", apiAttr, apiReq(alice, "name", "ok")); r.Body["found"] != false {
		t.Fatalf("the refused many-mode write stored an item: %s", r.Raw)
	}

	deepest := nested(domain.MaxValueDepth)
	apiWant(t, "PUT of the deepest value accepted", inst.Do("PUT", apiAttr, []byte(head+`"name":"deep","value":`+deepest+`}`)), "")
	readBack := func(what string) {
		t.Helper()
		r := inst.Do("GET", apiAttr, apiReq(alice, "name", "deep"))
		if r.Body["found"] != true || !strings.Contains(string(r.Raw), `"value":`+deepest) {
			t.Fatalf("%s: GET = %d, found %v, want the value nested %d deep", what, r.Status, r.Body["found"], domain.MaxValueDepth)
		}
	}
	readBack("before a restart")

	inst.Stop()
	inst = nodetest.Start(t, nodetest.WithStoreDir(dir))
	alice = inst.Login("deep-alice", nodetest.Password)
	if n := inst.View.Skipped(); n != 0 {
		t.Fatalf("the rebuild refused %d events, want none", n)
	}
	readBack("after a restart")
	apiWant(t, "PUT after the restart", inst.Do("PUT", apiAttr, apiReq(alice, "name", "deep", "value", 1)), "")
}
