package oauth_test

import (
	"net/url"
	"testing"

	"github.com/pargate/pargate/pkg/oauth"
)

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
