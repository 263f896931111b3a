package oauth_test

// The token-management endpoints, introspection (RFC 7662) and revocation (RFC 7009):
// both take a token of a grant from an authenticated client, its own or, for an
// introspecting resource server, another client's (pkg/httpapi/tokens_test.go tests
// them together too).

import (
	"net/url"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// TestIntrospect_Rules: RFC 7662 §2. A client sees its own tokens; a resource server
// registered with token_introspection_allowed sees every token (RFC 7662 §4); anything
// else is {"active": false}.
func TestIntrospect_Rules(t *testing.T) {
	otherKeys := func(d *domain) string {
		// An at+jwt with this server's claims signed by a key it does not have.
		return sign(d.tb, mustECKey(), "ES256", "at+jwt", "", false, map[string]any{
			"iss": issuer, "sub": subject, "client_id": confID, "grant_id": "g", "exp": d.now().Add(time.Hour).Unix()})
	}
	for _, tc := range []struct {
		name   string
		caller string
		// token picks the token to introspect from a conf-client grant; before runs first.
		token  func(d *domain, r *oauth.TokenResponse) string
		before func(d *domain)
		// want are the claims of an active answer, nil for inactive.
		want map[string]any
		code string
	}{
		{name: "RFC 7662 §2.2 own access token is active with its claims", caller: confID,
			token: func(_ *domain, r *oauth.TokenResponse) string { return r.AccessToken },
			want:  map[string]any{"active": true, "iss": issuer, "sub": subject, "aud": issuer, "client_id": confID, "scope": "openid offline_access", "token_type": "Bearer", "exp": t0.Add(5 * time.Minute).Unix()}},
		{name: "RFC 7662 §2.2 own refresh token is active as refresh_token", caller: confID,
			token: func(_ *domain, r *oauth.TokenResponse) string { return r.RefreshToken },
			want:  map[string]any{"active": true, "iss": issuer, "sub": subject, "client_id": confID, "scope": "openid offline_access", "token_type": "refresh_token", "iat": t0.Unix(), "exp": t0.Add(24 * time.Hour).Unix()}},
		{name: "RFC 7662 §4 another client's access token is inactive", caller: postID,
			token: func(_ *domain, r *oauth.TokenResponse) string { return r.AccessToken }},
		{name: "RFC 7662 §4 another client's refresh token is inactive", caller: postID,
			token: func(_ *domain, r *oauth.TokenResponse) string { return r.RefreshToken }},
		{name: "RFC 7662 §4 a resource server with token_introspection_allowed sees the access token", caller: rsID,
			token: func(_ *domain, r *oauth.TokenResponse) string { return r.AccessToken },
			want:  map[string]any{"active": true, "client_id": confID, "sub": subject}},
		{name: "RFC 7662 §4 a resource server with token_introspection_allowed sees the refresh token", caller: rsID,
			token: func(_ *domain, r *oauth.TokenResponse) string { return r.RefreshToken },
			want:  map[string]any{"active": true, "client_id": confID, "token_type": "refresh_token"}},
		{name: "RFC 7662 §2.2 an expired access token is inactive", caller: confID,
			token:  func(_ *domain, r *oauth.TokenResponse) string { return r.AccessToken },
			before: func(d *domain) { d.advance(5 * time.Minute) }},
		{name: "RFC 7662 §2.2 an expired refresh token is inactive", caller: confID,
			token:  func(_ *domain, r *oauth.TokenResponse) string { return r.RefreshToken },
			before: func(d *domain) { d.advance(24 * time.Hour) }},
		{name: "RFC 9700 §4.14.2 a rotated refresh token is inactive", caller: confID,
			token: func(d *domain, r *oauth.TokenResponse) string {
				if _, err := d.exchange(d.client(confID), refreshParams(r.RefreshToken), oauth.DPoP{}); err != nil {
					d.tb.Fatal(err)
				}
				return r.RefreshToken
			}},
		{name: "RFC 7662 §2.2 a token of a revoked grant is inactive", caller: confID,
			token: func(d *domain, r *oauth.TokenResponse) string {
				if err := d.revoke(d.client(confID), url.Values{"token": {r.RefreshToken}}); err != nil {
					d.tb.Fatal(err)
				}
				return r.AccessToken
			}},
		{name: "RFC 9068 §4 an ID token is no access token", caller: confID,
			token: func(_ *domain, r *oauth.TokenResponse) string { return r.IDToken }},
		{name: "RFC 9068 §4 a token signed with another key is inactive", caller: confID,
			token: func(d *domain, _ *oauth.TokenResponse) string { return otherKeys(d) }},
		{name: "RFC 7662 §2.2 garbage is inactive", caller: confID,
			token: func(*domain, *oauth.TokenResponse) string { return "garbage" }},
		{name: "RFC 7662 §2.1 missing token is invalid_request", caller: confID,
			token: func(*domain, *oauth.TokenResponse) string { return "" }, code: oauth.CodeInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomain(t)
			resp := d.tokens(d.client(confID), "scope", "openid offline_access")
			if tc.before != nil {
				tc.before(d)
			}
			params := url.Values{}
			if tok := tc.token(d, resp); tok != "" {
				params.Set("token", tok)
			}
			got, err := d.introspect(d.client(tc.caller), params)
			if tc.code != "" {
				wantErr(t, err, tc.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if len(got) != 1 || got["active"] != false {
					t.Errorf("introspection = %v, want only active false", got)
				}
				return
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %v (%T), want %v (%T)", k, got[k], got[k], v, v)
				}
			}
		})
	}
}

// TestIntrospect_BoundAndDetails: RFC 9449 §6.2 cnf and RFC 9396 §9.2
// authorization_details in the introspection response.
func TestIntrospect_BoundAndDetails(t *testing.T) {
	d := newDomain(t)
	key := mustECKey()
	c := d.client(confID)
	resp, err := d.exchange(c, tokenParams(d.code(c, authParams(confID, "scope", "api", "authorization_details", paymentRAR))), d.dpop(key))
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.introspect(c, url.Values{"token": {resp.AccessToken}})
	if err != nil {
		t.Fatal(err)
	}
	if got["active"] != true || got["token_type"] != "DPoP" || !jsonEqual(got["cnf"], map[string]any{"jkt": thumbprint(t, key)}) ||
		!jsonEqual(got["authorization_details"], mustJSON(t, paymentRAR)) || got["scope"] != "api" || got["jti"] == nil {
		t.Errorf("introspection = %v", got)
	}
}

// TestRevoke_Rules: RFC 7009 §2. Revoking either token of a grant revokes the grant,
// so every token of the family stops working.
func TestRevoke_Rules(t *testing.T) {
	for _, tc := range []struct {
		name string
		// client revokes token(tokens of a conf-client grant).
		client string
		token  func(r *oauth.TokenResponse) string
		params []string
		code   string
		// revoked is whether the grant is revoked afterwards.
		revoked bool
	}{
		{name: "RFC 7009 §2.1 revoking the refresh token revokes the grant", token: func(r *oauth.TokenResponse) string { return r.RefreshToken }, revoked: true},
		{name: "RFC 7009 §2.1 revoking the access token revokes the grant", token: func(r *oauth.TokenResponse) string { return r.AccessToken }, revoked: true},
		{name: "RFC 7009 §2.2 an invalid token is no error", token: func(*oauth.TokenResponse) string { return "not-a-token" }},
		{name: "RFC 7009 §2.2 a token of another server is no error", token: func(*oauth.TokenResponse) string { return "eyJhbGciOiJub25lIn0.e30.x" }},
		{name: "RFC 7009 §2.1 missing token is invalid_request", token: func(*oauth.TokenResponse) string { return absent }, code: oauth.CodeInvalidRequest},
		{name: "RFC 6749 §3.1 token twice is invalid_request", token: func(r *oauth.TokenResponse) string { return r.RefreshToken }, params: []string{"dup", ""}, code: oauth.CodeInvalidRequest},
		{name: "RFC 7009 §2.1 another client's refresh token is refused, unauthorized_client", client: postID, token: func(r *oauth.TokenResponse) string { return r.RefreshToken }, code: oauth.CodeUnauthorizedClient},
		{name: "RFC 7009 §2.1 another client's access token is refused, unauthorized_client", client: postID, token: func(r *oauth.TokenResponse) string { return r.AccessToken }, code: oauth.CodeUnauthorizedClient},
		{name: "RFC 7009 §2.1 token_type_hint does not change the outcome", token: func(r *oauth.TokenResponse) string { return r.AccessToken }, params: []string{"token_type_hint", "refresh_token"}, revoked: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomain(t)
			c := d.client(confID)
			resp := d.tokens(c, "scope", "openid offline_access")
			params := url.Values{}
			if tok := tc.token(resp); tok != absent {
				params.Set("token", tok)
			}
			for i := 0; i+1 < len(tc.params); i += 2 {
				if tc.params[i] == "dup" {
					params.Add("token", params.Get("token"))
					continue
				}
				params.Set(tc.params[i], tc.params[i+1])
			}
			id := tc.client
			if id == "" {
				id = confID
			}
			err := d.revoke(d.client(id), params)
			if tc.code != "" {
				wantErr(t, err, tc.code)
			} else if err != nil {
				t.Fatal(err)
			}
			_, rerr := d.exchange(c, refreshParams(resp.RefreshToken), oauth.DPoP{})
			info, ierr := d.userinfo("Bearer", resp.AccessToken, oauth.DPoP{})
			if tc.revoked {
				wantErr(t, rerr, oauth.CodeInvalidGrant)
				wantErr(t, ierr, oauth.CodeInvalidToken)
				return
			}
			if rerr != nil || ierr != nil || info["sub"] != subject {
				t.Errorf("grant revoked though it should not be: refresh %v userinfo %v %v", rerr, info, ierr)
			}
		})
	}
}
