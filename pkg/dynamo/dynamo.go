// Package dynamo implements oauth.Store and oauth.Registry on one DynamoDB table with a
// string partition key `pk` and a TTL attribute `ttl`. One-time use is enforced by
// conditional writes, never by read-then-write: IssueCode consumes the pushed request
// and stores the code in one TransactWriteItems, ConsumeCode is one conditional
// UpdateItem, and both put the expiry in the condition because DynamoDB TTL deletes
// items up to two days late (DESIGN.md decisions 3 and 4); UseOnce, the replay check
// for one-time identifiers, is likewise one conditional PutItem. Throttling and
// outages come back wrapping oauth.ErrUnavailable so the edge can answer 503.
package dynamo

import (
	"context"
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

// issueAttempts bounds how often IssueCode retries a transaction that DynamoDB
// cancelled because another transaction held the pushed request: the retry then
// either wins or sees the winner's consumed_at and fails cleanly.
const issueAttempts = 4

// Store is the DynamoDB store. It is safe for concurrent use.
type Store struct {
	client *dynamodb.Client
	table  string
}

// New returns a store on table, which CreateTable (or the SAM template) created.
func New(client *dynamodb.Client, table string) *Store {
	return &Store{client: client, table: table}
}

// GetClient returns the client, or oauth.ErrNotFound. The read is strongly
// consistent so that disabling a client or changing its redirect URIs takes effect
// at once.
func (s *Store) GetClient(ctx context.Context, id string) (*oauth.Client, error) {
	var it clientItem
	if err := s.get(ctx, prefixClient+id, &it); err != nil {
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
	if err := s.get(ctx, prefixUser+username, &it); err != nil {
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
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                &s.table,
		Item:                     av,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return fmt.Errorf("create pushed request: %w", oauth.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create pushed request: %w", classify(err))
	}
	return nil
}

// GetPushedRequest returns the record under key, expired or not, with a strongly
// consistent read (a /authorize follows /par within milliseconds), or
// oauth.ErrNotFound.
func (s *Store) GetPushedRequest(ctx context.Context, key string) (*oauth.PushedRequest, error) {
	var it pushedItem
	if err := s.get(ctx, prefixPushed+key, &it); err != nil {
		return nil, fmt.Errorf("get pushed request: %w", err)
	}
	return it.pushedRequest(), nil
}

// IssueCode consumes the pushed request and stores the code in one TransactWriteItems
// (FAPI 2.0 §5.3.2.2 note 3: one-time use is enforced at the point of
// authorization). It returns oauth.ErrNotFound, with nothing written, unless the
// request exists, is unconsumed, is bound to consume.ClientID and its Deadline is
// after consume.Now; oauth.ErrConflict if a code is already stored under code.Key.
func (s *Store) IssueCode(ctx context.Context, consume oauth.Consume, code *oauth.AuthorizationCode) error {
	it, err := toCodeItem(code)
	if err != nil {
		return fmt.Errorf("issue code: %w", err)
	}
	av, err := marshal(it)
	if err != nil {
		return fmt.Errorf("issue code: %w", err)
	}
	now := millis(consume.Now)
	in := &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{
				TableName:        &s.table,
				Key:              keyAV(prefixPushed + consume.Key),
				UpdateExpression: aws.String("SET #consumed_at = :now"),
				ConditionExpression: aws.String("attribute_exists(#pk) AND attribute_not_exists(#consumed_at)" +
					" AND #client_id = :cid AND #deadline > :now"),
				ExpressionAttributeNames: map[string]string{
					"#pk": attrPK, "#consumed_at": attrConsumedAt, "#client_id": attrClientID, "#deadline": attrDeadline,
				},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":now": number(now),
					":cid": &types.AttributeValueMemberS{Value: consume.ClientID},
				},
			}},
			{Put: &types.Put{
				TableName:                &s.table,
				Item:                     av,
				ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
				ExpressionAttributeNames: map[string]string{"#pk": attrPK},
			}},
		},
	}
	for attempt := 1; ; attempt++ {
		_, err := s.client.TransactWriteItems(ctx, in)
		if err == nil {
			return nil
		}
		var canceled *types.TransactionCanceledException
		if !errors.As(err, &canceled) {
			return fmt.Errorf("issue code: %w", classify(err))
		}
		// The reasons are in the order of TransactItems: [0] the pushed request,
		// [1] the code; "None" marks an item that was not the cause.
		reasons := canceled.CancellationReasons
		switch {
		case reasonIs(reasons, 0, "ConditionalCheckFailed"):
			return fmt.Errorf("issue code: consume pushed request: %w", oauth.ErrNotFound)
		case reasonIs(reasons, 1, "ConditionalCheckFailed"):
			return fmt.Errorf("issue code: %w", oauth.ErrConflict)
		case hasReason(reasons, "TransactionConflict") && attempt < issueAttempts:
			if err := backoff(ctx, attempt); err != nil {
				return fmt.Errorf("issue code: %w", err)
			}
			// The SDK stored its generated idempotency token in the input; a retry
			// after a cancellation is a new transaction and needs a new one.
			in.ClientRequestToken = nil
		case hasReason(reasons, "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"):
			return fmt.Errorf("issue code: %w: %w", oauth.ErrUnavailable, err)
		default:
			return fmt.Errorf("issue code: %w", err)
		}
	}
}

// ConsumeCode marks the code as used and returns it, in one conditional UpdateItem
// that checks the client, prior use and expiry, or returns oauth.ErrNotFound and
// changes nothing.
func (s *Store) ConsumeCode(ctx context.Context, key, clientID string, now time.Time) (*oauth.AuthorizationCode, error) {
	ms := millis(now)
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        &s.table,
		Key:              keyAV(prefixCode + key),
		UpdateExpression: aws.String("SET #consumed_at = :now"),
		ConditionExpression: aws.String("attribute_exists(#pk) AND attribute_not_exists(#consumed_at)" +
			" AND #client_id = :cid AND #expires_at > :now"),
		ExpressionAttributeNames: map[string]string{
			"#pk": attrPK, "#consumed_at": attrConsumedAt, "#client_id": attrClientID, "#expires_at": attrExpiresAt,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": number(ms),
			":cid": &types.AttributeValueMemberS{Value: clientID},
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return nil, fmt.Errorf("consume code: %w", oauth.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("consume code: %w", classify(err))
	}
	var it codeItem
	if err := unmarshal(out.Attributes, &it); err != nil {
		return nil, fmt.Errorf("consume code: %w", err)
	}
	return it.code(), nil
}

// UseOnce records key until expiresAt in one conditional PutItem, which succeeds
// only if no record exists or the existing one expired at or before now; otherwise
// it returns oauth.ErrConflict. The record's TTL is expiresAt plus an hour.
func (s *Store) UseOnce(ctx context.Context, key string, expiresAt, now time.Time) error {
	av, err := marshal(replayItem{PK: prefixReplay + key, ExpiresAt: millis(expiresAt), TTL: ttl(expiresAt)})
	if err != nil {
		return fmt.Errorf("use once: %w", err)
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 &s.table,
		Item:                      av,
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #expires_at <= :now"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#expires_at": attrExpiresAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": number(millis(now))},
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
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
