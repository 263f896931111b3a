package federation_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pargate/pargate/pkg/oauth"
)

// TestAuthorizationEndpoint_OIDCDiscovery_3: the endpoint of the discovery document,
// for the login page's CSP form-action; an unreachable upstream is
// ErrUpstreamUnavailable like Begin's.
func TestAuthorizationEndpoint_OIDCDiscovery_3(t *testing.T) {
	op := newOP(t)
	c := newClient(op)
	got, err := c.AuthorizationEndpoint(context.Background(), op.provider())
	if err != nil || got != op.issuer()+"/authorize?tenant=t1" {
		t.Fatalf("AuthorizationEndpoint = %q, %v", got, err)
	}
	p := op.provider()
	op.srv.Close()
	p.Issuer = "http://127.0.0.1:1"
	if _, err := c.AuthorizationEndpoint(context.Background(), p); !errors.Is(err, oauth.ErrUpstreamUnavailable) {
		t.Errorf("unreachable upstream: %v", err)
	}
}
