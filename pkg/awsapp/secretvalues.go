package awsapp

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/pkg/secrets"
)

// SecretValues is the one call the HTTP functions make to Secrets Manager,
// GetSecretValue, as a function rather than the client: the client never becomes an
// interface value, so the linker keeps only this method of it, not the other 20-odd
// operations and their types, even in a binary that reflects on methods (the
// authorize function's html/template does; docs/design.md decision 25).
type SecretValues func(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)

// GetSecretValue calls f.
func (f SecretValues) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return f(ctx, in, optFns...)
}

var _ secrets.GetSecretValueAPI = SecretValues(nil)
