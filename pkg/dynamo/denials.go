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
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        &s.table,
		Key:              keyAV(PrefixPushed + consume.Key),
		UpdateExpression: aws.String("SET #consumed_at = :now, #consumed_by = :wid"),
		ConditionExpression: aws.String("attribute_exists(#pk) AND attribute_not_exists(#consumed_at)" +
			" AND #client_id = :cid AND #deadline > :now"),
		ExpressionAttributeNames: map[string]string{
			"#pk": attrPK, "#consumed_at": attrConsumedAt, "#client_id": attrClientID, "#deadline": attrDeadline,
			"#consumed_by": attrConsumedBy,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": number(millis(consume.Now)),
			":cid": &types.AttributeValueMemberS{Value: consume.ClientID},
			":wid": str(wid),
		},
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
