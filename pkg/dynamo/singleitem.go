package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pargate/pargate/pkg/oauth"
)

// SingleItemWrites makes the store write without TransactWriteItems, for a global
// table with multi-Region strong consistency (MRSC), which refuses transactions
// ("Global tables configured for multi-Region strong consistency (MRSC) do not support
// transaction operations", DynamoDB developer guide, global tables core concepts;
// docs/design.md decision 26, docs/multi-region.md). Every write is then one
// conditional PutItem, UpdateItem or DeleteItem on one item, and the promises of
// oauth.Codes and oauth.RefreshTokens still hold:
//
//   - One-time use of a pushed request stays one conditional UpdateItem (the consume,
//     consumeCondition), which now also records the key of the code it issues
//     (code_key). A code is stored first, naming its request (pushed_key), and is
//     redeemable only while that request names it back: ConsumeCode checks the
//     pointer after its own conditional consume. So a code is issued for a request
//     only by the one call whose consume succeeded, and at most one code per request
//     is ever redeemable, whatever the interleaving of concurrent calls.
//   - A crash or a failure between the writes leaves at most items nobody can reach:
//     a code whose request does not name it, a grant or a next refresh token whose ID
//     or value only the failed call knew. The consume and used_at are never undone, so
//     nothing that was refused becomes possible later. Known failures delete what the
//     call wrote (conditioned on its write ID); crashes leave it to expire.
//   - The checks that a transaction made on other items (the user of the sign-in, the
//     grant of a refresh token) become strongly consistent reads just before the first
//     write: a change that lands between the read and the write counts as landing
//     just after it.
//
// Costs, in DynamoDB calls: IssueCode 3 (4 with a user check) instead of 1,
// ConsumeCode 2 instead of 1, CreateRefreshToken 2 instead of 1, RotateRefreshToken 3
// instead of 1 (infra/bench/flow TestDynamoDBCallsPerFlow counts them).
func SingleItemWrites() Option { return func(s *Store) { s.singleItem = true } }

const (
	// attrCodeKey, on a consumed pushed request, is the key of the code issued for it.
	attrCodeKey = "code_key"
	// attrPushedKey, on a code, is the key of the pushed request it was issued for.
	attrPushedKey = "pushed_key"
	// attrUsedBy, on a rotated refresh token, is the write ID of the rotation.
	attrUsedBy = "used_by"
)

// issueCodeSingleItem is IssueCode in four single-item steps: (1) with consume.User,
// a strongly consistent read of the user; (2) the code, naming its request, if its
// key is free; (3) the grant, if its ID is free; (4) the consume, which names the
// code. Only (4) makes the code redeemable; a failure at (2)–(4) deletes what the
// call wrote.
func (s *Store) issueCodeSingleItem(ctx context.Context, consume oauth.Consume, code *oauth.AuthorizationCode, grant *oauth.Grant) error {
	codeAV, grantAV, wid, err := issueItems(code, grant)
	if err != nil {
		return err
	}
	if consume.User != nil {
		if err := s.checkUser(ctx, consume); err != nil {
			return fmt.Errorf("issue code: %w", err)
		}
	}
	codeAV[attrPushedKey] = str(consume.Key)
	grantAV[attrWriteID] = str(wid)
	if err := s.putNewItem(ctx, codeAV, wid); err != nil {
		return fmt.Errorf("issue code: %w", err)
	}
	if err := s.putNewItem(ctx, grantAV, wid); err != nil {
		s.undo(ctx, wid, PrefixCode+code.Key)
		return fmt.Errorf("issue code: grant: %w", err)
	}
	err = s.consumeRequest(ctx, consume, wid, code.Key)
	if errors.Is(err, oauth.ErrNotFound) {
		// Refused: the request is another call's, or dead. What this call wrote is
		// unreachable; delete it. On any other error the consume may have committed
		// with its answer lost, so nothing is deleted.
		s.undo(ctx, wid, PrefixCode+code.Key, PrefixGrant+grant.ID)
	}
	if err != nil {
		return fmt.Errorf("issue code: consume pushed request: %w", err)
	}
	return nil
}

// consumeRequest is the consume of a pushed request, one conditional UpdateItem with
// consumeCondition that records the write ID wid (consumed_by) and, unless codeKey is
// empty (a denial), the key of the code issued (code_key). oauth.ErrNotFound if the
// condition fails on another call's write; nil if it fails on this call's own (a retry
// after a lost answer).
func (s *Store) consumeRequest(ctx context.Context, consume oauth.Consume, wid, codeKey string) error {
	names, values := consumeNames(), consumeValues(consume)
	names["#consumed_by"], values[":wid"] = attrConsumedBy, str(wid)
	update := "SET #consumed_at = :now, #consumed_by = :wid"
	if codeKey != "" {
		names["#code_key"], values[":code"] = attrCodeKey, str(codeKey)
		update += ", #code_key = :code"
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &s.table,
		Key:                                 keyAV(PrefixPushed + consume.Key),
		UpdateExpression:                    aws.String(update),
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
		return oauth.ErrNotFound
	}
	return classify(err)
}

// checkUser is oauth.UserCheck as a strongly consistent read (userCheck's condition,
// evaluated here). When the user fails it, the request decides the error as in the
// transaction: oauth.ErrNotFound if its consume would fail too, else
// oauth.ErrUserChanged.
func (s *Store) checkUser(ctx context.Context, consume oauth.Consume) error {
	uc := consume.User
	var u userItem
	err := s.get(ctx, PrefixUser+uc.Username, &u)
	if err != nil && !errors.Is(err, oauth.ErrNotFound) {
		return fmt.Errorf("user: %w", err)
	}
	if err == nil && !u.Disabled && u.Subject == uc.Sub && u.TokensValidAfter == millis(uc.TokensValidAfter) {
		return nil
	}
	var p pushedItem
	switch err := s.get(ctx, PrefixPushed+consume.Key, &p); {
	case errors.Is(err, oauth.ErrNotFound):
		return fmt.Errorf("consume pushed request: %w", oauth.ErrNotFound)
	case err != nil:
		return fmt.Errorf("consume pushed request: %w", err)
	case p.ConsumedAt != nil || p.ClientID != consume.ClientID || p.Deadline <= millis(consume.Now):
		return fmt.Errorf("consume pushed request: %w", oauth.ErrNotFound)
	}
	return fmt.Errorf("user: %w", oauth.ErrUserChanged)
}

// checkIssued reports oauth.ErrNotFound unless item, the code under key as ConsumeCode
// saw it, was issued: its pushed request names it (code_key). A code without
// pushed_key was written by IssueCode's transaction, atomically with its consume.
func (s *Store) checkIssued(ctx context.Context, key string, item map[string]types.AttributeValue) error {
	pushed, ok := item[attrPushedKey].(*types.AttributeValueMemberS)
	if !ok {
		return nil
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                &s.table,
		Key:                      keyAV(PrefixPushed + pushed.Value),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#code_key"),
		ExpressionAttributeNames: map[string]string{"#code_key": attrCodeKey},
	})
	if err != nil {
		return fmt.Errorf("consume code: its pushed request: %w", classify(err))
	}
	if !written(out.Item, attrCodeKey, key) {
		return fmt.Errorf("consume code: %w", oauth.ErrNotFound)
	}
	return nil
}

// createRefreshTokenSingleItem is CreateRefreshToken as a strongly consistent read of
// the grant (it exists and is not revoked) and a PutItem of the token if its key is
// free.
func (s *Store) createRefreshTokenSingleItem(ctx context.Context, rt *oauth.RefreshToken) error {
	av, wid, err := refreshAV(rt)
	if err != nil {
		return fmt.Errorf("create refresh token: %w", err)
	}
	var g grantItem
	switch err := s.get(ctx, PrefixGrant+rt.GrantID, &g); {
	case err != nil:
		return fmt.Errorf("create refresh token: grant: %w", err)
	case g.RevokedAt != nil:
		return fmt.Errorf("create refresh token: grant: %w", oauth.ErrNotFound)
	}
	if err := s.putNewItem(ctx, av, wid); err != nil {
		return fmt.Errorf("create refresh token: %w", err)
	}
	return nil
}

// rotateRefreshTokenSingleItem is RotateRefreshToken in three single-item steps: (1) a
// strongly consistent read of next's grant (it exists, is not revoked, expires after
// now); (2) next, if its key is free; (3) the old token marked used, in the conditional
// UpdateItem the transaction carried, recording the write ID (used_by). Only (3)
// decides: a refusal there deletes next, which nobody else knows.
func (s *Store) rotateRefreshTokenSingleItem(ctx context.Context, key, clientID string, now time.Time, next *oauth.RefreshToken) error {
	av, wid, err := refreshAV(next)
	if err != nil {
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	ms := millis(now)
	var g grantItem
	err = s.get(ctx, PrefixGrant+next.GrantID, &g)
	if err != nil && !errors.Is(err, oauth.ErrNotFound) {
		return fmt.Errorf("rotate refresh token: grant: %w", err)
	}
	if err != nil || g.RevokedAt != nil || g.ExpiresAt <= ms {
		// As in the transaction, a reused old token is reported before the grant.
		return s.refusedRefreshToken(ctx, key, clientID, nil)
	}
	if err := s.putNewItem(ctx, av, wid); err != nil {
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        &s.table,
		Key:              keyAV(PrefixRT + key),
		UpdateExpression: aws.String("SET #used_at = :now, #used_by = :wid"),
		ConditionExpression: aws.String("attribute_exists(#pk) AND attribute_not_exists(#used_at)" +
			" AND #client_id = :cid AND #expires_at > :now AND #grant_id = :gid"),
		ExpressionAttributeNames: map[string]string{
			"#pk": attrPK, "#used_at": attrUsedAt, "#client_id": attrClientID,
			"#expires_at": attrExpiresAt, "#grant_id": attrGrantID, "#used_by": attrUsedBy,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": number(ms),
			":cid": str(clientID),
			":gid": str(next.GrantID),
			":wid": str(wid),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &failed) && written(failed.Item, attrUsedBy, wid):
		return nil // a retry found this call's own rotation
	case errors.As(err, &failed):
		s.undo(ctx, wid, PrefixRT+next.Key)
		return s.refusedRefreshToken(ctx, key, clientID, failed.Item)
	case err != nil:
		return fmt.Errorf("rotate refresh token: %w", classify(err))
	}
	return nil
}

// refreshAV is rt as an item, with a new write ID, which it returns.
func refreshAV(rt *oauth.RefreshToken) (map[string]types.AttributeValue, string, error) {
	av, err := marshal(toRefreshItem(rt))
	if err != nil {
		return nil, "", err
	}
	wid := newWriteID()
	av[attrWriteID] = str(wid)
	return av, wid, nil
}

// putNewItem creates the item av, which holds the write ID wid, if its key is free:
// oauth.ErrConflict if another call's item is there, nil if this call's own is (a
// retry after a lost answer).
func (s *Store) putNewItem(ctx context.Context, av map[string]types.AttributeValue, wid string) error {
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           &s.table,
		Item:                                av,
		ConditionExpression:                 aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames:            map[string]string{"#pk": attrPK},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		if written(failed.Item, attrWriteID, wid) {
			return nil
		}
		return oauth.ErrConflict
	}
	return classify(err)
}

// undo deletes the items under pks that this call wrote (write ID wid), best effort:
// what it cannot delete stays unreachable (SingleItemWrites).
func (s *Store) undo(ctx context.Context, wid string, pks ...string) {
	for _, pk := range pks {
		_, _ = s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName:                 &s.table,
			Key:                       keyAV(pk),
			ConditionExpression:       aws.String("#write_id = :wid"),
			ExpressionAttributeNames:  map[string]string{"#write_id": attrWriteID},
			ExpressionAttributeValues: map[string]types.AttributeValue{":wid": str(wid)},
		})
	}
}
