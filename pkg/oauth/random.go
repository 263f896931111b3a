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
// allocation (the string) instead of two.
func encodeKey(b []byte) string {
	var out [43]byte // base64.RawURLEncoding.EncodedLen(32)
	return string(base64.RawURLEncoding.AppendEncode(out[:0], b))
}

// HashKey is the storage key of a secret reference (request_uri reference, code): a
// leaked table hands out no usable value (docs/design.md decision 1).
func HashKey(value string) string {
	// sha256.Sum256([]byte(value)) would copy a value longer than 32 bytes to the
	// heap; references and codes (43 characters) are copied to the stack instead.
	var buf [64]byte
	var sum [sha256.Size]byte
	if len(value) <= len(buf) {
		sum = sha256.Sum256(buf[:copy(buf[:], value)])
	} else {
		sum = sha256.Sum256([]byte(value))
	}
	return encodeKey(sum[:])
}

// randomRequestURI returns a request_uri and its random reference (the part after
// RequestURIPrefix, a randomValue) from one allocation.
func randomRequestURI() (uri, ref string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("random value: %w", err)
	}
	var out [len(RequestURIPrefix) + 43]byte
	uri = string(base64.RawURLEncoding.AppendEncode(append(out[:0], RequestURIPrefix...), b[:]))
	return uri, uri[len(RequestURIPrefix):], nil
}
