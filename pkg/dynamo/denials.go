package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pargate/pargate/pkg/oauth"
)

// DenyPushedRequest marks the pushed request as consumed in one conditional
// UpdateItem with the condition IssueCode's consume carries, so that of concurrent
// denials and approvals at most one succeeds. It returns oauth.ErrNotFound, with
// nothing written, unless the request exists, is unconsumed, is bound to
// consume.ClientID and its Deadline is after consume.Now. A retry that finds its own
// write (the write ID in consumed_by) succeeds.
func (s *Store) DenyPushedRequest(ctx context.Context, consume oauth.Consume) error {
	wid := newWriteID()
	names, values := consumeNames(), consumeValues(consume)
	names["#consumed_by"], values[":wid"] = attrConsumedBy, str(wid)
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &s.table,
		Key:                                 keyAV(PrefixPushed + consume.Key),
		UpdateExpression:                    aws.String("SET #consumed_at = :now, #consumed_by = :wid"),
		ConditionExpression:                 aws.String(consumeCondition),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		if written(failed.Item, attrConsumedBy, wid) {
			return nil // a retry found this call's own write
		}
		return fmt.Errorf("deny pushed request: %w", oauth.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("deny pushed request: %w", classify(err))
	}
	return nil
}
