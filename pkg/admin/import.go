package admin

import (
	"context"
	"fmt"
	"strings"

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
	if err := seed.Import(ctx, e.store, f); err != nil {
		return err
	}
	out := struct {
		Clients []string `json:"clients"`
		Users   []string `json:"users"`
	}{Clients: []string{}, Users: []string{}}
	for _, c := range f.Clients {
		out.Clients = append(out.Clients, c.ID)
	}
	for _, u := range f.Users {
		out.Users = append(out.Users, u.Username)
	}
	e.note("Imported %d clients and %d users from %s (any with the same ids were replaced).", len(out.Clients), len(out.Users), path)
	return e.print(out)
}
