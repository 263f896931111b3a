package admin

import (
	"context"

	"github.com/pargate/pargate/pkg/seed"
)

// importSeed writes a seed file's clients and users with seed.Import, the path the
// local server seeds its store by: existing clients and users with the same ids are
// replaced. Secrets and passwords in the file are hashed, never printed.
func (e *env) importSeed(ctx context.Context, path string) error {
	f, err := seed.ReadFile(path)
	if err != nil {
		return err
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
