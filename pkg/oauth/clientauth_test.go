package oauth_test

import (
	"crypto/ecdsa"
	"errors"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/oauth"
)

// TestAuthenticateClient_Secrets: RFC 6749 §2.3 client authentication with secrets
// and for public clients, as at /par and /token (RFC 9126 §2).
func TestAuthenticateClient_Secrets(t *testing.T) {
	for _, tc := range []struct {
		name string
		cred oauth.ClientCredentials
		want string // the authenticated client, "" for an error
		code string
	}{
		{name: "RFC 6749 §2.3.1 client_secret_basic", cred: oauth.ClientCredentials{BasicUsed: true, BasicID: confID, BasicSecret: secret}, want: confID},
		{name: "RFC 6749 §2.3.1 client_secret_basic with the same body client_id", cred: oauth.ClientCredentials{BasicUsed: true, BasicID: confID, BasicSecret: secret, BodyClientID: confID}, want: confID},
		{name: "RFC 6749 §2.3.1 client_secret_post", cred: oauth.ClientCredentials{BodyClientID: postID, BodySecret: secret}, want: postID},
		{name: "RFC 6749 §2.1 a public client names itself", cred: oauth.ClientCredentials{BodyClientID: publicID}, want: publicID},
		{name: "RFC 6749 §2.3 more than one method is invalid_request", cred: oauth.ClientCredentials{BasicUsed: true, BasicID: confID, BasicSecret: secret, BodySecret: secret, BodyClientID: confID}, code: oauth.CodeInvalidRequest},
		{name: "RFC 6749 §2.3 basic and an assertion is invalid_request", cred: oauth.ClientCredentials{BasicUsed: true, BasicID: confID, BasicSecret: secret, AssertionType: oauth.ClientAssertionType}, code: oauth.CodeInvalidRequest},
		{name: "docs/design.md decision 7 body client_id differing from basic is invalid_request", cred: oauth.ClientCredentials{BasicUsed: true, BasicID: confID, BasicSecret: secret, BodyClientID: postID}, code: oauth.CodeInvalidRequest},
		{name: "RFC 6749 §2.3.1 client_secret without client_id is invalid_request", cred: oauth.ClientCredentials{BodySecret: secret}, code: oauth.CodeInvalidRequest},
		{name: "RFC 6749 §5.2 no authentication at all is invalid_client", cred: oauth.ClientCredentials{}, code: oauth.CodeInvalidClient},
		{name: "RFC 6749 §5.2 wrong basic secret is invalid_client", cred: oauth.ClientCredentials{BasicUsed: true, BasicID: confID, BasicSecret: secret + "x"}, code: oauth.CodeInvalidClient},
		{name: "RFC 6749 §5.2 basic with an empty client id is invalid_client", cred: oauth.ClientCredentials{BasicUsed: true, BasicSecret: secret}, code: oauth.CodeInvalidClient},
		{name: "RFC 6749 §5.2 unknown client is invalid_client", cred: oauth.ClientCredentials{BasicUsed: true, BasicID: "nobody", BasicSecret: secret}, code: oauth.CodeInvalidClient},
		{name: "RFC 6749 §5.2 disabled client is invalid_client", cred: oauth.ClientCredentials{BodyClientID: "disabled", BodySecret: secret}, code: oauth.CodeInvalidClient},
		{name: "RFC 6749 §5.2 wrong post secret is invalid_client", cred: oauth.ClientCredentials{BodyClientID: postID, BodySecret: "nope"}, code: oauth.CodeInvalidClient},
		{name: "RFC 7591 §2 post for a client registered for basic is invalid_client", cred: oauth.ClientCredentials{BodyClientID: confID, BodySecret: secret}, code: oauth.CodeInvalidClient},
		{name: "RFC 7591 §2 basic for a client registered for post is invalid_client", cred: oauth.ClientCredentials{BasicUsed: true, BasicID: postID, BasicSecret: secret}, code: oauth.CodeInvalidClient},
		{name: "RFC 6749 §2.1 a confidential client may not omit authentication", cred: oauth.ClientCredentials{BodyClientID: confID}, code: oauth.CodeInvalidClient},
		{name: "docs/design.md decision 7 a client without a stored secret never authenticates", cred: oauth.ClientCredentials{BodyClientID: "no-secret", BodySecret: ""}, code: oauth.CodeInvalidClient},
		{name: "docs/design.md decision 7 a client without a stored secret refuses any secret", cred: oauth.ClientCredentials{BodyClientID: "no-secret", BodySecret: "anything"}, code: oauth.CodeInvalidClient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomain(t)
			d.putClient(&oauth.Client{ID: "disabled", SecretHash: oauth.SecretHash(secret), RedirectURIs: []string{redirect},
				TokenEndpointAuthMethod: oauth.AuthClientSecretPost, Disabled: true})
			d.putClient(&oauth.Client{ID: "no-secret", RedirectURIs: []string{redirect}, TokenEndpointAuthMethod: oauth.AuthClientSecretPost})
			c, err := d.authenticate(tc.cred)
			if tc.want != "" {
				if err != nil || c.ID != tc.want {
					t.Fatalf("authenticated %v, %v; want %s", c, err, tc.want)
				}
				return
			}
			if c != nil {
				t.Fatalf("authenticated %s", c.ID)
			}
			// WWW-Authenticate after a failed Basic attempt is the edge's to add
			// (pkg/httpapi writeAuthError), from how the client authenticated.
			wantOneInvalidClientAnswer(t, wantErr(t, err, tc.code))
		})
	}
}

// TestAuthenticateClient_PrivateKeyJWT: RFC 7523 §2.2 and §3, OIDC Core §9, with the
// audiences of RFC 9126 §2.
func TestAuthenticateClient_PrivateKeyJWT(t *testing.T) {
	stranger := mustECKey()
	for _, tc := range []struct {
		name string
		cfg  func(*oauth.Config)
		// cred builds the credentials; most rows change claims of d.assertion.
		over   map[string]any
		cred   func(d *domain) oauth.ClientCredentials
		client func(*oauth.Client)
		code   string // "" for success
	}{
		{name: "RFC 7523 §3 a valid assertion authenticates jwt-client"},
		{name: "RFC 6749 §2.3 body client_id equal to sub is accepted", cred: func(d *domain) oauth.ClientCredentials {
			return oauth.ClientCredentials{AssertionType: oauth.ClientAssertionType, Assertion: d.assertion(nil), BodyClientID: jwtID}
		}},
		{name: "RFC 9126 §2 the token endpoint URL is an accepted audience", over: map[string]any{"aud": tokenURL}},
		{name: "RFC 9126 §2 the PAR endpoint URL is an accepted audience", over: map[string]any{"aud": []string{"https://other", parURL}}},
		{name: "RFC 7523 §3 item 3 another audience is invalid_client", over: map[string]any{"aud": "https://other.example"}, code: oauth.CodeInvalidClient},
		{name: "RFC 7523 §3 item 1 iss other than the client is invalid_client", over: map[string]any{"iss": "someone"}, code: oauth.CodeInvalidClient},
		{name: "RFC 7523 §3 item 2 sub is required", over: map[string]any{"sub": nil}, code: oauth.CodeInvalidClient},
		{name: "RFC 7523 §3 item 2 sub naming an unknown client is invalid_client", over: map[string]any{"sub": "nobody", "iss": "nobody"}, code: oauth.CodeInvalidClient},
		{name: "RFC 7523 §3 item 4 exp is required", over: map[string]any{"exp": nil}, code: oauth.CodeInvalidClient},
		{name: "RFC 7523 §3 item 4 an expired assertion is invalid_client", over: map[string]any{"exp": t0.Add(-11 * time.Second).Unix()}, code: oauth.CodeInvalidClient},
		{name: "FAPI 2.0 §5.3.2.1 exp within the 10 s clock skew is accepted", over: map[string]any{"exp": t0.Add(-9 * time.Second).Unix()}},
		{name: "RFC 7523 §3 item 4 exp far in the future is invalid_client", over: map[string]any{"exp": t0.Add(11 * time.Minute).Unix()}, code: oauth.CodeInvalidClient},
		{name: "RFC 7523 §3 item 5 nbf in the future is invalid_client", over: map[string]any{"nbf": t0.Add(time.Minute).Unix()}, code: oauth.CodeInvalidClient},
		{name: "RFC 7523 §3 item 6 iat in the future is invalid_client", over: map[string]any{"iat": t0.Add(time.Minute).Unix()}, code: oauth.CodeInvalidClient},
		{name: "OIDC Core §9 jti is required", over: map[string]any{"jti": nil}, code: oauth.CodeInvalidClient},
		{name: "OIDC Core §9 the JWT MUST only be used once", cred: func(d *domain) oauth.ClientCredentials {
			cred := oauth.ClientCredentials{AssertionType: oauth.ClientAssertionType, Assertion: d.assertion(nil)}
			if _, err := d.authenticate(cred); err != nil {
				d.tb.Fatalf("first use: %v", err)
			}
			return cred
		}, code: oauth.CodeInvalidClient},
		{name: "RFC 7521 §4.2 wrong client_assertion_type is invalid_client", cred: func(d *domain) oauth.ClientCredentials {
			return oauth.ClientCredentials{AssertionType: "urn:x", Assertion: d.assertion(nil)}
		}, code: oauth.CodeInvalidClient},
		{name: "RFC 7521 §4.2 client_assertion_type without assertion is invalid_request", cred: func(*domain) oauth.ClientCredentials {
			return oauth.ClientCredentials{AssertionType: oauth.ClientAssertionType}
		}, code: oauth.CodeInvalidRequest},
		{name: "RFC 7523 §3 item 9 an assertion that is not a JWS is invalid_client", cred: func(*domain) oauth.ClientCredentials {
			return oauth.ClientCredentials{AssertionType: oauth.ClientAssertionType, Assertion: "x.y.z"}
		}, code: oauth.CodeInvalidClient},
		{name: "RFC 6749 §2.3 body client_id differing from sub is invalid_request", cred: func(d *domain) oauth.ClientCredentials {
			return oauth.ClientCredentials{AssertionType: oauth.ClientAssertionType, Assertion: d.assertion(nil), BodyClientID: confID}
		}, code: oauth.CodeInvalidRequest},
		{name: "RFC 7523 §3 item 9 a signature by an unregistered key is invalid_client", cred: func(d *domain) oauth.ClientCredentials {
			return assertionBy(d, stranger, "ck1", nil)
		}, code: oauth.CodeInvalidClient},
		{name: "RFC 7515 §4.1.4 a kid not in the client's jwks is invalid_client", cred: func(d *domain) oauth.ClientCredentials {
			return assertionBy(d, clientKey(), "unknown-kid", nil)
		}, code: oauth.CodeInvalidClient},
		{name: "RFC 7515 §4.1.4 without kid every registered key is tried", cred: func(d *domain) oauth.ClientCredentials {
			return assertionBy(d, clientKey(), "", nil)
		}},
		{name: "RFC 7591 §2 a client registered for basic may not use an assertion", cred: func(d *domain) oauth.ClientCredentials {
			return assertionBy(d, clientKey(), "ck1", map[string]any{"iss": confID, "sub": confID})
		}, code: oauth.CodeInvalidClient},
		{name: "RFC 6749 §5.2 a disabled client is invalid_client", client: func(c *oauth.Client) { c.Disabled = true }, code: oauth.CodeInvalidClient},
		{name: "RFC 7591 §2 token_endpoint_auth_signing_alg pins the algorithm", client: func(c *oauth.Client) { c.TokenEndpointAuthSigningAlg = "PS256" }, code: oauth.CodeInvalidClient},
		{name: "RFC 7591 §2 a pinned algorithm the server refuses is invalid_client", client: func(c *oauth.Client) { c.TokenEndpointAuthSigningAlg = "HS256" }, code: oauth.CodeInvalidClient},
		{name: "RFC 7591 §2 a client without keys is invalid_client", client: func(c *oauth.Client) { c.JWKS = nil }, code: oauth.CodeInvalidClient},
		{name: "RFC 7591 §2 a client with malformed jwks is invalid_client", client: func(c *oauth.Client) { c.JWKS = []byte(`{"keys":`) }, code: oauth.CodeInvalidClient},
		{name: "RFC 8725 §3.11 typ other than JWT is invalid_client", cred: func(d *domain) oauth.ClientCredentials {
			return oauth.ClientCredentials{AssertionType: oauth.ClientAssertionType, Assertion: sign(d.tb, clientKey(), jose.ES256, "dpop+jwt", "ck1", false, baseAssertion(d))}
		}, code: oauth.CodeInvalidClient},
		{name: "FAPI 2.0 §5.3.2.1 aud must be the issuer as a single string", cfg: fapi2, over: map[string]any{"aud": []string{issuer}}, code: oauth.CodeInvalidClient},
		{name: "FAPI 2.0 §5.3.2.1 the token endpoint is no audience under FAPI 2.0", cfg: fapi2, over: map[string]any{"aud": tokenURL}, code: oauth.CodeInvalidClient},
		{name: "FAPI 2.0 §5.3.2.1 aud the issuer string is accepted", cfg: fapi2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomainFor(t, tc.cfg, jwtID, tc.client)
			cred := oauth.ClientCredentials{AssertionType: oauth.ClientAssertionType, Assertion: d.assertion(tc.over)}
			if tc.cred != nil {
				cred = tc.cred(d)
			}
			c, err := d.authenticate(cred)
			if tc.code == "" {
				if err != nil || c.ID != jwtID {
					t.Fatalf("authenticated %v, %v", c, err)
				}
				return
			}
			if c != nil {
				t.Fatalf("authenticated %s", c.ID)
			}
			wantOneInvalidClientAnswer(t, wantErr(t, err, tc.code))
		})
	}
}

// wantOneInvalidClientAnswer: every invalid_client carries the one generic
// description, so the answer tells nobody which client ids exist or how they
// authenticate; the reason is the error's cause, for the log.
func wantOneInvalidClientAnswer(tb testing.TB, e *oauth.Error) {
	tb.Helper()
	if e == nil || e.Code != oauth.CodeInvalidClient {
		return
	}
	if e.Description != oauth.ClientAuthFailed {
		tb.Errorf("invalid_client description %q, want the one answer %q", e.Description, oauth.ClientAuthFailed)
	}
	if errors.Unwrap(e) == nil {
		tb.Errorf("invalid_client without a cause for the log")
	}
}

func fapi2(c *oauth.Config) { c.FAPI2 = true }

func baseAssertion(d *domain) map[string]any {
	now := d.now()
	return map[string]any{"iss": jwtID, "sub": jwtID, "aud": issuer, "jti": nextJTI(), "exp": now.Add(time.Minute).Unix()}
}

// assertionBy is a client assertion signed by key under kid.
func assertionBy(d *domain, key *ecdsa.PrivateKey, kid string, over map[string]any) oauth.ClientCredentials {
	d.tb.Helper()
	return oauth.ClientCredentials{AssertionType: oauth.ClientAssertionType,
		Assertion: sign(d.tb, key, jose.ES256, "JWT", kid, false, merge(baseAssertion(d), over))}
}

// TestAuthenticateClient_FAPI2: FAPI 2.0 §5.3.2.1, "shall only support confidential
// clients" authenticated with private_key_jwt (or MTLS, which this server lacks).
func TestAuthenticateClient_FAPI2(t *testing.T) {
	d := newDomain(t, withFAPI2())
	for name, cred := range map[string]oauth.ClientCredentials{
		"client_secret_basic": {BasicUsed: true, BasicID: confID, BasicSecret: secret},
		"client_secret_post":  {BodyClientID: postID, BodySecret: secret},
		"none":                {BodyClientID: publicID},
	} {
		c, err := d.authenticate(cred)
		if c != nil {
			t.Errorf("%s authenticated under FAPI 2.0", name)
		}
		wantOneInvalidClientAnswer(t, wantErr(t, err, oauth.CodeInvalidClient))
	}
	got := d.clientAlgorithms()
	if len(got) != 3 || got[0] != jose.PS256 {
		t.Errorf("FAPI 2.0 §5.4.1 client algorithms = %v, want PS256 ES256 EdDSA", got)
	}
	if got := newDomain(t).clientAlgorithms(); len(got) != 4 || got[0] != jose.RS256 {
		t.Errorf("default client algorithms = %v", got)
	}
}
