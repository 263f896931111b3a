// Command rotate-keys is the Secrets Manager rotation function of the signing-key
// secret: it runs the createSecret, setSecret, testSecret and finishSecret steps with
// secrets.Rotator. Keys are generated with the algorithm in KEY_ALG (RS256, PS256 or
// ES256; default RS256). Why a new key is published one rotation before it signs is
// documented in pkg/keys; a rotation less than keys.MinPublished (the JWKS cache
// time) after the previous one fails at createSecret and changes nothing.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/pkg/app"
	"github.com/pargate/pargate/pkg/awsapp"
	"github.com/pargate/pargate/pkg/secrets"
)

func main() {
	// The client retries as every function's do (awsapp.Retryer).
	awsCfg, err := awsapp.LoadConfig(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	handle, err := newHandler(secretsmanager.NewFromConfig(awsCfg), os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(handle)
}

// newHandler is the function Lambda invokes with each rotation event. It logs with
// the functions' JSON logger at the level it always had, info: LOG_LEVEL is read by
// pkg/config, which this function does not use (it has no ISSUER). opts are for
// tests (secrets.WithClock).
func newHandler(client secrets.RotationAPI, getenv func(string) string, opts ...secrets.RotatorOption) (func(context.Context, secrets.RotationEvent) error, error) {
	r, err := secrets.NewRotator(client, getenv("KEY_ALG"), app.Logger(slog.LevelInfo), opts...)
	if err != nil {
		return nil, fmt.Errorf("KEY_ALG: %w", err)
	}
	return r.Handle, nil
}
