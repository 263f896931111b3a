package admin

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/secrets"
	"github.com/pargate/pargate/pkg/seed"
)

// importSeed writes a seed file's clients and users with seed.Import, the path the
// local server seeds its store by: existing clients and users with the same ids are
// replaced. Secrets and passwords in the file are hashed, never printed.
//
// The demo seed's client secret and password are published in the repository: a
// file carrying them is refused unless allowDemo, so the README's local example
// cannot plant a known credential in a real deployment.
func (e *env) importSeed(ctx context.Context, path string, allowDemo bool) error {
	f, err := seed.ReadFile(path)
	if err != nil {
		return err
	}
	if published := seed.PublishedCredentials(f); len(published) > 0 && !allowDemo {
		return fmt.Errorf("%s carries the demo seed's published credentials (%s): anyone could use them; "+
			"change them, or give --allow-demo for a local or throwaway table", path, strings.Join(published, ", "))
	}
	if len(f.IdentityProviders) > 0 && e.settings.IDPSecretPrefix == "" {
		return usagef("%s has identity_providers, whose secrets need a prefix: set --idp-secret-prefix or %s (the stack's IdentityProviderSecretPrefix output)", path, EnvIDPSecretPrefix)
	}
	// Clients and users only: a provider's secret must never reach the table store.
	if err := seed.Import(ctx, clientsAndUsers{e.store}, f); err != nil {
		return err
	}
	// The providers: each secret to Secrets Manager, then its item (issue 13).
	out := struct {
		Clients           []string `json:"clients"`
		Users             []string `json:"users"`
		IdentityProviders []string `json:"identity_providers"`
	}{Clients: []string{}, Users: []string{}, IdentityProviders: []string{}}
	if len(f.IdentityProviders) > 0 {
		if e.providerSecrets == nil {
			e.providerSecrets = secretsmanager.NewFromConfig(e.awsCfg)
		}
		w := &secrets.ProviderWriter{Secrets: e.providerSecrets, Items: e.store, Prefix: e.settings.IDPSecretPrefix, Options: e.providerSecretOptions()}
		for i := range f.IdentityProviders {
			p := f.IdentityProviders[i]
			if err := w.PutIdentityProvider(ctx, &p); err != nil {
				return fmt.Errorf("import identity provider %s: %w", p.ID, err)
			}
			out.IdentityProviders = append(out.IdentityProviders, p.ID)
		}
	}
	for _, c := range f.Clients {
		out.Clients = append(out.Clients, c.ID)
	}
	for _, u := range f.Users {
		out.Users = append(out.Users, u.Username)
	}
	e.note("Imported %d clients, %d users and %d identity providers from %s (any with the same ids were replaced).", len(out.Clients), len(out.Users), len(out.IdentityProviders), path)
	return e.print(out)
}

// clientsAndUsers is the store as seed.Import sees it: the registry of clients and
// users, and the users' reads (an imported user keeps its sub), but not the
// providers' items, which go through secrets.ProviderWriter.
type clientsAndUsers struct{ registryAndUsers }

type registryAndUsers interface {
	oauth.Registry
	oauth.Users
}
