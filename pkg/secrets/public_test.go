package secrets_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/secrets"
	"github.com/pargate/pargate/pkg/secrets/secretstest"
)

// TestRotation_PublishesThePublicKeySet: with WithPublicKeysSecret, every rotation
// writes the public JWK Set of the key set it makes current to the public secret (the
// first one included), with no private key in it, and discovery's PublicKeys serves
// exactly that; a repeated finishSecret writes it again without error.
func TestRotation_PublishesThePublicKeySet(t *testing.T) {
	client := motoClient(t)
	id := newSecret(t, client, `{"keys":[]}`)
	public := newSecret(t, client, `{"keys":[]}`)
	r := newRotator(t, client, keys.ES256, secrets.WithPublicKeysSecret(public))
	for i := range 2 {
		token := rotate(t, client, r, id)
		set := currentSet(t, client, id)
		got := currentValue(t, client, public)
		if !bytes.Equal(got, set.PublicJSON()) {
			t.Fatalf("rotation %d: public secret holds\n%s\nwant the current set's JWKS\n%s", i+1, got, set.PublicJSON())
		}
		if strings.Contains(string(got), `"d":`) {
			t.Fatalf("rotation %d: the public secret holds a private key", i+1)
		}
		jwks, err := secrets.NewPublicKeys(client, public).PublicJWKS(context.Background())
		if err != nil || !bytes.Equal(jwks, got) {
			t.Fatalf("PublicKeys: %s, %v", jwks, err)
		}
		if _, err := keys.VerifyJWKS(jwks, sign(t, set)); err != nil {
			t.Fatalf("a token of the current set does not verify against the published JWKS: %v", err)
		}
		algs, err := secrets.NewPublicKeys(client, public).LoadAlgorithms(context.Background())
		if err != nil || !slices.Equal(algs, set.Algorithms()) {
			t.Fatalf("algorithms %v, %v; want %v", algs, err, set.Algorithms())
		}
		// A retried finishSecret of a version already current does nothing, and
		// does not fail.
		runSteps(t, r, id, token, secrets.StepFinish)
	}
}

// TestRotation_PublishFailureLeavesTheSecretPending: when the public key set cannot be
// written, finishSecret fails before it moves AWSCURRENT, so Secrets Manager's retry
// runs it again rather than finding the version current and skipping the publication.
func TestRotation_PublishFailureLeavesTheSecretPending(t *testing.T) {
	client := motoClient(t)
	id := newSecret(t, client, `{"keys":[]}`)
	r := newRotator(t, client, keys.ES256, secrets.WithPublicKeysSecret("arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf"))
	token := startRotation(t, client, id)
	runSteps(t, r, id, token, secrets.StepCreate, secrets.StepSet, secrets.StepTest)
	err := r.Handle(context.Background(), secrets.RotationEvent{SecretID: id, ClientRequestToken: token, Step: secrets.StepFinish})
	if err == nil {
		t.Fatal("finishSecret succeeded without publishing the public key set")
	}
	if stages := secretstest.VersionStages(t, client, id)[token]; !slices.Equal(stages, []string{secrets.StagePending}) {
		t.Fatalf("after the failed finishSecret, version %s has stages %v, want [AWSPENDING]", token, stages)
	}
}

// TestPublicKeys_RefusesAPrivateKeyOrNoKeys: discovery serves no document that holds
// a private key, nor an empty set.
func TestPublicKeys_RefusesAPrivateKeyOrNoKeys(t *testing.T) {
	client := motoClient(t)
	set := httpapitest.KeySet(t, keys.ES256)
	private, err := set.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, value := range []string{string(private), `{"keys":[]}`} {
		id := newSecret(t, client, value)
		if doc, err := secrets.NewPublicKeys(client, id).PublicJWKS(context.Background()); err == nil {
			t.Errorf("served %s", doc)
		}
	}
}

func currentValue(tb testing.TB, client *secretsmanager.Client, id string) []byte {
	tb.Helper()
	out, err := client.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		tb.Fatal(err)
	}
	return []byte(aws.ToString(out.SecretString))
}
