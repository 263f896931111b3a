package oauth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// randomValue returns 32 bytes (256 bits) from crypto/rand, base64url-encoded: more
// than RFC 6749 §10.10's 2^-160 guessing bound asks of codes and references.
func randomValue() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random value: %w", err)
	}
	return encodeKey(b), nil
}

// encodeKey is base64.RawURLEncoding.EncodeToString of a 32-byte value with one
// allocation (the string) instead of two (issue 15).
func encodeKey(b []byte) string {
	var out [43]byte // base64.RawURLEncoding.EncodedLen(32)
	return string(base64.RawURLEncoding.AppendEncode(out[:0], b))
}

// HashKey is the storage key of a secret reference (request_uri reference, code): a
// leaked table hands out no usable value (docs/design.md decision 1).
func HashKey(value string) string {
	sum := sha256.Sum256([]byte(value))
	return encodeKey(sum[:])
}
