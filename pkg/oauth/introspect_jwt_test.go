package oauth_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

func (d *domain) signIntrospection(c *oauth.Client, result map[string]any) (string, error) {
	return d.svc.SignIntrospection(d.ctx, c, result)
}

// TestSignIntrospection: RFC 9701 §5, the JWT response of token introspection.
func TestSignIntrospection(t *testing.T) {
	d := newDomain(t)
	c := d.client(confID)
	rs := d.client(rsID)
	resp := d.tokens(c)
	d.advance(7 * time.Second)
	for _, tc := range []struct {
		name  string
		token string
	}{
		{name: "RFC 9701 §5 an active token's response is in token_introspection", token: resp.AccessToken},
		{name: "RFC 9701 §5 an inactive token's is active false and nothing else", token: "not-a-token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			result, err := d.introspect(rs, url.Values{"token": {tc.token}})
			if err != nil {
				t.Fatal(err)
			}
			if result["active"] != (tc.token == resp.AccessToken) {
				t.Fatalf("introspection = %v", result)
			}
			jwt, err := d.signIntrospection(rs, result)
			if err != nil {
				t.Fatal(err)
			}
			// §5: typ token-introspection+jwt, so it is never taken for another JWT.
			if h := headerOf(t, jwt); h["typ"] != oauth.IntrospectionJWTType || h["kid"] == nil {
				t.Errorf("header = %v", h)
			}
			claims := claimsOf(t, jwt)
			// §5: iss the issuer, aud the resource server that asked, iat now.
			if claims["iss"] != issuer || claims["aud"] != rsID || claims["iat"] != float64(d.now().Unix()) {
				t.Errorf("claims = %v", claims)
			}
			// Nothing of the token at the top level (§8.1): only these four claims.
			if len(claims) != 4 {
				t.Errorf("top-level claims = %v, want iss, aud, iat, token_introspection", claims)
			}
			if !jsonEqual(claims["token_introspection"], result) {
				t.Errorf("token_introspection = %v, want %v", claims["token_introspection"], result)
			}
		})
	}
	inactive, _ := claimsOf(t, mustSign(t, d, rs, "x"))["token_introspection"].(map[string]any)
	if len(inactive) != 1 || inactive["active"] != false {
		t.Errorf("inactive token_introspection = %v", inactive)
	}
}

func mustSign(t *testing.T, d *domain, c *oauth.Client, token string) string {
	t.Helper()
	result, err := d.introspect(c, url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	jwt, err := d.signIntrospection(c, result)
	if err != nil {
		t.Fatal(err)
	}
	return jwt
}
