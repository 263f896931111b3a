package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
	"testing"
)

// The checks of a push allocate only what they return.
func TestPushChecks_Allocations(t *testing.T) {
	secret, hash := strings.Repeat("s", 64), SecretHash("x")
	for name, tc := range map[string]struct {
		f    func()
		want float64
	}{
		"parseScope (the result)":  {func() { _, _ = parseScope("openid profile email openid") }, 1},
		"validS256Challenge":       {func() { _ = validS256Challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM") }, 0},
		"hasField":                 {func() { _ = hasField("openid profile email offline_access", "email") }, 0},
		"secretMatches (64 bytes)": {func() { _ = secretMatches(secret, hash) }, 0},
	} {
		if n := testing.AllocsPerRun(100, tc.f); n > tc.want {
			t.Errorf("%s allocates %v times, want at most %v", name, n, tc.want)
		}
	}
}

// secretMatches is ConstantTimeCompare(SecretHash(secret), hash) for every length,
// around the stack copy's bound.
func TestSecretMatches_IsSecretHashCompare(t *testing.T) {
	for _, n := range []int{0, 1, 32, 33, secretStack - 1, secretStack, secretStack + 1, 4 * secretStack} {
		secret := strings.Repeat("k", n)
		for _, hash := range [][]byte{SecretHash(secret), SecretHash(secret + "x"), nil, SecretHash(secret)[:31]} {
			want := subtle.ConstantTimeCompare(SecretHash(secret), hash) == 1
			if got := secretMatches(secret, hash); got != want {
				t.Errorf("secretMatches(%d bytes, %x) = %v, want %v", n, hash, got, want)
			}
		}
	}
	sum := sha256.Sum256([]byte("secret"))
	if !secretMatches("secret", sum[:]) {
		t.Error("secretMatches refuses the secret's own SHA-256")
	}
}

// hasField is slices.Contains(strings.Fields(s), f).
func TestHasField_IsContainsFields(t *testing.T) {
	for _, s := range []string{"", " ", "openid", "openid profile", "  openid\tprofile\n email ", "a\u00a0b", "ab"} {
		for _, f := range []string{"", "openid", "profile", "email", "a", "b", "a\u00a0b", "ab"} {
			want := false
			for _, x := range strings.Fields(s) {
				want = want || x == f
			}
			if got := hasField(s, f); got != want {
				t.Errorf("hasField(%q, %q) = %v, want %v", s, f, got, want)
			}
		}
	}
}
