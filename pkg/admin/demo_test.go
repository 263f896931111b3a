package admin_test

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/admin"
)

// `pargate import` refuses the demo seed's published client secret and password
// unless --allow-demo, and then writes nothing (issue 10 item 18).
func TestImport_RefusesTheDemoCredentialsWithoutAllowDemo(t *testing.T) {
	h := newHarness(t)
	_, here, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(here), "..", "..", "infra", "seed.json")

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
