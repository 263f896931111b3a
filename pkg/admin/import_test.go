package admin_test

import (
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/admin"
	"github.com/pargate/pargate/pkg/seed"
)

// demoSeedPath is the demo seed of the local server, infra/seed.json.
func demoSeedPath() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..", "infra", "seed.json")
}

// The demo seed of the local server (infra/seed.json) imports, and its client and
// user then work over the table.
func TestImport_WritesTheSeedFilesClientsAndUsers(t *testing.T) {
	h := newHarness(t)
	path := demoSeedPath()
	f, err := seed.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	r := h.run("", "import", "--allow-demo", path)
	var out struct {
		Clients []string `json:"clients"`
		Users   []string `json:"users"`
	}
	r.ok(t, &out)
	var wantClients, wantUsers []string
	for _, c := range f.Clients {
		wantClients = append(wantClients, c.ID)
	}
	for _, u := range f.Users {
		wantUsers = append(wantUsers, u.Username)
	}
	if !slices.Equal(out.Clients, wantClients) || !slices.Equal(out.Users, wantUsers) {
		t.Errorf("import printed %+v, want clients %v users %v", out, wantClients, wantUsers)
	}
	for _, c := range f.Clients {
		if c.Secret != "" && strings.Contains(r.stdout+r.stderr, c.Secret) {
			t.Errorf("import printed the secret of %s", c.ID)
		}
	}

	svc := h.service()
	for _, c := range f.Clients {
		if c.Secret == "" {
			continue
		}
		if _, err := svc.AuthenticateClient(t.Context(), basic(c.ID, c.Secret)); err != nil {
			t.Errorf("imported client %s: %v", c.ID, err)
		}
	}
	for _, u := range f.Users {
		if _, err := svc.Login(t.Context(), u.Username, u.Password); err != nil {
			t.Errorf("imported user %s: %v", u.Username, err)
		}
	}

	// Importing again replaces; nothing is duplicated.
	h.run("", "import", path, "--allow-demo").ok(t, nil)
	clients, err := h.store.ListClients(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(clients) != len(f.Clients) {
		t.Errorf("%d clients after a second import, want %d", len(clients), len(f.Clients))
	}
}

func TestImport_AnInvalidSeedWritesNothing(t *testing.T) {
	h := newHarness(t)
	bad := writeFile(t, "seed.json", `{"clients":[{"client_id":"x","client_secret":"short","redirect_uris":["https://x.example/cb"]}],
		"users":[{"username":"u","password":"pw-pw-pw-pw"}]}`)
	h.run("", "import", bad).fails(t, admin.ExitError, "client_secret must be at least 43 characters")
	users, err := h.store.ListUsers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 0 {
		t.Errorf("an invalid seed wrote %d users", len(users))
	}
	h.run("", "import").fails(t, admin.ExitUsage, "takes one argument")
	h.run("", "import", "/nonexistent/seed.json").fails(t, admin.ExitError, "no such file")
}

// `pargate import` refuses the demo seed's published client secret and password
// unless --allow-demo, and then writes nothing.
func TestImport_RefusesTheDemoCredentialsWithoutAllowDemo(t *testing.T) {
	h := newHarness(t)
	path := demoSeedPath()

	r := h.run("", "import", path)
	r.fails(t, admin.ExitError, "--allow-demo")
	if !strings.Contains(r.stderr, "client demo-client") || !strings.Contains(r.stderr, "user demo") ||
		strings.Contains(r.stderr, "demo-secret-change-me") || strings.Contains(r.stderr, "demo-password") {
		t.Errorf("refusal says %q: want the client and user named, not their credentials", r.stderr)
	}
	if clients, err := h.store.ListClients(t.Context()); err != nil || len(clients) != 0 {
		t.Errorf("a refused import wrote clients %v (%v)", clients, err)
	}
	if users, err := h.store.ListUsers(t.Context()); err != nil || len(users) != 0 {
		t.Errorf("a refused import wrote users %v (%v)", users, err)
	}

	h.run("", "import", "--allow-demo", path).ok(t, nil)
	if _, err := h.store.GetClient(t.Context(), "demo-client"); err != nil {
		t.Errorf("import --allow-demo: %v", err)
	}
}
