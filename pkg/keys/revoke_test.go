package keys_test

import (
	"slices"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/keys"
)

func genKeys(t *testing.T, n int) []jose.JSONWebKey {
	t.Helper()
	var out []jose.JSONWebKey
	for range n {
		k, err := keys.Generate(keys.ES256)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, k)
	}
	return out
}

// A compromised key leaves the set at once, whatever its role.
func TestRevoke_RemovesTheKeyAtOnce(t *testing.T) {
	ks := genKeys(t, 3) // A active, B successor, C retired
	a, b, c := ks[0].KeyID, ks[1].KeyID, ks[2].KeyID
	set, err := keys.NewSet(ks...)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, kid  string
		wantActive string // "" means a fresh key
		keep       []string
	}{
		{"a retired key is dropped", c, a, []string{a, b}},
		{"the successor is dropped; the active key keeps signing", b, a, []string{a, c}},
		{"the active key is dropped; the published successor signs and a fresh one follows", a, b, []string{b, c}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next, err := keys.Revoke(set, tc.kid, keys.ES256)
			if err != nil {
				t.Fatal(err)
			}
			got := next.KeyIDs()
			if slices.Contains(got, tc.kid) {
				t.Fatalf("revoked kid %s is still in %v", tc.kid, got)
			}
			if next.Active().KeyID != tc.wantActive {
				t.Errorf("active = %s, want %s", next.Active().KeyID, tc.wantActive)
			}
			for _, k := range tc.keep {
				if !slices.Contains(got, k) {
					t.Errorf("kid %s was dropped: %v", k, got)
				}
			}
			if tc.kid == a && (len(got) != 3 || got[1] == b || got[1] == c) {
				t.Errorf("after revoking the active key: %v, want [B, fresh, C]", got)
			}
		})
	}
	one, _ := keys.NewSet(ks[0])
	next, err := keys.Revoke(one, a, keys.ES256)
	if err != nil || len(next.KeyIDs()) != 2 || slices.Contains(next.KeyIDs(), a) {
		t.Errorf("revoking the only key = %v, %v; want two fresh keys", next, err)
	}
	if _, err := keys.Revoke(set, "no-such-kid", keys.ES256); err == nil {
		t.Error("revoking an unknown kid succeeded")
	}
}
