package secrets_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
	"github.com/pargate/pargate/pkg/secrets"
)

// The rotation function records when each key was published in
// the secret, and its createSecret step refuses to promote a successor published
// less than the JWKS cache time (keys.MinPublished) ago, writing nothing; a rotation
// started once that time has passed promotes it.
func TestRotation_RefusesToPromoteASuccessorPublishedTooRecently(t *testing.T) {
	client := motoClient(t)
	id := newSecret(t, client, `{"keys":[]}`)
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	clock := oauthtest.NewClock(t0)
	r := newRotator(t, client, keys.ES256, secrets.WithClock(clock.Now))
	rotate(t, client, r, id)
	first := currentSet(t, client, id)
	for _, kid := range first.KeyIDs() {
		if at, ok := first.Published(kid); !ok || !at.Equal(t0) {
			t.Errorf("key %s of the first set published %v (%v), want %v", kid, at, ok, t0)
		}
	}

	clock.Set(t0.Add(keys.MinPublished - time.Second))
	token := startRotation(t, client, id)
	err := r.Handle(context.Background(), secrets.RotationEvent{SecretID: id, ClientRequestToken: token, Step: secrets.StepCreate})
	if !errors.Is(err, keys.ErrSuccessorTooNew) {
		t.Fatalf("createSecret %v after the successor was published: err = %v, want keys.ErrSuccessorTooNew", keys.MinPublished-time.Second, err)
	}
	if _, err := client.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(id), VersionId: aws.String(token), VersionStage: aws.String(secrets.StagePending),
	}); err == nil {
		t.Error("a pending value was written anyway")
	}
	if got := currentSet(t, client, id); got.Active().KeyID != first.Active().KeyID {
		t.Errorf("current active key changed to %s", got.Active().KeyID)
	}

	t1 := t0.Add(keys.MinPublished)
	clock.Set(t1)
	runSteps(t, r, id, token, steps...)
	second := currentSet(t, client, id)
	if second.Active().KeyID != first.KeyIDs()[1] {
		t.Errorf("active key = %s, want the successor %s", second.Active().KeyID, first.KeyIDs()[1])
	}
	if at, ok := second.Published(second.KeyIDs()[1]); !ok || !at.Equal(t1) {
		t.Errorf("new successor published %v (%v), want %v", at, ok, t1)
	}
}

// TestSecret refuses a pending set (made by another writer) whose
// active key was published in the current set less than keys.MinPublished ago.
func TestRotation_TestSecretRefusesAPendingSetPromotingATooRecentKey(t *testing.T) {
	client := motoClient(t)
	id := newSecret(t, client, `{"keys":[]}`)
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	clock := oauthtest.NewClock(t0)
	r := newRotator(t, client, keys.ES256, secrets.WithClock(clock.Now))
	rotate(t, client, r, id)
	ks := currentSet(t, client, id).Keys()
	fresh, err := keys.Generate(keys.ES256)
	if err != nil {
		t.Fatal(err)
	}
	promoted, err := keys.NewSet([]jose.JSONWebKey{ks[1], fresh, ks[0]}...)
	if err != nil {
		t.Fatal(err)
	}
	token := startRotation(t, client, id)
	data, _ := promoted.MarshalJSON()
	if _, err := client.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(id), ClientRequestToken: aws.String(token), SecretString: aws.String(string(data)),
		VersionStages: []string{secrets.StagePending},
	}); err != nil {
		t.Fatal(err)
	}
	clock.Set(t0.Add(time.Minute))
	err = r.Handle(context.Background(), secrets.RotationEvent{SecretID: id, ClientRequestToken: token, Step: secrets.StepTest})
	if !errors.Is(err, keys.ErrSuccessorTooNew) {
		t.Fatalf("testSecret a minute after publication: err = %v, want keys.ErrSuccessorTooNew", err)
	}
	clock.Set(t0.Add(keys.MinPublished))
	runSteps(t, r, id, token, secrets.StepTest)
}

// A secret written before publication times were recorded rotates
// as before: its successor counts as published long ago.
func TestRotation_SetWithoutPublicationTimesRotates(t *testing.T) {
	client := motoClient(t)
	a, _ := keys.Generate(keys.ES256)
	b, _ := keys.Generate(keys.ES256)
	old, err := keys.NewSet(a, b)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := old.MarshalJSON()
	id := newSecret(t, client, string(data))
	r := newRotator(t, client, keys.ES256, secrets.WithClock(time.Now))
	rotate(t, client, r, id)
	if got := currentSet(t, client, id).Active().KeyID; got != b.KeyID {
		t.Errorf("active key = %s, want the old successor %s", got, b.KeyID)
	}
}
