// Command rotate-keys is the Secrets Manager rotation function of the signing-key
// secret: it runs the createSecret, setSecret, testSecret and finishSecret steps with
// secrets.Rotator. Keys are generated with the algorithm in KEY_ALG (RS256, PS256,
// ES256 or EdDSA; default RS256, or ES256 under PROFILE=fapi2, which refuses RS256:
// config.KeyAlgorithm). Why a new key is published one rotation before it signs is
// documented in pkg/keys; a rotation less than keys.MinPublished (the JWKS cache
// time) after the previous one fails at createSecret and changes nothing. With
// PUBLIC_KEYS_SECRET_ID, finishSecret also publishes the new set's public JWK Set to
// that secret, which the discovery function reads instead of the private keys.
//
// It also answers the stack's FirstSigningKey custom resource (customresource.go):
// CloudFormation events are told apart from rotation events by their RequestType.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/pkg/app"
	"github.com/pargate/pargate/pkg/awsapp"
	"github.com/pargate/pargate/pkg/config"
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

// newRotator is the rotation of the keys of KEY_ALG under PROFILE, as the HTTP
// functions read them (config.KeyAlgorithm): the profile's default algorithm when
// KEY_ALG is unset, and none that the profile forbids.
func newRotator(client secrets.RotationAPI, getenv func(string) string, log *slog.Logger, opts ...secrets.RotatorOption) (*secrets.Rotator, error) {
	alg, err := config.KeyAlgorithm(getenv)
	if err != nil {
		return nil, err
	}
	r, err := secrets.NewRotator(client, alg, log, opts...)
	if err != nil {
		return nil, fmt.Errorf("KEY_ALG: %w", err)
	}
	return r, nil
}

// responseClient delivers custom resource responses.
var responseClient = &http.Client{Timeout: 10 * time.Second}

// newHandler is the function Lambda invokes with each rotation event and each
// CloudFormation custom resource request. It logs with
// the functions' JSON logger at the level it always had, info: LOG_LEVEL is read by
// pkg/config, which this function does not use (it has no ISSUER). opts are for
// tests (secrets.WithClock).
func newHandler(client secrets.RotationAPI, getenv func(string) string, opts ...secrets.RotatorOption) (func(context.Context, json.RawMessage) error, error) {
	log := app.Logger(slog.LevelInfo)
	if id := getenv("PUBLIC_KEYS_SECRET_ID"); id != "" {
		// Discovery reads the public key set from there (template.yaml PublicKeysSecret).
		opts = append(opts, secrets.WithPublicKeysSecret(id))
	}
	r, err := newRotator(client, getenv, log, opts...)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, raw json.RawMessage) error {
		var probe struct {
			RequestType string `json:"RequestType"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return fmt.Errorf("event is not a JSON object: %w", err)
		}
		if probe.RequestType != "" {
			var ev customResourceEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				return fmt.Errorf("custom resource event: %w", err)
			}
			return firstKey(ctx, r, responseClient, log, ev)
		}
		var ev secrets.RotationEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return fmt.Errorf("rotation event: %w", err)
		}
		return r.Handle(ctx, ev)
	}, nil
}
