package secrets_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
	"github.com/pargate/pargate/pkg/secrets"
	"github.com/pargate/pargate/pkg/secrets/secretstest"
)

var steps = []string{secrets.StepCreate, secrets.StepSet, secrets.StepTest, secrets.StepFinish}

// newRotator is a Rotator whose clock moves a day forward at each reading
// (oauthtest.DaysApart: rotations days apart, as scheduled ones are) unless opts set
// another.
func newRotator(tb testing.TB, client secrets.RotationAPI, alg string, opts ...secrets.RotatorOption) *secrets.Rotator {
	tb.Helper()
	var logs bytes.Buffer
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("rotation logs:\n%s", logs.String())
		}
	})
	opts = append([]secrets.RotatorOption{secrets.WithClock(oauthtest.DaysApart())}, opts...)
	r, err := secrets.NewRotator(client, alg, slog.New(slog.NewTextHandler(&logs, nil)), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// startRotation stages a new version AWSPENDING as Secrets Manager does before it
// invokes the rotation function (secretstest.StageRotation); the steps are driven by
// the tests.
func startRotation(tb testing.TB, client *secretsmanager.Client, secretID string) string {
	tb.Helper()
	token := randomHex(tb, 16)
	secretstest.StageRotation(tb, client, secretID, token)
	if stages := secretstest.VersionStages(tb, client, secretID)[token]; !slices.Equal(stages, []string{secrets.StagePending}) {
		tb.Fatalf("after RotateSecret, version %s has stages %v, want [AWSPENDING]", token, stages)
	}
	return token
}

func runSteps(tb testing.TB, r *secrets.Rotator, secretID, token string, steps ...string) {
	tb.Helper()
	for _, step := range steps {
		err := r.Handle(context.Background(), secrets.RotationEvent{SecretID: secretID, ClientRequestToken: token, Step: step})
		if err != nil {
			tb.Fatalf("%s: %v", step, err)
		}
	}
}

func rotate(tb testing.TB, client *secretsmanager.Client, r *secrets.Rotator, secretID string) string {
	tb.Helper()
	token := startRotation(tb, client, secretID)
	runSteps(tb, r, secretID, token, steps...)
	return token
}

// rotatedSecret is a new secret of no keys after its first rotation by an ES256
// Rotator, with its client and the rotator.
func rotatedSecret(tb testing.TB) (*secretsmanager.Client, string, *secrets.Rotator) {
	tb.Helper()
	client := motoClient(tb)
	id := newSecret(tb, client, `{"keys":[]}`)
	r := newRotator(tb, client, keys.ES256)
	rotate(tb, client, r, id)
	return client, id, r
}

func currentSet(tb testing.TB, client *secretsmanager.Client, secretID string) *keys.Set {
	tb.Helper()
	s, err := secrets.NewSource(client, secretID).Load(context.Background())
	if err != nil {
		tb.Fatalf("read current key set: %v", err)
	}
	return s
}

func sign(tb testing.TB, s *keys.Set) string {
	tb.Helper()
	token, err := keys.NewSigner(keys.Static(s)).Sign(context.Background(), "at+jwt", map[string]string{"sub": "alice"})
	if err != nil {
		tb.Fatal(err)
	}
	return token
}

func TestRotation_FirstRotationReplacesPlaceholder(t *testing.T) {
	client := motoClient(t)
	for _, placeholder := range []string{`{"keys":[]}`, "generated-placeholder-string"} {
		id := newSecret(t, client, placeholder)
		token := rotate(t, client, newRotator(t, client, ""), id)

		set := currentSet(t, client, id)
		if n := len(set.Keys()); n != 2 {
			t.Errorf("first key set has %d keys (%v), want active and successor", n, set.KeyIDs())
		}
		if algs := set.Algorithms(); !slices.Equal(algs, []string{keys.RS256}) {
			t.Errorf("algorithms = %v, want the default [RS256]", algs)
		}
		stages := secretstest.VersionStages(t, client, id)
		if !slices.Equal(stages[token], []string{secrets.StageCurrent}) {
			t.Errorf("new version stages = %v, want [AWSCURRENT] and no AWSPENDING left", stages[token])
		}
		for v, s := range stages {
			if v != token && !slices.Equal(s, []string{"AWSPREVIOUS"}) {
				t.Errorf("old version %s has stages %v, want [AWSPREVIOUS]", v, s)
			}
		}
	}
}

// The heart of safe rotation, checked on the real secret: a verifier holding the JWKS
// from before a rotation verifies tokens signed after it, and one holding the JWKS
// from after verifies tokens signed before it.
func TestRotation_PublishesKeysBeforeTheySign(t *testing.T) {
	client, id, r := rotatedSecret(t)

	before := currentSet(t, client, id)
	for i := range 3 {
		oldToken := sign(t, before)
		rotate(t, client, r, id)
		after := currentSet(t, client, id)

		if after.Active().KeyID == before.Active().KeyID {
			t.Fatalf("rotation %d: active key unchanged", i)
		}
		if _, err := before.Verify(sign(t, after)); err != nil {
			t.Errorf("rotation %d: JWKS from before does not verify a token signed after: %v", i, err)
		}
		if _, err := after.Verify(oldToken); err != nil {
			t.Errorf("rotation %d: JWKS from after does not verify a token signed before: %v", i, err)
		}
		if n := len(after.Keys()); n != 3 {
			t.Errorf("rotation %d: %d keys, want active, successor and previous", i, n)
		}
		if alg := after.Keys()[1].Algorithm; alg != keys.ES256 {
			t.Errorf("rotation %d: successor alg %s, want the configured ES256", i, alg)
		}
		before = after
	}
}

// A running signer reading the secret picks the rotation up on its next refresh.
func TestRotation_SignerPicksUpNewKey(t *testing.T) {
	client, id, r := rotatedSecret(t)

	signer := keys.NewSigner(secrets.NewSource(client, id), keys.WithRefresh(0))
	first, err := signer.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rotate(t, client, r, id)
	second, err := signer.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if second.Active().KeyID != first.KeyIDs()[1] {
		t.Errorf("after rotation the signer uses %q, want the published successor %q", second.Active().KeyID, first.KeyIDs()[1])
	}
}

// Secrets Manager retries a failed step; each must be safe to run again.
func TestRotation_StepsCanBeRepeated(t *testing.T) {
	client := motoClient(t)
	id := newSecret(t, client, `{"keys":[]}`)
	r := newRotator(t, client, keys.ES256)
	token := startRotation(t, client, id)

	runSteps(t, r, id, token, secrets.StepCreate)
	pending := pendingValue(t, client, id, token)
	runSteps(t, r, id, token, secrets.StepCreate, secrets.StepSet, secrets.StepSet, secrets.StepTest, secrets.StepTest)
	if again := pendingValue(t, client, id, token); again != pending {
		t.Error("repeated createSecret replaced the pending key set")
	}
	runSteps(t, r, id, token, secrets.StepFinish, secrets.StepFinish, secrets.StepTest)
	if got := currentSet(t, client, id); got.Active().KeyID != mustParse(t, pending).Active().KeyID {
		t.Errorf("current active = %q, want the pending set's", got.Active().KeyID)
	}
}

func pendingValue(tb testing.TB, client *secretsmanager.Client, secretID, token string) string {
	tb.Helper()
	out, err := client.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(secretID), VersionId: aws.String(token), VersionStage: aws.String(secrets.StagePending),
	})
	if err != nil {
		tb.Fatalf("read pending value: %v", err)
	}
	return aws.ToString(out.SecretString)
}

func mustParse(tb testing.TB, value string) *keys.Set {
	tb.Helper()
	s, err := keys.ParseSet([]byte(value))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestRotation_RefusesCorruptCurrentKeySet(t *testing.T) {
	client := motoClient(t)
	id := newSecret(t, client, `{"keys":[{"kty":"RSA","kid":"broken","alg":"RS256","use":"sig","n":"AQAB","e":"AQAB"}]}`)
	r := newRotator(t, client, "")
	token := startRotation(t, client, id)

	err := r.Handle(context.Background(), secrets.RotationEvent{SecretID: id, ClientRequestToken: token, Step: secrets.StepCreate})
	if err == nil || !strings.Contains(err.Error(), "not a valid key set") {
		t.Fatalf("createSecret error = %v, want a refusal to rotate past a broken key set", err)
	}
	_, err = client.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(id), VersionId: aws.String(token), VersionStage: aws.String(secrets.StagePending),
	})
	if err == nil {
		t.Error("a pending value was written anyway")
	}
}

func TestRotation_TestSecretRejectsUnsafePendingSet(t *testing.T) {
	client, id, r := rotatedSecret(t)
	current := currentSet(t, client, id)

	// A pending set whose active key was never published, as a careless hand-made
	// rotation (or a rotation that put the new key first) would produce.
	fresh, err := keys.Generate(keys.ES256)
	if err != nil {
		t.Fatal(err)
	}
	unsafe, err := keys.NewSet(append([]jose.JSONWebKey{fresh}, current.Keys()...)...)
	if err != nil {
		t.Fatal(err)
	}
	token := startRotation(t, client, id)
	data, _ := unsafe.MarshalJSON()
	if _, err := client.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(id), ClientRequestToken: aws.String(token), SecretString: aws.String(string(data)),
		VersionStages: []string{secrets.StagePending},
	}); err != nil {
		t.Fatal(err)
	}
	err = r.Handle(context.Background(), secrets.RotationEvent{SecretID: id, ClientRequestToken: token, Step: secrets.StepTest})
	if err == nil || !strings.Contains(err.Error(), "never published") {
		t.Fatalf("testSecret error = %v, want the unpublished active key rejected", err)
	}
}

func TestRotation_ChecksTheContract(t *testing.T) {
	client := motoClient(t)
	r := newRotator(t, client, "")

	notRotating := newSecret(t, client, `{"keys":[]}`)
	err := r.Handle(context.Background(), secrets.RotationEvent{SecretID: notRotating, ClientRequestToken: randomHex(t, 16), Step: secrets.StepCreate})
	if err == nil || !strings.Contains(err.Error(), "not enabled for rotation") {
		t.Errorf("secret without rotation: error = %v", err)
	}

	id := newSecret(t, client, `{"keys":[]}`)
	token := startRotation(t, client, id)
	for name, ev := range map[string]secrets.RotationEvent{
		"unknown version": {SecretID: id, ClientRequestToken: randomHex(t, 16), Step: secrets.StepCreate},
		"unknown step":    {SecretID: id, ClientRequestToken: token, Step: "rotateEverything"},
		"no token":        {SecretID: id, Step: secrets.StepCreate},
		"missing secret":  {SecretID: "no-such-secret", ClientRequestToken: token, Step: secrets.StepCreate},
	} {
		if err := r.Handle(context.Background(), ev); err == nil {
			t.Errorf("%s: Handle succeeded, want error", name)
		}
	}

	// A step for a version that is already AWSCURRENT is a finished rotation being
	// retried: nothing to do.
	runSteps(t, r, id, token, steps...)
	runSteps(t, r, id, token, secrets.StepCreate)
}

func TestNewRotator_RejectsUnsupportedAlgorithm(t *testing.T) {
	if _, err := secrets.NewRotator(nil, "HS256", nil); err == nil {
		t.Fatal("NewRotator with HS256 succeeded")
	}
}
