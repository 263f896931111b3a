package oauth

import "context"

// KeyFunc returns a 32-byte secret key that every instance of the server shares (the
// transaction cookie key, the DPoP nonce key). It may load the key lazily, from
// Secrets Manager on first use, so it takes a context.
type KeyFunc func(ctx context.Context) ([32]byte, error)

// Signer signs the JWTs the server issues (access tokens per RFC 9068, ID tokens per
// OIDC Core §2) with the server's current key. Implementations may load keys lazily,
// so Sign takes a context.
type Signer interface {
	// Sign returns the compact JWS of claims (marshalled with encoding/json) with the
	// JOSE header `typ` set to typ ("at+jwt", "JWT") and `kid` naming the key.
	Sign(ctx context.Context, typ string, claims any) (string, error)
	// Verify checks a token the server signed against the keys still in use and
	// returns its payload and typ header.
	Verify(ctx context.Context, token string) (payload []byte, typ string, err error)
	// Ready loads the signing keys if they are not loaded yet, so that a key outage
	// is found before any one-time record is spent.
	Ready(ctx context.Context) error
}
