package httpapitest

import (
	"crypto"
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pargate/pargate/pkg/keys"
)

// DPoPKey is a client's DPoP key pair (RFC 9449).
type DPoPKey struct {
	Key jose.JSONWebKey // the private key
}

// NewDPoPKey generates an ES256 DPoP key.
func NewDPoPKey(tb testing.TB) DPoPKey {
	tb.Helper()
	k, err := keys.Generate(keys.ES256)
	if err != nil {
		tb.Fatalf("generate DPoP key: %v", err)
	}
	return DPoPKey{Key: k}
}

// JKT is the JWK SHA-256 thumbprint of the key (RFC 7638), as dpop_jkt and cnf.jkt
// carry it (RFC 9449 §6.1, §10).
func (k DPoPKey) JKT(tb testing.TB) string {
	tb.Helper()
	pub := k.Key.Public()
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		tb.Fatalf("DPoP key thumbprint: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

// Proof signs claims as a DPoP proof (RFC 9449 §4.2): typ dpop+jwt and the public key
// embedded as jwk. The caller chooses the claims (jti, htm, htu, iat, ath), so that
// tests can also make proofs that are wrong.
func (k DPoPKey) Proof(claims map[string]any) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.Key.Key},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		return "", fmt.Errorf("DPoP signer: %w", err)
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("sign DPoP proof: %w", err)
	}
	return s, nil
}
