// Package awstable is the DynamoDB side of the Lambda wiring: the table store of the
// par, authorize and token functions. Package awsapp does not import it (nor the
// DynamoDB client), so the discovery function, which reads no table, links neither.
package awstable

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pargate/pargate/pkg/app"
	"github.com/pargate/pargate/pkg/dynamo"
	"github.com/pargate/pargate/pkg/oauth"
)

// Store is the DynamoDB store on table, each call bounded by app.StoreCallTimeout:
// a throttled, slow or unreachable DynamoDB becomes oauth.ErrUnavailable (503
// temporarily_unavailable) in time for the function to answer. Build client from a
// configuration with awsapp.Retryer (awsapp.LoadConfig does), so the retries fit in
// that bound.
func Store(client *dynamodb.Client, table string, opts ...dynamo.Option) oauth.Store {
	return app.WithDeadlines(dynamo.New(operationsOf(client), table, opts...), app.StoreCallTimeout)
}

// Providers is the table's upstream identity providers (an awsapp.ProvidersFunc):
// their idp# items, without their secrets, which awsapp.IdentityProviders joins with
// the secrets and bounds.
func Providers(cfg aws.Config, table string) oauth.IdentityProviders {
	return dynamo.New(operationsOf(dynamodb.NewFromConfig(cfg)), table)
}

// Table is the store of a function that uses the table (an awsapp.StoreFunc): Store
// over a DynamoDB client of the function's AWS configuration, without transactions
// when singleItemWrites (dynamo.SingleItemWrites: a table with multi-Region strong
// consistency).
func Table(cfg aws.Config, table string, singleItemWrites bool) oauth.Store {
	return Store(dynamodb.NewFromConfig(cfg), table, Options(singleItemWrites)...)
}

// Options are the store options of DYNAMODB_SINGLE_ITEM_WRITES (config.Config).
func Options(singleItemWrites bool) []dynamo.Option {
	if singleItemWrites {
		return []dynamo.Option{dynamo.SingleItemWrites()}
	}
	return nil
}
