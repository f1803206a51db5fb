package projections

import (
	"context"
	"fmt"

	"github.com/ssoattr/ssoattr/domain"
)

// Source is the stream the view follows; eventstore.Store satisfies it.
type Source interface {
	// Follow delivers every message from sequence from, in order, until ctx ends.
	Follow(ctx context.Context, from uint64, h func(seq uint64, e domain.Event, err error)) error
	// LastSeq returns the stream's last sequence.
	LastSeq(ctx context.Context) (uint64, error)
}

// CatchUp starts following src in the background and returns once the view
// has applied everything the stream held when CatchUp was called (the
// start-up rebuild). The follower keeps running until ctx ends; its error,
// if it stops for another reason, is sent on the returned channel.
func (v *View) CatchUp(ctx context.Context, src Source) (<-chan error, error) {
	last, err := src.LastSeq(ctx)
	if err != nil {
		return nil, fmt.Errorf("stream state: %w", err)
	}
	done := make(chan error, 1)
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		err := src.Follow(ctx, v.Applied()+1, v.Handle)
		cancel() // a follower that stopped early must not leave CatchUp waiting
		done <- err
	}()
	if err := v.WaitApplied(waitCtx, last); err != nil {
		select {
		case ferr := <-done:
			err = ferr
		default:
		}
		return nil, fmt.Errorf("rebuild to sequence %d: %w", last, err)
	}
	return done, nil
}
