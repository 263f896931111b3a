package oauthtest

import (
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// SignJWT is claims as a compact JWS signed with alg by key (a crypto.Signer, or a
// jose.JSONWebKey to carry its kid), with the headers of opts (nil for none): the
// request objects, client assertions and proofs the tests make, valid or not.
func SignJWT(tb testing.TB, alg jose.SignatureAlgorithm, key any, opts *jose.SignerOptions, claims any) string {
	tb.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
