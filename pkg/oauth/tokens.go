package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// errInvalidToken is the one answer for every unusable access token at userinfo.
func errInvalidToken() *Error {
	return newError(CodeInvalidToken, "the access token is invalid, expired or revoked")
}

// accessToken is a verified access token of this server and its grant.
type accessToken struct {
	claims accessTokenClaims
	grant  *Grant
}

// parseAccessToken verifies an access token this server issued (RFC 9068 §4: typ,
// issuer, signature, expiry) and loads its grant, which must be live. It returns
// ErrNotFound for anything that is not such a token.
func (s *Service) parseAccessToken(ctx context.Context, token string, now time.Time) (*accessToken, error) {
	if strings.Count(token, ".") != 2 {
		return nil, ErrNotFound
	}
	payload, typ, err := s.signer.Verify(ctx, token)
	if errors.Is(err, ErrUnavailable) {
		return nil, err
	}
	if err != nil || !strings.EqualFold(strings.TrimPrefix(typ, "application/"), "at+jwt") {
		return nil, ErrNotFound
	}
	var at accessTokenClaims
	if json.Unmarshal(payload, &at) != nil || at.Issuer != s.cfg.Issuer || now.Unix() >= at.Expiry || at.GrantID == "" {
		return nil, ErrNotFound
	}
	grant, err := s.store.GetGrant(ctx, at.GrantID)
	if err != nil {
		return nil, err
	}
	if grant.RevokedAt != nil || !now.Before(grant.ExpiresAt) {
		return nil, ErrNotFound
	}
	return &accessToken{claims: at, grant: grant}, nil
}

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
	grantID, owner, err := s.tokenGrant(ctx, token, now)
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
	if err := s.store.RevokeGrant(ctx, grantID, now); err != nil && !errors.Is(err, ErrNotFound) {
		return AsError(fmt.Errorf("revoke grant: %w", err))
	}
	return nil
}

// tokenGrant finds the grant and client of a refresh token or access token.
func (s *Service) tokenGrant(ctx context.Context, token string, now time.Time) (grantID, clientID string, err error) {
	rt, err := s.store.GetRefreshToken(ctx, HashKey(token))
	if err == nil {
		return rt.GrantID, rt.ClientID, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return "", "", err
	}
	at, err := s.parseAccessToken(ctx, token, now)
	if err != nil {
		return "", "", err
	}
	return at.grant.ID, at.claims.ClientID, nil
}

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
		"active": true, "iss": c.Issuer, "sub": c.Subject, "aud": c.Audience, "client_id": c.ClientID,
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

// Userinfo implements OIDC Core §5.3 for an access token presented with scheme
// ("Bearer" or "DPoP", RFC 6750 §2.1 and RFC 9449 §7.1).
func (s *Service) Userinfo(ctx context.Context, scheme, token string, dpop DPoP) (map[string]any, error) {
	if token == "" {
		return nil, newError(CodeInvalidToken, "an access token is required")
	}
	now := s.now()
	at, err := s.parseAccessToken(ctx, token, now)
	if errors.Is(err, ErrNotFound) {
		return nil, errInvalidToken()
	}
	if err != nil {
		return nil, AsError(fmt.Errorf("userinfo: %w", err))
	}
	if at.claims.Confirmation != nil {
		// RFC 9449 §7.1: a DPoP-bound token is sent with the DPoP scheme and a proof
		// whose key matches cnf.jkt and whose ath is the token's hash.
		if !strings.EqualFold(scheme, "DPoP") {
			return nil, newError(CodeInvalidToken, "this access token is DPoP-bound: use the DPoP scheme with a proof")
		}
		sum := sha256.Sum256([]byte(token))
		dpop.ATH = base64.RawURLEncoding.EncodeToString(sum[:])
		jkt, err := s.verifyDPoP(ctx, at.claims.ClientID, dpop)
		if err != nil {
			return nil, err
		}
		if jkt != at.claims.Confirmation.JKT {
			return nil, invalidDPoP("the DPoP proof key does not match the token's cnf.jkt")
		}
	} else if !strings.EqualFold(scheme, "Bearer") {
		return nil, newError(CodeInvalidToken, "use the Bearer scheme for this access token")
	}
	if !slices.Contains(strings.Fields(at.claims.Scope), "openid") {
		return nil, newError(CodeInsufficientScope, "the access token lacks the openid scope")
	}
	out := map[string]any{}
	for k, v := range at.grant.Claims {
		out[k] = v
	}
	out["sub"] = at.grant.Subject
	return out, nil
}
