// Package awsapp builds the handlers of a Lambda function from its environment:
// DynamoDB for storage and Secrets Manager for keys, through the AWS SDK.
package awsapp

import (
	"context"
	"fmt"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/pkg/app"
	"github.com/pargate/pargate/pkg/config"
	"github.com/pargate/pargate/pkg/dynamo"
	"github.com/pargate/pargate/pkg/httpapi"
	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/secrets"
)

// Lambda builds the handlers of a Lambda function from the environment. Nothing here
// touches the network: keys and the cookie key are loaded on first use (cold start
// stays small, and /par never reads a secret).
func Lambda(ctx context.Context, getenv func(string) string) (*httpapi.Handler, error) {
	cfg, err := config.FromEnv(getenv, "TABLE_NAME", "KEYS_SECRET_ID", "COOKIE_SECRET_ID")
	if err != nil {
		return nil, err
	}
	log := app.Logger(cfg.LogLevel)
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws configuration: %w", err)
	}
	sm := secretsmanager.NewFromConfig(awsCfg)
	return app.NewHandler(cfg, app.Parts{
		Store:     dynamo.New(dynamodb.NewFromConfig(awsCfg), cfg.TableName),
		Signer:    keys.NewSigner(secrets.NewSource(sm, cfg.KeysSecretID), keys.WithLogger(log)),
		CookieKey: app.CachedKey(func(ctx context.Context) ([32]byte, error) { return secrets.CookieKey(ctx, sm, cfg.CookieSecretID) }),
		Logger:    log,
	}), nil
}
