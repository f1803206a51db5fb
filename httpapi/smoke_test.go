package httpapi_test

import (
	"testing"

	"github.com/ssoattr/ssoattr/internal/node/nodetest"
)

func TestSmoke_SetThenGetThroughAnotherReplica(t *testing.T) {
	url, _ := nodetest.StartNATS(t)
	a := nodetest.Start(t, nodetest.WithNATS(url))
	b := nodetest.Start(t, nodetest.WithNATS(url))
	ust, _ := a.SuperUser("root1")
	r := a.Do("PUT", "/zato/sso/user/attr", map[string]any{"ust": ust, "current_app": "CRM", "name": "k", "value": "v"})
	if r.Status != 200 {
		t.Fatalf("PUT = %d %s, want 200", r.Status, r.Raw)
	}
	g := b.Query("GET", "/zato/sso/user/attr", map[string]string{"ust": ust, "current_app": "CRM", "name": "k"})
	if g.Body["found"] != true || g.Body["value"] != "v" {
		t.Fatalf("GET through replica b = %s, want found v", g.Raw)
	}
}
