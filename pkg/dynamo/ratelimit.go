package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Per-client request counters (docs/design.md decision 23): one item per client and
// window, counted with an unconditional ADD, deleted by TTL.
const (
	// PrefixRate is the key prefix of the request counters.
	PrefixRate   = "rate#"
	attrRequests = "requests"
)

// CountRequest adds one in one UpdateItem (ADD creates the item and the number at
// one), returning only the updated count: no condition and no read, so concurrent
// requests all count and each costs one write unit.
func (s *Store) CountRequest(ctx context.Context, key string, _, expiresAt time.Time) (int, error) {
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       keyAV(PrefixRate + key),
		UpdateExpression:          aws.String("ADD #requests :one SET #ttl = :ttl"),
		ExpressionAttributeNames:  map[string]string{"#requests": attrRequests, "#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": number(1), ":ttl": number(ttl(expiresAt))},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, fmt.Errorf("count request: %w", classify(err))
	}
	var it struct {
		Requests int `dynamodbav:"requests"`
	}
	if err := unmarshal(out.Attributes, &it); err != nil {
		return 0, fmt.Errorf("count request: %w", err)
	}
	return it.Requests, nil
}
