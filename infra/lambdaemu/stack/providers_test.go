package stack_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/infra/lambdaemu/stack"
	"github.com/pargate/pargate/pkg/awsapp"
	"github.com/pargate/pargate/pkg/dynamo"
)

// TestStack_SeedsTheIdentityProvidersAsTheImportDoes (issue 13): a seed's
// identity_providers reach the local stack as `pargate import` writes them - the
// secret in Secrets Manager under the authorize function's IDP_SECRET_PREFIX, the
// item without it - and the authorize function's source reads them back whole; only
// the authorize function gets the prefix.
func TestStack_SeedsTheIdentityProvidersAsTheImportDoes(t *testing.T) {
	shared := setup(t)
	seedFile := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seedFile, []byte(`{"identity_providers": [{"id": "corp", "display_name": "Corp", "issuer": "https://idp.example.com",
		"client_id": "pargate", "client_secret": "upstream-secret-0123456789abcdef", "enabled": true}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	a, err := stack.StartAWS(ctx, stack.Options{Root: moduleRoot(t), Endpoint: shared.MotoEndpoint, SeedFile: seedFile})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.IDPSecretPrefix == shared.IDPSecretPrefix {
		t.Errorf("two stacks on one moto_server share the secret prefix %s", a.IDPSecretPrefix)
	}

	for _, dir := range stack.HTTPFunctions {
		fn, err := a.Function(dir, a.MotoEndpoint)
		if err != nil {
			t.Fatal(err)
		}
		if got := fn.Env[awsapp.IdentityProviderSecretPrefixEnv]; (got != "") != (dir == "authorize") || (got != "" && got != a.IDPSecretPrefix) {
			t.Errorf("%s: %s = %q", dir, awsapp.IdentityProviderSecretPrefixEnv, got)
		}
	}
	creds := credentials.NewStaticCredentialsProvider("local", "local", "")
	db := dynamodb.New(dynamodb.Options{Region: stack.Region, BaseEndpoint: aws.String(a.MotoEndpoint), Credentials: creds})
	sm := secretsmanager.New(secretsmanager.Options{Region: stack.Region, BaseEndpoint: aws.String(a.MotoEndpoint), Credentials: creds})
	item, err := dynamo.New(db, a.Table).GetIdentityProvider(ctx, "corp")
	if err != nil {
		t.Fatal(err)
	}
	if item.ClientSecret != "" || item.SecretID != a.IDPSecretPrefix+"corp" {
		t.Errorf("item = %+v", item)
	}
	p, err := awsapp.IdentityProviders(dynamo.New(db, a.Table), sm, a.IDPSecretPrefix, 0, nil).GetIdentityProvider(ctx, "corp")
	if err != nil {
		t.Fatal(err)
	}
	if p.ClientSecret != "upstream-secret-0123456789abcdef" || p.Issuer != "https://idp.example.com" || !p.Enabled {
		t.Errorf("the authorize function's source reads %+v", p)
	}
}
