//go:build exp

package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ssoattr/ssoattr/eventstore"
	"github.com/ssoattr/ssoattr/internal/node/nodetest"
	"github.com/ssoattr/ssoattr/sso"
)

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestExpBarrierGap(t *testing.T) {
	url, _ := nodetest.StartNATS(t)
	inst := nodetest.Start(t, nodetest.WithNATS(url))
	local := nodetest.Start(t, nodetest.WithNATS(url), nodetest.WithConfig(func(c *sso.Config) { c.LocalReads = true }))
	ust, _ := inst.SuperUser("bench")
	body, _ := json.Marshal(map[string]any{"ust": ust, "current_app": "CRM", "name": "a"})
	put, _ := json.Marshal(map[string]any{"ust": ust, "current_app": "CRM", "name": "a", "value": "0123456789abcdef0123456789abcdef"})
	inst.Do("PUT", "/zato/sso/user/attr", put)
	gaps := expGaps
	res := map[time.Duration][][2]float64{}
	for round := 0; round < 5; round++ {
		eventstore.DebugRounds.Store(0)
		for _, g := range gaps {
			eventstore.DebugK = int64(g)
			eventstore.DebugRounds.Store(0)
			var ops atomic.Int64
			stop := time.Now().Add(time.Second)
			c0 := cpuNow()
			var wg sync.WaitGroup
			for range 64 {
				wg.Go(func() {
					for time.Now().Before(stop) {
						rec := httptest.NewRecorder()
						req := httptest.NewRequest("GET", "/zato/sso/user/attr", bytes.NewReader(body))
						if g < 0 {
							local.API.ServeHTTP(rec, req)
						} else {
							inst.API.ServeHTTP(rec, req)
						}
						ops.Add(1)
					}
				})
			}
			wg.Wait()
			cpu := cpuNow() - c0
			n := ops.Load()
			res[g] = append(res[g], [2]float64{float64(n), float64(cpu.Microseconds()) / float64(n)})
			if g >= 0 {
				fmt.Printf("k=%d ops %d rounds %d per-round %.1f\n", int64(g), n, eventstore.DebugRounds.Load(), float64(n)/float64(eventstore.DebugRounds.Load()))
			}
		}
	}
	for _, g := range gaps {
		r := res[g]
		sort.Slice(r, func(i, j int) bool { return r[i][0] < r[j][0] })
		fmt.Printf("k %-3d ops/s median %6.0f  cpu/op %5.1f  all %.0f\n", int64(g), r[2][0], r[2][1], r)
	}
}

var expGaps = []time.Duration{0, 2, -1}
