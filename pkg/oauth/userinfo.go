package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// errInvalidToken is the one answer for every unusable access token at userinfo.
func errInvalidToken() *Error {
	return newError(CodeInvalidToken, "the access token is invalid, expired or revoked")
}

// Userinfo implements OIDC Core §5.3 for an access token presented with scheme
// ("Bearer" or "DPoP", RFC 6750 §2.1 and RFC 9449 §7.1).
func (s *Service) Userinfo(ctx context.Context, scheme, token string, dpop DPoP) (map[string]any, error) {
	claims, _, err := s.UserinfoOf(ctx, scheme, token, dpop)
	return claims, err
}

// UserinfoOf is Userinfo that also names the client the access token was issued
// to, for the edge's CORS decision (docs/design.md decision 30): the page calling
// the UserInfo endpoint is the token's client's, or the browser must not read the
// answer.
// The client is named also when the token is genuine but refused here (wrong
// scheme, a missing DPoP nonce, insufficient scope), so its page can read why.
func (s *Service) UserinfoOf(ctx context.Context, scheme, token string, dpop DPoP) (claims map[string]any, clientID string, err error) {
	claims, at, err := s.userinfo(ctx, scheme, token, dpop)
	if at != nil {
		clientID = at.claims.ClientID
	}
	return claims, clientID, err
}

// RegisteredClient returns the registered client id, read through the client cache
// as every endpoint reads it; ErrNotFound if there is none.
func (s *Service) RegisteredClient(ctx context.Context, id string) (*Client, error) {
	return s.client(ctx, id)
}

// userinfo is Userinfo; the access token is returned once parseAccessToken has
// accepted it, also with a later error.
func (s *Service) userinfo(ctx context.Context, scheme, token string, dpop DPoP) (map[string]any, *accessToken, error) {
	if token == "" {
		return nil, nil, newError(CodeInvalidToken, "an access token is required")
	}
	now := s.now()
	at, err := s.parseAccessToken(ctx, token, now)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, errInvalidToken()
	}
	if err != nil {
		return nil, nil, AsError(fmt.Errorf("userinfo: %w", err))
	}
	if at.clientCredentials() {
		// OIDC Core §5.3: the UserInfo Endpoint "returns Claims about the
		// authenticated End-User"; a client-credentials token has none (RFC 6749
		// §4.4), and never will, so asking for more scope cannot help (RFC 6750
		// §3.1 insufficient_scope is "higher privileges"). It is invalid here: "The
		// access token provided is expired, revoked, malformed, or invalid for other
		// reasons" (RFC 6750 §3.1 invalid_token, HTTP 401).
		return nil, at, newError(CodeInvalidToken, "this access token was issued to a client for itself (client_credentials): it has no end-user")
	}
	if cnf := at.claims.Confirmation; cnf != nil && cnf.X5TS256 != "" {
		// RFC 8705 §3: the protected resource "MUST obtain, from its TLS
		// implementation layer, the client certificate used for mutual TLS and MUST
		// verify that the certificate matches the certificate associated with the
		// access token. If they do not match, the resource access attempt MUST be
		// rejected with an error, per [RFC6750], using an HTTP 401 status code and
		// the invalid_token error code."
		if dpop.Certificate == nil || dpop.Certificate.Thumbprint() != cnf.X5TS256 {
			return nil, at, newError(CodeInvalidToken, "this access token is bound to a TLS client certificate: present the same certificate (mutual TLS)")
		}
	}
	// RFC 9700 §2.3: an access token "should be audience-restricted to a particular
	// resource server"; the userinfo endpoint is the server's own resource, so a token
	// for other resources only (RFC 8707) is refused here. RFC 6750 §3.1: invalid_token.
	if !slices.Contains(at.claims.Audience, s.cfg.AccessTokenAudience) {
		return nil, at, newError(CodeInvalidToken, "the access token is not for this resource")
	}
	if at.claims.Confirmation != nil && at.claims.Confirmation.JKT != "" {
		// RFC 9449 §7.1: a DPoP-bound token is sent with the DPoP scheme and a proof
		// whose key matches cnf.jkt and whose ath is the token's hash.
		if !strings.EqualFold(scheme, "DPoP") {
			return nil, at, newError(CodeInvalidToken, "this access token is DPoP-bound: use the DPoP scheme with a proof")
		}
		sum := sha256.Sum256([]byte(token))
		dpop.ATH = base64.RawURLEncoding.EncodeToString(sum[:])
		jkt, err := s.verifyDPoP(ctx, at.claims.ClientID, dpop)
		if err != nil {
			return nil, at, err
		}
		if jkt != at.claims.Confirmation.JKT {
			return nil, at, invalidDPoP("the DPoP proof key does not match the token's cnf.jkt")
		}
	} else if !strings.EqualFold(scheme, "Bearer") {
		return nil, at, newError(CodeInvalidToken, "use the Bearer scheme for this access token")
	}
	if !slices.Contains(strings.Fields(at.claims.Scope), "openid") {
		return nil, at, newError(CodeInsufficientScope, "the access token lacks the openid scope")
	}
	out := map[string]any{}
	for k, v := range at.grant.Claims {
		out[k] = v
	}
	out["sub"] = at.grant.Subject
	return out, at, nil
}
