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

// Login failure counters (brute-force protection, NIST SP 800-63B §5.2.2): one item
// per key, counted with a conditional ADD, and deleted by TTL.
const (
	// PrefixLogin is the key prefix of the login failure counters.
	PrefixLogin     = "login#"
	attrFailures    = "failures"
	attrLastFailure = "last_failure"
)

// loginItem is a login failure counter as stored; last_failure in epoch
// milliseconds, ttl in epoch seconds.
type loginItem struct {
	PK          string `dynamodbav:"pk"`
	Failures    int    `dynamodbav:"failures"`
	LastFailure int64  `dynamodbav:"last_failure"`
	TTL         int64  `dynamodbav:"ttl"`
}

func (it loginItem) counter() oauth.LoginCounter {
	return oauth.LoginCounter{Failures: it.Failures, LastFailure: time.UnixMilli(it.LastFailure).UTC()}
}

// loginAttempts bounds the rounds of AddLoginFailure: a round fails only when another
// caller restarted or created the counter between its two conditional writes.
const loginAttempts = 4

// AddLoginFailure counts one failure in one conditional UpdateItem: ADD 1 to a
// counter whose last failure is inside the window; otherwise a second conditional
// UpdateItem starts it again at 1 (if it is still absent or stale). Neither reads
// first, so concurrent failures all count.
func (s *Store) AddLoginFailure(ctx context.Context, key string, now time.Time, window time.Duration, expiresAt time.Time) (oauth.LoginCounter, error) {
	names := map[string]string{"#pk": attrPK, "#failures": attrFailures, "#last": attrLastFailure, "#ttl": attrTTL}
	values := map[string]types.AttributeValue{
		":one":    number(1),
		":now":    number(millis(now)),
		":cutoff": number(millis(now.Add(-window))),
		":ttl":    number(ttl(expiresAt)),
	}
	update := func(expr, cond string) (oauth.LoginCounter, bool, error) {
		out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 &s.table,
			Key:                       keyAV(PrefixLogin + key),
			UpdateExpression:          aws.String(expr),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
			ReturnValues:              types.ReturnValueAllNew,
		})
		var failed *types.ConditionalCheckFailedException
		if errors.As(err, &failed) {
			return oauth.LoginCounter{}, false, nil
		}
		if err != nil {
			return oauth.LoginCounter{}, false, fmt.Errorf("add login failure: %w", classify(err))
		}
		var it loginItem
		if err := unmarshal(out.Attributes, &it); err != nil {
			return oauth.LoginCounter{}, false, fmt.Errorf("add login failure: %w", err)
		}
		return it.counter(), true, nil
	}
	for range loginAttempts {
		c, ok, err := update("ADD #failures :one SET #last = :now, #ttl = :ttl",
			"attribute_exists(#pk) AND #last > :cutoff")
		if err != nil || ok {
			return c, err
		}
		c, ok, err = update("SET #failures = :one, #last = :now, #ttl = :ttl",
			"attribute_not_exists(#pk) OR #last <= :cutoff")
		if err != nil || ok {
			return c, err
		}
	}
	return oauth.LoginCounter{}, fmt.Errorf("add login failure: %w: the counter kept changing", oauth.ErrUnavailable)
}

// GetLoginFailures reads the counters with one strongly consistent BatchGetItem; a
// zero counter where there is none. Keys DynamoDB leaves unprocessed (throttling)
// are asked for again, a bounded number of times.
func (s *Store) GetLoginFailures(ctx context.Context, keys ...string) ([]oauth.LoginCounter, error) {
	out := make([]oauth.LoginCounter, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	index := make(map[string][]int, len(keys))
	request := make([]map[string]types.AttributeValue, 0, len(keys))
	for i, key := range keys {
		pk := PrefixLogin + key
		if _, seen := index[pk]; !seen {
			request = append(request, keyAV(pk))
		}
		index[pk] = append(index[pk], i)
	}
	pending := map[string]types.KeysAndAttributes{s.table: {Keys: request, ConsistentRead: aws.Bool(true)}}
	for range loginAttempts {
		res, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
		if err != nil {
			return nil, fmt.Errorf("get login failures: %w", classify(err))
		}
		for _, av := range res.Responses[s.table] {
			var it loginItem
			if err := unmarshal(av, &it); err != nil {
				return nil, fmt.Errorf("get login failures: %w", err)
			}
			for _, i := range index[it.PK] {
				out[i] = it.counter()
			}
		}
		if len(res.UnprocessedKeys[s.table].Keys) == 0 {
			return out, nil
		}
		pending = res.UnprocessedKeys
	}
	return nil, fmt.Errorf("get login failures: %w: keys left unprocessed", oauth.ErrUnavailable)
}

// ResetLoginFailures deletes the counter.
func (s *Store) ResetLoginFailures(ctx context.Context, key string) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: keyAV(PrefixLogin + key)})
	if err != nil {
		return fmt.Errorf("reset login failures: %w", classify(err))
	}
	return nil
}
