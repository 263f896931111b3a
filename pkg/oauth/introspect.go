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
		// RFC 7662 §2.2: a token of a deleted, disabled or cut-off user is not active,
		// nor one of a deleted or disabled client.
		if uerr := s.checkGrantUser(ctx, grant); errors.Is(uerr, errUserCutOff) {
			return inactive, nil
		} else if uerr != nil {
			return nil, AsError(fmt.Errorf("introspect: %w", uerr))
		}
		if cerr := s.checkClientLive(ctx, rt.ClientID); errors.Is(cerr, ErrNotFound) {
			return inactive, nil
		} else if cerr != nil {
			return nil, AsError(fmt.Errorf("introspect: %w", cerr))
		}
		out := map[string]any{
			"active": true, "client_id": rt.ClientID, "sub": grant.Subject, "iss": s.cfg.Issuer,
			"iat": rt.IssuedAt.Unix(), "exp": rt.ExpiresAt.Unix(), "token_type": "refresh_token",
		}
		if len(rt.Scopes) > 0 {
			out["scope"] = strings.Join(rt.Scopes, " ")
		}
		if rt.X5TS256 != "" {
			// RFC 8705 §4 with §3.2: the certificate the refresh token is bound to.
			out["cnf"] = confirmation{X5TS256: rt.X5TS256}
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
		// RFC 9449 §6.2 (jkt) and RFC 8705 §3.2 (x5t#S256).
		out["cnf"] = c.Confirmation
		if c.Confirmation.JKT != "" {
			out["token_type"] = "DPoP"
		}
	}
	if len(c.AuthorizationDetails) > 0 {
		// RFC 9396 §9.2.
		out["authorization_details"] = c.AuthorizationDetails
	}
	return out, nil
}

// IntrospectionJWTType is RFC 9701's JWT type: the typ header of a signed
// introspection response (§5) and, after "application/", its media type (§4, §5),
// which the resource server names in Accept to ask for one.
const IntrospectionJWTType = "token-introspection+jwt"

// introspectionClaims are the claims of RFC 9701 §5's JWT response. Nothing of the
// introspected token is at the top level, so the response cannot be mistaken for an
// access token (§5, §8): it is all inside token_introspection.
type introspectionClaims struct {
	Issuer string `json:"iss"`
	// Audience is the resource server that asked: its client_id (§5, "aud").
	Audience           string         `json:"aud"`
	IssuedAt           int64          `json:"iat"`
	TokenIntrospection map[string]any `json:"token_introspection"`
}

// SignIntrospection turns the introspection response result, made by Introspect for
// client, into RFC 9701 §5's signed JWT: iss the issuer, aud the calling client, iat
// now, and result as the token_introspection claim (an inactive token stays
// {"active":false}, nothing else), typ token-introspection+jwt, signed with the
// server's key like every token it issues.
func (s *Service) SignIntrospection(ctx context.Context, client *Client, result map[string]any) (string, error) {
	claims := introspectionClaims{
		Issuer: s.cfg.Issuer, Audience: client.ID, IssuedAt: s.now().Unix(), TokenIntrospection: result,
	}
	jwt, err := s.signer.Sign(ctx, IntrospectionJWTType, claims)
	if err != nil {
		return "", AsError(fmt.Errorf("sign introspection response: %w", err))
	}
	return jwt, nil
}
