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
	prefixLogin     = "login#"
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
			Key:                       keyAV(prefixLogin + key),
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

// GetLoginFailures reads the counter with a strongly consistent read; a zero counter
// when there is none.
func (s *Store) GetLoginFailures(ctx context.Context, key string) (oauth.LoginCounter, error) {
	var it loginItem
	err := s.get(ctx, prefixLogin+key, &it)
	if errors.Is(err, oauth.ErrNotFound) {
		return oauth.LoginCounter{}, nil
	}
	if err != nil {
		return oauth.LoginCounter{}, fmt.Errorf("get login failures: %w", err)
	}
	return it.counter(), nil
}

// ResetLoginFailures deletes the counter.
func (s *Store) ResetLoginFailures(ctx context.Context, key string) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: keyAV(prefixLogin + key)})
	if err != nil {
		return fmt.Errorf("reset login failures: %w", classify(err))
	}
	return nil
}
