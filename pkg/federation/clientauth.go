package federation

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pargate/pargate/pkg/oauth"
)

// authenticate adds the broker's client authentication at the upstream to a PAR
// or token request (RFC 9126 §2.1 uses the token endpoint's methods).
func (c *Client) authenticate(p *oauth.IdentityProvider, up *upstream, req *http.Request, form url.Values) error {
	switch p.TokenEndpointAuthMethod {
	case "", oauth.AuthClientSecretBasic:
		// RFC 6749 §2.3.1: "The client identifier is encoded using the
		// application/x-www-form-urlencoded encoding algorithm ..., and the
		// encoded value is used as the username; the client password is encoded
		// using the same algorithm and used as the password."
		req.SetBasicAuth(url.QueryEscape(p.ClientID), url.QueryEscape(p.ClientSecret))
	case oauth.AuthClientSecretPost:
		// RFC 6749 §2.3.1: client_id and client_secret in the request body.
		form.Set("client_id", p.ClientID)
		form.Set("client_secret", p.ClientSecret)
	case oauth.AuthPrivateKeyJWT:
		assertion, err := c.assertion(p, up)
		if err != nil {
			return err
		}
		// RFC 7523 §2.2 / OIDC Core §9.
		form.Set("client_id", p.ClientID)
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", assertion)
	default:
		return invalid("identity provider %s: token_endpoint_auth_method %q is not supported", p.ID, p.TokenEndpointAuthMethod)
	}
	return nil
}

// assertion signs a private_key_jwt client assertion (RFC 7523 §3, OIDC Core §9):
// iss = sub = client_id, aud = the upstream's issuer identifier (one string, as
// FAPI 2.0 §5.3.2.1 and RFC 7523bis ask; RFC 9126 §2 requires a PAR endpoint to
// accept it, and node-oidc-provider and pargate do at every endpoint), a fresh jti,
// iat, and exp AssertionLifetime later.
func (c *Client) assertion(p *oauth.IdentityProvider, up *upstream) (string, error) {
	var key jose.JSONWebKey
	if err := json.Unmarshal([]byte(p.PrivateKey), &key); err != nil || !key.Valid() || key.IsPublic() {
		return "", invalid("identity provider %s: private_key is not a private JWK", p.ID)
	}
	alg := key.Algorithm
	if alg == "" {
		alg = defaultAlg(key.Key)
	}
	if !asymmetric[alg] {
		return "", invalid("identity provider %s: private_key alg %q is not an asymmetric JWS algorithm", p.ID, alg)
	}
	// The JWK's kid becomes the header's kid (go-jose copies it from the JWK).
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key}, nil)
	if err != nil {
		return "", invalid("identity provider %s: private_key cannot sign %s", p.ID, alg)
	}
	now := c.now()
	claims := jwt.Claims{
		Issuer:   p.ClientID,
		Subject:  p.ClientID,
		Audience: jwt.Audience{up.meta.Issuer},
		ID:       random(24),
		IssuedAt: jwt.NewNumericDate(now),
		Expiry:   jwt.NewNumericDate(now.Add(AssertionLifetime)),
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return "", invalid("identity provider %s: private_key cannot sign %s", p.ID, alg)
	}
	return raw, nil
}

// defaultAlg is the JWS algorithm of a private key whose JWK names none.
func defaultAlg(key any) string {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return "RS256"
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return "ES256"
		case elliptic.P384():
			return "ES384"
		case elliptic.P521():
			return "ES512"
		}
	case ed25519.PrivateKey:
		return "EdDSA"
	}
	return ""
}
