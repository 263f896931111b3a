package admin_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/pkg/admin"
	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/secrets"
	"github.com/pargate/pargate/pkg/secrets/secretstest"
)

// `keys revoke KID` takes a compromised active key out of the
// current key set at once — the published successor signs — and no labelled version
// of the secret keeps it (AWSPREVIOUS holds the cleaned set too).
func TestKeysRevoke_RemovesACompromisedKeyAtOnce(t *testing.T) {
	h := newHarness(t)
	sm, id := h.newSecret(`{"keys":[]}`)
	h.rotate(t, id)
	before := h.rotate(t, id) // [B active, C successor, A retired]
	compromised := before.ActiveKID

	var out struct {
		Revoked string   `json:"revoked_kid"`
		Active  string   `json:"active_kid"`
		KIDs    []string `json:"kids"`
	}
	r := h.run("", "keys", "revoke", compromised, "--keys-secret", id).ok(t, &out)
	noPrivateKeys(t, r.stdout)
	if out.Revoked != compromised || out.Active != before.KIDs[1] || slices.Contains(out.KIDs, compromised) {
		t.Errorf("keys revoke printed %+v; want %s gone and the successor %s active", out, compromised, before.KIDs[1])
	}
	for version, st := range secretstest.VersionStages(t, sm, id) {
		if !slices.Contains(st, secrets.StageCurrent) && !slices.Contains(st, "AWSPREVIOUS") {
			continue
		}
		v, err := sm.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(id), VersionId: aws.String(version)})
		if err != nil {
			t.Fatal(err)
		}
		set, err := keys.ParseSet([]byte(aws.ToString(v.SecretString)))
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(set.KeyIDs(), compromised) {
			t.Errorf("version %s (%v) still holds the revoked key", version, st)
		}
	}
	current, err := secrets.LoadKeySet(t.Context(), sm, id)
	if err != nil || current.Active().KeyID != before.KIDs[1] || len(current.KeyIDs()) != 3 {
		t.Fatalf("current set after revoke: %v, %v", current.KeyIDs(), err)
	}

	r = h.run("", "keys", "revoke", "no-such-kid", "--keys-secret", id)
	r.fails(t, admin.ExitError, `no key "no-such-kid"`)
	if strings.Contains(r.stderr, `"d"`) {
		t.Error("an error printed a private key")
	}
}
