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

// The rotation generates the configured algorithm: KEY_ALG, else the profile's default
// (RS256, OIDC Core §15.1; ES256 under fapi2), never RS256 under fapi2 (FAPI 2.0
// Security Profile §5.4.1).
func TestNewRotator_FAPI2_5_4_1_KeyAlgorithmOfTheProfile(t *testing.T) {
	for _, tc := range []struct{ profile, alg, want string }{
		{"", "", keys.RS256},
		{"default", "PS256", keys.PS256},
		{"fapi2", "", keys.ES256},
		{"fapi2", "EdDSA", keys.EdDSA},
		{"fapi2", "RS256", ""},
	} {
		r, err := newRotator(nil, env(map[string]string{"PROFILE": tc.profile, "KEY_ALG": tc.alg}), nil)
		switch {
		case tc.want == "" && (err == nil || !strings.Contains(err.Error(), "PROFILE=fapi2")):
			t.Errorf("PROFILE=%q KEY_ALG=%q: %v, want the fapi2 refusal", tc.profile, tc.alg, err)
		case tc.want != "" && (err != nil || r.Algorithm() != tc.want):
			t.Errorf("PROFILE=%q KEY_ALG=%q: %v, want %s", tc.profile, tc.alg, err, tc.want)
		}
	}
	if _, err := newHandler(nil, env(map[string]string{"PROFILE": "fapi2", "KEY_ALG": "RS256"})); err == nil {
		t.Error("newHandler accepted KEY_ALG=RS256 under fapi2")
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
