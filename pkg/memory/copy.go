package memory

import (
	"slices"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// The copies below do more than prevent aliasing: they normalise values the way the
// DynamoDB store's round trip does (UTC millisecond times, empty slices as nil, claims
// as encoding/json decodes them, authorization_details byte for byte), so code tested
// against this store sees what it will see in production.

func copyClient(c *oauth.Client) *oauth.Client {
	out := *c
	out.SecretHash = cloneSlice(c.SecretHash)
	out.RedirectURIs = cloneSlice(c.RedirectURIs)
	out.GrantTypes = cloneSlice(c.GrantTypes)
	out.ResponseTypes = cloneSlice(c.ResponseTypes)
	out.JWKS = cloneSlice(c.JWKS)
	out.PushedRedirectURIPrefixes = cloneSlice(c.PushedRedirectURIPrefixes)
	out.AuthorizationDetailsTypes = cloneSlice(c.AuthorizationDetailsTypes)
	out.Resources = cloneSlice(c.Resources)
	out.AllowedOrigins = cloneSlice(c.AllowedOrigins)
	out.PostLogoutRedirectURIs = cloneSlice(c.PostLogoutRedirectURIs)
	if c.IdentityProviders != nil {
		// Empty is not absent here (none against every provider).
		out.IdentityProviders = append([]string{}, c.IdentityProviders...)
	}
	return &out
}

func copyUser(u *oauth.User) (*oauth.User, error) {
	out := *u
	claims, err := oauth.NormalizeClaims(u.Claims)
	if err != nil {
		return nil, err
	}
	out.Claims = claims
	return &out, nil
}

func copyPushedRequest(r *oauth.PushedRequest) *oauth.PushedRequest {
	out := *r
	out.Request.Scopes = cloneSlice(r.Request.Scopes)
	out.Request.AuthorizationDetails = cloneSlice(r.Request.AuthorizationDetails)
	out.Request.Resources = cloneSlice(r.Request.Resources)
	if r.Request.MaxAge != nil {
		v := *r.Request.MaxAge
		out.Request.MaxAge = &v
	}
	out.CreatedAt = normTime(r.CreatedAt)
	out.RedeemBy = normTime(r.RedeemBy)
	out.Deadline = normTime(r.Deadline)
	out.ConsumedAt = normTimePtr(r.ConsumedAt)
	return &out
}

func copyCode(c *oauth.AuthorizationCode) (*oauth.AuthorizationCode, error) {
	out := *c
	claims, err := oauth.NormalizeClaims(c.Claims)
	if err != nil {
		return nil, err
	}
	out.Claims = claims
	out.Scopes = cloneSlice(c.Scopes)
	out.AuthorizationDetails = cloneSlice(c.AuthorizationDetails)
	out.Resources = cloneSlice(c.Resources)
	out.AMR = cloneSlice(c.AMR)
	out.AuthTime = normTime(c.AuthTime)
	out.IssuedAt = normTime(c.IssuedAt)
	out.ExpiresAt = normTime(c.ExpiresAt)
	out.ConsumedAt = normTimePtr(c.ConsumedAt)
	return &out, nil
}

func copyGrant(g *oauth.Grant) (*oauth.Grant, error) {
	out := *g
	claims, err := oauth.NormalizeClaims(g.Claims)
	if err != nil {
		return nil, err
	}
	out.Claims = claims
	out.Scopes = cloneSlice(g.Scopes)
	out.AuthorizationDetails = cloneSlice(g.AuthorizationDetails)
	out.Resources = cloneSlice(g.Resources)
	out.AMR = cloneSlice(g.AMR)
	out.AuthTime = normTime(g.AuthTime)
	out.CreatedAt = normTime(g.CreatedAt)
	out.ExpiresAt = normTime(g.ExpiresAt)
	out.RevokedAt = normTimePtr(g.RevokedAt)
	return &out, nil
}

func copyRefreshToken(rt *oauth.RefreshToken) *oauth.RefreshToken {
	out := *rt
	out.Scopes = cloneSlice(rt.Scopes)
	out.IssuedAt = normTime(rt.IssuedAt)
	out.ExpiresAt = normTime(rt.ExpiresAt)
	out.UsedAt = normTimePtr(rt.UsedAt)
	return &out
}

// cloneSlice copies s; an empty slice becomes nil, as it does in DynamoDB where empty
// lists are not stored.
func cloneSlice[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// normTime keeps t to the millisecond in UTC, the precision of the DynamoDB store
// (whose conditions compare epoch milliseconds). The zero time stays zero.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Millisecond)
}

func normTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	n := normTime(*t)
	return &n
}
