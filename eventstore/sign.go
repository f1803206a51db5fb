package eventstore

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/internal/jsontext"
)

// Every event the service stores carries an HMAC-SHA256 signature over the
// subject it is published on and its payload, in the SignatureHeader
// header, as "<key id>.<signature>" (docs/events.md#signatures). A reader
// applies or presents an event only if the signature verifies with one of
// its keys and the payload's own subject is the subject the event is
// stored on, so an event can be neither forged nor moved to another owner.
// HMAC rather than a public-key signature: verifying one costs about as
// much as decoding the event, and the start-up rebuild verifies them all.

// SignatureHeader is the NATS header holding an event's signature.
const SignatureHeader = "Ssoattr-Sig"

// KeyInfo is the HKDF info string the signing keys are derived with from
// the service's Fernet keys (sso.Keyring.Derive). Changing it would make
// every stored signature unverifiable.
const KeyInfo = "ssoattr event signature v1"

// Reasons a reader refuses a stored message. Each is reported in Msg.Err
// (or a Handler's err), alone or wrapped; so is jsontext.ErrMalformed, for
// a payload that is not an ssoattr event on an ssoattr subject (Decode).
var (
	ErrUnsigned     = errors.New("event without signature")
	ErrBadSignature = errors.New("event signature does not verify")
	ErrOffSubject   = errors.New("event stored on another owner's subject")
)

// Keys signs with its first key and verifies with any of them, so keys
// rotate as the Fernet keys they are derived from do.
type Keys struct {
	keys []signingKey
}

type signingKey struct {
	id   string    // hex of the first 4 bytes of SHA-256 of the key
	macs sync.Pool // *macState
}

// macState is an HMAC and a buffer for the length and subject it reads
// first (bytes written through the hash.Hash interface escape, so a buffer
// of the caller's would be allocated each time).
type macState struct {
	mac hash.Hash
	buf []byte
}

const (
	keyIDLen = 8
	sigLen   = 32 // HMAC-SHA256
)

// NewKeys returns the keys for signing (the first) and verifying (all).
// Each must be at least 32 bytes. It returns an error for none, or a short one.
func NewKeys(keys ...[]byte) (*Keys, error) {
	if len(keys) == 0 {
		return nil, errors.New("no event signing key")
	}
	k := &Keys{keys: make([]signingKey, len(keys))}
	for i, key := range keys {
		if len(key) < 32 {
			return nil, fmt.Errorf("event signing key %d: %d bytes, want 32 or more", i+1, len(key))
		}
		key := append([]byte(nil), key...)
		sum := sha256.Sum256(key)
		k.keys[i].id = hex.EncodeToString(sum[:keyIDLen/2])
		k.keys[i].macs.New = func() any { return &macState{mac: hmac.New(sha256.New, key)} }
	}
	return k, nil
}

// sum computes the signature of data on subject with key: HMAC-SHA256 of
// the subject's length (2 bytes, big-endian), the subject and the data.
func (key *signingKey) sum(out *[sigLen]byte, subject string, data []byte) {
	m := key.macs.Get().(*macState)
	m.mac.Reset()
	m.buf = binary.BigEndian.AppendUint16(m.buf[:0], uint16(len(subject)))
	m.buf = append(m.buf, subject...)
	m.mac.Write(m.buf)
	m.mac.Write(data)
	m.buf = m.mac.Sum(m.buf[:0])
	copy(out[:], m.buf)
	key.macs.Put(m)
}

// Sign returns the SignatureHeader value for data published on subject.
func (k *Keys) Sign(subject string, data []byte) string {
	key := &k.keys[0]
	var sum [sigLen]byte
	key.sum(&sum, subject, data)
	b := make([]byte, 0, keyIDLen+1+base64.RawURLEncoding.EncodedLen(sigLen))
	b = append(b, key.id...)
	b = append(b, '.')
	b = base64.RawURLEncoding.AppendEncode(b, sum[:])
	return string(b)
}

// Verify reports whether sig, a SignatureHeader value, is the signature of
// data on subject under one of the keys (the one its key id names).
func (k *Keys) Verify(subject string, data []byte, sig string) bool {
	if len(sig) != keyIDLen+1+base64.RawURLEncoding.EncodedLen(sigLen) || sig[keyIDLen] != '.' {
		return false
	}
	var got [sigLen]byte
	if n, err := base64.RawURLEncoding.Decode(got[:], []byte(sig[keyIDLen+1:])); err != nil || n != sigLen {
		return false
	}
	for i := range k.keys {
		key := &k.keys[i]
		if key.id != sig[:keyIDLen] {
			continue
		}
		var want [sigLen]byte
		key.sum(&want, subject, data)
		if hmac.Equal(got[:], want[:]) {
			return true
		}
	}
	return false
}

// Stream metadata keys of the signing high-water mark: the first sequence
// that must be signed, and a signature of it, so that it can be trusted as
// far as the keys are.
const (
	metaSignedFrom    = "ssoattr_signed_from"
	metaSignedFromSig = "ssoattr_signed_from_sig"
)

// markSubject is what the mark's signature is computed over, in place of
// a subject: no event subject has this form.
func markSubject(stream string) string { return "$ssoattr.mark." + stream }

// signedMark returns the metadata entries recording mark for stream.
func (k *Keys) signedMark(stream string, mark uint64) map[string]string {
	v := strconv.FormatUint(mark, 10)
	return map[string]string{metaSignedFrom: v, metaSignedFromSig: k.Sign(markSubject(stream), []byte(v))}
}

// readMark returns the high-water mark recorded in a stream's metadata, and
// whether one is recorded. A mark that is malformed or whose signature does
// not verify reads as 1 (every event must be signed), reported by ok and
// forged both true.
func (k *Keys) readMark(stream string, meta map[string]string) (mark uint64, ok, forged bool) {
	v, ok := meta[metaSignedFrom]
	if !ok {
		return 0, false, false
	}
	mark, err := strconv.ParseUint(v, 10, 64)
	if err != nil || mark == 0 || !k.Verify(markSubject(stream), []byte(v), meta[metaSignedFromSig]) {
		return 1, true, true
	}
	return mark, true, false
}

// check authenticates and decodes the message stored at seq on subject:
// its signature (or, below the high-water mark, none), then its payload,
// whose own subject must be subject. On failure the event returned holds
// only the owner of subject (the zero owner if subject is not an ssoattr
// subject), so a reader can account for that owner's sequence.
func (s *Store) check(seq uint64, subject string, hdr nats.Header, data []byte) (domain.Event, error) {
	var err error
	if sig := hdr.Get(SignatureHeader); sig == "" {
		if seq >= s.signedFrom {
			err = ErrUnsigned
		}
	} else if !s.keys.Verify(subject, data, sig) {
		err = ErrBadSignature
	}
	var e domain.Event
	if err == nil {
		e, err = decodeOn(subject, data)
	}
	if err != nil {
		o, _ := ParseSubject(subject)
		return domain.Event{Owner: o}, err
	}
	return e, nil
}

// Reason returns a short text naming why a reader refused a message, for
// logs and reports: "unsigned", "bad signature", "off subject", "malformed",
// or the error's text.
func Reason(err error) string {
	switch {
	case errors.Is(err, ErrUnsigned):
		return "unsigned"
	case errors.Is(err, ErrBadSignature):
		return "bad signature"
	case errors.Is(err, ErrOffSubject):
		return "off subject"
	case errors.Is(err, jsontext.ErrMalformed):
		return "malformed"
	}
	return err.Error()
}
