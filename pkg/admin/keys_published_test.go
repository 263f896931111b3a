package admin_test

import (
	"sync"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/admin"
	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/secrets"
	"github.com/pargate/pargate/pkg/secrets/secretstest"
)

type setClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *setClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *setClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// Keys rotate (in process) refuses to promote a successor
// published less than the JWKS cache time (keys.MinPublished) ago, says when it may,
// and leaves the secret as it was; at that time it rotates.
func TestKeysRotate_RefusesToPromoteASuccessorPublishedTooRecently(t *testing.T) {
	h := newHarness(t)
	t0 := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	clock := &setClock{t: t0}
	h.now = clock.Now
	sm, id := h.newSecret(`{"keys":[]}`)
	first := h.rotate(t, id)
	versions := len(secretstest.VersionStages(t, sm, id))

	clock.Set(t0.Add(keys.MinPublished - time.Second))
	r := h.run("", "keys", "rotate", "--keys-secret", id)
	r.fails(t, admin.ExitError, "published too recently")
	r.fails(t, admin.ExitError, "may sign from "+t0.Add(keys.MinPublished).Format(time.RFC3339))
	if n := len(secretstest.VersionStages(t, sm, id)); n != versions {
		t.Errorf("a refused rotation left %d versions, want %d", n, versions)
	}
	current, err := secrets.LoadKeySet(t.Context(), sm, id)
	if err != nil || current.Active().KeyID != first.ActiveKID {
		t.Fatalf("current set after a refused rotation: %v, %v", current.KeyIDs(), err)
	}

	clock.Set(t0.Add(keys.MinPublished))
	second := h.rotate(t, id)
	if second.ActiveKID != first.KIDs[1] {
		t.Errorf("active key %s, want the successor %s", second.ActiveKID, first.KIDs[1])
	}
	set, err := secrets.LoadKeySet(t.Context(), sm, id)
	if err != nil {
		t.Fatal(err)
	}
	if at, ok := set.Published(second.KIDs[1]); !ok || !at.Equal(t0.Add(keys.MinPublished)) {
		t.Errorf("new successor published %v (%v), want the CLI's clock", at, ok)
	}
}
