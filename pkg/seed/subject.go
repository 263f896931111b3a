package seed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// subjectFor is the immutable `sub` an imported user is stored with (OIDC Core §2:
// "never reassigned"): the seed's `sub` if it pins one, else a `sub` claim (how
// seeds pinned it before), else the sub of the user already stored under the name
// (a re-import keeps the identity), else a fresh random one. It also says whether a
// user is being replaced: the import then sets the password, so the user's grants
// made until now are cut off (oauth.User.TokensValidAfter), as with set-password.
func subjectFor(ctx context.Context, reg oauth.Registry, u User) (sub string, replaced bool, err error) {
	if users, ok := reg.(oauth.Users); ok {
		existing, gerr := users.GetUser(ctx, u.Username)
		switch {
		case gerr == nil:
			replaced = true
			sub = existing.Subject()
		case !errors.Is(gerr, oauth.ErrNotFound):
			return "", false, fmt.Errorf("load existing user: %w", gerr)
		}
	}
	if claim, ok := u.Claims["sub"].(string); ok && claim != "" {
		sub = claim
	}
	if u.Sub != "" {
		sub = u.Sub
	}
	if sub == "" {
		sub, err = oauth.NewSubject()
	}
	return sub, replaced, err
}

// importedUser is the stored form of a seed user.
func importedUser(ctx context.Context, reg oauth.Registry, u User, passwordHash string) (*oauth.User, error) {
	sub, replaced, err := subjectFor(ctx, reg, u)
	if err != nil {
		return nil, err
	}
	user := &oauth.User{Username: u.Username, PasswordHash: passwordHash, Claims: u.Claims, Disabled: u.Disabled, Sub: sub}
	if replaced {
		user.TokensValidAfter = time.Now().UTC()
	}
	return user, nil
}
