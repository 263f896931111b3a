package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Revoke implements RFC 7009 §2.1 for an authenticated client. Revoking a refresh
// token or an access token revokes its grant, so every token of the family stops
// working (RFC 7009 §2.1: the server "MAY revoke the respective refresh token as
// well"; access tokens become inactive at introspection and userinfo).
func (s *Service) Revoke(ctx context.Context, client *Client, params url.Values) error {
	if err := checkParams(params); err != nil {
		return err
	}
	token := params.Get("token")
	if token == "" {
		return InvalidRequest("token is required")
	}
	now := s.now()
	grantID, owner, clientToken, err := s.tokenGrant(ctx, token, now)
	if errors.Is(err, ErrNotFound) {
		// RFC 7009 §2.2: "invalid tokens do not cause an error response".
		return nil
	}
	if err != nil {
		return AsError(fmt.Errorf("revoke: %w", err))
	}
	// RFC 7009 §2.1: the server "verifies whether the token was issued to the client
	// making the revocation request. If this validation fails, the request is
	// refused".
	if owner != client.ID {
		return UnauthorizedClient("the token was not issued to this client")
	}
	if clientToken != nil {
		// RFC 7009 §2: the server "SHOULD" support revoking access tokens. A
		// client-credentials token has no grant item (docs/design.md decision 29):
		// the revocation is recorded under its own grant ID until it expires.
		if err := s.store.RecordRevocation(ctx, grantID, owner, time.Unix(clientToken.Expiry, 0), now); err != nil {
			return AsError(fmt.Errorf("record revocation: %w", err))
		}
		return nil
	}
	if err := s.store.RevokeGrant(ctx, grantID, now); err != nil && !errors.Is(err, ErrNotFound) {
		return AsError(fmt.Errorf("revoke grant: %w", err))
	}
	return nil
}

// tokenGrant finds the grant and client of a refresh token or access token, and the
// claims of a client-credentials access token, whose grant ID has no item.
func (s *Service) tokenGrant(ctx context.Context, token string, now time.Time) (grantID, clientID string, clientToken *accessTokenClaims, err error) {
	rt, err := s.store.GetRefreshToken(ctx, HashKey(token))
	if err == nil {
		return rt.GrantID, rt.ClientID, nil, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return "", "", nil, err
	}
	at, err := s.parseAccessToken(ctx, token, now)
	if err != nil {
		return "", "", nil, err
	}
	if at.clientCredentials() {
		return at.claims.GrantID, at.claims.ClientID, &at.claims, nil
	}
	return at.grant.ID, at.claims.ClientID, nil, nil
}
