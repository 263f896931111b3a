// Command rotate-keys is the Secrets Manager rotation function of the signing-key
// secret: it runs the createSecret, setSecret, testSecret and finishSecret steps with
// secrets.Rotator. Keys are generated with the algorithm in KEY_ALG (RS256, PS256 or
// ES256; default RS256). Why a new key is published one rotation before it signs is
// documented in pkg/keys.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/pkg/secrets"
)

func main() {
	ctx := context.Background()
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "aws configuration:", err)
		os.Exit(1)
	}
	handle, err := newHandler(secretsmanager.NewFromConfig(awsCfg), os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(handle)
}

// newHandler is the function Lambda invokes with each rotation event.
func newHandler(client secrets.RotationAPI, getenv func(string) string) (func(context.Context, secrets.RotationEvent) error, error) {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	r, err := secrets.NewRotator(client, getenv("KEY_ALG"), log)
	if err != nil {
		return nil, fmt.Errorf("KEY_ALG: %w", err)
	}
	return r.Handle, nil
}
