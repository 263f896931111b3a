package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

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
	// The user must still be there, enabled and not have cut the grant off: RFC 6750
	// §3.1 invalid_token at userinfo, RFC 7662 §2.2 inactive at introspection.
	if err := s.checkGrantUser(ctx, grant); errors.Is(err, errUserCutOff) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	return &accessToken{claims: at, grant: grant}, nil
}
