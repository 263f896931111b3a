package secrets_test

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/secrets"
)

const generated = "k7PzR2generatedByCloudFormationGenerateSecretString64characters"

func hkdfKey(t *testing.T, secret, label string) [32]byte {
	t.Helper()
	k, err := hkdf.Key(sha256.New, []byte(secret), nil, label, 32)
	if err != nil {
		t.Fatal(err)
	}
	return [32]byte(k)
}

// An old single-key secret (a plain generated string) still works: one key, id "0",
// HKDF-SHA256 of the secret under the cookie label.
func TestCookieKeys_PlainSecretIsOneKey(t *testing.T) {
	client := motoClient(t)
	id := newSecret(t, client, generated)
	got, err := secrets.CookieKeys(context.Background(), client, id)
	if err != nil {
		t.Fatalf("CookieKeys: %v", err)
	}
	want := []secrets.CookieKey{{ID: secrets.LegacyCookieKeyID, Key: hkdfKey(t, generated, secrets.CookieKeyLabel)}}
	if len(got) != 1 || got[0] != want[0] {
		t.Fatalf("CookieKeys = %+v, want %+v", got, want)
	}
	if got[0].Key == sha256.Sum256([]byte(generated)) {
		t.Error("the cookie key is a plain hash of the secret, not HKDF under its label")
	}
}

// A key set keeps its order (newest first: the first seals) and each key is derived
// from its own secret.
func TestCookieKeys_KeySetNewestFirst(t *testing.T) {
	old := generated
	newer := strings.Repeat("n", 40)
	got, err := secrets.ParseCookieKeys([]byte(`{"keys":[{"kid":"2026-12","secret":"` + newer + `"},{"kid":"0","secret":"` + old + `"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "2026-12" || got[1].ID != "0" {
		t.Fatalf("ids = %+v, want 2026-12 then 0", got)
	}
	if got[0].Key != hkdfKey(t, newer, secrets.CookieKeyLabel) || got[1].Key != hkdfKey(t, old, secrets.CookieKeyLabel) {
		t.Error("keys are not HKDF of their own secrets")
	}
	// The old secret listed under kid "0" keeps the key it had as a plain secret.
	legacy, err := secrets.ParseCookieKeys([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	if legacy[0] != got[1] {
		t.Error("an old secret moved into a key set under kid 0 changed its key")
	}
}

func TestCookieKeys_RefusesBadKeySets(t *testing.T) {
	long := strings.Repeat("s", 40)
	for name, v := range map[string]string{
		"malformed":     `{"keys":[`,
		"no keys":       `{"keys":[]}`,
		"empty kid":     `{"keys":[{"kid":"","secret":"` + long + `"}]}`,
		"kid with dot":  `{"keys":[{"kid":"a.b","secret":"` + long + `"}]}`,
		"long kid":      `{"keys":[{"kid":"` + strings.Repeat("k", 33) + `","secret":"` + long + `"}]}`,
		"duplicate kid": `{"keys":[{"kid":"a","secret":"` + long + `"},{"kid":"a","secret":"` + long + `x"}]}`,
		"short secret":  `{"keys":[{"kid":"a","secret":"short"}]}`,
		"unknown field": `{"keys":[{"kid":"a","secret":"` + long + `","alg":"x"}]}`,
		"empty":         "  ",
	} {
		if ks, err := secrets.ParseCookieKeys([]byte(v)); err == nil {
			t.Errorf("%s: ParseCookieKeys = %+v, want an error", name, ks)
		} else if strings.Contains(err.Error(), long) {
			t.Errorf("%s: the error %q shows the secret", name, err)
		}
	}
}

// The DPoP nonce key comes from its own secret under its own label: it differs from
// the cookie key of the same secret and from the key under another label.
func TestDPoPNonceKey_DerivedUnderItsOwnLabel(t *testing.T) {
	client := motoClient(t)
	id := newSecret(t, client, generated)
	got, err := secrets.DPoPNonceKey(context.Background(), client, id)
	if err != nil {
		t.Fatalf("DPoPNonceKey: %v", err)
	}
	if want := hkdfKey(t, generated, secrets.DPoPNonceKeyLabel); got != want {
		t.Errorf("nonce key = %x, want HKDF under %q %x", got, secrets.DPoPNonceKeyLabel, want)
	}
	if got == secrets.DeriveCookieKey([]byte(generated)) {
		t.Error("the nonce key equals the cookie key of the same secret")
	}
	if got == secrets.DeriveKey([]byte(generated), "another label") {
		t.Error("the nonce key equals the key under another label")
	}
	if secrets.CookieKeyLabel == secrets.DPoPNonceKeyLabel {
		t.Error("the cookie and nonce labels are the same")
	}
}
