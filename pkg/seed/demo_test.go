package seed

import (
	"slices"
	"testing"
)

// The demo seed's credentials are the ones PublishedCredentials knows, so
// `pargate import` can refuse them.
func TestPublishedCredentials_FindsTheDemoSeeds(t *testing.T) {
	f := demoSeed(t)
	if got, want := PublishedCredentials(f), []string{"client demo-client", "client demo-service", "user demo"}; !slices.Equal(got, want) {
		t.Errorf("PublishedCredentials(infra/seed.json) = %v, want %v", got, want)
	}
	for i := range f.Clients {
		if f.Clients[i].Secret != "" {
			f.Clients[i].Secret = DemoClientSecret + "x"
		}
	}
	f.Users[0].Password = "another password"
	if got := PublishedCredentials(f); len(got) != 0 {
		t.Errorf("PublishedCredentials of changed credentials = %v, want none", got)
	}
}
