package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// op is one operation of a worker: one request, or one publish. It is
// called from one goroutine only, so it may keep state between calls.
type op func(ctx context.Context) error

// sample is one measured repetition of a case.
type sample struct {
	Ops     int64   `json:"ops"`
	Seconds float64 `json:"seconds"`
	OpsPerS float64 `json:"ops_per_s"`
	P50ms   float64 `json:"p50_ms"`
	P99ms   float64 `json:"p99_ms"`
	// CPUusPerOp is this process's CPU time (user+system, every goroutine:
	// load generator, service, NATS server) during the window, per
	// operation. Unlike ops/s it barely moves when other processes compete
	// for the cores.
	CPUusPerOp float64 `json:"cpu_us_per_op"`
}

// caseResult is a case's figures: medians over its repetitions.
type caseResult struct {
	Name    string  `json:"-"`
	Conns   int     `json:"conns"`
	OpsPerS float64 `json:"ops_per_s"`
	P50ms   float64 `json:"p50_ms"`
	P99ms   float64 `json:"p99_ms"`
	// CPUusPerOp is the median of the repetitions' CPU time per operation.
	CPUusPerOp float64 `json:"cpu_us_per_op"`
	// ItemsPerOp is how many attributes one operation writes (10 for the
	// data list); ItemsPerS = OpsPerS * ItemsPerOp.
	ItemsPerOp int      `json:"items_per_op"`
	ItemsPerS  float64  `json:"items_per_s"`
	Reps       []sample `json:"reps"`
}

// load runs the same closed-loop generator for every case: conns workers,
// each with its own keep-alive connection (or publisher), each sending its
// next operation as soon as the previous one is answered. Cases are warmed
// up before they are measured, and the warm-up is not recorded: once
// before a group's first interleaved repetition (repInterleaved), or before
// every window of a case measured alone (rep).
type load struct {
	conns    int
	warmup   time.Duration
	duration time.Duration
	slices   int           // of each interleaved repetition (see repInterleaved)
	ramp     time.Duration // before each slice
	shuffle  *rand.Rand    // the order of the slices in each round
}

// benchCase is one measured operation and its workers, which keep their
// connections from one repetition to the next.
type benchCase struct {
	name    string
	warmup  time.Duration // overrides load.warmup when longer
	minDur  time.Duration // overrides load.duration when longer
	items   int           // attributes written per operation
	ops     []op
	clients []*httpClient
	res     caseResult
}

// newCase builds a case; newOp makes worker w's operation on client c (nil
// for cases that do not use HTTP).
func newCase(name string, items, conns int, newOp func(w int, c *httpClient) op) *benchCase {
	bc := &benchCase{name: name, items: items, res: caseResult{Name: name, Conns: conns, ItemsPerOp: items}}
	for w := range conns {
		c := newHTTPClient()
		bc.clients = append(bc.clients, c)
		bc.ops = append(bc.ops, newOp(w, c))
	}
	return bc
}

// closeIdle drops the case's connections (when its server goes away).
func (bc *benchCase) closeIdle() {
	for _, c := range bc.clients {
		c.close()
	}
}

// rep runs one repetition of the case as one window: the workers start,
// run through the warm-up and on into the measured window without a
// pause; the operations that complete within the window are counted and
// their latencies kept. Operations still in flight at the end are waited
// for, not counted, so no load from one case leaks into the next. Login
// runs this way: one of its operations takes seconds.
func (l load) rep(ctx context.Context, bc *benchCase) error {
	var t tally
	if err := l.run(ctx, bc, max(l.warmup, bc.warmup), max(l.duration, bc.minDur), true, &t); err != nil {
		return err
	}
	bc.record(t)
	return nil
}

// repInterleaved runs one repetition of every case of group, in slices:
// the measured time of each case (--duration) is cut into l.slices
// slices, and the cases take turns, one slice each, round after round (in
// an order shuffled each round, from a fixed seed), so
// that a baseline and the cases compared with it are measured a fraction
// of a second apart, over the same seconds. The machine's speed moves
// over seconds (on the AMD machine of an earlier session, throughput in
// successive 0.7 s windows moved by 17 % with a correlation of 0.7 from
// one window to the next): cases measured in turn, in whole windows of
// several seconds, caught different moments of it. Each slice starts with
// a ramp (l.ramp, not counted) for the closed loop to fill; its operations
// in flight at the end are waited for before the next case's slice. The
// first repetition of a group is preceded by a warm-up of every case.
func (l load) repInterleaved(ctx context.Context, group []*benchCase, first bool) error {
	if first {
		for _, bc := range group {
			if err := l.run(ctx, bc, l.warmup/2, l.warmup/2, true, new(tally)); err != nil {
				return err
			}
		}
	}
	tallies := make([]tally, len(group))
	slice := l.duration / time.Duration(l.slices)
	order := make([]int, len(group))
	for i := range order {
		order[i] = i
	}
	for range l.slices {
		// A slice inherits some of the previous one's work (its garbage
		// to collect, the baseline server's state after raw publishes):
		// the order changes from round to round, so no case always
		// follows the same one.
		l.shuffle.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			if err := l.run(ctx, group[i], l.ramp, slice, false, &tallies[i]); err != nil {
				return err
			}
		}
	}
	for i, bc := range group {
		bc.record(tallies[i])
	}
	return nil
}

// tally accumulates what the measured windows of a repetition counted.
type tally struct {
	lats    []time.Duration
	seconds float64
	cpu     time.Duration
}

// run drives bc's workers through ramp and then a measured window of
// length dur, adding to t the operations that completed inside the window,
// their latencies and the process's CPU time during it. With stagger the
// workers start one after another across the first half of the ramp, so
// that operations as slow as a login do not all finish together, in waves,
// for the whole window; otherwise they start together.
func (l load) run(ctx context.Context, bc *benchCase, ramp, dur time.Duration, stagger bool, t *tally) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	lats := make([][]time.Duration, len(bc.ops))
	start := time.Now()
	from := start.Add(ramp)
	to := from.Add(dur)
	cpu := make(chan time.Duration, 2)
	t1 := time.AfterFunc(time.Until(from), func() { cpu <- cpuTime() })
	t2 := time.AfterFunc(time.Until(to), func() { cpu <- cpuTime() })
	defer t1.Stop()
	defer t2.Stop()
	var wg sync.WaitGroup
	for w, o := range bc.ops {
		wg.Go(func() {
			if stagger {
				time.Sleep(time.Until(start.Add(time.Duration(w) * ramp / time.Duration(2*len(bc.ops)))))
			}
			lat := make([]time.Duration, 0, 256)
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(to) {
					break
				}
				if err := o(ctx); err != nil {
					cancel(err)
					break
				}
				// Under the same load, an operation that began in the
				// ramp is as good a sample as any.
				if t1 := time.Now(); t1.After(from) && !t1.After(to) {
					lat = append(lat, t1.Sub(t0))
				}
			}
			lats[w] = lat
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("%s: %w", bc.name, err)
	}
	atFrom := <-cpu
	t.cpu += <-cpu - atFrom
	t.seconds += dur.Seconds()
	for _, lat := range lats {
		t.lats = append(t.lats, lat...)
	}
	return nil
}

// record adds a repetition's tally to the case's results.
func (bc *benchCase) record(t tally) {
	all := t.lats
	n := len(all)
	slices.Sort(all)
	r := &bc.res
	r.Reps = append(r.Reps, sample{
		Ops: int64(n), Seconds: t.seconds,
		OpsPerS: float64(n) / t.seconds,
		P50ms:   ms(quantile(all, 0.50)), P99ms: ms(quantile(all, 0.99)),
		CPUusPerOp: float64(t.cpu.Microseconds()) / float64(max(n, 1)),
	})
	r.CPUusPerOp = median(r.Reps, func(s sample) float64 { return s.CPUusPerOp })
	r.OpsPerS = median(r.Reps, func(s sample) float64 { return s.OpsPerS })
	r.P50ms = median(r.Reps, func(s sample) float64 { return s.P50ms })
	r.P99ms = median(r.Reps, func(s sample) float64 { return s.P99ms })
	r.ItemsPerS = r.OpsPerS * float64(r.ItemsPerOp)
}

// cpuTime returns the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func median[T any](xs []T, f func(T) float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = f(x)
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// httpClient is one worker's client: exactly one keep-alive connection.
type httpClient struct {
	c   *http.Client
	buf bytes.Buffer
}

func newHTTPClient() *httpClient {
	return &httpClient{c: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, DisableCompression: true,
		IdleConnTimeout: 5 * time.Minute,
	}}}
}

// do sends one request and checks the answer: HTTP 200 and a body holding
// want. On failure it reports the status and sub_status only: bodies may
// hold tokens and values, which are not printed. A 503 E008007 (too many
// password checks waiting, which 64 logins at once on a busy machine may
// meet) is sent again after its Retry-After, as a client would; the time
// counts in the operation's latency.
func (h *httpClient) do(ctx context.Context, method, url string, body, want []byte) error {
	for {
		err := h.do1(ctx, method, url, body, want)
		if !errors.Is(err, errBusy) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// errBusy is a 503 E008007 answer: try again after Retry-After (1 s).
var errBusy = errors.New("503 E008007: too many password checks waiting")

func (h *httpClient) do1(ctx context.Context, method, url string, body, want []byte) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := h.c.Do(req)
	if err != nil {
		return err
	}
	h.buf.Reset()
	_, err = h.buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(h.buf.Bytes(), want) {
		var env struct {
			Status    string   `json:"status"`
			SubStatus []string `json:"sub_status"`
		}
		_ = json.Unmarshal(h.buf.Bytes(), &env)
		if resp.StatusCode == http.StatusServiceUnavailable && slices.Equal(env.SubStatus, []string{"E008007"}) {
			return errBusy
		}
		return fmt.Errorf("%s %s: HTTP %d, status %q, sub_status %v", method, stripQuery(url), resp.StatusCode, env.Status, env.SubStatus)
	}
	return nil
}

// doJSON is do for requests whose answer the caller needs (setup only).
func (h *httpClient) doJSON(ctx context.Context, method, url string, body any, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	if err := h.do(ctx, method, url, data, []byte(`"status":"ok"`)); err != nil {
		return err
	}
	return json.Unmarshal(h.buf.Bytes(), out)
}

func (h *httpClient) close() { h.c.CloseIdleConnections() }

func stripQuery(u string) string {
	u, _, _ = strings.Cut(u, "?")
	return u
}
