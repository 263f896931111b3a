package secrets_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/secrets"
	"github.com/pargate/pargate/pkg/secrets/secretstest"
)

func TestLoadKeySet_TellsNotRotatedYetFromAFailure(t *testing.T) {
	client := motoClient(t)
	for _, placeholder := range []string{`{"keys":[]}`, "generated-placeholder-string"} {
		set, err := secrets.LoadKeySet(t.Context(), client, newSecret(t, client, placeholder))
		if set != nil || err != nil {
			t.Errorf("placeholder %q: LoadKeySet = %v, %v; want nil, nil", placeholder, set, err)
		}
	}

	want, value := secretstest.Rotated(t, nil, keys.ES256, time.Now())
	set, err := secrets.LoadKeySet(t.Context(), client, newSecret(t, client, value))
	if err != nil || set == nil || !slices.Equal(set.KeyIDs(), want.KeyIDs()) {
		t.Errorf("LoadKeySet of a key set = %v, %v; want kids %v", set, err, want.KeyIDs())
	}

	id := newSecret(t, client, `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`)
	if _, err := secrets.LoadKeySet(t.Context(), client, id); err == nil || !strings.Contains(err.Error(), id) {
		t.Errorf("LoadKeySet of keys that do not parse = %v, want an error naming the secret", err)
	}
}
