// Package secretstest holds what the tests of the signing-key secret share (those of
// pkg/secrets, pkg/admin and functions/rotate-keys): a key set as the secret holds it,
// and Secrets Manager's side of a rotation.
package secretstest

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/pargate/pargate/pkg/keys"
)

// RotationLambdaARN is the rotation function the tests' rotations name. There is no
// such function: the tests drive its steps themselves.
const RotationLambdaARN = "arn:aws:lambda:us-east-1:123456789012:function:pargate-rotate-keys"

// Rotated is keys.Rotate(current, alg, now) and the JSON the secret holds it as. A
// test that rotates again (the Rotator, the CLI) passes a now at least
// keys.MinPublished before the clock of that rotation, or rotates again at a later
// now, as rotations days apart would.
func Rotated(tb testing.TB, current *keys.Set, alg string, now time.Time) (*keys.Set, string) {
	tb.Helper()
	set, err := keys.Rotate(current, alg, now)
	if err != nil {
		tb.Fatal(err)
	}
	value, err := set.MarshalJSON()
	if err != nil {
		tb.Fatal(err)
	}
	return set, string(value)
}

// StageRotation does what Secrets Manager does before it invokes the rotation
// function: turn rotation on and stage an empty version token AWSPENDING. moto's
// RotateSecret does both and then fails to invoke the named function (it has none,
// and running one would need Docker), which is no failure here.
func StageRotation(tb testing.TB, client *secretsmanager.Client, secretID, token string) {
	tb.Helper()
	_, err := client.RotateSecret(tb.Context(), &secretsmanager.RotateSecretInput{
		SecretId:           aws.String(secretID),
		ClientRequestToken: aws.String(token),
		RotationLambdaARN:  aws.String(RotationLambdaARN),
		RotationRules:      &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(90)},
	})
	var nf *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &nf) {
		tb.Fatalf("RotateSecret: %v", err)
	}
}

// VersionStages maps each version of the secret to its staging labels.
func VersionStages(tb testing.TB, client *secretsmanager.Client, secretID string) map[string][]string {
	tb.Helper()
	desc, err := client.DescribeSecret(tb.Context(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(secretID)})
	if err != nil {
		tb.Fatal(err)
	}
	return desc.VersionIdsToStages
}
