package httpapi_test

import (
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
)

func TestZZScratchAu(t *testing.T) {
	inst := nodetest.Start(t)
	root, _ := inst.SuperUser("zz-root")
	for i := range 20 {
		auDo(t, inst, "PUT", auUserAttr, auReq(root, "name", "k", "value", i), "")
	}
	at := domain.FormatTime(time.Now())
	for _, p := range []string{"/names", "/history", "/names"} {
		start := time.Now()
		n := 50
		for range n {
			if p == "/names" {
				auDo(t, inst, "GET", auUserAttr+p, auReq(root, "as_of", at), "")
			} else {
				auDo(t, inst, "GET", auUserAttr+p, auReq(root), "")
			}
		}
		t.Logf("%s: %v per request", p, time.Since(start)/time.Duration(n))
	}
	start := time.Now()
	for range 50 {
		auDo(t, inst, "GET", auUserAttr+"/names", auReq(root), "")
	}
	t.Logf("plain names: %v per request", time.Since(start)/50)
}
