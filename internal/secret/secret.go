// Package secret encrypts the channel secrets kept at rest (Meta access tokens, app secrets,
// verify tokens) with AES-256-GCM under a key derived from the server's SECRET_KEY.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

const prefix = "v1:"

// Box seals and opens secrets.
type Box struct{ aead cipher.AEAD }

// MinKeyLen is the shortest SECRET_KEY NewBox accepts, in bytes.
const MinKeyLen = 16

// NewBox derives the AES-256 key from the operator's SECRET_KEY (any string of 16+ bytes).
func NewBox(key string) (*Box, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("SECRET_KEY must have at least %d characters", MinKeyLen)
	}
	sum := sha256.Sum256([]byte("atendimento/secret/v1\x00" + key))
	block, err := aes.NewCipher(sum[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plain; the empty string stays empty (no secret set).
func (b *Box) Seal(plain string) string {
	if plain == "" {
		return ""
	}
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	out := b.aead.Seal(nonce, nonce, []byte(plain), nil)
	return prefix + base64.RawStdEncoding.EncodeToString(out)
}

// Open decrypts a value made by Seal.
func (b *Box) Open(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	if !strings.HasPrefix(sealed, prefix) {
		return "", errors.New("secret: unknown format")
	}
	raw, err := base64.RawStdEncoding.DecodeString(sealed[len(prefix):])
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", errors.New("secret: corrupt value")
	}
	ns := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:ns], raw[ns:], nil)
	if err != nil {
		return "", fmt.Errorf("secret: cannot decrypt (wrong SECRET_KEY?): %w", err)
	}
	return string(plain), nil
}

// Generate returns a new random key for SECRET_KEY.
func Generate() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
