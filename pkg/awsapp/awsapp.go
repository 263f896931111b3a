// Package awsapp builds the handlers of a Lambda function from its environment:
// DynamoDB for storage and Secrets Manager for keys, through the AWS SDK.
package awsapp

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/pargate/pargate/pkg/app"
	"github.com/pargate/pargate/pkg/awsapp/awsretry"
	"github.com/pargate/pargate/pkg/config"
	"github.com/pargate/pargate/pkg/httpapi"
	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/secrets"
)

// StoreFunc makes a function's store from its AWS configuration, TABLE_NAME and
// DYNAMODB_SINGLE_ITEM_WRITES (awstable.Table). It is handed in, so that this package
// links no DynamoDB client.
type StoreFunc func(cfg aws.Config, table string, singleItemWrites bool) oauth.Store

// Lambda builds the handlers of a Lambda function from the environment, over the
// store that store makes; store is nil for a function that serves no route of the
// table (discovery), whose handler then has no store. Nothing here touches the
// network: keys and the cookie key are loaded on first use (cold start stays small,
// and /par never reads a secret).
func Lambda(ctx context.Context, getenv func(string) string, store StoreFunc, opts ...Option) (*httpapi.Handler, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	TuneRuntime(getenv) // runtime.go
	cfg, err := config.FromEnv(getenv, "TABLE_NAME", "KEYS_SECRET_ID", "COOKIE_SECRET_ID")
	if err != nil {
		return nil, err
	}
	log := app.Logger(cfg.LogLevel)
	awsCfg, err := LoadConfig(ctx)
	if err != nil {
		return nil, err
	}
	sm := SecretValues(secretsmanager.NewFromConfig(awsCfg).GetSecretValue)
	parts := app.Parts{
		Signer:     keys.NewSigner(secrets.NewSource(sm, cfg.KeysSecretID), append(app.SignerOptions(cfg), keys.WithLogger(log))...),
		CookieKeys: app.Cached(func(ctx context.Context) ([]httpapi.CookieKey, error) { return cookieKeys(ctx, sm, cfg.CookieSecretID) }),
		Logger:     log,
		RequestIDs: RequestIDs,
		// API Gateway's mTLS custom domain hands the certificate over in the request
		// context (clientcert.go).
		ClientCertificates: APIGatewayCertificates{},
	}
	if cfg.DPoPNonce {
		// The nonce key has a secret of its own (never the cookie secret), shared by
		// every instance.
		id := getenv(DPoPNonceSecretEnv)
		if id == "" {
			return nil, fmt.Errorf("configuration: %s is required with DPOP_NONCE=true", DPoPNonceSecretEnv)
		}
		parts.DPoPNonceKey = app.CachedKey(func(ctx context.Context) ([32]byte, error) { return secrets.DPoPNonceKey(ctx, sm, id) })
	}
	if store != nil {
		parts.Store = store(awsCfg, cfg.TableName, cfg.SingleItemWrites)
	}
	// Upstream identity providers (issue 13): the table's items with their secrets,
	// in the function whose main asks for them (authorize) and which template.yaml
	// gives IDP_SECRET_PREFIX.
	if prefix := getenv(IdentityProviderSecretPrefixEnv); o.providers != nil && prefix != "" {
		parts.Providers = o.providers(awsCfg, cfg.TableName, sm, prefix, log)
		// Brokered login signs in through them (WithUpstream: pkg/federation), and
		// links the users in the table (the store's account links).
		if o.upstream != nil {
			parts.Upstream = o.upstream(log)
		}
	}
	if id := getenv(PublicKeysSecretEnv); id != "" {
		// Discovery publishes the public key set the rotation function writes, and
		// its role may read nothing else.
		parts.PublicKeys = secrets.NewPublicKeys(sm, id)
	}
	return app.NewHandler(cfg, parts), nil
}

// PublicKeysSecretEnv names the Secrets Manager secret of the public JWK Set (the
// discovery function's; template.yaml PublicKeysSecret).
const PublicKeysSecretEnv = "PUBLIC_KEYS_SECRET_ID"

// DPoPNonceSecretEnv names the Secrets Manager secret of the DPoP nonce key.
const DPoPNonceSecretEnv = "DPOP_NONCE_SECRET_ID"

// cookieKeys reads the cookie key set (secrets.ParseCookieKeys) as httpapi's keys.
func cookieKeys(ctx context.Context, sm secrets.GetSecretValueAPI, id string) ([]httpapi.CookieKey, error) {
	ks, err := secrets.CookieKeys(ctx, sm, id)
	if err != nil {
		return nil, err
	}
	out := make([]httpapi.CookieKey, len(ks))
	for i, k := range ks {
		out[i] = httpapi.CookieKey{ID: k.ID, Key: k.Key}
	}
	return out, nil
}

// RequestIDs returns the ids Lambda gave r: API Gateway's requestContext.requestId
// (the id of the API access log and of the apigw-requestid response header), which the
// api-proxy adapter puts in the context, and the Lambda invocation's request id.
// Either is empty outside Lambda.
func RequestIDs(r *http.Request) (id, invocation string) {
	if lc, ok := lambdacontext.FromContext(r.Context()); ok {
		invocation = lc.AwsRequestID
	}
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok {
		id = rc.RequestID
	}
	return id, invocation
}

// Bounds of the SDK's retries of one AWS call (awsretry): at most MaxAttempts
// attempts, each wait at most MaxBackoff, so that three attempts and two waits fit
// within app.StoreCallTimeout and the secrets' own timeout.
const (
	MaxAttempts = awsretry.MaxAttempts
	MaxBackoff  = awsretry.MaxBackoff
)

// Retryer is the retry policy of every AWS client of the functions (DynamoDB and
// Secrets Manager): awsretry.New, full jitter within MaxBackoff.
func Retryer() aws.Retryer { return awsretry.New() }
