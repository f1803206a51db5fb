package sso

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/fernet/fernet-go"

	"github.com/ssoattr/ssoattr/domain"
)

// Keyring encrypts with the first Fernet key and decrypts with any of them,
// so keys can be rotated: add the new key first, keep the old ones until
// nothing encrypted under them remains.
type Keyring struct {
	keys []*fernet.Key

	ustMu    sync.RWMutex
	ustCache map[string]string // UST -> session id, bounded
}

const ustCacheMax = 1 << 16

// ParseKeyring reads a comma-separated list of Fernet keys (URL-safe base64
// of 32 bytes each).
func ParseKeyring(s string) (*Keyring, error) {
	var parts []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return nil, errors.New("no Fernet key given")
	}
	keys, err := fernet.DecodeKeys(parts...)
	if err != nil {
		return nil, fmt.Errorf("decode Fernet key: %w", err)
	}
	return &Keyring{keys: keys, ustCache: make(map[string]string)}, nil
}

// Derive returns a 32-byte key for each Fernet key, in the keyring's order,
// derived with HKDF-SHA256 under info: keys for another purpose (signing
// events) that rotate with the Fernet keys and reveal nothing of them.
func (k *Keyring) Derive(info string) [][]byte {
	out := make([][]byte, len(k.keys))
	for i, key := range k.keys {
		d, err := hkdf.Key(sha256.New, key[:], nil, info, 32)
		if err != nil {
			panic(err) // only a key length over 255 hashes fails
		}
		out[i] = d
	}
	return out
}

// NewKey returns a fresh random Fernet key in its text form.
func NewKey() string {
	var k fernet.Key
	if err := k.Generate(); err != nil {
		panic(err) // crypto/rand does not fail
	}
	return k.Encode()
}

// Encrypt returns the Fernet token of plaintext.
func (k *Keyring) Encrypt(plaintext []byte) string {
	tok, err := fernet.EncryptAndSign(plaintext, k.keys[0])
	if err != nil {
		panic(err) // only crypto/rand can fail here, and it does not
	}
	return string(tok)
}

var errUndecryptable = errors.New("cannot decrypt: wrong key or damaged ciphertext")

// Decrypt returns the plaintext of a token made by Encrypt under any key of
// the ring, or an error.
func (k *Keyring) Decrypt(token string) ([]byte, error) {
	msg := fernet.VerifyAndDecrypt([]byte(token), 0, k.keys)
	if msg == nil {
		return nil, errUndecryptable
	}
	return msg, nil
}

// EncryptString and DecryptString are Encrypt and Decrypt for text fields.
func (k *Keyring) EncryptString(s string) string { return k.Encrypt([]byte(s)) }

// DecryptString is Decrypt for text fields.
func (k *Keyring) DecryptString(token string) (string, error) {
	b, err := k.Decrypt(token)
	return string(b), err
}

// SealUST returns the UST of a session: its internal id, Fernet-encrypted.
func (k *Keyring) SealUST(sessionID string) string {
	ust := k.EncryptString(sessionID)
	k.remember(ust, sessionID)
	return ust
}

// OpenUST returns the internal session id sealed in ust, or
// domain.ErrNoSuchSession. A raw "zust" id is not a UST (docs/API.md#d28), and
// neither is any spelling of a token but the one SealUST made (see
// canonicalToken). Opened tokens are cached, so the hot path skips the
// HMAC and AES work.
func (k *Keyring) OpenUST(ust string) (string, error) {
	k.ustMu.RLock()
	sid, ok := k.ustCache[ust]
	k.ustMu.RUnlock()
	if ok {
		return sid, nil
	}
	if ust == "" || len(ust) > 512 || !canonicalToken(ust) {
		return "", domain.ErrNoSuchSession
	}
	b, err := k.Decrypt(ust)
	if err != nil || !strings.HasPrefix(string(b), domain.SessionIDPrefix) || !domain.IsToken(string(b)) {
		return "", domain.ErrNoSuchSession
	}
	sid = string(b)
	k.remember(ust, sid)
	return sid, nil
}

// canonicalToken reports whether tok is exactly the padded URL-safe base64
// text of the bytes it decodes to, as Fernet writes a token: no whitespace
// or line breaks, no bytes after the padding, no stray bits in the last
// character. The Fernet library decodes leniently (it ignores what follows
// a decoding error), so without this check "UST"+"x" would open the
// session UST does, and a token would have many spellings.
func canonicalToken(tok string) bool {
	b, err := base64.URLEncoding.Strict().DecodeString(tok)
	return err == nil && base64.URLEncoding.EncodeToString(b) == tok
}

func (k *Keyring) remember(ust, sid string) {
	k.ustMu.Lock()
	if len(k.ustCache) >= ustCacheMax {
		clear(k.ustCache) // crude but bounded; a miss only costs one decryption
	}
	k.ustCache[ust] = sid
	k.ustMu.Unlock()
}
