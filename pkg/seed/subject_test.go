package seed

import (
	"testing"

	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
)

func plainHash(p string) (string, error) { return "$argon2id$test$" + p, nil }

// TestImport_SubIsRandomPinnedOrKept: OIDC Core §2, the sub is "never reassigned".
// A seed user gets a random sub unless the seed pins one (the `sub` field, or a
// `sub` claim as existing seeds do), and a re-import keeps the stored sub; a re-import
// sets the password, so it cuts the replaced user's grants off.
func TestImport_SubIsRandomPinnedOrKept(t *testing.T) {
	ctx := t.Context()
	store := memory.New()
	f, err := Parse([]byte(`{"clients":[],"users":[
		{"username":"random","password":"pw-random-123"},
		{"username":"pinned","password":"pw-pinned-123","sub":"pinned-sub"},
		{"username":"claimed","password":"pw-claimed-123","claims":{"sub":"claimed-sub"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := ImportWith(ctx, store, f, plainHash); err != nil {
		t.Fatal(err)
	}
	get := func(name string) *oauth.User {
		t.Helper()
		u, err := store.GetUser(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	random := get("random")
	if random.Sub == "" || random.Sub == "random" || !random.TokensValidAfter.IsZero() {
		t.Errorf("unpinned seed user stored as %+v, want a random sub and no cut-off", random)
	}
	if u := get("pinned"); u.Sub != "pinned-sub" {
		t.Errorf("pinned sub = %q", u.Sub)
	}
	if u := get("claimed"); u.Sub != "claimed-sub" || u.Subject() != "claimed-sub" {
		t.Errorf("claim-pinned sub = %q", u.Sub)
	}
	if err := ImportWith(ctx, store, f, plainHash); err != nil {
		t.Fatal(err)
	}
	again := get("random")
	if again.Sub != random.Sub {
		t.Errorf("re-import changed the sub from %q to %q", random.Sub, again.Sub)
	}
	if again.TokensValidAfter.IsZero() {
		t.Error("re-import replaced the password without cutting the user's grants off")
	}
}
