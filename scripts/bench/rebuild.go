package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/eventstore"
	"github.com/ssoattr/ssoattr/internal/node"
	"github.com/ssoattr/ssoattr/projections"
	"github.com/ssoattr/ssoattr/sso"
)

// rebuildStream holds the start-up measurements' events: the service's
// stream configuration, name and subjects (sso.>), on a server of their own
// (measureStartupFresh).
const rebuildStream = "SSO"

// eventGen makes a realistic history: one user.created (a full account
// snapshot, secrets encrypted) every 100 events, and between them attr.set
// events of one attribute each (16-byte name out of 100 per user, 32-byte
// value) for random users created so far.
// Every event is signed as the service signs it, so that the rebuild
// verifies what it reads, as the service's does.
type eventGen struct {
	keys  *sso.Keyring
	sign  *eventstore.Keys
	rnd   *rand.Rand
	users []string
	n     int
}

func newEventGen(keys *sso.Keyring) (*eventGen, error) {
	sign, err := node.EventKeys(keys)
	if err != nil {
		return nil, err
	}
	return &eventGen{keys: keys, sign: sign, rnd: rand.New(rand.NewPCG(1, 2))}, nil
}

func (g *eventGen) next() domain.Event {
	now := domain.Truncate(time.Now())
	e := domain.Event{ID: eventstore.NewID(), Time: now, App: app, RemoteAddr: "127.0.0.1",
		CID: fmt.Sprintf("%024x", g.rnd.Uint64())}
	defer func() { g.n++ }()
	if g.n%100 == 0 {
		id := domain.NewUserID()
		g.users = append(g.users, id)
		u := &domain.User{ID: id, Username: fmt.Sprintf("rebuild-user-%07d", len(g.users)),
			ApprovalStatus: domain.ApprovalApproved, ApprovalStatusModTime: now, ApprovalStatusModBy: "auto",
			PasswordHash:  g.keys.EncryptString("$pbkdf2-sha512$120000$c2FsdHNhbHRzYWx0c2FsdA$" + fmt.Sprintf("%086x", g.rnd.Uint64())),
			PasswordIsSet: true, PasswordLastSet: now, PasswordExpiry: now.Add(730 * 24 * time.Hour),
			SignUpStatus: domain.SignupFinal, SignUpTime: now,
			TOTPKey:     g.keys.EncryptString("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"),
			CreationCtx: `{"current_app":"CRM","remote_addr":"127.0.0.1"}`,
		}
		e.Kind, e.Owner, e.Actor, e.Data = domain.KindUserCreated, domain.UserOwner(id), "cli", domain.EventData{User: u}
		return e
	}
	id := g.users[g.rnd.IntN(len(g.users))]
	e.Kind, e.Owner, e.Actor = domain.KindAttrSet, domain.UserAttrsOwner(id), id
	e.Data.Attrs = []domain.Attr{{Name: fmt.Sprintf("bench-attr-%05d", g.rnd.IntN(100)), Value: json.RawMessage(value32),
		Created: now, Modified: now, Expires: domain.Never}}
	return e
}

// writeEvents appends n more events with asynchronous publishes, straight
// to the stream (not through the service: only the reading side is
// measured).
func writeEvents(ctx context.Context, nc *nats.Conn, g *eventGen, n int) error {
	var failed atomic.Int64
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096),
		jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *nats.Msg, error) { failed.Add(1) }))
	if err != nil {
		return err
	}
	for i := range n {
		if i%4096 == 4095 { // a bounded window: the client stalls beyond its pending limit
			select {
			case <-js.PublishAsyncComplete():
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		e := g.next()
		data, err := eventstore.Encode(e)
		if err != nil {
			return err
		}
		// No Nats-Msg-Id, as the service sends none.
		m := nats.NewMsg(eventstore.Subject(e.Owner))
		m.Data = data
		m.Header.Set(eventstore.SignatureHeader, g.sign.Sign(m.Subject, data))
		if _, err := js.PublishMsgAsync(m); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return ctx.Err()
	}
	if f := failed.Load(); f > 0 {
		return fmt.Errorf("%d of %d publishes failed", f, n)
	}
	return nil
}

// openStore connects afresh, as a new process would, and opens the store.
func openStore(ctx context.Context, ns *server.Server, keys *sso.Keyring) (*nats.Conn, *eventstore.Store, error) {
	sign, err := node.EventKeys(keys)
	if err != nil {
		return nil, nil, err
	}
	nc, err := nats.Connect(ns.ClientURL(), nats.InProcessServer(ns), nats.Name("bench-startup"))
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	st, err := eventstore.Open(ctx, js, eventstore.Config{Stream: rebuildStream, Keys: sign})
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, st, nil
}

// readback is the raw read-back: a fresh connection, the stream's last
// sequence, then the ordered consumer the view's follower uses
// (eventstore.Store.Follow), verifying and decoding every event as every
// reader does, and doing nothing else with it, until the last sequence.
// So rebuild_vs_readback is the cost of the view's applying; what
// verifying costs shows in both times and in eventstore's BenchmarkCheck
// against internal/jsontext's BenchmarkDecodeEvent (see docs/PERFORMANCE.md).
func readback(ctx context.Context, ns *server.Server, keys *sso.Keyring, want int) (time.Duration, error) {
	start := time.Now()
	nc, st, err := openStore(ctx, ns, keys)
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	last, err := st.LastSeq(ctx)
	if err != nil {
		return 0, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	n, bad := 0, 0
	err = st.Follow(runCtx, 1, func(seq uint64, _ domain.Event, err error) {
		n++
		if err != nil {
			bad++
		}
		if seq >= last {
			cancel()
		}
	})
	took := time.Since(start)
	if err != nil && (!errors.Is(err, context.Canceled) || ctx.Err() != nil) {
		return 0, fmt.Errorf("read back: %w", err)
	}
	if n != want || bad != 0 {
		return 0, fmt.Errorf("read back %d events (%d refused), want %d", n, bad, want)
	}
	return took, nil
}

// rebuild is the service's start-up: a fresh connection and a fresh View
// caught up with the stream (projections.View.CatchUp, as internal/node
// does), in this process.
func rebuild(ctx context.Context, ns *server.Server, keys *sso.Keyring, want int) (time.Duration, error) {
	start := time.Now()
	nc, st, err := openStore(ctx, ns, keys)
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	v := projections.NewView(time.Now)
	runCtx, cancel := context.WithCancel(ctx)
	done, err := v.CatchUp(runCtx, st)
	took := time.Since(start)
	cancel()
	if err != nil {
		return 0, fmt.Errorf("rebuild: %w", err)
	}
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		return 0, fmt.Errorf("follower: %w", err)
	}
	if got := v.Applied(); got != uint64(want) || v.Skipped() != 0 || v.Len() == 0 {
		return 0, fmt.Errorf("rebuilt to sequence %d (%d skipped, %d attributes), want %d", got, v.Skipped(), v.Len(), want)
	}
	return took, nil
}

// rebuildResult is one stream size's start-up figures (medians).
type rebuildResult struct {
	Events            int       `json:"events"`
	ReadbackS         float64   `json:"readback_s"`
	RebuildS          float64   `json:"rebuild_s"`
	ReadbackPerS      float64   `json:"readback_events_per_s"`
	RebuildPerS       float64   `json:"rebuild_events_per_s"`
	RebuildVsReadback float64   `json:"rebuild_vs_readback"` // median of the per-alternation ratios
	RatioOfMedians    float64   `json:"ratio_of_medians"`
	ReadbackReps      []float64 `json:"readback_reps_s"`
	RebuildReps       []float64 `json:"rebuild_reps_s"`
	// CPU time of the whole process (client and server) per repetition.
	ReadbackCPUReps []float64 `json:"readback_cpu_reps_s"`
	RebuildCPUReps  []float64 `json:"rebuild_cpu_reps_s"`
	WriteEventsPerS float64   `json:"write_events_per_s"`
}

// measureStartupFresh runs measureStartup on a JetStream server of its
// own, started for it under dir and removed afterwards.
func measureStartupFresh(ctx context.Context, dir string, keys *sso.Keyring, p params, progress func(string, ...any)) ([]rebuildResult, error) {
	ns, nc, err := startJetStream(dir, "bench-startup")
	if err != nil {
		return nil, err
	}
	defer func() {
		nc.Close()
		ns.Shutdown()
		ns.WaitForShutdown()
		_ = os.RemoveAll(dir)
	}()
	return measureStartup(ctx, ns, nc, keys, p.rebuildSizes, min(p.reps, 5), progress)
}

// startupChildEnv is set in the environment of the process startupChild
// starts. The benchmark's own binary ignores it; under go test the binary
// is the test's, whose TestMain runs the benchmark when it is set.
const startupChildEnv = "SSOATTR_BENCH_STARTUP_CHILD"

// startupChild measures the start-up in a new process: this program again,
// with --cases startup, before anything else of this run has started, and
// reads the figures from its JSON report. The start-up is "a new process
// rebuilding its view", and this one, once the HTTP cases have run, is not
// new: measured in it, after those cases, on the server that had carried
// their load, the rebuild lost more than the read-back (0.72 and 0.83 with
// the three main write cases before it, 0.87 and 0.89 alone; see
// docs/PERFORMANCE.md). Its progress lines are passed on.
func startupChild(ctx context.Context, p params, dir string, stderr io.Writer) ([]rebuildResult, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	sizes := make([]string, len(p.rebuildSizes))
	for i, n := range p.rebuildSizes {
		sizes[i] = strconv.Itoa(n)
	}
	sub := filepath.Join(dir, "startup-process")
	defer os.RemoveAll(sub)
	cmd := exec.CommandContext(ctx, self, "--cases", "startup", "--json", "--rebuild", strings.Join(sizes, ","),
		"--reps", strconv.Itoa(p.reps), "--password-rounds", strconv.Itoa(p.rounds), "--data-dir", sub)
	cmd.Env = append(os.Environ(), startupChildEnv+"=1")
	var out bytes.Buffer
	cmd.Stdout = &out
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start-up process: %w", err)
	}
	var tail []string // its last lines, for an error
	sc := bufio.NewScanner(errPipe)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "[") { // progress; the table is read from the JSON
			fmt.Fprintf(stderr, "  start-up process %s\n", line)
		}
		if tail = append(tail, line); len(tail) > 10 {
			tail = tail[1:]
		}
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("start-up process: %w\n%s", err, strings.Join(tail, "\n"))
	}
	var report struct {
		Startup []rebuildResult `json:"startup"`
	}
	if err := json.Unmarshal(out.Bytes(), &report); err != nil || len(report.Startup) == 0 {
		return nil, fmt.Errorf("start-up process: no start-up figures in its report (%v)", err)
	}
	return report.Startup, nil
}

// measureStartup writes the stream up to each size in turn and times reps
// read-backs and rebuilds at each, alternating them.
func measureStartup(ctx context.Context, ns *server.Server, nc *nats.Conn, keys *sso.Keyring, sizes []int, reps int, progress func(string, ...any)) ([]rebuildResult, error) {
	g, err := newEventGen(keys)
	if err != nil {
		return nil, err
	}
	// The stream as the service opens it, with its signing high-water mark.
	onc, _, err := openStore(ctx, ns, keys)
	if err != nil {
		return nil, err
	}
	onc.Close()
	var out []rebuildResult
	for _, size := range sizes {
		if size <= g.n {
			continue
		}
		start, more := time.Now(), size-g.n
		if err := writeEvents(ctx, nc, g, more); err != nil {
			return nil, err
		}
		r := rebuildResult{Events: size}
		r.WriteEventsPerS = float64(more) / time.Since(start).Seconds()
		progress("wrote the stream up to %d events", size)
		for range reps {
			c0 := cpuTime()
			d, err := readback(ctx, ns, keys, size)
			if err != nil {
				return nil, err
			}
			r.ReadbackReps = append(r.ReadbackReps, d.Seconds())
			r.ReadbackCPUReps = append(r.ReadbackCPUReps, (cpuTime() - c0).Seconds())
			gc()
			c0 = cpuTime()
			if d, err = rebuild(ctx, ns, keys, size); err != nil {
				return nil, err
			}
			r.RebuildReps = append(r.RebuildReps, d.Seconds())
			r.RebuildCPUReps = append(r.RebuildCPUReps, (cpuTime() - c0).Seconds())
			gc()
		}
		id := func(x float64) float64 { return x }
		r.ReadbackS, r.RebuildS = median(r.ReadbackReps, id), median(r.RebuildReps, id)
		r.ReadbackPerS, r.RebuildPerS = float64(size)/r.ReadbackS, float64(size)/r.RebuildS
		// Paired, as the HTTP ratios are (see report): each rebuild
		// against the read-back just before it.
		pairs := make([]float64, len(r.ReadbackReps))
		for i := range pairs {
			pairs[i] = r.ReadbackReps[i] / r.RebuildReps[i]
		}
		r.RebuildVsReadback = median(pairs, id)
		r.RatioOfMedians = r.ReadbackS / r.RebuildS
		progress("%d events: read-back %.2fs (cpu %.2fs), rebuild %.2fs (cpu %.2fs)", size, r.ReadbackS,
			median(r.ReadbackCPUReps, id), r.RebuildS, median(r.RebuildCPUReps, id))
		out = append(out, r)
	}
	return out, nil
}
