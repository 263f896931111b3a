package oauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
)

// NewSubject returns a fresh random subject identifier for a new user: 128 bits from
// crypto/rand, base64url-encoded. OIDC Core §2: the sub is "a locally unique and
// never reassigned identifier"; a random value is never derived from the username,
// so deleting a user and creating one with the same name yields a different sub.
func NewSubject() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random subject: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// errUserCutOff reports a grant whose user is gone, disabled, re-created or has cut
// its grants off; callers turn it into their endpoint's answer (invalid_grant,
// invalid_token, inactive).
var errUserCutOff = errors.New("the grant's user is deleted, disabled or cut off")

// checkGrantUser loads the user a grant was made for and reports errUserCutOff if the
// user no longer exists, is disabled, has another subject (deleted and re-created),
// or moved TokensValidAfter to or past the grant's creation (disable, password
// change). Keycloak calls this a not-before time; node-oidc-provider's refresh fails
// when the account is gone. Store failures are returned as they are.
func (s *Service) checkGrantUser(ctx context.Context, g *Grant) error {
	username := g.Username
	if username == "" {
		// A grant stored before grants named their user: its subject was the username
		// unless a `sub` claim said otherwise, and then the lookup fails closed.
		username = g.Subject
	}
	u, err := s.store.GetUser(ctx, username)
	if errors.Is(err, ErrNotFound) {
		return errUserCutOff
	}
	if err != nil {
		return fmt.Errorf("load the grant's user: %w", err)
	}
	if u.Disabled || u.Subject() != g.Subject ||
		(!u.TokensValidAfter.IsZero() && !g.CreatedAt.After(u.TokensValidAfter)) {
		return errUserCutOff
	}
	return nil
}
