package oauth_test

import (
	"crypto/ecdsa"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// TestUserinfo_Rules: OIDC Core §5.3 with Bearer (RFC 6750 §2.1) and DPoP (RFC 9449
// §7.1) access tokens.
func TestUserinfo_Rules(t *testing.T) {
	key, other := mustECKey(), mustECKey()
	for _, tc := range []struct {
		name string
		// bound gets the token with a DPoP proof by key.
		bound bool
		scope string
		// call presents the token.
		call func(d *domain, token string) (map[string]any, error)
		code string
	}{
		{name: "OIDC Core §5.3.2 a Bearer token returns the released claims", call: bearer},
		{name: "RFC 6750 §2.1 the scheme is case-insensitive", call: func(d *domain, tok string) (map[string]any, error) {
			return d.userinfo("bearer", tok, oauth.DPoP{})
		}},
		{name: "OIDC Core §5.3.1 a token without openid is insufficient_scope", scope: "api", call: bearer, code: oauth.CodeInsufficientScope},
		{name: "RFC 6750 §3.1 no token is invalid_token", call: func(d *domain, _ string) (map[string]any, error) {
			return d.userinfo("Bearer", "", oauth.DPoP{})
		}, code: oauth.CodeInvalidToken},
		{name: "RFC 6750 §3.1 a malformed token is invalid_token", call: func(d *domain, _ string) (map[string]any, error) {
			return d.userinfo("Bearer", "a.b.c", oauth.DPoP{})
		}, code: oauth.CodeInvalidToken},
		{name: "RFC 6750 §3.1 an expired token is invalid_token", call: func(d *domain, tok string) (map[string]any, error) {
			d.advance(5 * time.Minute)
			return bearer(d, tok)
		}, code: oauth.CodeInvalidToken},
		{name: "RFC 9449 §7.1 a Bearer token sent with the DPoP scheme is invalid_token", call: func(d *domain, tok string) (map[string]any, error) {
			return d.userinfo("DPoP", tok, infoProof(d, key, tok, nil))
		}, code: oauth.CodeInvalidToken},
		{name: "RFC 9449 §7.1 a DPoP token with a matching proof returns the claims", bound: true, call: func(d *domain, tok string) (map[string]any, error) {
			return d.userinfo("DPoP", tok, infoProof(d, key, tok, nil))
		}},
		{name: "RFC 9449 §7.1 a DPoP token sent as Bearer is invalid_token", bound: true, call: bearer, code: oauth.CodeInvalidToken},
		{name: "RFC 9449 §7.1 a DPoP token without a proof is invalid_dpop_proof", bound: true, call: func(d *domain, tok string) (map[string]any, error) {
			return d.userinfo("DPoP", tok, oauth.DPoP{Method: "GET", URL: infoURL})
		}, code: oauth.CodeInvalidDPoPProof},
		{name: "RFC 9449 §4.3 item 12 a proof without ath is invalid_dpop_proof", bound: true, call: func(d *domain, tok string) (map[string]any, error) {
			return d.userinfo("DPoP", tok, infoProof(d, key, tok, map[string]any{"ath": nil}))
		}, code: oauth.CodeInvalidDPoPProof},
		{name: "RFC 9449 §7.1 a proof by another key than cnf.jkt is invalid_dpop_proof", bound: true, call: func(d *domain, tok string) (map[string]any, error) {
			return d.userinfo("DPoP", tok, infoProof(d, other, tok, nil))
		}, code: oauth.CodeInvalidDPoPProof},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomain(t)
			c := d.client(confID)
			scope := tc.scope
			if scope == "" {
				scope = "openid profile email"
			}
			var proof oauth.DPoP
			if tc.bound {
				proof = d.dpop(key)
			}
			resp, err := d.exchange(c, tokenParams(d.code(c, authParams(confID, "scope", scope))), proof)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.call(d, resp.AccessToken)
			if wantOutcome(t, tc.code, err, got != nil, got) {
				return
			}
			// OIDC Core §5.4: profile and email release these, not phone_number.
			want := map[string]any{"sub": subject, "name": "Alice Example", "email": "alice@example.org", "email_verified": true}
			if !jsonEqual(got, want) {
				t.Errorf("userinfo = %v, want %v", got, want)
			}
		})
	}
}

func bearer(d *domain, token string) (map[string]any, error) {
	return d.userinfo("Bearer", token, oauth.DPoP{})
}

// infoProof is the DPoP of a userinfo GET with a proof by key bound to token (ath),
// with the claims in over changed.
func infoProof(d *domain, key *ecdsa.PrivateKey, token string, over map[string]any) oauth.DPoP {
	d.tb.Helper()
	claims := map[string]any{"ath": ath(token)}
	for k, v := range over {
		claims[k] = v
	}
	return oauth.DPoP{Proofs: []string{d.proof(key, "GET", infoURL, claims)}, Method: "GET", URL: infoURL}
}
