package oauth

import (
	"context"
	"net/url"
	"slices"
	"strings"
)

// clientCredentials is the client credentials grant (RFC 6749 §4.4): a confidential
// client, already authenticated (Exchange refuses a public one), obtains an access
// token for itself. There is no resource owner, so there is no grant item, no
// refresh token and no ID token, and nothing is written to the store. The token is
// a JWT whose `sub` is the client_id (RFC 9068 §2.2), whose `gty` claim marks it as
// such, and whose grant_id is its own random ID: no item exists under it until the
// token is revoked (Grants.RecordRevocation; docs/design.md decision 29).
func (s *Service) clientCredentials(ctx context.Context, client *Client, params url.Values, b binding) (*TokenResponse, error) {
	scopes, serr := clientCredentialsScope(client, params)
	if serr != nil {
		return nil, serr
	}
	id, err := randomValue()
	if err != nil {
		return nil, ServerError(err)
	}
	grant := &Grant{ID: id, ClientID: client.ID, Subject: client.ID}
	// RFC 9396 §6: "The authorization_details token request parameter can be used
	// to specify the authorization details that a client wants the authorization
	// server to assign to an access token." With no prior authorization, the
	// request's own details are checked as at an authorization request (§5: unknown
	// types and non-conforming details are refused) and granted as requested.
	if raw := params.Get("authorization_details"); raw != "" {
		details, derr := s.parseAuthorizationDetails(client, raw)
		if derr != nil {
			return nil, derr
		}
		grant.AuthorizationDetails = details
	}
	// RFC 8707 §2: each resource must be registered for the client (the server's
	// own audience always is); none means the server's own audience, as at the code
	// grant (tokenAudience over a grant that named none).
	resources, rerr := s.requestResources(client, params)
	if rerr != nil {
		return nil, rerr
	}
	grant.Resources = resources
	if len(scopes) == 0 && len(grant.AuthorizationDetails) == 0 {
		return nil, InvalidScope("client %s has no scope to request with the client_credentials grant: send scope or authorization_details", client.ID)
	}
	// RFC 6749 §4.4.3: "A refresh token SHOULD NOT be included." None is made; and
	// no ID token, since openid is never granted here (clientCredentialsScope).
	resp, err := s.issueTokens(ctx, client, grant, GrantClientCredentials, s.grantAudiences(grant), scopes, "", b, s.now())
	if err != nil {
		return nil, err
	}
	resp.ClientCredentials = true
	return resp, nil
}

// userScopes are scopes that only mean something with an end-user: an ID token
// (OIDC Core §3.1.2.1 openid) and offline access to the user's resources (§11).
var userScopes = []string{"openid", "offline_access"}

// clientCredentialsScope is the scope of a client credentials token. RFC 6749
// §4.4.2: scope is OPTIONAL; §3.3: "If the client omits the scope parameter when
// requesting authorization, the authorization server MUST either process the request
// using a pre-defined default value or fail the request indicating an invalid
// scope." The default is every scope the client is registered for except openid and
// offline_access, unless the request carries authorization_details instead (RFC 9396
// §3: they may be used instead of scope; a default would widen the request).
//
// A requested openid or offline_access is refused with invalid_scope rather than
// dropped: there is no end-user to issue an ID token about or to keep offline
// access for, and a client that asks for one expects something this grant never
// gives; a silent drop would hide the mistake (node-oidc-provider likewise refuses
// what the client may not have, and issues no ID token at this grant).
func clientCredentialsScope(client *Client, params url.Values) ([]string, *Error) {
	raw := params.Get("scope")
	if raw == "" {
		if params.Get("authorization_details") != "" {
			return nil, nil
		}
		var scopes []string
		for sc := range strings.FieldsSeq(client.Scope) {
			if !slices.Contains(userScopes, sc) && !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
		return scopes, nil
	}
	scopes, err := parseScope(raw)
	if err != nil {
		return nil, err
	}
	for _, sc := range scopes {
		if slices.Contains(userScopes, sc) {
			return nil, InvalidScope("scope %q needs an end-user; the client_credentials grant has none", sc)
		}
		// RFC 6749 §3.3: the server may refuse scopes by policy; the client's
		// registered scope is that policy, as at /par and /authorize.
		if !hasField(client.Scope, sc) {
			return nil, InvalidScope("scope %q is not allowed for client %s", sc, client.ID)
		}
	}
	return scopes, nil
}
