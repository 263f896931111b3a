package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// accessToken is a verified access token of this server and its grant; grant is nil
// for a client-credentials token (clientCredentials reports whether it is one).
type accessToken struct {
	claims accessTokenClaims
	grant  *Grant
}

// clientCredentials reports whether the token was issued by the client credentials
// grant (RFC 6749 §4.4): no end-user, no grant.
func (at *accessToken) clientCredentials() bool {
	return at.claims.GrantType == GrantClientCredentials
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
	if json.Unmarshal(payload, &at) != nil || at.Issuer != s.cfg.Issuer || now.Unix() >= at.Expiry {
		return nil, ErrNotFound
	}
	if at.GrantType == GrantClientCredentials {
		return s.parseClientToken(ctx, at)
	}
	if at.GrantType != "" || at.GrantID == "" {
		return nil, ErrNotFound
	}
	grant, err := s.store.GetGrant(ctx, at.GrantID)
	if err != nil {
		return nil, err
	}
	if grant.RevokedAt != nil || !now.Before(grant.ExpiresAt) {
		return nil, ErrNotFound
	}
	// The user must still be there, enabled and not have cut the grant off: RFC 6750
	// §3.1 invalid_token at userinfo, RFC 7662 §2.2 inactive at introspection.
	if err := s.checkGrantUser(ctx, grant); errors.Is(err, errUserCutOff) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	// And so must the client: disabling or deleting a client ends its tokens at
	// once, as it ends the refresh tokens it can no longer authenticate to use.
	if err := s.checkClientLive(ctx, at.ClientID); err != nil {
		return nil, err
	}
	return &accessToken{claims: at, grant: grant}, nil
}

// checkClientLive returns ErrNotFound if the client id is no longer registered or is
// disabled (RFC 7662 §2.2: "has not been revoked"; RFC 6750 §3.1 invalid_token). The
// read is the client cache's (CLIENT_CACHE_TTL), so a disabled client's tokens stop
// within that time on every instance.
func (s *Service) checkClientLive(ctx context.Context, id string) error {
	client, err := s.client(ctx, id)
	if err != nil {
		return err
	}
	if client.Disabled {
		return ErrNotFound
	}
	return nil
}

// parseClientToken finishes parseAccessToken for a client-credentials token, which
// has no grant item unless it was revoked (docs/design.md decision 29): it is usable
// until it expires, unless a revocation is recorded under its grant ID, and while
// its client is still registered, enabled and allowed the grant — the client's
// registration is the policy at every use, as it is at every issuance (a client
// disabled, deleted or no longer allowed client_credentials makes its tokens
// inactive, RFC 7662 §2.2, and invalid, RFC 6750 §3.1).
func (s *Service) parseClientToken(ctx context.Context, at accessTokenClaims) (*accessToken, error) {
	// RFC 9068 §2.2: for a token without a resource owner, sub is the client_id.
	if at.GrantID == "" || at.Subject != at.ClientID {
		return nil, ErrNotFound
	}
	if _, err := s.store.GetGrant(ctx, at.GrantID); err == nil {
		// Only a revocation creates an item under a client-credentials token's grant ID.
		return nil, ErrNotFound
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	client, err := s.client(ctx, at.ClientID)
	if err != nil {
		return nil, err
	}
	if client.Disabled || client.Public() || !client.AllowsGrant(GrantClientCredentials) {
		return nil, ErrNotFound
	}
	return &accessToken{claims: at}, nil
}
