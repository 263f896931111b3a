package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Introspect implements RFC 7662 §2 for an authenticated client. A client sees its
// own tokens; a resource server registered with token_introspection_allowed sees
// every token (RFC 7662 §4: the server decides who may learn what). Anything else is
// simply inactive.
func (s *Service) Introspect(ctx context.Context, client *Client, params url.Values) (map[string]any, error) {
	if err := checkParams(params); err != nil {
		return nil, err
	}
	token := params.Get("token")
	if token == "" {
		return nil, InvalidRequest("token is required")
	}
	inactive := map[string]any{"active": false}
	now := s.now()
	allowed := func(owner string) bool { return owner == client.ID || client.TokenIntrospectionAllowed }

	if rt, err := s.store.GetRefreshToken(ctx, HashKey(token)); err == nil {
		grant, gerr := s.store.GetGrant(ctx, rt.GrantID)
		if gerr != nil && !errors.Is(gerr, ErrNotFound) {
			return nil, AsError(fmt.Errorf("introspect: %w", gerr))
		}
		if gerr != nil || !allowed(rt.ClientID) || rt.UsedAt != nil || !now.Before(rt.ExpiresAt) ||
			grant.RevokedAt != nil || !now.Before(grant.ExpiresAt) {
			return inactive, nil
		}
		// RFC 7662 §2.2: a token of a deleted, disabled or cut-off user is not active.
		if uerr := s.checkGrantUser(ctx, grant); errors.Is(uerr, errUserCutOff) {
			return inactive, nil
		} else if uerr != nil {
			return nil, AsError(fmt.Errorf("introspect: %w", uerr))
		}
		out := map[string]any{
			"active": true, "client_id": rt.ClientID, "sub": grant.Subject, "iss": s.cfg.Issuer,
			"iat": rt.IssuedAt.Unix(), "exp": rt.ExpiresAt.Unix(), "token_type": "refresh_token",
		}
		if len(rt.Scopes) > 0 {
			out["scope"] = strings.Join(rt.Scopes, " ")
		}
		return out, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, AsError(fmt.Errorf("introspect: %w", err))
	}

	at, err := s.parseAccessToken(ctx, token, now)
	if errors.Is(err, ErrNotFound) {
		return inactive, nil
	}
	if err != nil {
		return nil, AsError(fmt.Errorf("introspect: %w", err))
	}
	if !allowed(at.claims.ClientID) {
		return inactive, nil
	}
	c := at.claims
	out := map[string]any{
		"active": true, "iss": c.Issuer, "sub": c.Subject, "aud": c.Audience.value(), "client_id": c.ClientID,
		"iat": c.IssuedAt, "exp": c.Expiry, "jti": c.ID, "token_type": "Bearer",
	}
	if c.Scope != "" {
		out["scope"] = c.Scope
	}
	if c.Confirmation != nil {
		// RFC 9449 §6.2.
		out["cnf"], out["token_type"] = c.Confirmation, "DPoP"
	}
	if len(c.AuthorizationDetails) > 0 {
		// RFC 9396 §9.2.
		out["authorization_details"] = c.AuthorizationDetails
	}
	return out, nil
}
