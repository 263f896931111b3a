package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// TokenResponse is the successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
	IDToken     string `json:"id_token,omitempty"`
}

// Exchange handles a token request from an authenticated client (RFC 6749 §4.1.3).
func (s *Service) Exchange(ctx context.Context, client *Client, params url.Values, dpop DPoP) (*TokenResponse, error) {
	// RFC 6749 §3.2: parameters "MUST NOT be included more than once".
	if err := checkParams(params); err != nil {
		return nil, err
	}
	switch gt := params.Get("grant_type"); gt {
	case "":
		return nil, InvalidRequest("grant_type is required")
	case "authorization_code":
	default:
		return nil, UnsupportedGrantType("grant_type %q is not supported", gt)
	}
	if !client.AllowsGrant("authorization_code") {
		return nil, UnauthorizedClient("client %s is not allowed the authorization_code grant", client.ID)
	}
	value := params.Get("code")
	if value == "" {
		return nil, InvalidRequest("code is required")
	}
	jkt, err := s.verifyDPoP(ctx, client.ID, dpop)
	if err != nil {
		return nil, err
	}
	// RFC 9449 §5.2 dpop_bound_access_tokens; FAPI 2.0 §5.3.2.1: "shall only issue
	// sender-constrained access tokens" (DPoP is this server's mechanism).
	if jkt == "" && (client.DPoPBoundAccessTokens || s.cfg.FAPI2) {
		return nil, invalidDPoP("a DPoP proof is required for this client")
	}
	// One conditional write consumes the code: it must exist, be unused, unexpired
	// and issued to this client (RFC 6749 §4.1.3: "ensure that the authorization code
	// was issued to the authenticated confidential client"). A failed attempt below
	// leaves the code spent, so it cannot be retried with other verifiers.
	now := s.now()
	code, err := s.store.ConsumeCode(ctx, HashKey(value), client.ID, now)
	if errors.Is(err, ErrNotFound) {
		// RFC 6749 §4.1.2: a code used more than once MUST be denied.
		return nil, InvalidGrant("the authorization code is invalid, expired, or was already used")
	}
	if err != nil {
		return nil, AsError(fmt.Errorf("consume code: %w", err))
	}
	// RFC 6749 §4.1.3: redirect_uri is "REQUIRED, if the redirect_uri parameter was
	// included in the authorization request ..., and their values MUST be identical."
	if uri := params.Get("redirect_uri"); uri != code.RedirectURI && (code.RedirectURIGiven || uri != "") {
		return nil, InvalidGrant("redirect_uri does not match the authorization request")
	}
	// RFC 9449 §10: with a code bound to a key, "If they do not match, it MUST reject
	// the request."
	if code.DPoPJKT != "" && code.DPoPJKT != jkt {
		return nil, InvalidGrant("the DPoP proof key does not match the key the code is bound to")
	}
	// RFC 7636 §4.6: verify the code_verifier against the stored challenge.
	verifier := params.Get("code_verifier")
	switch {
	case verifier == "":
		return nil, InvalidGrant("code_verifier is required (PKCE)")
	case !validPKCEValue(verifier):
		return nil, InvalidGrant("code_verifier must be 43-128 characters of [A-Za-z0-9-._~]")
	case !verifyS256(verifier, code.CodeChallenge):
		return nil, InvalidGrant("code_verifier does not match the code_challenge")
	}
	return s.issueTokens(ctx, client, code, jkt)
}

// accessTokenClaims are the claims of a JWT access token (RFC 9068 §2.2).
type accessTokenClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	ClientID string `json:"client_id"`
	IssuedAt int64  `json:"iat"`
	Expiry   int64  `json:"exp"`
	ID       string `json:"jti"`
	Scope    string `json:"scope,omitempty"`
	AuthTime int64  `json:"auth_time,omitempty"`
	// Confirmation binds the token to a DPoP key (RFC 9449 §6.1).
	Confirmation *confirmation `json:"cnf,omitempty"`
}

type confirmation struct {
	JKT string `json:"jkt"`
}

func (s *Service) issueTokens(ctx context.Context, client *Client, code *AuthorizationCode, jkt string) (*TokenResponse, error) {
	now := s.now()
	jti, err := randomValue()
	if err != nil {
		return nil, ServerError(err)
	}
	scope := strings.Join(code.Scopes, " ")
	at := accessTokenClaims{
		Issuer:   s.cfg.Issuer,
		Subject:  code.Subject,
		Audience: s.cfg.AccessTokenAudience,
		ClientID: client.ID,
		IssuedAt: now.Unix(),
		Expiry:   now.Add(s.cfg.AccessTokenLifetime).Unix(),
		ID:       jti,
		Scope:    scope,
		AuthTime: code.AuthTime.Unix(),
	}
	tokenType := "Bearer"
	if jkt != "" {
		at.Confirmation, tokenType = &confirmation{JKT: jkt}, "DPoP"
	}
	// RFC 9068 §2.1: the typ header "MUST" be at+jwt.
	access, err := s.signer.Sign(ctx, "at+jwt", at)
	if err != nil {
		return nil, AsError(fmt.Errorf("sign access token: %w", err))
	}
	resp := &TokenResponse{
		AccessToken: access,
		TokenType:   tokenType,
		ExpiresIn:   int(s.cfg.AccessTokenLifetime.Seconds()),
		Scope:       scope,
	}
	if slices.Contains(code.Scopes, "openid") {
		// OIDC Core §2: iss, sub, aud, exp, iat; auth_time and nonce as requested.
		claims := map[string]any{}
		for k, v := range code.Claims {
			claims[k] = v
		}
		claims["iss"] = s.cfg.Issuer
		claims["sub"] = code.Subject
		claims["aud"] = client.ID
		claims["iat"] = now.Unix()
		claims["exp"] = now.Add(s.cfg.IDTokenLifetime).Unix()
		claims["auth_time"] = code.AuthTime.Unix()
		if code.Nonce != "" {
			claims["nonce"] = code.Nonce
		}
		resp.IDToken, err = s.signer.Sign(ctx, "JWT", claims)
		if err != nil {
			return nil, AsError(fmt.Errorf("sign ID token: %w", err))
		}
	}
	return resp, nil
}
