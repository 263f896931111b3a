package admin_test

import (
	"testing"
)

// TestUserCreate_SubIsRandomAndNeverReassigned: OIDC Core §2, the sub is "never
// reassigned": a user created without a `sub` claim gets a random one, not the
// username, and deleting the user and creating the name again yields another.
func TestUserCreate_SubIsRandomAndNeverReassigned(t *testing.T) {
	h := newHarness(t)
	var first, second struct {
		Sub string `json:"sub"`
	}
	h.run(password+"\n", "user", "create", "amy").ok(t, &first)
	stored, err := h.store.GetUser(t.Context(), "amy")
	if err != nil {
		t.Fatal(err)
	}
	if stored.Sub == "" || stored.Sub == "amy" || stored.Subject() != stored.Sub || first.Sub != stored.Sub {
		t.Fatalf("created user has sub %q (printed %q), want a random one", stored.Sub, first.Sub)
	}
	h.run("", "user", "delete", "amy").ok(t, nil)
	h.run(password+"\n", "user", "create", "amy").ok(t, &second)
	if second.Sub == "" || second.Sub == first.Sub {
		t.Errorf("re-created user has sub %q, the deleted one had %q", second.Sub, first.Sub)
	}
}
