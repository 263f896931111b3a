package oauth_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

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
			if tc.code != "" {
				if resp != nil {
					t.Fatalf("refresh succeeded: %+v", resp)
				}
				wantErr(t, err, tc.code)
				return
			}
			if err != nil {
				t.Fatal(err)
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
