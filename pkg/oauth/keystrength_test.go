package oauth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/oauth"
)

func mustRSAKey(tb testing.TB, bits int) *rsa.PrivateKey {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// RFC 7518 §3.3 ("A key of size 2048 bits or larger MUST be used"), FAPI 2.0 Security
// Profile §5.4.1 items 2 ("RSA keys shall have a minimum length of 2048 bits") and 3
// (EC keys of at least 224 bits; the accepted EC algorithms use 256-bit curves).
func TestCheckKeyStrength_RFC7518_3_3_FAPI2_5_4_1(t *testing.T) {
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		key any
		ok  bool
	}{
		"RSA 1024":   {&mustRSAKey(t, 1024).PublicKey, false},
		"RSA 2047":   {&mustRSAKey(t, 2047).PublicKey, false},
		"RSA 2048":   {&mustRSAKey(t, 2048).PublicKey, true},
		"EC P-224":   {&p224.PublicKey, false},
		"EC P-256":   {&mustECKey().PublicKey, true},
		"Ed25519":    {edPub, true},
		"symmetric":  {[]byte("0123456789abcdef0123456789abcdef"), false},
		"private EC": {mustECKey(), false},
	} {
		err := oauth.CheckKeyStrength(jose.JSONWebKey{Key: tc.key, KeyID: "k"})
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", name, err, tc.ok)
		}
	}
}

// rsaProof is a DPoP proof to the PAR endpoint by an RSA key, with alg.
func rsaProof(d *domain, key *rsa.PrivateKey, alg jose.SignatureAlgorithm) oauth.DPoP {
	d.tb.Helper()
	return oauth.DPoP{Proofs: []string{sign(d.tb, key, alg, "dpop+jwt", "", true, map[string]any{
		"jti": nextJTI(), "htm": "POST", "htu": parURL, "iat": d.now().Unix()})}, Method: "POST", URL: parURL}
}

// A DPoP proof's jwk is a client key like any other: RSA below 2048 bits is refused
// in both profiles (RFC 7518 §3.3; FAPI 2.0 §5.4.1 item 2), 2048 bits is accepted.
func TestDPoP_RFC7518_3_3_FAPI2_5_4_1_RSAKeyBelow2048BitsIsRefused(t *testing.T) {
	small, big := mustRSAKey(t, 1024), mustRSAKey(t, 2048)
	for _, tc := range []struct {
		profile string
		opts    []func(*setup)
		client  string
		alg     jose.SignatureAlgorithm
	}{
		{"default", nil, confID, jose.RS256},
		{"fapi2", []func(*setup){withFAPI2()}, jwtID, jose.PS256},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			d := newDomain(t, tc.opts...)
			params := authParams(tc.client)
			_, err := d.push(d.client(tc.client), params, rsaProof(d, small, tc.alg))
			wantErr(t, err, oauth.CodeInvalidDPoPProof)
			if _, err := d.push(d.client(tc.client), params, rsaProof(d, big, tc.alg)); err != nil {
				t.Errorf("a 2048-bit key: %v", err)
			}
		})
	}
}

func rsaJWKS(tb testing.TB, k *rsa.PrivateKey, kid string) json.RawMessage {
	tb.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: kid, Use: "sig"}}})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// A client assertion (and a request object, verified the same way: verifyClientJWT)
// signed with a registered RSA key below 2048 bits is refused in both profiles, even
// when the key was registered before the registration check existed.
func TestAuthenticateClient_RFC7518_3_3_FAPI2_5_4_1_RSAKeyBelow2048BitsIsRefused(t *testing.T) {
	for _, tc := range []struct {
		profile string
		cfg     func(*oauth.Config)
		alg     jose.SignatureAlgorithm
	}{
		{"default", nil, jose.RS256},
		{"fapi2", fapi2, jose.PS256},
	} {
		for bits, ok := range map[int]bool{1024: false, 2048: true} {
			key := mustRSAKey(t, bits)
			d := newDomainFor(t, tc.cfg, jwtID, func(c *oauth.Client) { c.JWKS = rsaJWKS(t, key, "rk") })
			var signer crypto.Signer = key
			cred := oauth.ClientCredentials{AssertionType: oauth.ClientAssertionType,
				Assertion: sign(t, signer, tc.alg, "JWT", "rk", false, baseAssertion(d))}
			_, err := d.authenticate(cred)
			if ok {
				if err != nil {
					t.Errorf("%s, RSA %d: %v", tc.profile, bits, err)
				}
				continue
			}
			wantErr(t, err, oauth.CodeInvalidClient)
		}
	}
}
