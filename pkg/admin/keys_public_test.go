package admin_test

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/pargate/pargate/pkg/admin"
	"github.com/pargate/pargate/pkg/secrets"
)

// The public key set discovery serves follows keys rotate (in process) and keys
// revoke: found through the keys secret's tag, as template.yaml sets it, or given
// with --public-keys-secret; a revoked key is no longer published.
func TestKeys_ThePublicKeySetFollowsRotateAndRevoke(t *testing.T) {
	for _, viaTag := range []bool{true, false} {
		name := "flag"
		if viaTag {
			name = "tag"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			sm, id := h.newSecret(`{"keys":[]}`)
			_, public := h.newSecret(`{"keys":[]}`)
			var extra []string
			if viaTag {
				if _, err := sm.TagResource(t.Context(), &secretsmanager.TagResourceInput{
					SecretId: aws.String(id),
					Tags:     []types.Tag{{Key: aws.String(admin.TagPublicKeysSecret), Value: aws.String(public)}},
				}); err != nil {
					t.Fatal(err)
				}
			} else {
				extra = []string{"--public-keys-secret", public}
			}
			published := func(step string) []string {
				t.Helper()
				p := secrets.NewPublicKeys(sm, public)
				doc, err := p.PublicJWKS(context.Background())
				if err != nil {
					t.Fatalf("after %s: %v", step, err)
				}
				set, err := secrets.LoadKeySet(t.Context(), sm, id)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(doc, set.PublicJSON()) {
					t.Fatalf("after %s the public secret holds\n%s\nwant the current set's\n%s", step, doc, set.PublicJSON())
				}
				return set.KeyIDs()
			}
			h.rotate(t, id, extra...)
			published("the first rotation")
			before := h.rotate(t, id, extra...)
			published("the second rotation")

			compromised := before.ActiveKID
			h.run("", append([]string{"keys", "revoke", compromised, "--keys-secret", id}, extra...)...).ok(t, nil)
			if kids := published("keys revoke"); slices.Contains(kids, compromised) {
				t.Fatalf("the revoked key %s is still published: %v", compromised, kids)
			}
		})
	}
}
