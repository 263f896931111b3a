package oauth_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

// serviceID is a confidential client registered for the client credentials grant
// only: no redirect URIs, scopes that include openid (which the grant never grants).
const serviceID = "service-client"

// withServiceClient registers serviceID, changed by change.
func withServiceClient(d *domain, change func(*oauth.Client)) *oauth.Client {
	c := &oauth.Client{ID: serviceID, SecretHash: oauth.SecretHash(secret),
		TokenEndpointAuthMethod: oauth.AuthClientSecretBasic, GrantTypes: []string{oauth.GrantClientCredentials},
		Scope: "openid api reports api", Resources: []string{apiRS, paymentRS}}
	if change != nil {
		change(c)
	}
	d.putClient(c)
	return d.client(serviceID)
}

// ccParams is a client credentials token request (RFC 6749 §4.4.2) with kv applied.
func ccParams(kv ...string) url.Values {
	return form(url.Values{"grant_type": {oauth.GrantClientCredentials}}, kv...)
}

// TestClientCredentials_Rules: one row per refusal of the client credentials grant
// (RFC 6749 §4.4.2, §5.2) and of what it shares with the code grant (scope, RFC 8707
// resources, RFC 9396 details, sender-constraining).
func TestClientCredentials_Rules(t *testing.T) {
	bound := func(c *oauth.Client) { c.TLSClientCertificateBoundAccessTokens = true }
	for _, tc := range []struct {
		name   string
		client string // serviceID unless set
		change func(*oauth.Client)
		fapi2  bool
		params []string // changes to ccParams()
		twice  string   // a parameter sent twice
		code   string
	}{
		{name: "RFC 6749 §5.2 a client not registered for client_credentials is unauthorized_client", client: confID, code: oauth.CodeUnauthorizedClient},
		{name: "RFC 7591 §2 grant_types omitted means authorization_code only: unauthorized_client", client: postID, code: oauth.CodeUnauthorizedClient},
		{name: "RFC 6749 §4.4 a public client is invalid_client", client: publicID, code: oauth.CodeInvalidClient},
		{name: "RFC 6749 §4.4 a public client is invalid_client even with client_credentials in grant_types", client: publicID,
			change: func(c *oauth.Client) { c.GrantTypes = append(c.GrantTypes, oauth.GrantClientCredentials) }, code: oauth.CodeInvalidClient},
		{name: "RFC 6749 §3.2 a parameter included twice is invalid_request", twice: "scope", params: []string{"scope", "api"}, code: oauth.CodeInvalidRequest},
		{name: "RFC 6749 §3.3 a scope the client is not registered for is invalid_scope", params: []string{"scope", "api admin"}, code: oauth.CodeInvalidScope},
		{name: "RFC 6749 §3.3 a scope with a character outside scope-token is invalid_scope", params: []string{"scope", "api\\x"}, code: oauth.CodeInvalidScope},
		{name: "RFC 6749 §4.4 openid is invalid_scope: no end-user, no ID token", params: []string{"scope", "openid api"}, code: oauth.CodeInvalidScope},
		{name: "RFC 6749 §4.4 offline_access is invalid_scope: no end-user", params: []string{"scope", "offline_access"},
			change: func(c *oauth.Client) { c.Scope += " offline_access" }, code: oauth.CodeInvalidScope},
		{name: "RFC 6749 §3.3 no scope and no default beyond openid is invalid_scope",
			change: func(c *oauth.Client) { c.Scope = "openid" }, code: oauth.CodeInvalidScope},
		{name: "RFC 8707 §2 a resource not registered for the client is invalid_target", params: []string{"resource", "https://other.example.com/"}, code: oauth.CodeInvalidTarget},
		{name: "RFC 8707 §2 a resource with a fragment is invalid_target", params: []string{"resource", apiRS + "#x"}, code: oauth.CodeInvalidTarget},
		{name: "RFC 9396 §5 an unknown authorization_details type is invalid_authorization_details",
			params: []string{"authorization_details", `[{"type":"unknown"}]`}, code: oauth.CodeInvalidAuthorizationDetails},
		{name: "RFC 9396 §10.2 a type outside the client's authorization_details_types is invalid_authorization_details",
			change: func(c *oauth.Client) { c.AuthorizationDetailsTypes = []string{"account_information"} },
			params: []string{"authorization_details", paymentRAR}, code: oauth.CodeInvalidAuthorizationDetails},
		{name: "RFC 9449 §5.2 a dpop_bound_access_tokens client without a proof is invalid_dpop_proof",
			change: func(c *oauth.Client) { c.DPoPBoundAccessTokens = true }, code: oauth.CodeInvalidDPoPProof},
		{name: "RFC 8705 §3 a certificate-bound client without a certificate is invalid_request", change: bound, code: oauth.CodeInvalidRequest},
		{name: "FAPI 2.0 §5.3.2.1 without DPoP or a certificate is invalid_dpop_proof", fapi2: true, code: oauth.CodeInvalidDPoPProof},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []func(*setup)
			if tc.fapi2 {
				opts = append(opts, withFAPI2())
			}
			d := newDomain(t, opts...)
			c := withServiceClient(d, nil)
			if tc.client != "" {
				c = d.client(tc.client)
			}
			if tc.change != nil {
				c = d.changeClient(c.ID, tc.change)
			}
			params := ccParams(tc.params...)
			if tc.twice != "" {
				params[tc.twice] = append(params[tc.twice], params[tc.twice]...)
			}
			resp, err := d.exchange(c, params, oauth.DPoP{})
			if resp != nil {
				t.Fatalf("exchange succeeded: %+v", resp)
			}
			wantErr(t, err, tc.code)
		})
	}
}

// TestClientCredentials_Tokens: what a client credentials token response holds
// (RFC 6749 §4.4.3) and what its access token says (RFC 9068 §2.2), row by row.
func TestClientCredentials_Tokens(t *testing.T) {
	key := mustECKey()
	cert := caCert(t, nil)
	for _, tc := range []struct {
		name   string
		change func(*oauth.Client)
		fapi2  bool
		params []string
		dpop   bool
		cert   bool
		// scope is the response's and the token's scope; aud the token's aud.
		scope   string
		aud     any
		details bool   // authorization_details in the response and the token
		typ     string // token_type; Bearer unless set
		jkt     bool   // cnf.jkt
		x5t     bool   // cnf.x5t#S256
	}{
		{name: "RFC 6749 §3.3 scope omitted is the client's scopes without openid", scope: "api reports", aud: issuer},
		{name: "RFC 6749 §3.3 a narrower scope is granted as requested", params: []string{"scope", "reports"}, scope: "reports", aud: issuer},
		{name: "RFC 8707 §2 a registered resource is the token's aud", params: []string{"resource", paymentRS}, scope: "api reports", aud: paymentRS},
		{name: "RFC 9396 §6 authorization_details alone is granted without a default scope",
			params: []string{"authorization_details", paymentRAR}, details: true, aud: issuer},
		{name: "RFC 9396 §6 authorization_details with scope", params: []string{"authorization_details", paymentRAR, "scope", "api"},
			details: true, scope: "api", aud: issuer},
		{name: "RFC 9449 §6.1 a DPoP proof binds the token: cnf.jkt, token_type DPoP", dpop: true, scope: "api reports", aud: issuer, typ: "DPoP", jkt: true},
		{name: "RFC 8705 §3.1 a certificate-bound client's token carries cnf.x5t#S256",
			change: func(c *oauth.Client) { c.TLSClientCertificateBoundAccessTokens = true }, cert: true, scope: "api reports", aud: issuer, x5t: true},
		{name: "FAPI 2.0 §5.3.2.1 with a DPoP proof the token is issued", fapi2: true, dpop: true, scope: "api reports", aud: issuer, typ: "DPoP", jkt: true},
		{name: "FAPI 2.0 §5.3.2.1 with a certificate the token is certificate-bound", fapi2: true, cert: true, scope: "api reports", aud: issuer, x5t: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f *oauthtest.Faulty
			opts := []func(*setup){withStore(func(s oauth.Store) oauth.Store { f = oauthtest.NewFaulty(s); return f })}
			if tc.fapi2 {
				opts = append(opts, withFAPI2())
			}
			d := newDomain(t, opts...)
			c := withServiceClient(d, tc.change)
			var dp oauth.DPoP
			if tc.dpop {
				dp = d.dpop(key)
			}
			if tc.cert {
				dp.Certificate = cert
			}
			mark := f.Mark()
			resp, err := d.exchange(c, ccParams(tc.params...), dp)
			if err != nil {
				t.Fatal(err)
			}
			typ := tc.typ
			if typ == "" {
				typ = "Bearer"
			}
			// RFC 6749 §4.4.3: "A refresh token SHOULD NOT be included"; no ID token
			// without an end-user.
			if resp.TokenType != typ || resp.Scope != tc.scope || resp.RefreshToken != "" || resp.IDToken != "" || resp.ExpiresIn != 300 {
				t.Errorf("response = type %q scope %q refresh %q id_token %q expires_in %d", resp.TokenType, resp.Scope, resp.RefreshToken, resp.IDToken, resp.ExpiresIn)
			}
			if !resp.ClientCredentials || resp.Refreshed {
				t.Errorf("ClientCredentials = %v, Refreshed = %v", resp.ClientCredentials, resp.Refreshed)
			}
			// No grant item, no refresh token: the grant makes no store call beyond
			// the DPoP proof's replay record (RFC 9449 §11.1).
			for _, call := range f.Calls()[mark:] {
				if call.Method != "UseOnce" {
					t.Errorf("store call %s %v: a client credentials token needs none", call.Method, call.Keys)
				}
			}
			claims := claimsOf(t, resp.AccessToken)
			// RFC 9068 §2.2: sub is the client_id when no resource owner is involved.
			if claims["sub"] != serviceID || claims["client_id"] != serviceID || claims["gty"] != oauth.GrantClientCredentials {
				t.Errorf("sub %v client_id %v gty %v", claims["sub"], claims["client_id"], claims["gty"])
			}
			if _, ok := claims["auth_time"]; ok {
				t.Errorf("auth_time = %v: no end-user authenticated", claims["auth_time"])
			}
			if id, _ := claims["grant_id"].(string); id == "" {
				t.Errorf("grant_id = %v: the token needs one of its own to be revocable", claims["grant_id"])
			} else if _, err := d.store.GetGrant(d.ctx, id); err == nil {
				t.Errorf("a grant item exists under the token's grant_id before any revocation")
			}
			if claims["aud"] != tc.aud {
				t.Errorf("aud = %v, want %v", claims["aud"], tc.aud)
			}
			if scope, _ := claims["scope"].(string); scope != tc.scope {
				t.Errorf("token scope = %q, want %q", scope, tc.scope)
			}
			if got := len(resp.AuthorizationDetails) > 0 && claims["authorization_details"] != nil; got != tc.details {
				t.Errorf("authorization_details in response %s, token %v; want %v", resp.AuthorizationDetails, claims["authorization_details"], tc.details)
			}
			cnf, _ := claims["cnf"].(map[string]any)
			if (cnf["jkt"] == thumbprint(t, key)) != tc.jkt || (cnf["x5t#S256"] == thumbprintOf(cert)) != tc.x5t {
				t.Errorf("cnf = %v, want jkt %v x5t#S256 %v", cnf, tc.jkt, tc.x5t)
			}
		})
	}
}

// TestClientCredentials_TokenUse: a client credentials token at introspection
// (RFC 7662 §2.2), userinfo (OIDC Core §5.3, RFC 6750 §3.1) and revocation (RFC 7009
// §2.1): no grant item behind it, so the client's registration and a recorded
// revocation decide.
func TestClientCredentials_TokenUse(t *testing.T) {
	d := newDomain(t)
	c := withServiceClient(d, nil)
	resp, err := d.exchange(c, ccParams(), oauth.DPoP{})
	if err != nil {
		t.Fatal(err)
	}
	token := url.Values{"token": {resp.AccessToken}}

	t.Run("RFC 7662 §2.2 the client's own token is active, sub the client_id", func(t *testing.T) {
		for _, who := range []string{serviceID, rsID} {
			got, err := d.introspect(d.client(who), token)
			if err != nil {
				t.Fatal(err)
			}
			if got["active"] != true || got["sub"] != serviceID || got["client_id"] != serviceID || got["scope"] != "api reports" ||
				got["token_type"] != "Bearer" || got["aud"] != issuer {
				t.Errorf("%s introspects %v", who, got)
			}
		}
	})
	t.Run("RFC 7662 §4 another client's introspection is inactive", func(t *testing.T) {
		got, err := d.introspect(d.client(confID), token)
		if err != nil || got["active"] != false || len(got) != 1 {
			t.Errorf("introspect = %v, %v", got, err)
		}
	})
	t.Run("RFC 6750 §3.1 userinfo refuses it with invalid_token: no end-user", func(t *testing.T) {
		out, err := d.userinfo("Bearer", resp.AccessToken, oauth.DPoP{})
		if out != nil {
			t.Fatalf("userinfo = %v", out)
		}
		wantErr(t, err, oauth.CodeInvalidToken)
	})
	t.Run("RFC 7009 §2.1 another client's revocation is unauthorized_client", func(t *testing.T) {
		wantErr(t, d.revoke(d.client(confID), token), oauth.CodeUnauthorizedClient)
	})
	t.Run("RFC 7009 §2.1 the client revokes it: inactive at once, and again is fine", func(t *testing.T) {
		other, err := d.exchange(c, ccParams(), oauth.DPoP{})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := d.revoke(c, url.Values{"token": {other.AccessToken}}); err != nil {
				t.Fatalf("revoke: %v", err)
			}
		}
		if got, err := d.introspect(d.client(rsID), url.Values{"token": {other.AccessToken}}); err != nil || got["active"] != false {
			t.Errorf("introspect after revocation = %v, %v", got, err)
		}
		// RFC 7009 §2.2: a revoked token is an invalid one, which is no error.
		if err := d.revoke(c, url.Values{"token": {other.AccessToken}}); err != nil {
			t.Errorf("revoke a revoked token: %v", err)
		}
		// The revocation is of that token only: the first one stays active.
		if got, err := d.introspect(c, token); err != nil || got["active"] != true {
			t.Errorf("introspect of another token of the client = %v, %v", got, err)
		}
		// The record ends with the token: it expires when the token does.
		claims := claimsOf(t, other.AccessToken)
		g, err := d.store.GetGrant(d.ctx, claims["grant_id"].(string))
		if err != nil || g.RevokedAt == nil || g.ClientID != serviceID || g.ExpiresAt.Unix() != int64(claims["exp"].(float64)) || g.Subject != "" {
			t.Errorf("recorded revocation %+v, %v", g, err)
		}
	})
	for _, tc := range []struct {
		name   string
		change func(*oauth.Client)
	}{
		{"RFC 7662 §2.2 inactive once the client is disabled", func(c *oauth.Client) { c.Disabled = true }},
		{"RFC 7662 §2.2 inactive once the client is no longer registered for client_credentials", func(c *oauth.Client) {
			c.GrantTypes = []string{oauth.GrantAuthorizationCode}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomain(t)
			c := withServiceClient(d, nil)
			resp, err := d.exchange(c, ccParams(), oauth.DPoP{})
			if err != nil {
				t.Fatal(err)
			}
			d.changeClient(serviceID, tc.change)
			got, err := d.introspect(d.client(rsID), url.Values{"token": {resp.AccessToken}})
			if err != nil || got["active"] != false {
				t.Errorf("introspect = %v, %v", got, err)
			}
		})
	}
	t.Run("RFC 9068 §4 an expired token is inactive and its revocation a no-op", func(t *testing.T) {
		d.advance(5 * time.Minute)
		got, err := d.introspect(c, token)
		if err != nil || got["active"] != false {
			t.Errorf("introspect = %v, %v", got, err)
		}
		if err := d.revoke(c, token); err != nil {
			t.Errorf("revoke an expired token: %v", err)
		}
	})
}

// TestClientCredentials_OnlyThisGrant: a client registered for client_credentials
// alone cannot start an authorization (RFC 6749 §5.2 unauthorized_client at /par).
func TestClientCredentials_OnlyThisGrant(t *testing.T) {
	d := newDomain(t)
	c := withServiceClient(d, func(c *oauth.Client) { c.RedirectURIs = []string{redirect} })
	res, err := d.push(c, authParams(serviceID, "scope", "api"), oauth.DPoP{})
	if res != nil {
		t.Fatalf("push succeeded for a client without authorization_code: %+v", res)
	}
	wantErr(t, err, oauth.CodeUnauthorizedClient)
}
