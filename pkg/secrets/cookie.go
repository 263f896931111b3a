package secrets

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
)

// The labels (HKDF info) of the keys derived from secrets: each use has its own, so a
// key made for one use is never the key of another, even from the same secret.
const (
	CookieKeyLabel    = "pargate transaction cookie key v1"
	DPoPNonceKeyLabel = "pargate dpop nonce key v1"
)

// DeriveKey turns a secret of any length into a 32-byte key for the use named by
// label: HKDF-SHA256 (RFC 5869) with no salt and label as info. RFC 5869 §3.2: the
// info input's "main objective is to bind the derived key material to application-
// and context-specific information". The secrets are
// already random (64 characters from CloudFormation); HKDF separates the uses.
func DeriveKey(secret []byte, label string) [32]byte {
	k, err := hkdf.Key(sha256.New, secret, nil, label, 32)
	if err != nil {
		panic("hkdf: " + err.Error()) // only for lengths above 255·32 bytes
	}
	return [32]byte(k)
}

// DeriveCookieKey is the cookie key of one cookie secret: DeriveKey with
// CookieKeyLabel.
func DeriveCookieKey(secret []byte) [32]byte {
	return DeriveKey(secret, CookieKeyLabel)
}

// A CookieKey is one key of the transaction cookies and its id, which travels with
// every value it seals.
type CookieKey struct {
	ID  string
	Key [32]byte
}

// LegacyCookieKeyID is the id of the one key of a cookie secret in the old format: a
// plain random string (what GenerateSecretString makes).
const LegacyCookieKeyID = "0"

// minCookieSecret is the shortest secret a key of a cookie key set may have.
const minCookieSecret = 32

// ParseCookieKeys reads the value of the cookie secret, in one of two formats:
//
//   - a plain string (the value CloudFormation generated): one key, id
//     [LegacyCookieKeyID];
//   - a JSON object {"keys":[{"kid":"2","secret":"..."},{"kid":"0","secret":"..."}]},
//     newest first: the first key seals, every listed key opens. A kid is 1 to 32
//     characters of A-Z a-z 0-9 - _, unique in the set; a secret has at least 32
//     characters.
//
// A value that starts with "{" must be a valid key set. Rotation: add the new key
// after the current one (every instance that re-reads it then opens both), then move
// it first, and drop the old key once TRANSACTION_LIFETIME has passed.
func ParseCookieKeys(data []byte) ([]CookieKey, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errors.New("cookie secret is empty")
	}
	if trimmed[0] != '{' {
		return []CookieKey{{ID: LegacyCookieKeyID, Key: DeriveCookieKey(data)}}, nil
	}
	var set struct {
		Keys []struct {
			KID    string `json:"kid"`
			Secret string `json:"secret"`
		} `json:"keys"`
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&set); err != nil {
		return nil, fmt.Errorf("cookie key set: %w", err)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("cookie key set has no keys")
	}
	out := make([]CookieKey, 0, len(set.Keys))
	seen := map[string]bool{}
	for i, k := range set.Keys {
		if !validKID(k.KID) {
			return nil, fmt.Errorf("cookie key set: key %d: kid must be 1 to 32 characters of A-Z a-z 0-9 - _", i)
		}
		if seen[k.KID] {
			return nil, fmt.Errorf("cookie key set: kid %q appears twice", k.KID)
		}
		seen[k.KID] = true
		if len(k.Secret) < minCookieSecret {
			return nil, fmt.Errorf("cookie key set: kid %q: secret shorter than %d characters", k.KID, minCookieSecret)
		}
		out = append(out, CookieKey{ID: k.KID, Key: DeriveCookieKey([]byte(k.Secret))})
	}
	return out, nil
}

func validKID(kid string) bool {
	if kid == "" || len(kid) > 32 {
		return false
	}
	for _, c := range []byte(kid) {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// CookieKeys reads the cookie secret and parses it with [ParseCookieKeys]. Call it
// once per cold start, lazily, and cache the result.
func CookieKeys(ctx context.Context, client GetSecretValueAPI, secretID string) ([]CookieKey, error) {
	raw, err := LoadBytes(ctx, client, secretID)
	if err != nil {
		return nil, fmt.Errorf("cookie key: %w", err)
	}
	ks, err := ParseCookieKeys(raw)
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", secretID, err)
	}
	return ks, nil
}

// DPoPNonceKey reads the DPoP nonce secret (its own secret, never the cookie secret)
// and derives the nonce key from it with DeriveKey and DPoPNonceKeyLabel.
func DPoPNonceKey(ctx context.Context, client GetSecretValueAPI, secretID string) ([32]byte, error) {
	raw, err := LoadBytes(ctx, client, secretID)
	if err != nil {
		return [32]byte{}, fmt.Errorf("dpop nonce key: %w", err)
	}
	return DeriveKey(raw, DPoPNonceKeyLabel), nil
}
