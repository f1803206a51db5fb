package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ssoattr/ssoattr/internal/ctxtime"
)

// The login_flood case measures what a flood of wrong passwords does to
// everyone else: an attribute GET (the get case's request, on floodGetConns
// connections) measured alone and then while --conns clients send logins
// with wrong passwords as fast as they are answered, window after window
// in the same run. Each window of the flood starts after a ramp long
// enough for its queue of password checks to fill.
//
// The flood is built so that the service must check every password it is
// sent, as a spray from many machines would make it: every attempt names
// a username of its own (none exists: an unknown username costs the same
// check as a known one), and each flooding client connects from its own
// loopback address (127.1.x.y) and moves to a fresh one every
// floodPerAddr attempts, under the per-address back-off threshold. So no
// attempt is refused cheaply by the back-off; the bound on concurrent
// password hashing is what keeps the GET answering.

// floodGetConns are the GET's connections, alone and during the flood.
const floodGetConns = 4

// floodPerAddr is how many attempts a flooding client sends from one
// address before it moves to the next.
const floodPerAddr = 40

// floodResult is what the flood itself saw: its attempts answered per
// second, and how many of them were answered 503 E008007 (the queue of
// password checks full or too slow).
type floodResult struct {
	Clients      int     `json:"clients"`
	AnsweredPerS float64 `json:"answered_per_s"`
	Refused      int64   `json:"refused_403"`
	Busy         int64   `json:"busy_503"`
	BusyShare    float64 `json:"busy_share"`
}

// measureLoginFlood runs reps repetitions of the GET alone and the GET
// during the flood, alternating, and returns both cases and the flood's
// figures.
func measureLoginFlood(ctx context.Context, s *service, l load, reps, conns int, ramp time.Duration,
	progress func(string, ...any)) (alone, during *benchCase, flood floodResult, err error) {
	get := serviceCases[1]
	if get.name != "get" {
		return nil, nil, flood, fmt.Errorf("login_flood: serviceCases[1] is %s, not get", get.name)
	}
	getConns := min(floodGetConns, conns)
	newGet := func(name string) *benchCase {
		return newCase(name, 0, getConns, func(w int, hc *httpClient) op {
			return requestOp(s.users, w, getConns, hc, func(u benchUser) []req { return get.build(s.url, u) })
		})
	}
	alone, during = newGet("get_alone"), newGet("login_flood")
	defer alone.closeIdle()
	defer during.closeIdle()
	var refused, busy atomic.Int64
	var floodSeconds float64
	for round := range reps {
		if err := l.rep(ctx, alone); err != nil {
			return nil, nil, flood, err
		}
		fctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		var floodErr error
		var errOnce sync.Once
		started := time.Now()
		for w := range conns {
			wg.Go(func() {
				if err := floodWorker(fctx, s.url, w, round, &refused, &busy); err != nil && fctx.Err() == nil {
					errOnce.Do(func() { floodErr = err })
					stop()
				}
			})
		}
		// The GET's own warm-up and window run while the flood goes on;
		// the flood has ramp first to fill its queue.
		if err := ctxtime.Sleep(fctx, ramp); err == nil {
			refused.Store(0)
			busy.Store(0)
			started = time.Now()
			err = l.rep(fctx, during)
			if err != nil && fctx.Err() == nil {
				stop()
				wg.Wait()
				return nil, nil, flood, err
			}
		}
		floodSeconds += time.Since(started).Seconds()
		stop()
		wg.Wait()
		if floodErr != nil {
			return nil, nil, flood, fmt.Errorf("login_flood: %w", floodErr)
		}
		if ctx.Err() != nil {
			return nil, nil, flood, ctx.Err()
		}
		flood.Refused += refused.Load()
		flood.Busy += busy.Load()
		a, d := alone.res.Reps[len(alone.res.Reps)-1], during.res.Reps[len(during.res.Reps)-1]
		progress("%d/%d login_flood   GET alone p50 %6.2f ms p99 %7.2f ms; during the flood p50 %6.2f ms p99 %7.2f ms; flood %d answered (%d busy)",
			round+1, reps, a.P50ms, a.P99ms, d.P50ms, d.P99ms, refused.Load()+busy.Load(), busy.Load())
	}
	total := flood.Refused + flood.Busy
	flood.Clients = conns
	flood.AnsweredPerS = float64(total) / max(floodSeconds, 1e-9)
	if total > 0 {
		flood.BusyShare = float64(flood.Busy) / float64(total)
	}
	return alone, during, flood, nil
}

// floodWorker sends login attempts with wrong passwords until ctx ends,
// each for a username of its own, from a loopback address of its own that
// changes every floodPerAddr attempts. An answer other than 403 E005001
// or 503 E008007 is an error.
func floodWorker(ctx context.Context, base string, w, round int, refused, busy *atomic.Int64) error {
	url := base + "/zato/sso/user/login"
	buf := new(bytes.Buffer)
	for n := 0; ctx.Err() == nil; {
		addr := &net.TCPAddr{IP: net.IPv4(127, 1, byte(w), byte(n/floodPerAddr+round*64))}
		c := &http.Client{Transport: &http.Transport{
			DialContext:         (&net.Dialer{LocalAddr: addr, Timeout: 5 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, DisableCompression: true,
		}}
		for range floodPerAddr {
			if ctx.Err() != nil {
				break
			}
			name := "flood-" + strconv.Itoa(round) + "-" + strconv.Itoa(w) + "-" + strconv.Itoa(n)
			n++
			req, err := http.NewRequestWithContext(ctx, "POST", url,
				bytes.NewReader(body("", "username", name, "password", "Wrong-Horse-7-Battery")))
			if err != nil {
				return err
			}
			resp, err := c.Do(req)
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				return err
			}
			buf.Reset()
			_, err = buf.ReadFrom(resp.Body)
			resp.Body.Close()
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				return err
			}
			switch {
			case resp.StatusCode == http.StatusForbidden && bytes.Contains(buf.Bytes(), []byte(`"E005001"`)):
				refused.Add(1)
			case resp.StatusCode == http.StatusServiceUnavailable && bytes.Contains(buf.Bytes(), []byte(`"E008007"`)):
				busy.Add(1)
			default:
				return fmt.Errorf("flood login: HTTP %d", resp.StatusCode)
			}
		}
		c.CloseIdleConnections()
	}
	return nil
}
