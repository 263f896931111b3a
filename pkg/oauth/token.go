package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// TokenResponse is the successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3,
// RFC 9396 §7).
type TokenResponse struct {
	AccessToken          string          `json:"access_token"`
	TokenType            string          `json:"token_type"`
	ExpiresIn            int             `json:"expires_in"`
	Scope                string          `json:"scope,omitempty"`
	RefreshToken         string          `json:"refresh_token,omitempty"`
	IDToken              string          `json:"id_token,omitempty"`
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`

	// Refreshed and Rotated say what the exchange did, for the edge's outcome and
	// metrics; they are not part of the response. Refreshed: a refresh_token grant.
	// Rotated: that grant replaced the refresh token (never under FAPI 2.0).
	// ClientCredentials: a client_credentials grant (RFC 6749 §4.4).
	Refreshed         bool `json:"-"`
	Rotated           bool `json:"-"`
	ClientCredentials bool `json:"-"`
}

// Grant types.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// Exchange handles a token request from an authenticated client (RFC 6749 §3.2).
func (s *Service) Exchange(ctx context.Context, client *Client, params url.Values, dpop DPoP) (*TokenResponse, error) {
	// RFC 6749 §3.2: parameters "MUST NOT be included more than once".
	if err := checkParams(params); err != nil {
		return nil, err
	}
	grantType := params.Get("grant_type")
	switch grantType {
	case "":
		return nil, InvalidRequest("grant_type is required")
	case GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials:
	default:
		return nil, UnsupportedGrantType("grant_type %q is not supported", grantType)
	}
	// RFC 6749 §4.4: "The client credentials grant type MUST only be used by
	// confidential clients", and §4.4.2: "The client MUST authenticate with the
	// authorization server". A public client has not authenticated: §5.2
	// invalid_client ("no client authentication included"), whatever its
	// grant_types say.
	if grantType == GrantClientCredentials && client.Public() {
		return nil, InvalidClient("the client_credentials grant needs client authentication; client %s is public", client.ID)
	}
	if !client.AllowsGrant(grantType) {
		return nil, UnauthorizedClient("client %s is not allowed the %s grant", client.ID, grantType)
	}
	// RFC 8707 §2: a malformed resource fails before anything is spent; whether it
	// is allowed depends on the grant (tokenAudience).
	if _, err := parseResources(params); err != nil {
		return nil, err
	}
	jkt, err := s.verifyDPoP(ctx, client.ID, dpop)
	if err != nil {
		return nil, err
	}
	// RFC 9449 §5.2 dpop_bound_access_tokens.
	if jkt == "" && client.DPoPBoundAccessTokens {
		return nil, invalidDPoP("a DPoP proof is required for this client")
	}
	x5t, err := s.certificateBinding(client, dpop.Certificate, jkt)
	if err != nil {
		return nil, err
	}
	// Load the signing keys before a code or refresh token is spent: a key outage
	// must fail the request while a retry can still succeed.
	if err := s.signer.Ready(ctx); err != nil {
		return nil, AsError(fmt.Errorf("signing keys: %w", err))
	}
	b := binding{jkt: jkt, x5t: x5t}
	if dpop.Certificate != nil {
		b.presented = dpop.Certificate.Thumbprint()
	}
	switch grantType {
	case GrantRefreshToken:
		return s.refresh(ctx, client, params, b)
	case GrantClientCredentials:
		return s.clientCredentials(ctx, client, params, b)
	}
	return s.exchangeCode(ctx, client, params, b)
}

// binding is what the tokens of an exchange are bound to: the DPoP key's thumbprint
// (RFC 9449 §6) and the TLS client certificate's (RFC 8705 §3); presented is the
// thumbprint of the certificate of the request, bound or not, which a bound refresh
// token is checked against.
type binding struct {
	jkt, x5t, presented string
}

// certificateBinding is the x5t#S256 the access tokens are bound to: the
// certificate's, for a client registered with
// tls_client_certificate_bound_access_tokens (RFC 8705 §3) and, under FAPI 2.0, for
// any client that presents one without a DPoP proof.
func (s *Service) certificateBinding(client *Client, cert *ClientCertificate, jkt string) (string, error) {
	switch {
	case client.TLSClientCertificateBoundAccessTokens && cert == nil:
		// RFC 8705 §3: the token is bound to the certificate "used for mutual TLS"
		// at the token endpoint; without one there is nothing to bind to.
		return "", InvalidRequest("this client's access tokens are bound to its TLS client certificate: present one (mutual TLS)")
	case client.TLSClientCertificateBoundAccessTokens:
		return cert.Thumbprint(), nil
	case s.cfg.FAPI2 && jkt == "" && cert != nil:
		return cert.Thumbprint(), nil
	case s.cfg.FAPI2 && jkt == "":
		// FAPI 2.0 §5.3.2.1: "shall only issue sender-constrained access tokens",
		// using DPoP or MTLS (§5.3.2.1 items 4 and 5 of the Final text).
		return "", invalidDPoP("the FAPI 2.0 profile issues only sender-constrained access tokens: send a DPoP proof, or present a TLS client certificate (mutual TLS, RFC 8705)")
	}
	return "", nil
}

// exchangeCode is the authorization code grant (RFC 6749 §4.1.3).
func (s *Service) exchangeCode(ctx context.Context, client *Client, params url.Values, b binding) (*TokenResponse, error) {
	jkt := b.jkt
	value := params.Get("code")
	if value == "" {
		return nil, InvalidRequest("code is required")
	}
	// One conditional write consumes the code: it must exist, be unused, unexpired
	// and issued to this client (RFC 6749 §4.1.3: "ensure that the authorization code
	// was issued to the authenticated confidential client"). A failed attempt below
	// leaves the code spent, so it cannot be retried with other verifiers.
	now := s.now()
	code, err := s.store.ConsumeCode(ctx, HashKey(value), client.ID, now)
	if errors.Is(err, ErrUsed) {
		// RFC 6749 §4.1.2: "If an authorization code is used more than once, the
		// authorization server MUST deny the request and SHOULD revoke (when possible)
		// all tokens previously issued based on that authorization code."
		if rerr := s.store.RevokeGrant(ctx, code.GrantID, now); rerr != nil && !errors.Is(rerr, ErrNotFound) {
			return nil, AsError(fmt.Errorf("revoke grant of a replayed code: %w", rerr))
		}
		return nil, InvalidGrant("the authorization code was already presented; any tokens issued from it are now revoked")
	}
	if errors.Is(err, ErrNotFound) {
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
	grant := &Grant{
		ID: code.GrantID, ClientID: client.ID, Subject: code.Subject, Scopes: code.Scopes,
		AuthTime: code.AuthTime, AMR: code.AMR, SID: code.SID, ACR: code.ACR, IDP: code.IDP, Claims: code.Claims,
		AuthorizationDetails: code.AuthorizationDetails, Resources: code.Resources,
	}
	aud, aerr := s.tokenAudience(client, grant, params)
	if aerr != nil {
		return nil, aerr
	}
	var refresh string
	if s.issuesRefreshTokens(client, code.Scopes) {
		if refresh, err = s.newRefreshToken(ctx, client, grant, code.Scopes, b, now); err != nil {
			return nil, err
		}
	}
	resp, err := s.issueTokens(ctx, client, grant, "", aud, code.Scopes, code.Nonce, b, now)
	if err != nil {
		return nil, err
	}
	resp.RefreshToken = refresh
	return resp, nil
}

// issuesRefreshTokens: the client must be allowed the refresh_token grant and, for
// OpenID Connect, offline_access must have been granted (OIDC Core §11).
func (s *Service) issuesRefreshTokens(client *Client, scopes []string) bool {
	if !client.AllowsGrant(GrantRefreshToken) {
		return false
	}
	return !slices.Contains(scopes, "openid") || slices.Contains(scopes, "offline_access")
}

// grantLifetime is how long a grant may yield tokens: the refresh token lifetime for
// clients that refresh, otherwise just long enough to exchange the code and use the
// access token.
func (s *Service) grantLifetime(c *Client) time.Duration {
	if c.AllowsGrant(GrantRefreshToken) {
		return s.cfg.GrantLifetime
	}
	return s.cfg.CodeLifetime + s.cfg.AccessTokenLifetime
}

// newRefreshToken makes and stores a refresh token of grant.
func (s *Service) newRefreshToken(ctx context.Context, client *Client, grant *Grant, scopes []string, b binding, now time.Time) (string, error) {
	value, err := randomValue()
	if err != nil {
		return "", ServerError(err)
	}
	rt := s.refreshRecord(client, grant, value, scopes, b, now)
	if err := s.store.CreateRefreshToken(ctx, rt); err != nil {
		if errors.Is(err, ErrNotFound) {
			return "", InvalidGrant("the grant was revoked")
		}
		return "", AsError(fmt.Errorf("store refresh token: %w", err))
	}
	return value, nil
}

func (s *Service) refreshRecord(client *Client, grant *Grant, value string, scopes []string, b binding, now time.Time) *RefreshToken {
	expires := now.Add(s.cfg.RefreshTokenLifetime)
	if !grant.ExpiresAt.IsZero() && grant.ExpiresAt.Before(expires) {
		expires = grant.ExpiresAt
	}
	rt := &RefreshToken{
		Key: HashKey(value), GrantID: grant.ID, ClientID: client.ID, Scopes: scopes,
		IssuedAt: now, ExpiresAt: expires,
	}
	// RFC 9449 §5: "refresh tokens issued to public clients ... MUST be bound to the
	// DPoP public key"; confidential clients' refresh tokens are bound by their
	// client authentication instead.
	if client.Public() {
		rt.DPoPJKT = b.jkt
		// RFC 8705 §4: a public client's refresh tokens are bound to the certificate
		// its access tokens are bound to.
		rt.X5TS256 = b.x5t
	}
	return rt
}

// refresh is the refresh token grant (RFC 6749 §6), with rotation and reuse
// detection (RFC 9700 §4.14.2): a used token presented again revokes the grant.
func (s *Service) refresh(ctx context.Context, client *Client, params url.Values, b binding) (*TokenResponse, error) {
	jkt := b.jkt
	value := params.Get("refresh_token")
	if value == "" {
		return nil, InvalidRequest("refresh_token is required")
	}
	key := HashKey(value)
	now := s.now()
	old, err := s.store.GetRefreshToken(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return nil, InvalidGrant("the refresh token is invalid, expired or revoked")
	}
	if err != nil {
		return nil, AsError(fmt.Errorf("load refresh token: %w", err))
	}
	if old.ClientID != client.ID {
		return nil, InvalidGrant("the refresh token was not issued to this client")
	}
	if old.DPoPJKT != "" && old.DPoPJKT != jkt {
		return nil, InvalidGrant("the DPoP proof key does not match the key the refresh token is bound to")
	}
	// RFC 8705 §4: a refresh token bound to a certificate is usable only with it.
	if old.X5TS256 != "" && old.X5TS256 != b.presented {
		return nil, InvalidGrant("the TLS client certificate does not match the certificate the refresh token is bound to")
	}
	grant, err := s.store.GetGrant(ctx, old.GrantID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, AsError(fmt.Errorf("load grant: %w", err))
	}
	if err != nil || grant.RevokedAt != nil || !now.Before(grant.ExpiresAt) {
		return nil, InvalidGrant("the refresh token is invalid, expired or revoked")
	}
	// RFC 6749 §6 / §5.2: a refresh token whose grant's user was deleted, disabled or
	// cut off (password change) is an invalid_grant, checked on every refresh.
	if err := s.checkGrantUser(ctx, grant); errors.Is(err, errUserCutOff) {
		return nil, InvalidGrant("the refresh token is invalid, expired or revoked")
	} else if err != nil {
		return nil, AsError(err)
	}
	// RFC 6749 §6: a requested scope "MUST NOT include any scope not originally
	// granted"; omitted means the same scope.
	scopes := old.Scopes
	if raw := params.Get("scope"); raw != "" {
		requested, perr := parseScope(raw)
		if perr != nil {
			return nil, perr
		}
		for _, sc := range requested {
			if !slices.Contains(grant.Scopes, sc) {
				return nil, InvalidScope("scope %q was not granted", sc)
			}
		}
		scopes = requested
	}
	// RFC 8707 §2.2: the refresh request may narrow the resources, never widen them.
	aud, aerr := s.tokenAudience(client, grant, params)
	if aerr != nil {
		return nil, aerr
	}
	next, err := randomValue()
	if err != nil {
		return nil, ServerError(err)
	}
	var nextRT *RefreshToken
	if !s.cfg.FAPI2 {
		nextRT = s.refreshRecord(client, grant, next, scopes, b, now)
		if client.Public() && old.DPoPJKT != "" {
			nextRT.DPoPJKT = old.DPoPJKT
		}
		if client.Public() && old.X5TS256 != "" {
			nextRT.X5TS256 = old.X5TS256
		}
	}
	// FAPI 2.0 §5.3.2.1: "shall not use refresh token rotation except in
	// extraordinary circumstances": under fapi2 the token stays valid and is only
	// checked; otherwise it is rotated atomically.
	if nextRT != nil {
		err = s.store.RotateRefreshToken(ctx, key, client.ID, now, nextRT)
		if errors.Is(err, ErrUsed) {
			// RFC 9700 §4.14.2: reuse of a rotated refresh token revokes the family.
			if rerr := s.store.RevokeGrant(ctx, old.GrantID, now); rerr != nil && !errors.Is(rerr, ErrNotFound) {
				return nil, AsError(fmt.Errorf("revoke grant on refresh token reuse: %w", rerr))
			}
			return nil, InvalidGrant("the refresh token was already used; the grant is revoked")
		}
		if errors.Is(err, ErrNotFound) {
			return nil, InvalidGrant("the refresh token is invalid, expired or revoked")
		}
		if err != nil {
			return nil, AsError(fmt.Errorf("rotate refresh token: %w", err))
		}
	} else if old.UsedAt != nil || !now.Before(old.ExpiresAt) {
		return nil, InvalidGrant("the refresh token is invalid, expired or revoked")
	}
	resp, err := s.issueTokens(ctx, client, grant, "", aud, scopes, "", b, now)
	if err != nil {
		return nil, err
	}
	resp.Refreshed = true
	if nextRT != nil {
		resp.RefreshToken, resp.Rotated = next, true
	} else {
		resp.RefreshToken = value
	}
	return resp, nil
}

// accessTokenClaims are the claims of a JWT access token (RFC 9068 §2.2).
type accessTokenClaims struct {
	Issuer  string `json:"iss"`
	Subject string `json:"sub"`
	// Audience is the resource indicators the token is for (RFC 8707 §2, RFC 9700
	// §2.3), or the server's own audience (RFC 9068 §3).
	Audience audience `json:"aud"`
	ClientID string   `json:"client_id"`
	IssuedAt int64    `json:"iat"`
	Expiry   int64    `json:"exp"`
	ID       string   `json:"jti"`
	Scope    string   `json:"scope,omitempty"`
	AuthTime int64    `json:"auth_time,omitempty"`
	// GrantID lets introspection and userinfo see that the grant was revoked. A
	// client-credentials token's is its own, with no item until it is revoked
	// (clientcredentials.go).
	GrantID string `json:"grant_id"`
	// GrantType is "client_credentials" for a token a client obtained for itself
	// (RFC 6749 §4.4): no user, no grant item; empty for every other token.
	GrantType string `json:"gty,omitempty"`
	// Confirmation binds the token to a DPoP key (RFC 9449 §6.1).
	Confirmation *confirmation `json:"cnf,omitempty"`
	// AuthorizationDetails is RFC 9396 §9.1.
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`
}

// confirmation is the cnf claim (RFC 7800): the DPoP key's thumbprint (RFC 9449
// §6.1) or the TLS client certificate's (RFC 8705 §3.1), or both.
type confirmation struct {
	JKT     string `json:"jkt,omitempty"`
	X5TS256 string `json:"x5t#S256,omitempty"`
}

// issueTokens signs the access token for aud and, for OpenID Connect, the ID token.
// gty is GrantClientCredentials for a token without a grant item, else empty.
func (s *Service) issueTokens(ctx context.Context, client *Client, grant *Grant, gty string, aud []string, scopes []string, nonce string, b binding, now time.Time) (*TokenResponse, error) {
	jti, err := randomValue()
	if err != nil {
		return nil, ServerError(err)
	}
	scope := strings.Join(scopes, " ")
	at := accessTokenClaims{
		Issuer:               s.cfg.Issuer,
		Subject:              grant.Subject,
		Audience:             aud,
		ClientID:             client.ID,
		IssuedAt:             now.Unix(),
		Expiry:               now.Add(s.cfg.AccessTokenLifetime).Unix(),
		ID:                   jti,
		Scope:                scope,
		GrantID:              grant.ID,
		AuthorizationDetails: grant.AuthorizationDetails,
	}
	if !grant.AuthTime.IsZero() {
		at.AuthTime = grant.AuthTime.Unix()
	}
	if gty == GrantClientCredentials {
		// No grant item backs it (clientcredentials.go); parseAccessToken tells it by gty.
		at.GrantType = gty
	}
	tokenType := "Bearer"
	if b.jkt != "" || b.x5t != "" {
		at.Confirmation = &confirmation{JKT: b.jkt, X5TS256: b.x5t}
	}
	// RFC 8705 §3 leaves the token type Bearer; RFC 9449 §5 makes it DPoP.
	if b.jkt != "" {
		tokenType = "DPoP"
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
		// RFC 9396 §7: "the authorization server MUST also return the
		// authorization_details as granted".
		AuthorizationDetails: grant.AuthorizationDetails,
	}
	if slices.Contains(scopes, "openid") {
		// OIDC Core §2: iss, sub, aud, exp, iat; auth_time and nonce as requested.
		claims := map[string]any{}
		for k, v := range grant.Claims {
			claims[k] = v
		}
		claims["iss"] = s.cfg.Issuer
		claims["sub"] = grant.Subject
		claims["aud"] = client.ID
		claims["iat"] = now.Unix()
		claims["exp"] = now.Add(s.cfg.IDTokenLifetime).Unix()
		// auth_time always: OIDC Core §2 requires it when max_age was requested or
		// the client requires it, and allows it otherwise.
		claims["auth_time"] = grant.AuthTime.Unix()
		// OIDC Core §2 amr: the authentication methods (RFC 8176; "pwd" for the
		// built-in login). OIDC Back-Channel Logout §2.1 / Front-Channel Logout §3
		// sid: the session the user signed in with, for logout.
		if len(grant.AMR) > 0 {
			claims["amr"] = grant.AMR
		}
		if grant.SID != "" {
			claims["sid"] = grant.SID
		}
		// A brokered login (issue 13): OIDC Core §2 acr, the upstream's passed
		// through; idp names the identity provider the user signed in with.
		if grant.ACR != "" {
			claims["acr"] = grant.ACR
		}
		if grant.IDP != "" {
			claims["idp"] = grant.IDP
		}
		if nonce != "" {
			claims["nonce"] = nonce
		}
		resp.IDToken, err = s.signer.Sign(ctx, "JWT", claims)
		if err != nil {
			return nil, AsError(fmt.Errorf("sign ID token: %w", err))
		}
	}
	return resp, nil
}
