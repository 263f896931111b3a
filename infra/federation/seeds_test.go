// Package federation holds the seeds of `make run-federation`: two local pargates,
// an upstream on localhost:9090 and a broker on 127.0.0.1:8080 that signs users in
// through it (README "Sign in with your existing identity provider").
package federation

import (
	"slices"
	"testing"

	"github.com/pargate/pargate/pkg/seed"
)

// The two seeds fit together: the broker's provider is the upstream's issuer with
// the upstream's client and secret, and that client's redirect URI is the broker's
// callback (ISSUER/federation/callback).
func TestSeeds_TheBrokerIsAClientOfTheUpstream(t *testing.T) {
	up, err := seed.ReadFile("upstream.json")
	if err != nil {
		t.Fatal(err)
	}
	broker, err := seed.ReadFile("broker.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(broker.IdentityProviders) != 1 || len(up.Clients) != 1 || len(up.Users) == 0 {
		t.Fatalf("broker providers %d, upstream clients %d, users %d", len(broker.IdentityProviders), len(up.Clients), len(up.Users))
	}
	p, c := broker.IdentityProviders[0], up.Clients[0]
	if p.Issuer != "http://localhost:9090" || p.ClientID != c.ID || p.ClientSecret != c.Secret {
		t.Errorf("provider %s (%s, %s) is not the upstream's client %s", p.ID, p.Issuer, p.ClientID, c.ID)
	}
	if !slices.Equal(c.RedirectURIs, []string{"http://127.0.0.1:8080/federation/callback"}) {
		t.Errorf("the upstream's client redirects to %v, not the broker's callback", c.RedirectURIs)
	}
}
