package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// tableReadyTimeout bounds the wait for a new table to become ACTIVE (seconds on
// DynamoDB, immediate on local emulators).
const tableReadyTimeout = 2 * time.Minute

// CreateTable creates the store's table if it does not exist (on-demand billing,
// string partition key `pk`, the grants-by-subject index IndexBySubject), waits until it is active, and makes sure TTL is
// enabled on `ttl`. The tests and the local server (STORE=dynamodb) use it; in AWS
// the SAM template declares the same table.
func CreateTable(ctx context.Context, client *dynamodb.Client, table string) error {
	subAttr, subIndex := bySubjectIndex()
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:              &table,
		BillingMode:            types.BillingModePayPerRequest,
		AttributeDefinitions:   []types.AttributeDefinition{{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS}, subAttr},
		KeySchema:              []types.KeySchemaElement{{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{subIndex},
	})
	// An existing table is fine: the local server is restarted against the same
	// endpoint; TTL is still checked below.
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", table, classify(err))
	}
	waiter := dynamodb.NewTableExistsWaiter(client)
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: &table}, tableReadyTimeout); err != nil {
		return fmt.Errorf("create table %s: wait until active: %w", table, classify(err))
	}

	desc, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &table})
	if err != nil {
		return fmt.Errorf("create table %s: describe TTL: %w", table, classify(err))
	}
	if d := desc.TimeToLiveDescription; d != nil {
		switch d.TimeToLiveStatus {
		case types.TimeToLiveStatusEnabled, types.TimeToLiveStatusEnabling:
			if name := aws.ToString(d.AttributeName); name != attrTTL {
				return fmt.Errorf("create table %s: TTL is enabled on %q, the store needs it on %q", table, name, attrTTL)
			}
			return nil
		}
	}
	// Enabling TTL twice is an error on DynamoDB, hence the check above.
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: &table,
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(attrTTL),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("create table %s: enable TTL: %w", table, classify(err))
	}
	return nil
}
