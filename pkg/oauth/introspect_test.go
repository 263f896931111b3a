package oauth_test

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
