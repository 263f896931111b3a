package admin

import (
	"context"
	"fmt"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// grantStore is what the grants commands need of the table, beyond Store.
type grantStore interface {
	oauth.Grants
	oauth.GrantsBySubject
	oauth.Consents
}

// grantView is a grant as the CLI prints it: never its claims.
type grantView struct {
	ID        string     `json:"grant_id"`
	ClientID  string     `json:"client_id"`
	Sub       string     `json:"sub"`
	Scope     []string   `json:"scope"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

func viewGrant(g *oauth.Grant) grantView {
	return grantView{ID: g.ID, ClientID: g.ClientID, Sub: g.Subject, Scope: g.Scopes,
		CreatedAt: g.CreatedAt, ExpiresAt: g.ExpiresAt, RevokedAt: g.RevokedAt}
}

func (e *env) grants() (grantStore, error) {
	g, ok := e.store.(grantStore)
	if !ok {
		return nil, fmt.Errorf("this store cannot list grants")
	}
	return g, nil
}

// userGrants returns the grants of the user's subject.
func (e *env) userGrants(ctx context.Context, username string) (grantStore, []*oauth.Grant, error) {
	g, err := e.grants()
	if err != nil {
		return nil, nil, err
	}
	u, err := e.store.GetUser(ctx, username)
	if err != nil {
		return nil, nil, notFound(err, "user", username)
	}
	list, err := g.ListGrantsBySubject(ctx, u.Subject())
	return g, list, err
}

func (e *env) grantList(ctx context.Context, username string) error {
	_, list, err := e.userGrants(ctx, username)
	if err != nil {
		return err
	}
	out := make([]grantView, 0, len(list))
	for _, g := range list {
		out = append(out, viewGrant(g))
	}
	return e.print(out)
}

func (e *env) grantRevoke(ctx context.Context, id string) error {
	g, err := e.grants()
	if err != nil {
		return err
	}
	if err := g.RevokeGrant(ctx, id, time.Now()); err != nil {
		return notFound(err, "grant", id)
	}
	// The user's remembered consent for the grant's client goes with it
	// (docs/design.md decision 32): the next authorization shows the consent page.
	gr, err := g.GetGrant(ctx, id)
	if err != nil {
		return fmt.Errorf("read revoked grant %s: %w", id, err)
	}
	if gr.Subject != "" {
		if err := oauth.ForgetConsent(ctx, g, gr.Subject, gr.ClientID); err != nil {
			return fmt.Errorf("grant %s is revoked, but its consent could not be forgotten: %w", id, err)
		}
	}
	e.note("Revoked grant %q: its refresh and access tokens stop working, and the consent page is shown again.", id)
	return e.print(map[string]any{"grant_id": id, "revoked": true})
}

// userRevokeGrants revokes every live grant of the user. The index is eventually
// consistent, so a grant made in the last moment may be missed: disable the user or
// set its password to cut every grant off at once.
func (e *env) userRevokeGrants(ctx context.Context, username string) error {
	g, list, err := e.userGrants(ctx, username)
	if err != nil {
		return err
	}
	now := time.Now()
	revoked := []string{}
	for _, gr := range list {
		// Every client's remembered consent is forgotten, whatever its grants' state
		// (docs/design.md decision 32).
		if err := oauth.ForgetConsent(ctx, g, gr.Subject, gr.ClientID); err != nil {
			return fmt.Errorf("forget the consent for %s: %w (revoked before it: %v)", gr.ClientID, err, revoked)
		}
		if gr.RevokedAt != nil || !now.Before(gr.ExpiresAt) {
			continue
		}
		if err := g.RevokeGrant(ctx, gr.ID, now); err != nil {
			return fmt.Errorf("revoke grant %s: %w (revoked before it: %v)", gr.ID, err, revoked)
		}
		revoked = append(revoked, gr.ID)
	}
	e.note("Revoked %d grants of user %q.", len(revoked), username)
	return e.print(map[string]any{"username": username, "revoked": revoked})
}
