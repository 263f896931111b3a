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
	s := dynamo.New(operationsOf(client), table, opts...)
	return &tableStore{Store: app.WithDeadlines(s, app.StoreCallTimeout), providers: s}
}

// tableStore is the bounded store, which also hands awsapp the upstream providers'
// items (awsapp.ProviderItems): awsapp joins them with their secrets and bounds the
// calls itself (awsapp.IdentityProviders).
type tableStore struct {
	oauth.Store
	providers oauth.IdentityProviders
}

// IdentityProviderItems returns the table's providers, without their secrets.
func (t *tableStore) IdentityProviderItems() oauth.IdentityProviders { return t.providers }

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
