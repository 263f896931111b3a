package federation

import (
	"context"

	"github.com/pargate/pargate/pkg/oauth"
)

// AuthorizationEndpoint is the authorization endpoint p's discovery document names
// (cached as for Begin): the login page allows its origin in the CSP form-action,
// since a provider button's answer is a 303 there (httpapi.UpstreamAuthorizationEndpoint).
func (c *Client) AuthorizationEndpoint(ctx context.Context, p *oauth.IdentityProvider) (string, error) {
	if err := checkProvider(p); err != nil {
		return "", err
	}
	up, err := c.discover(ctx, p.Issuer)
	if err != nil {
		return "", err
	}
	return up.authorize.String(), nil
}
