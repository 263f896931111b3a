// Package awsretry is the retry policy of every AWS client pargate makes (awsapp's
// DynamoDB and Secrets Manager clients, the local API's DynamoDB client). It imports
// the SDK's core only, so that a program with one AWS client (the local API) links
// no configuration loader, credential chain or other service with it.
package awsretry

import (
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Bounds of the SDK's retries of one AWS call: the standard retryer's retryable
// errors (throttling, 5xx, connection errors), at most MaxAttempts attempts, each
// wait drawn at random up to an exponential bound that starts at 25 ms and stops at
// MaxBackoff. Three attempts and two waits fit within app.StoreCallTimeout, which
// bounds the whole store call (retries included), and the secrets' own timeout.
const (
	MaxAttempts = 3
	MaxBackoff  = 250 * time.Millisecond
	baseBackoff = 25 * time.Millisecond
)

// New is the retry policy. The SDK's default backoff waits up to 20 s, and below
// 1 s it stops jittering; this one stays within MaxBackoff with full jitter.
func New() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = MaxAttempts
		o.MaxBackoff = MaxBackoff
		o.Backoff = retry.BackoffDelayerFunc(backoff)
	})
}

// backoff is the wait before retry attempt+1: "full jitter" (uniform in
// [0, min(MaxBackoff, baseBackoff·2^(attempt-1)))), so that the callers throttled
// together do not come back together.
func backoff(attempt int, _ error) (time.Duration, error) {
	bound := MaxBackoff
	// The SDK counts the first retry as attempt 1 (0 with AWS_NEW_RETRIES_2026).
	if shift := max(attempt-1, 0); shift < 8 {
		bound = min(MaxBackoff, baseBackoff<<shift)
	}
	return time.Duration(rand.Int64N(int64(bound)) + 1), nil
}
