package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/ssoattr/ssoattr/internal/node/nodetest"
	"github.com/ssoattr/ssoattr/sso"
)

// BenchmarkAttrHandlers runs attribute requests through a real instance's
// handler (no network): everything a request costs the service, the read
// barrier's round trips included. The Parallel variants run 64 callers on 2
// cores, as the load benchmark does, so barrier rounds are shared; the
// serial ones pay one barrier round trip per read. Run with -cpuprofile to
// see what a request costs.
func BenchmarkAttrHandlers(b *testing.B) {
	url, _ := nodetest.StartNATS(b)
	strict := nodetest.Start(b, nodetest.WithNATS(url))
	local := nodetest.Start(b, nodetest.WithNATS(url), nodetest.WithConfig(func(c *sso.Config) { c.LocalReads = true }))
	ust, _ := strict.SuperUser("bench")
	req := func(kv ...any) []byte {
		m := map[string]any{"ust": ust, "current_app": "CRM"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		data, _ := json.Marshal(m)
		return data
	}
	value := "0123456789abcdef0123456789abcdef"
	many := make([]map[string]any, 10)
	for i := range many {
		many[i] = map[string]any{"name": "bench-many-0000" + string(rune('0'+i)), "value": value}
	}
	if r := strict.Do("PUT", "/zato/sso/user/attr", req("name", "bench-attr-00001", "value", value)); r.Status != 200 {
		b.Fatalf("PUT = %d %s", r.Status, r.Raw)
	}
	cases := []struct {
		name, method, path string
		inst               *nodetest.Instance
		body               []byte
	}{
		{"get", "GET", "/zato/sso/user/attr", strict, req("name", "bench-attr-00001")},
		{"get_local", "GET", "/zato/sso/user/attr", local, req("name", "bench-attr-00001")},
		{"set", "PUT", "/zato/sso/user/attr", strict, req("name", "bench-attr-00001", "value", value)},
		{"setmany", "PUT", "/zato/sso/user/attr", strict, req("data", many)},
	}
	serve := func(b *testing.B, inst *nodetest.Instance, method, path string, body []byte) bool {
		rec := httptest.NewRecorder()
		inst.API.ServeHTTP(rec, httptest.NewRequest(method, path, bytes.NewReader(body)))
		if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"status":"ok"`)) {
			b.Errorf("%s %s = %d %s", method, path, rec.Code, rec.Body.Bytes()) // Errorf: callers may be parallel
			return false
		}
		return true
	}
	// set/parallel: 64 callers, each writing to its own user, as the load
	// benchmark's connections do.
	var bodies [][]byte
	for i := range 64 {
		u, _ := strict.User(ust, "bench-user-"+strconv.Itoa(i))
		data, _ := json.Marshal(map[string]any{"ust": u, "current_app": "CRM", "name": "bench-attr-00001", "value": value})
		bodies = append(bodies, data)
	}
	b.Run("set/parallel", func(b *testing.B) {
		var next atomic.Int64
		b.SetParallelism(32)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			body := bodies[(next.Add(1)-1)%int64(len(bodies))]
			for pb.Next() && serve(b, strict, "PUT", "/zato/sso/user/attr", body) {
			}
		})
	})
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !serve(b, c.inst, c.method, c.path, c.body) {
					return
				}
			}
		})
		if c.method != "GET" {
			continue // parallel writes to one user would conflict
		}
		b.Run(c.name+"/parallel", func(b *testing.B) {
			b.SetParallelism(32)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() && serve(b, c.inst, c.method, c.path, c.body) {
				}
			})
		})
	}
}
