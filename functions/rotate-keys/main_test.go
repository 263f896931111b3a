package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/moto"
	"github.com/pargate/pargate/pkg/secrets"
	"github.com/pargate/pargate/pkg/secrets/secretstest"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestNewHandler_RejectsUnsupportedKeyAlg(t *testing.T) {
	if _, err := newHandler(nil, env(map[string]string{"KEY_ALG": "HS256"})); err == nil {
		t.Fatal("newHandler accepted KEY_ALG=HS256")
	}
}

// The function as Lambda runs it: Secrets Manager's JSON events, through the Lambda
// handler, against moto_server's Secrets Manager.
func TestRotateKeys_RotatesWithSecretsManagerEvents(t *testing.T) {
	client := startMoto(t)
	ctx := context.Background()
	arn := newKeysSecret(t, client)
	// The two rotations are a day apart, as scheduled ones are.
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(24 * time.Hour)
		return now
	}
	handle, err := newHandler(client, env(map[string]string{"KEY_ALG": "ES256"}), secrets.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	h := lambda.NewHandler(handle)

	for rotation := range 2 {
		// What Secrets Manager does before invoking the function: stage an empty
		// version AWSPENDING. moto then fails to invoke the (absent) function.
		token := randomHex(t)
		secretstest.StageRotation(t, client, arn, token)
		for _, step := range []string{"createSecret", "setSecret", "testSecret", "finishSecret"} {
			event := fmt.Sprintf(`{"Step":%q,"SecretId":%q,"ClientRequestToken":%q,"RotationToken":"ignored"}`, step, arn, token)
			if _, err := h.Invoke(ctx, []byte(event)); err != nil {
				t.Fatalf("rotation %d, %s: %v", rotation, step, err)
			}
		}
	}

	set, err := secrets.NewSource(client, arn).Load(ctx)
	if err != nil {
		t.Fatalf("read rotated key set: %v", err)
	}
	if n := len(set.Keys()); n != 3 {
		t.Errorf("after two rotations the set has %d keys (%v), want active, successor, previous", n, set.KeyIDs())
	}
	if algs := set.Algorithms(); !slices.Equal(algs, []string{keys.ES256}) {
		t.Errorf("algorithms = %v, want KEY_ALG's [ES256]", algs)
	}
}

// The function refuses a rotation that would promote a successor
// published less than keys.MinPublished ago (here: by the rotation just before), and
// writes nothing.
func TestRotateKeys_RefusesARotationRightAfterAnother(t *testing.T) {
	client := startMoto(t)
	ctx := context.Background()
	arn := newKeysSecret(t, client)
	handle, err := newHandler(client, env(map[string]string{"KEY_ALG": "ES256"}))
	if err != nil {
		t.Fatal(err)
	}
	h := lambda.NewHandler(handle)
	invoke := func(token, step string) error {
		event := fmt.Sprintf(`{"Step":%q,"SecretId":%q,"ClientRequestToken":%q}`, step, arn, token)
		_, err := h.Invoke(ctx, []byte(event))
		return err
	}
	token := randomHex(t)
	secretstest.StageRotation(t, client, arn, token)
	for _, step := range []string{"createSecret", "setSecret", "testSecret", "finishSecret"} {
		if err := invoke(token, step); err != nil {
			t.Fatalf("first rotation, %s: %v", step, err)
		}
	}
	before, err := secrets.LoadKeySet(ctx, client, arn)
	if err != nil {
		t.Fatal(err)
	}

	again := randomHex(t)
	secretstest.StageRotation(t, client, arn, again)
	if err := invoke(again, "createSecret"); err == nil || !strings.Contains(err.Error(), "published too recently") {
		t.Fatalf("createSecret right after a rotation: %v, want the too recent successor refused", err)
	}
	after, err := secrets.LoadKeySet(ctx, client, arn)
	if err != nil || !slices.Equal(after.KeyIDs(), before.KeyIDs()) {
		t.Errorf("key set after the refused rotation: %v (%v), want %v", after.KeyIDs(), err, before.KeyIDs())
	}
}

// startMoto runs a moto_server for this test. Without moto_server the test is
// skipped, except under CI=true, where that is a failure.
func startMoto(t *testing.T) *secretsmanager.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := moto.Start(ctx)
	if errors.Is(err, moto.ErrNotInstalled) && os.Getenv("CI") != "true" {
		t.Skipf("needs moto_server: %v", err)
	}
	if err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(srv.Stop)
	return secretsmanager.New(secretsmanager.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.Endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, nil
		}),
	})
}

// newKeysSecret creates an empty signing-key secret, as template.yaml does, and
// returns its ARN.
func newKeysSecret(t *testing.T, client *secretsmanager.Client) string {
	t.Helper()
	created, err := client.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{
		Name:         aws.String("pargate-keys-" + randomHex(t)),
		SecretString: aws.String(`{"keys":[]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(created.ARN)
}

func randomHex(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}
