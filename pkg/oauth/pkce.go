package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// PKCEMethodS256 is the only code_challenge_method accepted (RFC 7636 §4.2; OAuth 2.1).
const PKCEMethodS256 = "S256"

// validPKCEValue reports whether s is 43–128 characters of the unreserved set
// [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~" (RFC 7636 §4.1 code_verifier ABNF).
func validPKCEValue(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// validS256Challenge reports whether s can be the output of S256: BASE64URL of a
// SHA-256 digest is exactly 43 characters of the base64url alphabet.
func validS256Challenge(s string) bool {
	if len(s) != 43 {
		return false
	}
	// base64.RawURLEncoding.DecodeString(s), with both buffers on the stack.
	var src [43]byte
	var dst [32]byte // RawURLEncoding.DecodedLen(43)
	copy(src[:], s)
	_, err := base64.RawURLEncoding.Decode(dst[:], src[:])
	return err == nil
}

// verifyS256 checks BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) == code_challenge
// (RFC 7636 §4.6), in constant time.
func verifyS256(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}
