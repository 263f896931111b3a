package oauth_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// TestExchange_Rules: one row per rule of the authorization code grant (RFC 6749
// §4.1.3, RFC 7636 §4.6) and of the token request (RFC 6749 §3.2, §5.2).
func TestExchange_Rules(t *testing.T) {
	for _, tc := range []struct {
		name string
		// client exchanges the code that conf-client got for authParams(confID, auth...).
		client string
		auth   []string
		// before runs between issuing the code and the exchange.
		before func(d *domain)
		token  []string // changes to tokenParams(code)
		code   string
	}{
		{name: "RFC 6749 §4.1.3 missing grant_type is invalid_request", token: []string{"grant_type", absent}, code: oauth.CodeInvalidRequest},
		{name: "RFC 6749 §5.2 unknown grant_type is unsupported_grant_type", token: []string{"grant_type", "password"}, code: oauth.CodeUnsupportedGrantType},
		{name: "RFC 6749 §3.2 parameter included twice is invalid_request", token: []string{"code_verifier", verifier + "\x00dup"}, code: oauth.CodeInvalidRequest},
		{name: "RFC 6749 §5.2 grant_type not registered for the client is unauthorized_client", client: postID, token: []string{"grant_type", oauth.GrantRefreshToken}, code: oauth.CodeUnauthorizedClient},
		{name: "RFC 6749 §4.1.3 missing code is invalid_request", token: []string{"code", absent}, code: oauth.CodeInvalidRequest},
		{name: "RFC 6749 §5.2 unknown code is invalid_grant", token: []string{"code", "not-a-code"}, code: oauth.CodeInvalidGrant},
		{name: "RFC 6749 §4.1.3 code issued to another client is invalid_grant", client: jwtID, code: oauth.CodeInvalidGrant},
		{name: "RFC 6749 §4.1.2 expired code is invalid_grant", before: func(d *domain) { d.advance(60 * time.Second) }, code: oauth.CodeInvalidGrant},
		{name: "RFC 6749 §4.1.3 redirect_uri differing from the request's is invalid_grant", token: []string{"redirect_uri", redirect + "/other"}, code: oauth.CodeInvalidGrant},
		{name: "RFC 6749 §4.1.3 redirect_uri omitted though the request named it is invalid_grant", token: []string{"redirect_uri", absent}, code: oauth.CodeInvalidGrant},
		{name: "RFC 6749 §4.1.3 redirect_uri sent though the request omitted it must match", auth: []string{"redirect_uri", absent}, token: []string{"redirect_uri", "https://client.example.org/cb/x"}, code: oauth.CodeInvalidGrant},
		{name: "RFC 7636 §4.5 missing code_verifier is invalid_grant", token: []string{"code_verifier", absent}, code: oauth.CodeInvalidGrant},
		{name: "RFC 7636 §4.1 code_verifier shorter than 43 characters is invalid_grant", token: []string{"code_verifier", verifier[:42]}, code: oauth.CodeInvalidGrant},
		{name: "RFC 7636 §4.1 code_verifier outside the unreserved set is invalid_grant", token: []string{"code_verifier", verifier[:42] + "+"}, code: oauth.CodeInvalidGrant},
		{name: "RFC 7636 §4.6 S256 mismatch is invalid_grant", token: []string{"code_verifier", strings.Repeat("x", 43)}, code: oauth.CodeInvalidGrant},
		{name: "RFC 9449 §10 code bound by dpop_jkt without a proof is invalid_grant", auth: []string{"dpop_jkt", thumbprint(t, clientKey())}, code: oauth.CodeInvalidGrant},
		{name: "RFC 9449 §5.2 dpop_bound_access_tokens client without a proof is invalid_dpop_proof",
			before: func(d *domain) { d.changeClient(confID, func(c *oauth.Client) { c.DPoPBoundAccessTokens = true }) }, code: oauth.CodeInvalidDPoPProof},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomain(t)
			code := d.code(d.client(confID), authParams(confID, tc.auth...))
			if tc.before != nil {
				tc.before(d)
			}
			id := tc.client
			if id == "" {
				id = confID
			}
			params := tokenParams(code, tc.token...)
			for k, v := range params {
				if s, ok := strings.CutSuffix(v[0], "\x00dup"); ok {
					params[k] = []string{s, s}
				}
			}
			resp, err := d.exchange(d.client(id), params, oauth.DPoP{})
			if resp != nil {
				t.Fatalf("exchange succeeded: %+v", resp)
			}
			wantErr(t, err, tc.code)
		})
	}
}

// TestExchange_Tokens: the successful token response (RFC 6749 §5.1, RFC 9068, OIDC
// Core §3.1.3.3).
func TestExchange_Tokens(t *testing.T) {
	d := newDomain(t)
	d.advance(3 * time.Second)
	authTime := d.now()
	resp := d.tokens(d.client(confID), "scope", "openid email offline_access")
	if resp.TokenType != "Bearer" || resp.ExpiresIn != 300 || resp.Scope != "openid email offline_access" {
		t.Errorf("token response = type %q expires_in %d scope %q", resp.TokenType, resp.ExpiresIn, resp.Scope)
	}
	// OIDC Core §11: offline_access yields a refresh token.
	if len(resp.RefreshToken) != 43 {
		t.Errorf("refresh_token = %q, want a 256-bit value", resp.RefreshToken)
	}
	// RFC 9068 §2.1: typ at+jwt; §2.2: iss, exp, aud, sub, client_id, iat, jti.
	if h := headerOf(t, resp.AccessToken); h["typ"] != "at+jwt" || h["kid"] == nil {
		t.Errorf("access token header = %v", h)
	}
	at := claimsOf(t, resp.AccessToken)
	if at["iss"] != issuer || at["sub"] != subject || at["aud"] != issuer || at["client_id"] != confID ||
		at["iat"] != float64(authTime.Unix()) || at["exp"] != float64(authTime.Add(5*time.Minute).Unix()) ||
		at["scope"] != "openid email offline_access" || at["auth_time"] != float64(authTime.Unix()) ||
		at["jti"] == nil || at["grant_id"] == nil || at["cnf"] != nil {
		t.Errorf("access token claims = %v", at)
	}
	if h := headerOf(t, resp.IDToken); h["typ"] != "JWT" {
		t.Errorf("ID token header = %v", h)
	}
	// OIDC Core §2 and §3.1.3.6; §5.4: scope email releases email and email_verified only.
	id := claimsOf(t, resp.IDToken)
	if id["iss"] != issuer || id["sub"] != subject || id["aud"] != confID || id["nonce"] != "n-0S6_WzA2Mj" ||
		id["exp"] != float64(authTime.Add(5*time.Minute).Unix()) || id["auth_time"] != float64(authTime.Unix()) ||
		id["email"] != "alice@example.org" || id["email_verified"] != true || id["name"] != nil || id["phone_number"] != nil {
		t.Errorf("ID token claims = %v", id)
	}
	if resp.AuthorizationDetails != nil {
		t.Errorf("authorization_details = %s, want none", resp.AuthorizationDetails)
	}
}

// TestExchange_Issued: which tokens a grant yields.
func TestExchange_Issued(t *testing.T) {
	for _, tc := range []struct {
		name           string
		client         string
		auth           []string
		id, refresh    bool
		details        string
		configAudience string
	}{
		{name: "OIDC Core §11 openid without offline_access gets no refresh token", client: confID, auth: []string{"scope", "openid profile"}, id: true},
		{name: "RFC 6749 §1.5 a plain OAuth request gets a refresh token and no ID token", client: confID, auth: []string{"scope", "api"}, refresh: true},
		{name: "RFC 7591 §2 client without the refresh_token grant gets none", client: postID, auth: []string{"scope", "profile"}},
		{name: "RFC 9396 §7 authorization_details are returned as granted", client: confID, auth: []string{"scope", "api", "authorization_details", paymentRAR}, refresh: true, details: paymentRAR},
		{name: "RFC 9068 §3 access token audience is configurable", client: confID, auth: []string{"scope", "api"}, refresh: true, configAudience: "https://api.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomain(t, withConfig(func(c *oauth.Config) { c.AccessTokenAudience = tc.configAudience }))
			resp := d.tokens(d.client(tc.client), tc.auth...)
			if (resp.IDToken != "") != tc.id || (resp.RefreshToken != "") != tc.refresh {
				t.Errorf("id_token %v refresh_token %v, want %v %v", resp.IDToken != "", resp.RefreshToken != "", tc.id, tc.refresh)
			}
			if string(resp.AuthorizationDetails) != tc.details {
				t.Errorf("authorization_details = %s, want %s", resp.AuthorizationDetails, tc.details)
			}
			at := claimsOf(t, resp.AccessToken)
			if tc.details != "" && !jsonEqual(at["authorization_details"], mustJSON(t, tc.details)) {
				t.Errorf("RFC 9396 §9.1 access token authorization_details = %v", at["authorization_details"])
			}
			wantAud := tc.configAudience
			if wantAud == "" {
				wantAud = issuer
			}
			if at["aud"] != wantAud || d.config().AccessTokenAudience != wantAud {
				t.Errorf("aud = %v, config %q, want %q", at["aud"], d.config().AccessTokenAudience, wantAud)
			}
		})
	}
}

// TestExchange_CodeReplay: RFC 6749 §4.1.2, "If an authorization code is used more
// than once, the authorization server MUST deny the request and SHOULD revoke (when
// possible) all tokens previously issued based on that authorization code."
func TestExchange_CodeReplay(t *testing.T) {
	d := newDomain(t)
	c := d.client(confID)
	code := d.code(c, authParams(confID, "scope", "openid offline_access"))
	first, err := d.exchange(c, tokenParams(code), oauth.DPoP{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.exchange(c, tokenParams(code), oauth.DPoP{})
	wantErr(t, err, oauth.CodeInvalidGrant)
	_, err = d.exchange(c, refreshParams(first.RefreshToken), oauth.DPoP{})
	wantErr(t, err, oauth.CodeInvalidGrant)
	if got, err := d.introspect(c, url.Values{"token": {first.AccessToken}}); err != nil || got["active"] != false {
		t.Errorf("access token of a replayed code: %v %v, want inactive", got, err)
	}
}

// TestExchange_FailureSpendsCode: a code that failed PKCE cannot be retried with
// another verifier (RFC 7636 §1: a stolen code must be useless without the verifier).
func TestExchange_FailureSpendsCode(t *testing.T) {
	d := newDomain(t)
	c := d.client(confID)
	code := d.code(c, authParams(confID))
	_, err := d.exchange(c, tokenParams(code, "code_verifier", strings.Repeat("y", 43)), oauth.DPoP{})
	wantErr(t, err, oauth.CodeInvalidGrant)
	_, err = d.exchange(c, tokenParams(code), oauth.DPoP{})
	wantErr(t, err, oauth.CodeInvalidGrant)
}

// TestExchange_DPoP: RFC 9449 sender-constrained tokens from the code grant.
func TestExchange_DPoP(t *testing.T) {
	key, other := mustECKey(), mustECKey()
	t.Run("RFC 9449 §5 a proof makes a DPoP token bound by cnf.jkt", func(t *testing.T) {
		d := newDomain(t)
		c := d.client(confID)
		resp, err := d.exchange(c, tokenParams(d.code(c, authParams(confID))), d.dpop(key))
		if err != nil {
			t.Fatal(err)
		}
		cnf, _ := claimsOf(t, resp.AccessToken)["cnf"].(map[string]any)
		if resp.TokenType != "DPoP" || cnf["jkt"] != thumbprint(t, key) {
			t.Errorf("token_type %q cnf %v", resp.TokenType, cnf)
		}
	})
	t.Run("RFC 9449 §10 code bound by dpop_jkt exchanged with that key", func(t *testing.T) {
		d := newDomain(t)
		c := d.client(confID)
		resp, err := d.exchange(c, tokenParams(d.code(c, authParams(confID, "dpop_jkt", thumbprint(t, key)))), d.dpop(key))
		if err != nil || resp.TokenType != "DPoP" {
			t.Fatalf("exchange: %+v %v", resp, err)
		}
	})
	t.Run("RFC 9449 §10 code bound by dpop_jkt exchanged with another key is invalid_grant", func(t *testing.T) {
		d := newDomain(t)
		c := d.client(confID)
		_, err := d.exchange(c, tokenParams(d.code(c, authParams(confID, "dpop_jkt", thumbprint(t, key)))), d.dpop(other))
		wantErr(t, err, oauth.CodeInvalidGrant)
	})
	t.Run("RFC 9449 §5 refresh tokens of public clients are bound to the key", func(t *testing.T) {
		d := newDomain(t)
		c := d.client(publicID)
		code := d.code(c, authParams(publicID))
		resp, err := d.exchange(c, tokenParams(code, "redirect_uri", publicCB), d.dpop(key))
		if err != nil || resp.RefreshToken == "" {
			t.Fatalf("exchange: %+v %v", resp, err)
		}
		_, err = d.exchange(c, refreshParams(resp.RefreshToken), d.dpop(other))
		wantErr(t, err, oauth.CodeInvalidGrant)
		_, err = d.exchange(c, refreshParams(resp.RefreshToken), oauth.DPoP{})
		wantErr(t, err, oauth.CodeInvalidGrant)
		next, err := d.exchange(c, refreshParams(resp.RefreshToken), d.dpop(key))
		if err != nil || next.TokenType != "DPoP" {
			t.Fatalf("refresh with the bound key: %+v %v", next, err)
		}
		// The rotated token keeps the binding.
		_, err = d.exchange(c, refreshParams(next.RefreshToken), d.dpop(other))
		wantErr(t, err, oauth.CodeInvalidGrant)
	})
	t.Run("RFC 9449 §5 refresh tokens of confidential clients are not key-bound", func(t *testing.T) {
		d := newDomain(t)
		c := d.client(confID)
		resp, err := d.exchange(c, tokenParams(d.code(c, authParams(confID, "scope", "api"))), d.dpop(key))
		if err != nil {
			t.Fatal(err)
		}
		next, err := d.exchange(c, refreshParams(resp.RefreshToken), d.dpop(other))
		if err != nil {
			t.Fatalf("refresh with another key: %v", err)
		}
		// The new access token is bound to the key of the refresh request.
		if cnf, _ := claimsOf(t, next.AccessToken)["cnf"].(map[string]any); cnf["jkt"] != thumbprint(t, other) {
			t.Errorf("cnf = %v", cnf)
		}
	})
}

func mustJSON(tb testing.TB, s string) any {
	tb.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		tb.Fatal(err)
	}
	return v
}

// TestRefresh_Rules: the refresh token grant (RFC 6749 §6) with rotation and reuse
// detection (RFC 9700 §4.14.2). Every row starts from a conf-client grant of
// "openid profile offline_access api" with its first refresh token.
func TestRefresh_Rules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		client string
		// before runs between the code exchange and the refresh.
		before func(d *domain, first *oauth.TokenResponse)
		params []string // changes to refreshParams(first.RefreshToken)
		code   string
		scope  string // the granted scope on success
	}{
		{name: "RFC 6749 §6 refresh without scope keeps the scope", scope: "openid profile offline_access api"},
		{name: "RFC 6749 §6 a narrower scope is granted", params: []string{"scope", "api"}, scope: "api"},
		{name: "RFC 6749 §6 a scope not originally granted is invalid_scope", params: []string{"scope", "api email"}, code: oauth.CodeInvalidScope},
		{name: "RFC 6749 §3.3 a malformed scope is invalid_scope", params: []string{"scope", `a"b`}, code: oauth.CodeInvalidScope},
		{name: "RFC 6749 §6 missing refresh_token is invalid_request", params: []string{"refresh_token", absent}, code: oauth.CodeInvalidRequest},
		{name: "RFC 6749 §5.2 unknown refresh token is invalid_grant", params: []string{"refresh_token", "nope"}, code: oauth.CodeInvalidGrant},
		{name: "RFC 6749 §6 a refresh token of another client is invalid_grant", client: jwtID, code: oauth.CodeInvalidGrant},
		{name: "RFC 6749 §6 an expired refresh token is invalid_grant",
			before: func(d *domain, _ *oauth.TokenResponse) { d.advance(24 * time.Hour) }, code: oauth.CodeInvalidGrant},
		{name: "RFC 6749 §6 a refresh token within its lifetime is accepted",
			before: func(d *domain, _ *oauth.TokenResponse) { d.advance(24*time.Hour - time.Second) }, scope: "openid profile offline_access api"},
		{name: "RFC 7009 §2.1 a refresh token of a revoked grant is invalid_grant",
			before: func(d *domain, first *oauth.TokenResponse) {
				if err := d.revoke(d.client(confID), url.Values{"token": {first.AccessToken}}); err != nil {
					d.tb.Fatal(err)
				}
			}, code: oauth.CodeInvalidGrant},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomain(t)
			first := d.tokens(d.client(confID), "scope", "openid profile offline_access api")
			if tc.before != nil {
				tc.before(d, first)
			}
			id := tc.client
			if id == "" {
				id = confID
			}
			resp, err := d.exchange(d.client(id), refreshParams(first.RefreshToken, tc.params...), oauth.DPoP{})
			if wantOutcome(t, tc.code, err, resp != nil, resp) {
				return
			}
			at := claimsOf(t, resp.AccessToken)
			if resp.Scope != tc.scope || at["scope"] != tc.scope || at["sub"] != subject || at["grant_id"] != claimsOf(t, first.AccessToken)["grant_id"] {
				t.Errorf("refreshed scope %q, access token %v", resp.Scope, at)
			}
			// RFC 9700 §4.14.2: rotation issues a new refresh token.
			if resp.RefreshToken == "" || resp.RefreshToken == first.RefreshToken {
				t.Errorf("refresh_token = %q, want a new one", resp.RefreshToken)
			}
			// An ID token from a refresh carries no nonce (OIDC Core §12.2).
			if strings.Contains(tc.scope, "openid") {
				if id := claimsOf(t, resp.IDToken); id["nonce"] != nil || id["sub"] != subject {
					t.Errorf("ID token = %v", id)
				}
			} else if resp.IDToken != "" {
				t.Error("ID token without openid")
			}
		})
	}
}

// TestRefresh_ReuseRevokesGrant: RFC 9700 §4.14.2, "If a refresh token is
// compromised and subsequently used by both the attacker and the legitimate client,
// one of them will present an invalidated refresh token, which will inform the
// authorization server of the breach" — and the whole family is revoked.
func TestRefresh_ReuseRevokesGrant(t *testing.T) {
	d := newDomain(t)
	c := d.client(confID)
	first := d.tokens(c, "scope", "api")
	second, err := d.exchange(c, refreshParams(first.RefreshToken), oauth.DPoP{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.exchange(c, refreshParams(first.RefreshToken), oauth.DPoP{})
	wantErr(t, err, oauth.CodeInvalidGrant)
	// The rotated successor dies with the grant.
	_, err = d.exchange(c, refreshParams(second.RefreshToken), oauth.DPoP{})
	wantErr(t, err, oauth.CodeInvalidGrant)
	for _, tok := range []string{first.AccessToken, second.AccessToken, second.RefreshToken} {
		if got, err := d.introspect(c, url.Values{"token": {tok}}); err != nil || got["active"] != false {
			t.Errorf("token of a revoked family: %v %v", got, err)
		}
	}
}

// TestRefresh_GrantLifetime: a grant ends at GrantLifetime whatever its refresh
// tokens say.
func TestRefresh_GrantLifetime(t *testing.T) {
	d := newDomain(t, withConfig(func(c *oauth.Config) { c.GrantLifetime = 2 * time.Hour }))
	c := d.client(confID)
	rt := d.tokens(c, "scope", "api").RefreshToken
	d.advance(time.Hour)
	next, err := d.exchange(c, refreshParams(rt), oauth.DPoP{})
	if err != nil {
		t.Fatal(err)
	}
	// The refresh token is capped by the grant's end.
	got, err := d.introspect(c, url.Values{"token": {next.RefreshToken}})
	if err != nil || got["exp"] != t0.Add(2*time.Hour).Unix() {
		t.Errorf("refresh token introspection = %v %v, want exp at the grant's end", got, err)
	}
	d.advance(time.Hour)
	_, err = d.exchange(c, refreshParams(next.RefreshToken), oauth.DPoP{})
	wantErr(t, err, oauth.CodeInvalidGrant)
}

// TestRefresh_FAPI2NoRotation: FAPI 2.0 §5.3.2.1, "shall not use refresh token
// rotation except in extraordinary circumstances".
func TestRefresh_FAPI2NoRotation(t *testing.T) {
	d := newDomain(t, withFAPI2())
	key := mustECKey()
	c := d.client(jwtID)
	params := authParams(jwtID, "scope", "api")
	code := d.code(c, params)
	first, err := d.exchange(c, tokenParams(code), d.dpop(key))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		resp, err := d.exchange(c, refreshParams(first.RefreshToken), d.dpop(key))
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		if resp.RefreshToken != first.RefreshToken {
			t.Fatalf("refresh %d rotated the token", i)
		}
	}
	d.advance(24 * time.Hour)
	_, err = d.exchange(c, refreshParams(first.RefreshToken), d.dpop(key))
	wantErr(t, err, oauth.CodeInvalidGrant)
}
