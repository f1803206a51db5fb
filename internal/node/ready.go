package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// The readiness check runs in the background every readyInterval, each
// round bounded by readyTimeout, so GET /readyz answers at once and turns
// unready within readyInterval+readyTimeout (1.5 s) of the instance losing
// its stream leader, its quorum or its connection, and ready again by
// itself after they return.
const (
	readyInterval = 500 * time.Millisecond
	readyTimeout  = time.Second
)

// readiness holds the verdict of the last round: nil when ready.
type readiness struct {
	verdict atomic.Pointer[error]
}

func (r *readiness) set(err error) { r.verdict.Store(&err) }

// get returns the last verdict.
func (r *readiness) get() error {
	if p := r.verdict.Load(); p != nil {
		return *p
	}
	return errors.New("not checked yet")
}

// runReadiness checks, until ctx ends, that the connection is up, that the
// stream's leader answers with a quorum behind it (eventstore's Writable),
// and that the view does not lag: it must have applied, by each round, the
// last sequence the round before the previous one saw (a second ago).
func (n *Node) runReadiness(ctx context.Context) {
	var seen [2]uint64 // the last sequences of the two previous rounds
	was := error(nil)
	t := time.NewTicker(readyInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := n.checkReady(ctx, &seen)
		if n.draining.Load() {
			err = errors.New("shutting down")
		}
		n.ready.set(err)
		if (err == nil) != (was == nil) {
			if err != nil {
				n.log.Warn("not ready", slog.Any("err", err))
			} else {
				n.log.Info("ready again")
			}
		}
		was = err
	}
}

func (n *Node) checkReady(ctx context.Context, seen *[2]uint64) error {
	if !n.nc.IsConnected() {
		return errors.New("not connected to NATS")
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	last, err := n.Store.Writable(ctx)
	if err != nil {
		return err
	}
	behind := seen[0]
	seen[0], seen[1] = seen[1], last
	if applied := n.View.Applied(); applied < behind {
		return fmt.Errorf("view lags: applied %d, the stream had %d a second ago", applied, behind)
	}
	return nil
}
