package eventstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
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
//
// Each value is signed as events are (Keys.Sign, bound to the record's
// subject "$KV.<bucket>.<key>"): "<signature> <JSON record>". Anyone who
// can publish into the bucket's subjects (a reader's push consumer may
// deliver there) could otherwise reset a count or break a login; a
// record that does not verify or decode reads as domain.Backoff.Untrusted
// (fail closed), logged with its key and counted (Rejected).
type Attempts struct {
	kv       jetstream.KeyValue
	keys     *Keys
	prefix   string // "$KV.<bucket>."
	log      *slog.Logger
	rejected atomic.Uint64
}

// AttemptsConfig configures the bucket.
type AttemptsConfig struct {
	// Bucket is the bucket's name (default: the stream's name + "_BACKOFF").
	Bucket   string
	Stream   string // default "SSO"
	Replicas int    // default 1
	// Memory is how long a record is kept after its last write (default
	// domain.BackoffMemory). It must be longer than the longest window.
	Memory time.Duration
	// Keys sign and verify the records (required): the event keys.
	Keys *Keys
	Log  *slog.Logger // default slog.Default()
}

// OpenAttempts creates or updates the bucket.
func OpenAttempts(ctx context.Context, js jetstream.JetStream, c AttemptsConfig) (*Attempts, error) {
	if c.Keys == nil {
		return nil, errors.New("back-off bucket: no signing keys")
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
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
	return &Attempts{kv: kv, keys: c.Keys, prefix: "$KV." + c.Bucket + ".", log: c.Log}, nil
}

// Get returns the record under key and its revision; a missing (or
// forgotten) record is the zero record at revision 0. A record that does
// not verify or decode is rule.Untrusted from the time it was stored, at
// its revision, so that the next write replaces it.
func (a *Attempts) Get(ctx context.Context, key string, rule domain.Backoff) (domain.Attempts, uint64, error) {
	e, err := a.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return domain.Attempts{}, 0, nil
	}
	if err != nil {
		return domain.Attempts{}, 0, fmt.Errorf("back-off record: %w", err)
	}
	rec, reason := a.open(key, e.Value())
	if reason != "" {
		a.rejected.Add(1)
		// The key is a hash; the value is not logged.
		a.log.WarnContext(ctx, "back-off record rejected, counted as a fresh back-off", "key", key,
			"reason", reason, "revision", e.Revision())
		return rule.Untrusted(e.Created()), e.Revision(), nil
	}
	return rec, e.Revision(), nil
}

// Rejected returns how many reads found a record that did not verify or
// decode.
func (a *Attempts) Rejected() uint64 { return a.rejected.Load() }

// open authenticates and decodes a stored value; reason is "" or why it
// cannot be trusted.
func (a *Attempts) open(key string, value []byte) (rec domain.Attempts, reason string) {
	sig, data, ok := bytes.Cut(value, []byte{' '})
	if !ok {
		return rec, "unsigned"
	}
	if !a.keys.Verify(a.prefix+key, data, string(sig)) {
		return rec, "bad signature"
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return rec, "malformed"
	}
	return rec, ""
}

// Put stores rec under key in place of revision rev (0: there is none).
// If the record changed since, it returns domain.ErrConflict.
func (a *Attempts) Put(ctx context.Context, key string, rec domain.Attempts, rev uint64) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	sig := a.keys.Sign(a.prefix+key, data)
	data = append(append([]byte(sig), ' '), data...)
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
