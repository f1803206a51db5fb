package node

import (
	"testing"
	"time"
)

// BenchmarkHTTPMetrics_Request is what the metrics add to every request:
// a counter and a histogram of its route, method and status.
func BenchmarkHTTPMetrics_Request(b *testing.B) {
	m := newHTTPMetrics()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Request("/zato/sso/user/attr", "PUT", 200, 150*time.Microsecond)
		}
	})
}
