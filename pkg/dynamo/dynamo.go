// Package dynamo implements oauth.Store and oauth.Registry on one DynamoDB table with a
// string partition key `pk` and a TTL attribute `ttl`. One-time use is enforced by
// conditional writes, never by read-then-write: IssueCode consumes the pushed request
// and stores the code and its grant in one TransactWriteItems, ConsumeCode is one
// conditional UpdateItem, RotateRefreshToken marks the old token used, checks the
// grant and stores the next token in one TransactWriteItems, and all of them put the
// expiry in the condition because DynamoDB TTL deletes items up to two days late
// (docs/design.md decisions 3 and 4); UseOnce, the replay check for one-time identifiers,
// is likewise one conditional PutItem. Throttling and
// outages come back wrapping oauth.ErrUnavailable so the edge can answer 503.
// With SingleItemWrites (singleitem.go), for a global table with multi-Region strong
// consistency, which refuses transactions, every write is one conditional single-item
// write instead, under the same promises.
//
// Every conditional write carries a write ID, random per store call (see newWriteID):
// when the SDK retries a write whose answer was lost (a reset connection, a 500),
// the retry fails its condition on the write it made itself, and the write ID in the
// item returned with the failure tells that apart from another caller's write.
package dynamo

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pargate/pargate/pkg/oauth"
)

var (
	_ oauth.Store    = (*Store)(nil)
	_ oauth.Registry = (*Store)(nil)
)

// txAttempts bounds how often a transaction that DynamoDB cancelled because another
// transaction held one of its items (the pushed request of IssueCode, the old token
// or the grant of RotateRefreshToken) is tried: the retry then either wins or sees
// the winner's write and fails its condition cleanly.
const txAttempts = 4

// Store is the DynamoDB store. It is safe for concurrent use.
type Store struct {
	client API
	table  string
	// singleItem: no TransactWriteItems (SingleItemWrites, singleitem.go).
	singleItem bool
}

// API is what the store calls of DynamoDB; *dynamodb.Client is one. A Lambda
// function hands in these methods alone (awstable.Store), so that its binary links
// no other operation of the client (docs/design.md decision 25).
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Option configures a Store.
type Option func(*Store)

// New returns a store on table, which CreateTable (or the SAM template) created.
func New(client API, table string, opts ...Option) *Store {
	s := &Store{client: client, table: table}
	for _, o := range opts {
		o(s)
	}
	return s
}

// GetClient returns the client, or oauth.ErrNotFound. The read is strongly
// consistent so that disabling a client or changing its redirect URIs takes effect
// at once.
func (s *Store) GetClient(ctx context.Context, id string) (*oauth.Client, error) {
	var it clientItem
	if err := s.get(ctx, PrefixClient+id, &it); err != nil {
		return nil, fmt.Errorf("get client: %w", err)
	}
	return it.client(), nil
}

// PutClient creates or replaces the client.
func (s *Store) PutClient(ctx context.Context, c *oauth.Client) error {
	if err := s.put(ctx, toClientItem(c)); err != nil {
		return fmt.Errorf("put client: %w", err)
	}
	return nil
}

// GetUser returns the user, or oauth.ErrNotFound, with a strongly consistent read.
func (s *Store) GetUser(ctx context.Context, username string) (*oauth.User, error) {
	var it userItem
	if err := s.get(ctx, PrefixUser+username, &it); err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	return it.user(), nil
}

// PutUser creates or replaces the user. Claims are stored as the JSON values they
// are, so claims that encoding/json cannot marshal are an error.
func (s *Store) PutUser(ctx context.Context, u *oauth.User) error {
	it, err := toUserItem(u)
	if err != nil {
		return fmt.Errorf("put user: %w", err)
	}
	if err := s.put(ctx, it); err != nil {
		return fmt.Errorf("put user: %w", err)
	}
	return nil
}

// CreatePushedRequest stores r under r.Key, or returns oauth.ErrConflict if the key
// is taken. Its TTL is its deadline plus an hour.
func (s *Store) CreatePushedRequest(ctx context.Context, r *oauth.PushedRequest) error {
	av, err := marshal(toPushedItem(r))
	if err != nil {
		return fmt.Errorf("create pushed request: %w", err)
	}
	wid := newWriteID()
	av[attrWriteID] = str(wid)
	if err := s.putNewItem(ctx, av, wid); err != nil {
		return fmt.Errorf("create pushed request: %w", err)
	}
	return nil
}

// GetPushedRequest returns the record under key, expired or not, with a strongly
// consistent read (a /authorize follows /par within milliseconds), or
// oauth.ErrNotFound.
func (s *Store) GetPushedRequest(ctx context.Context, key string) (*oauth.PushedRequest, error) {
	var it pushedItem
	if err := s.get(ctx, PrefixPushed+key, &it); err != nil {
		return nil, fmt.Errorf("get pushed request: %w", err)
	}
	return it.pushedRequest(), nil
}

// consumeCondition is the one condition under which a pushed request is consumed
// (docs/design.md decision 4): it exists, is not consumed yet, is bound to the client
// and its deadline is after now. IssueCode's transaction and DenyPushedRequest carry
// it, so of concurrent approvals and denials of one request at most one succeeds.
const consumeCondition = "attribute_exists(#pk) AND attribute_not_exists(#consumed_at)" +
	" AND #client_id = :cid AND #deadline > :now"

// consumeNames and consumeValues are consumeCondition's names and values for consume
// (fresh maps: a caller may add its own).
func consumeNames() map[string]string {
	return map[string]string{
		"#pk": attrPK, "#consumed_at": attrConsumedAt, "#client_id": attrClientID, "#deadline": attrDeadline,
	}
}

func consumeValues(consume oauth.Consume) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		":now": number(millis(consume.Now)),
		":cid": &types.AttributeValueMemberS{Value: consume.ClientID},
	}
}

// IssueCode consumes the pushed request and stores the code and its grant in one
// TransactWriteItems (FAPI 2.0 §5.3.2.2 note 3: one-time use is enforced at the point
// of authorization). It returns oauth.ErrNotFound, with nothing written, unless the
// request exists, is unconsumed, is bound to consume.ClientID and its Deadline is
// after consume.Now; oauth.ErrConflict if a code is already stored under code.Key or
// a grant under grant.ID.
func (s *Store) IssueCode(ctx context.Context, consume oauth.Consume, code *oauth.AuthorizationCode, grant *oauth.Grant) error {
	if s.singleItem {
		return s.issueCodeSingleItem(ctx, consume, code, grant)
	}
	codeAV, grantAV, wid, err := issueItems(code, grant)
	if err != nil {
		return err
	}
	in := &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{
				TableName:                 &s.table,
				Key:                       keyAV(PrefixPushed + consume.Key),
				UpdateExpression:          aws.String("SET #consumed_at = :now"),
				ConditionExpression:       aws.String(consumeCondition),
				ExpressionAttributeNames:  consumeNames(),
				ExpressionAttributeValues: consumeValues(consume),
			}},
			s.putNew(codeAV),
			s.putNew(grantAV),
		},
	}
	if consume.User != nil {
		// The user as the login read it, checked in the same
		// transaction instead of a GetItem before it.
		in.TransactItems = append(in.TransactItems, types.TransactWriteItem{ConditionCheck: s.userCheck(consume.User)})
	}
	// The reasons are in the order of TransactItems: [0] the pushed request,
	// [1] the code, [2] the grant, [3] the user check if any; "None" marks an item
	// that was not the cause.
	reasons, err := s.transact(ctx, in)
	switch {
	case err != nil:
		return fmt.Errorf("issue code: %w", err)
	case writtenBefore(reasons, 1, wid):
		return nil // a retry found this call's own transaction committed
	case reasonIs(reasons, 0, condFailed):
		return fmt.Errorf("issue code: consume pushed request: %w", oauth.ErrNotFound)
	case reasonIs(reasons, 1, condFailed):
		return fmt.Errorf("issue code: %w", oauth.ErrConflict)
	case reasonIs(reasons, 2, condFailed):
		return fmt.Errorf("issue code: grant: %w", oauth.ErrConflict)
	case consume.User != nil && reasonIs(reasons, 3, condFailed):
		return fmt.Errorf("issue code: user: %w", oauth.ErrUserChanged)
	case reasons != nil:
		return fmt.Errorf("issue code: %w", unexpected(reasons))
	}
	return nil
}

// issueItems checks that grant is code's and marshals both, the code with a new
// write ID, which it returns.
func issueItems(code *oauth.AuthorizationCode, grant *oauth.Grant) (codeAV, grantAV map[string]types.AttributeValue, wid string, err error) {
	if err := oauth.CheckGrantOfCode(code, grant); err != nil {
		return nil, nil, "", fmt.Errorf("issue code: %w", err)
	}
	it, err := toCodeItem(code)
	if err != nil {
		return nil, nil, "", fmt.Errorf("issue code: %w", err)
	}
	codeAV, err = marshal(it)
	if err != nil {
		return nil, nil, "", fmt.Errorf("issue code: %w", err)
	}
	wid = newWriteID()
	codeAV[attrWriteID] = str(wid)
	git, err := toGrantItem(grant)
	if err != nil {
		return nil, nil, "", fmt.Errorf("issue code: grant: %w", err)
	}
	grantAV, err = marshal(git)
	if err != nil {
		return nil, nil, "", fmt.Errorf("issue code: grant: %w", err)
	}
	return codeAV, grantAV, wid, nil
}

// userCheck is the ConditionCheck of oauth.UserCheck on the user item: it exists, is
// not disabled, and its subject and tokens_valid_after (epoch milliseconds, absent
// for none; userItem) are the ones the login read.
func (s *Store) userCheck(uc *oauth.UserCheck) *types.ConditionCheck {
	cond := "attribute_exists(#pk) AND (attribute_not_exists(#disabled) OR #disabled = :false)"
	names := map[string]string{"#pk": attrPK, "#disabled": "disabled", "#subject": "subject", "#tva": "tokens_valid_after"}
	values := map[string]types.AttributeValue{":false": &types.AttributeValueMemberBOOL{Value: false}}
	if uc.Sub == "" {
		cond += " AND attribute_not_exists(#subject)"
	} else {
		cond += " AND #subject = :sub"
		values[":sub"] = &types.AttributeValueMemberS{Value: uc.Sub}
	}
	if tva := millis(uc.TokensValidAfter); tva == 0 {
		cond += " AND attribute_not_exists(#tva)"
	} else {
		cond += " AND #tva = :tva"
		values[":tva"] = number(tva)
	}
	return &types.ConditionCheck{
		TableName:                 &s.table,
		Key:                       keyAV(PrefixUser + uc.Username),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}
}

// ConsumeCode marks the code as used and returns it, in one conditional UpdateItem
// that checks the client, prior use and expiry. When the condition fails, DynamoDB
// returns the item as it was (ReturnValuesOnConditionCheckFailure), from which the
// verdict follows without another read: a code bound to clientID and already used is
// returned with an error wrapping oauth.ErrUsed; anything else is oauth.ErrNotFound.
// Nothing changes when it fails.
func (s *Store) ConsumeCode(ctx context.Context, key, clientID string, now time.Time) (*oauth.AuthorizationCode, error) {
	item, err := s.consumeCodeItem(ctx, key, clientID, now)
	if err != nil && !errors.Is(err, oauth.ErrUsed) {
		return nil, err
	}
	if s.singleItem {
		if perr := s.checkIssued(ctx, key, item); perr != nil {
			return nil, perr
		}
	}
	var it codeItem
	if uerr := unmarshal(item, &it); uerr != nil {
		return nil, fmt.Errorf("consume code: %w", uerr)
	}
	return it.code(), err
}

// consumeCodeItem is ConsumeCode's conditional UpdateItem: the code item as written
// and nil, the item as it was and an error wrapping oauth.ErrUsed, or nil and
// another error.
func (s *Store) consumeCodeItem(ctx context.Context, key, clientID string, now time.Time) (map[string]types.AttributeValue, error) {
	ms := millis(now)
	wid := newWriteID()
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        &s.table,
		Key:              keyAV(PrefixCode + key),
		UpdateExpression: aws.String("SET #consumed_at = :now, #consumed_by = :wid"),
		ConditionExpression: aws.String("attribute_exists(#pk) AND attribute_not_exists(#consumed_at)" +
			" AND #client_id = :cid AND #expires_at > :now"),
		ExpressionAttributeNames: map[string]string{
			"#pk": attrPK, "#consumed_at": attrConsumedAt, "#client_id": attrClientID, "#expires_at": attrExpiresAt,
			"#consumed_by": attrConsumedBy,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": number(ms),
			":cid": &types.AttributeValueMemberS{Value: clientID},
			":wid": str(wid),
		},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) && written(failed.Item, attrConsumedBy, wid) {
		// A retry found the code consumed by this very call: the consume is ours.
		out, err = &dynamodb.UpdateItemOutput{Attributes: failed.Item}, nil
	}
	if errors.As(err, &failed) {
		if !usedBy(failed.Item, attrConsumedAt, clientID) {
			return nil, fmt.Errorf("consume code: %w", oauth.ErrNotFound)
		}
		return failed.Item, fmt.Errorf("consume code: %w", oauth.ErrUsed)
	}
	if err != nil {
		return nil, fmt.Errorf("consume code: %w", classify(err))
	}
	return out.Attributes, nil
}

// usedBy reports whether item, a one-time record as it was stored, exists, is bound
// to clientID and has the attribute used that marks it as used.
func usedBy(item map[string]types.AttributeValue, used, clientID string) bool {
	if len(item) == 0 {
		return false
	}
	cid, ok := item[attrClientID].(*types.AttributeValueMemberS)
	if !ok || cid.Value != clientID {
		return false
	}
	_, ok = item[used]
	return ok
}

// GetGrant returns the grant, revoked or not, with a strongly consistent read (a
// revocation takes effect at once), or oauth.ErrNotFound.
func (s *Store) GetGrant(ctx context.Context, id string) (*oauth.Grant, error) {
	var it grantItem
	if err := s.get(ctx, PrefixGrant+id, &it); err != nil {
		return nil, fmt.Errorf("get grant: %w", err)
	}
	return it.grant(), nil
}

// RevokeGrant sets revoked_at to now unless it is set already, in one conditional
// UpdateItem, or returns oauth.ErrNotFound if there is no such grant.
func (s *Store) RevokeGrant(ctx context.Context, id string, now time.Time) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       keyAV(PrefixGrant + id),
		UpdateExpression:          aws.String("SET #revoked_at = if_not_exists(#revoked_at, :now)"),
		ConditionExpression:       aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#revoked_at": attrRevokedAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": number(millis(now))},
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return fmt.Errorf("revoke grant: %w", oauth.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("revoke grant: %w", classify(err))
	}
	return nil
}

// RecordRevocation sets revoked_at to now unless it is set already, in one
// UpdateItem without a condition: on a grant that exists it is RevokeGrant; where
// there is none it creates the item, a revoked grant of clientID that ends at
// expiresAt, with its TTL. It has no sub, so the grants-by-subject index never
// holds it.
func (s *Store) RecordRevocation(ctx context.Context, id, clientID string, expiresAt, now time.Time) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table,
		Key:       keyAV(PrefixGrant + id),
		UpdateExpression: aws.String("SET #revoked_at = if_not_exists(#revoked_at, :now), #client_id = if_not_exists(#client_id, :client), " +
			"#created_at = if_not_exists(#created_at, :now), #expires_at = if_not_exists(#expires_at, :expires), #ttl = if_not_exists(#ttl, :ttl)"),
		ExpressionAttributeNames: map[string]string{"#revoked_at": attrRevokedAt, "#client_id": attrClientID,
			"#created_at": "created_at", "#expires_at": attrExpiresAt, "#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": number(millis(now)), ":client": &types.AttributeValueMemberS{Value: clientID},
			":expires": number(millis(expiresAt)), ":ttl": number(ttl(expiresAt)),
		},
	})
	if err != nil {
		return fmt.Errorf("record revocation: %w", classify(err))
	}
	return nil
}

// CreateRefreshToken stores rt in one TransactWriteItems that checks that its grant
// exists and is not revoked; otherwise it returns oauth.ErrNotFound, with nothing
// written. oauth.ErrConflict if rt.Key is taken. Its TTL is its expiry plus an hour.
func (s *Store) CreateRefreshToken(ctx context.Context, rt *oauth.RefreshToken) error {
	if s.singleItem {
		return s.createRefreshTokenSingleItem(ctx, rt)
	}
	av, err := marshal(toRefreshItem(rt))
	if err != nil {
		return fmt.Errorf("create refresh token: %w", err)
	}
	wid := newWriteID()
	av[attrWriteID] = str(wid)
	in := &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{ConditionCheck: &types.ConditionCheck{
				TableName:                &s.table,
				Key:                      keyAV(PrefixGrant + rt.GrantID),
				ConditionExpression:      aws.String("attribute_exists(#pk) AND attribute_not_exists(#revoked_at)"),
				ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#revoked_at": attrRevokedAt},
			}},
			s.putNew(av),
		},
	}
	// [0] the grant, [1] the refresh token.
	reasons, err := s.transact(ctx, in)
	switch {
	case err != nil:
		return fmt.Errorf("create refresh token: %w", err)
	case writtenBefore(reasons, 1, wid):
		return nil // a retry found this call's own transaction committed
	case reasonIs(reasons, 0, condFailed):
		return fmt.Errorf("create refresh token: grant: %w", oauth.ErrNotFound)
	case reasonIs(reasons, 1, condFailed):
		return fmt.Errorf("create refresh token: %w", oauth.ErrConflict)
	case reasons != nil:
		return fmt.Errorf("create refresh token: %w", unexpected(reasons))
	}
	return nil
}

// GetRefreshToken returns the token, used or not, with a strongly consistent read,
// or oauth.ErrNotFound.
func (s *Store) GetRefreshToken(ctx context.Context, key string) (*oauth.RefreshToken, error) {
	var it refreshItem
	if err := s.get(ctx, PrefixRT+key, &it); err != nil {
		return nil, fmt.Errorf("get refresh token: %w", err)
	}
	return it.refreshToken(), nil
}

// RotateRefreshToken marks the token under key as used, checks its grant and stores
// next in one TransactWriteItems, and nothing else: the old token is not read back. It succeeds only if the
// old token exists, is bound to clientID, is unused, expires after now and belongs to
// next's grant, and that grant exists, is not revoked and expires after now. When the
// old token's condition fails, the token as it was (returned with the cancellation,
// ReturnValuesOnConditionCheckFailure) tells reuse (bound to clientID and used: an
// error wrapping oauth.ErrUsed) from anything else
// (oauth.ErrNotFound). oauth.ErrConflict if next.Key is taken. Nothing is written
// when it fails.
func (s *Store) RotateRefreshToken(ctx context.Context, key, clientID string, now time.Time, next *oauth.RefreshToken) error {
	if next == nil {
		return errors.New("rotate refresh token: no next token")
	}
	if next.Key == key {
		// DynamoDB refuses two operations on one item in a transaction.
		return fmt.Errorf("rotate refresh token: next token under the old key: %w", oauth.ErrConflict)
	}
	if s.singleItem {
		return s.rotateRefreshTokenSingleItem(ctx, key, clientID, now, next)
	}
	av, err := marshal(toRefreshItem(next))
	if err != nil {
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	wid := newWriteID()
	av[attrWriteID] = str(wid)
	ms := number(millis(now))
	in := &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{
				TableName:        &s.table,
				Key:              keyAV(PrefixRT + key),
				UpdateExpression: aws.String("SET #used_at = :now"),
				ConditionExpression: aws.String("attribute_exists(#pk) AND attribute_not_exists(#used_at)" +
					" AND #client_id = :cid AND #expires_at > :now AND #grant_id = :gid"),
				ExpressionAttributeNames: map[string]string{
					"#pk": attrPK, "#used_at": attrUsedAt, "#client_id": attrClientID,
					"#expires_at": attrExpiresAt, "#grant_id": attrGrantID,
				},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":now": ms,
					":cid": &types.AttributeValueMemberS{Value: clientID},
					":gid": &types.AttributeValueMemberS{Value: next.GrantID},
				},
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}},
			{ConditionCheck: &types.ConditionCheck{
				TableName: &s.table,
				Key:       keyAV(PrefixGrant + next.GrantID),
				ConditionExpression: aws.String("attribute_exists(#pk) AND attribute_not_exists(#revoked_at)" +
					" AND #expires_at > :now"),
				ExpressionAttributeNames: map[string]string{
					"#pk": attrPK, "#revoked_at": attrRevokedAt, "#expires_at": attrExpiresAt,
				},
				ExpressionAttributeValues: map[string]types.AttributeValue{":now": ms},
			}},
			s.putNew(av),
		},
	}
	// [0] the old token, [1] the grant, [2] the next token.
	reasons, err := s.transact(ctx, in)
	switch {
	case err != nil:
		return fmt.Errorf("rotate refresh token: %w", err)
	case writtenBefore(reasons, 2, wid):
		// A retry found this call's own transaction committed: go on as if the
		// first attempt had answered.
	case reasonIs(reasons, 0, condFailed):
		return s.refusedRefreshToken(ctx, key, clientID, reasons[0].Item)
	case reasonIs(reasons, 1, condFailed):
		return fmt.Errorf("rotate refresh token: grant: %w", oauth.ErrNotFound)
	case reasonIs(reasons, 2, condFailed):
		return fmt.Errorf("rotate refresh token: %w", oauth.ErrConflict)
	case reasons != nil:
		return fmt.Errorf("rotate refresh token: %w", unexpected(reasons))
	}
	return nil
}

// refusedRefreshToken decides why the old token's condition in RotateRefreshToken
// failed, from item, the token as the transaction saw it: oauth.ErrUsed if it exists, is bound to clientID and was used, otherwise
// oauth.ErrNotFound. DynamoDB and moto return the item with the cancellation; a
// stand-in that does not (item empty: the token is missing or was not returned) is
// asked with a strongly consistent read, which sees at least what the transaction
// saw, since nothing unsets used_at.
func (s *Store) refusedRefreshToken(ctx context.Context, key, clientID string, item map[string]types.AttributeValue) error {
	if len(item) == 0 {
		out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:      &s.table,
			Key:            keyAV(PrefixRT + key),
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return fmt.Errorf("rotate refresh token: read the refused token: %w", classify(err))
		}
		item = out.Item
	}
	if !usedBy(item, attrUsedAt, clientID) {
		return fmt.Errorf("rotate refresh token: %w", oauth.ErrNotFound)
	}
	return fmt.Errorf("rotate refresh token: %w", oauth.ErrUsed)
}

// UseOnce records key until expiresAt in one conditional PutItem, which succeeds
// only if no record exists or the existing one expired at or before now; otherwise
// it returns oauth.ErrConflict. The record's TTL is expiresAt plus an hour.
func (s *Store) UseOnce(ctx context.Context, key string, expiresAt, now time.Time) error {
	av, err := marshal(replayItem{PK: PrefixReplay + key, ExpiresAt: millis(expiresAt), TTL: ttl(expiresAt)})
	if err != nil {
		return fmt.Errorf("use once: %w", err)
	}
	wid := newWriteID()
	av[attrWriteID] = str(wid)
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           &s.table,
		Item:                                av,
		ConditionExpression:                 aws.String("attribute_not_exists(#pk) OR #expires_at <= :now"),
		ExpressionAttributeNames:            map[string]string{"#pk": attrPK, "#expires_at": attrExpiresAt},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":now": number(millis(now))},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		if written(failed.Item, attrWriteID, wid) {
			return nil // a retry found this call's own record
		}
		return fmt.Errorf("use once: %w", oauth.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("use once: %w", classify(err))
	}
	return nil
}

// get reads the item under pk into item with a strongly consistent read.
func (s *Store) get(ctx context.Context, pk string, item any) error {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            keyAV(pk),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return classify(err)
	}
	if len(out.Item) == 0 {
		return oauth.ErrNotFound
	}
	return unmarshal(out.Item, item)
}

// putNew is a transaction item that creates the item av, failing its condition if
// the key is taken; the item in the way comes back with the cancellation, so that
// writtenBefore can see whose it is.
func (s *Store) putNew(av map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName:                           &s.table,
		Item:                                av,
		ConditionExpression:                 aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames:            map[string]string{"#pk": attrPK},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
}

// newWriteID returns a random ID for the writes of one store call, the same in
// every attempt the SDK makes of it. A conditional write stores it (write_id, or
// consumed_by for the consume of a code); when the condition fails on an item that
// holds this call's ID, an earlier attempt of this call committed and its answer was
// lost, so the call succeeded. TransactWriteItems would be idempotent through the
// SDK's ClientRequestToken within ten minutes; the ID does not depend on that (moto
// ignores the token) and covers PutItem and UpdateItem, which have no token.
func newWriteID() string { return crand.Text() }

// written reports whether item, as returned with a failed condition, holds the
// write ID wid in attr.
func written(item map[string]types.AttributeValue, attr, wid string) bool {
	v, ok := item[attr].(*types.AttributeValueMemberS)
	return ok && v.Value == wid
}

// writtenBefore reports whether the transaction item i failed its condition on an
// item that this call wrote (write ID wid): an earlier attempt of the same call
// committed, and nothing else can have written under its random key since.
func writtenBefore(reasons []types.CancellationReason, i int, wid string) bool {
	return reasonIs(reasons, i, condFailed) && written(reasons[i].Item, attrWriteID, wid)
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// condFailed is the cancellation reason of a transaction item whose condition failed.
const condFailed = "ConditionalCheckFailed"

// transact runs the transaction in. It returns nil, nil when it committed; the
// cancellation reasons, in the order of in.TransactItems, when a condition failed
// (and nothing was written); or an error. A cancellation because another transaction
// held one of the items is retried (txAttempts in all): the retry then either commits
// or fails a condition on what the winner wrote. Conflicts that persist and
// throttling wrap oauth.ErrUnavailable.
func (s *Store) transact(ctx context.Context, in *dynamodb.TransactWriteItemsInput) ([]types.CancellationReason, error) {
	for attempt := 1; ; attempt++ {
		_, err := s.client.TransactWriteItems(ctx, in)
		if err == nil {
			return nil, nil
		}
		var canceled *types.TransactionCanceledException
		if !errors.As(err, &canceled) {
			return nil, classify(err)
		}
		reasons := canceled.CancellationReasons
		switch {
		case hasReason(reasons, condFailed):
			return reasons, nil
		case hasReason(reasons, "TransactionConflict") && attempt < txAttempts:
			if err := backoff(ctx, attempt); err != nil {
				return nil, err
			}
			// The SDK stored its generated idempotency token in the input; a retry
			// after a cancellation is a new transaction and needs a new one.
			in.ClientRequestToken = nil
		case hasReason(reasons, "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"):
			return nil, fmt.Errorf("%w: %w", oauth.ErrUnavailable, err)
		default:
			return nil, err
		}
	}
}

// put creates or replaces item.
func (s *Store) put(ctx context.Context, item any) error {
	av, err := marshal(item)
	if err != nil {
		return err
	}
	if _, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: av}); err != nil {
		return classify(err)
	}
	return nil
}

func keyAV(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: &types.AttributeValueMemberS{Value: pk}}
}

func number(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func reasonIs(reasons []types.CancellationReason, i int, code string) bool {
	return i < len(reasons) && aws.ToString(reasons[i].Code) == code
}

// unexpected describes cancellation reasons that name no item of the transaction.
func unexpected(reasons []types.CancellationReason) error {
	codes := make([]string, len(reasons))
	for i, r := range reasons {
		codes[i] = aws.ToString(r.Code)
	}
	return fmt.Errorf("transaction cancelled for unexpected reasons %v", codes)
}

func hasReason(reasons []types.CancellationReason, codes ...string) bool {
	for _, r := range reasons {
		for _, c := range codes {
			if aws.ToString(r.Code) == c {
				return true
			}
		}
	}
	return false
}

// backoff sleeps before retry attempt+1: exponential from 10 ms with full jitter,
// so that the losers of a race do not collide again in lockstep.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(rand.Int64N(int64(10*time.Millisecond) << attempt))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return classify(ctx.Err())
	}
}
