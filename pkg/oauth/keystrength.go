package oauth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// Smallest client keys accepted, in both profiles (docs/design.md, "Input, oracles
// and fetches"). RSA: RFC 7518 §3.3 and §3.5 ("A key of size 2048 bits or larger
// MUST be used with these algorithms") and FAPI 2.0 Security Profile §5.4.1 item 2
// ("RSA keys shall have a minimum length of 2048 bits"). EC: FAPI 2.0 §5.4.1 item 3
// asks for 224 bits; every EC algorithm accepted here (ES256 on P-256, RFC 7518 §3.4;
// EdDSA on Ed25519, RFC 8037) uses a 256-bit curve, so nothing smaller is a key any
// client could sign with.
const (
	MinClientRSABits = 2048
	MinClientECBits  = 256
)

// CheckKeyStrength refuses a client's public key that is too small to sign with:
// RSA below [MinClientRSABits], an EC curve below [MinClientECBits], or a key of a
// type no accepted algorithm uses. It applies to registered jwks, jwks_uri
// documents, DPoP proof keys, and the keys request objects and client assertions
// are verified with.
func CheckKeyStrength(k jose.JSONWebKey) error {
	switch key := k.Key.(type) {
	case *rsa.PublicKey:
		if n := key.N.BitLen(); n < MinClientRSABits {
			return fmt.Errorf("key %q: RSA key of %d bits, want at least %d", k.KeyID, n, MinClientRSABits)
		}
	case *ecdsa.PublicKey:
		if n := key.Curve.Params().BitSize; n < MinClientECBits {
			return fmt.Errorf("key %q: EC key of %d bits, want at least %d", k.KeyID, n, MinClientECBits)
		}
	case ed25519.PublicKey:
	default:
		return fmt.Errorf("key %q: a %T is not a public signing key", k.KeyID, k.Key)
	}
	return nil
}
