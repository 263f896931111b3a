package admin

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/pkg/dynamo"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/secrets"
)

// Store is what the CLI needs of the table: the services' reads, the seed import's
// writes, and the operator's conditional writes, lists and deletes. Creates return
// oauth.ErrConflict when the key is taken; replacing, updating and deleting return
// oauth.ErrNotFound when there is nothing to change.
type Store interface {
	oauth.Clients
	oauth.Users
	oauth.Registry

	CreateClient(ctx context.Context, c *oauth.Client) error
	ReplaceClient(ctx context.Context, c *oauth.Client) error
	DeleteClient(ctx context.Context, id string) error
	ListClients(ctx context.Context) ([]*oauth.Client, error)

	CreateUser(ctx context.Context, u *oauth.User) error
	SetUserPassword(ctx context.Context, username, passwordHash string) (*oauth.User, error)
	SetUserDisabled(ctx context.Context, username string, disabled bool) (*oauth.User, error)
	DeleteUser(ctx context.Context, username string) error
	ListUsers(ctx context.Context) ([]*oauth.User, error)

	// The upstream identity providers' items, without their secrets
	// (pkg/dynamo providers.go).
	oauth.IdentityProviders
	oauth.ProviderRegistry
	CreateIdentityProvider(ctx context.Context, p *oauth.IdentityProvider) error
	ReplaceIdentityProvider(ctx context.Context, p *oauth.IdentityProvider) error
	SetIdentityProviderEnabled(ctx context.Context, id string, enabled bool) (*oauth.IdentityProvider, error)
	DeleteIdentityProvider(ctx context.Context, id string) error
}

var _ Store = (*dynamo.Store)(nil)

// SecretsAPI is the part of *secretsmanager.Client the keys commands use: what the
// rotation function may do, plus RotateSecret to ask Secrets Manager to run it.
type SecretsAPI interface {
	secrets.RotationAPI
	RotateSecret(ctx context.Context, in *secretsmanager.RotateSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error)
}

var _ SecretsAPI = (*secretsmanager.Client)(nil)
