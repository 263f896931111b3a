package dynamo_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pargate/pargate/pkg/dynamo"
	"github.com/pargate/pargate/pkg/dynamo/dynamotest"
)

func TestCreateTable_HasTheStoreSchemaAndTTL(t *testing.T) {
	client := dynamotest.Client(t, dynamotest.Endpoint(t))
	table := dynamotest.NewTable(t, client)

	desc, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		t.Fatal(err)
	}
	ks := desc.Table.KeySchema
	if len(ks) != 1 || aws.ToString(ks[0].AttributeName) != "pk" || ks[0].KeyType != types.KeyTypeHash {
		t.Errorf("key schema = %+v, want one hash key pk", ks)
	}
	if b := desc.Table.BillingModeSummary; b == nil || b.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("billing mode = %+v, want PAY_PER_REQUEST", b)
	}
	ttl, err := client.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: &table})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != "ttl" {
		t.Errorf("TTL = %+v, want enabled on ttl", d)
	}
}

// The local server calls CreateTable on every start against the same endpoint.
func TestCreateTable_IsIdempotent(t *testing.T) {
	client := dynamotest.Client(t, dynamotest.Endpoint(t))
	table := dynamotest.NewTable(t, client)
	if err := dynamo.CreateTable(t.Context(), client, table); err != nil {
		t.Fatalf("CreateTable on an existing table: %v", err)
	}
}
