package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssoattr/ssoattr/domain"
)

// Attempts keeps the login back-off records (domain.Attempts) in a
// JetStream key-value bucket, so that every replica on the stream sees
// the same counts and they survive a restart. Keys are chosen by the
// caller (hashes: never a raw username); values hold only counts and
// times. The bucket forgets a record domain.BackoffMemory after its last
// write. Writes name the revision they replace, as appends name the
// sequence they expect: two replicas counting at once cannot lose a count.
type Attempts struct{ kv jetstream.KeyValue }

// AttemptsConfig configures the bucket.
type AttemptsConfig struct {
	// Bucket is the bucket's name (default: the stream's name + "_BACKOFF").
	Bucket   string
	Stream   string // default "SSO"
	Replicas int    // default 1
	// Memory is how long a record is kept after its last write (default
	// domain.BackoffMemory). It must be longer than the longest window.
	Memory time.Duration
}

// OpenAttempts creates or updates the bucket.
func OpenAttempts(ctx context.Context, js jetstream.JetStream, c AttemptsConfig) (*Attempts, error) {
	if c.Stream == "" {
		c.Stream = "SSO"
	}
	if c.Bucket == "" {
		c.Bucket = c.Stream + "_BACKOFF"
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.Memory <= 0 {
		c.Memory = domain.BackoffMemory
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      c.Bucket,
		Description: "ssoattr login back-off: failed attempts per hashed username and per hashed client address",
		History:     1, TTL: c.Memory, Replicas: c.Replicas, Storage: jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("back-off bucket %s: %w", c.Bucket, err)
	}
	return &Attempts{kv: kv}, nil
}

// Get returns the record under key and its revision; a missing (or
// forgotten) record is the zero record at revision 0.
func (a *Attempts) Get(ctx context.Context, key string) (domain.Attempts, uint64, error) {
	e, err := a.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return domain.Attempts{}, 0, nil
	}
	if err != nil {
		return domain.Attempts{}, 0, fmt.Errorf("back-off record: %w", err)
	}
	var rec domain.Attempts
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return domain.Attempts{}, 0, fmt.Errorf("back-off record: %w", err)
	}
	return rec, e.Revision(), nil
}

// Put stores rec under key in place of revision rev (0: there is none).
// If the record changed since, it returns domain.ErrConflict.
func (a *Attempts) Put(ctx context.Context, key string, rec domain.Attempts, rev uint64) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if rev == 0 {
		_, err = a.kv.Create(ctx, key, data)
	} else {
		_, err = a.kv.Update(ctx, key, data, rev)
	}
	return attemptsErr(err)
}

// Delete removes the record under key, whatever its revision.
func (a *Attempts) Delete(ctx context.Context, key string) error {
	return attemptsErr(a.kv.Delete(ctx, key))
}

func attemptsErr(err error) error {
	var apiErr *jetstream.APIError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch),
		errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant):
		return fmt.Errorf("back-off record: %w", domain.ErrConflict)
	}
	return fmt.Errorf("back-off record: %w", err)
}
