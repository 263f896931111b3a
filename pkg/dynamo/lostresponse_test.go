package dynamo_test

// Lost responses: a write reaches DynamoDB, commits, and its answer is lost (a reset
// connection); the SDK retries it, and the retry meets the write it made itself. Each
// store call must still succeed exactly once, and a second, distinct call must still
// be refused as the contract says (no double issue, never a 500).

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pargate/pargate/pkg/dynamo"
	"github.com/pargate/pargate/pkg/dynamo/dynamotest"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

// loseResponse passes requests to DynamoDB; the first request of the operation it is
// armed for reaches DynamoDB, and its answer is dropped: the caller sees a reset
// connection, which the SDK retries.
type loseResponse struct {
	mu    sync.Mutex
	op    string
	lost  int
	calls []string
}

func (l *loseResponse) arm(op string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.op, l.lost, l.calls = op, 0, nil
}

func (l *loseResponse) Do(r *http.Request) (*http.Response, error) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	resp, err := http.DefaultClient.Do(r)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, op)
	if err != nil || op != l.op || l.lost > 0 {
		return resp, err
	}
	l.lost++
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil, fmt.Errorf("read tcp: connection reset by peer (after %s reached DynamoDB)", op)
}

// wantRetried checks that the armed operation was answered once and retried.
func (l *loseResponse) wantRetried(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, c := range l.calls {
		if c == l.op {
			n++
		}
	}
	if l.lost != 1 || n < 2 {
		t.Fatalf("the answer of %s was lost %d times and it was sent %d times (%v); want a lost answer and a retry", l.op, l.lost, n, l.calls)
	}
}

func TestLostResponse_RetriedWritesSucceedOnce(t *testing.T) {
	endpoint := dynamotest.Endpoint(t)
	table := dynamotest.NewTable(t, dynamotest.Client(t, endpoint))
	lose := &loseResponse{}
	s := dynamo.New(dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:  lose,
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		}),
	}), table)
	ctx, now := t.Context(), time.Now()

	// issued pushes a request and issues a code and grant for it, without faults.
	issued := func(t *testing.T) (*oauth.PushedRequest, *oauth.AuthorizationCode, *oauth.Grant) {
		r := oauthtest.PushedRequest(t, now)
		code := oauthtest.Code(t, now)
		grant := oauthtest.Grant(t, now)
		grant.ID = code.GrantID
		lose.arm("")
		if err := s.CreatePushedRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := s.IssueCode(ctx, oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code, grant); err != nil {
			t.Fatal(err)
		}
		return r, code, grant
	}

	t.Run("CreatePushedRequest", func(t *testing.T) {
		r := oauthtest.PushedRequest(t, now)
		lose.arm("PutItem")
		if err := s.CreatePushedRequest(ctx, r); err != nil {
			t.Errorf("got %v, want success", err) // was ErrConflict: a 500 at /par
		}
		lose.wantRetried(t)
		if _, err := s.GetPushedRequest(ctx, r.Key); err != nil {
			t.Error(err)
		}
		if err := s.CreatePushedRequest(ctx, r); !errors.Is(err, oauth.ErrConflict) {
			t.Errorf("another create: %v, want ErrConflict", err)
		}
	})
	t.Run("IssueCode", func(t *testing.T) {
		r := oauthtest.PushedRequest(t, now)
		if err := s.CreatePushedRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		code := oauthtest.Code(t, now)
		grant := oauthtest.Grant(t, now)
		grant.ID = code.GrantID
		consume := oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}
		lose.arm("TransactWriteItems")
		if err := s.IssueCode(ctx, consume, code, grant); err != nil {
			t.Errorf("got %v, want success", err) // moto keeps no idempotency tokens: was ErrNotFound
		}
		lose.wantRetried(t)
		if got, err := s.GetPushedRequest(ctx, r.Key); err != nil || got.ConsumedAt == nil {
			t.Errorf("request not consumed: %v", err)
		}
		if _, err := s.GetGrant(ctx, grant.ID); err != nil {
			t.Error(err)
		}
		other := oauthtest.Code(t, now)
		og := oauthtest.Grant(t, now)
		og.ID = other.GrantID
		if err := s.IssueCode(ctx, consume, other, og); !errors.Is(err, oauth.ErrNotFound) {
			t.Errorf("a second code for the request: %v, want ErrNotFound", err)
		}
	})
	t.Run("ConsumeCode", func(t *testing.T) {
		_, code, _ := issued(t)
		lose.arm("UpdateItem")
		got, err := s.ConsumeCode(ctx, code.Key, code.ClientID, now)
		if err != nil || got == nil || got.GrantID != code.GrantID {
			t.Errorf("got %v (code returned: %v), want the code", err, got != nil) // was ErrUsed: a replay, the grant revoked
		}
		lose.wantRetried(t)
		if _, err := s.ConsumeCode(ctx, code.Key, code.ClientID, now); !errors.Is(err, oauth.ErrUsed) {
			t.Errorf("a second consume: %v, want ErrUsed", err)
		}
	})
	t.Run("CreateRefreshToken", func(t *testing.T) {
		_, _, grant := issued(t)
		rt := oauthtest.RefreshToken(t, now, grant.ID)
		lose.arm("TransactWriteItems")
		if err := s.CreateRefreshToken(ctx, rt); err != nil {
			t.Errorf("got %v, want success", err)
		}
		lose.wantRetried(t)
		if err := s.CreateRefreshToken(ctx, rt); !errors.Is(err, oauth.ErrConflict) {
			t.Errorf("another create: %v, want ErrConflict", err)
		}
	})
	t.Run("RotateRefreshToken", func(t *testing.T) {
		_, _, grant := issued(t)
		rt := oauthtest.RefreshToken(t, now, grant.ID)
		if err := s.CreateRefreshToken(ctx, rt); err != nil {
			t.Fatal(err)
		}
		next := oauthtest.RefreshToken(t, now, grant.ID)
		lose.arm("TransactWriteItems")
		if err := s.RotateRefreshToken(ctx, rt.Key, rt.ClientID, now, next); err != nil {
			t.Errorf("got %v, want success", err) // was ErrUsed: reuse, the grant revoked
		}
		lose.wantRetried(t)
		if _, err := s.GetRefreshToken(ctx, next.Key); err != nil {
			t.Error(err)
		}
		again := oauthtest.RefreshToken(t, now, grant.ID)
		if err := s.RotateRefreshToken(ctx, rt.Key, rt.ClientID, now, again); !errors.Is(err, oauth.ErrUsed) {
			t.Errorf("a second rotation: %v, want ErrUsed", err)
		}
	})
	t.Run("UseOnce", func(t *testing.T) {
		key := oauthtest.Key(t)
		lose.arm("PutItem")
		if err := s.UseOnce(ctx, key, now.Add(time.Minute), now); err != nil {
			t.Errorf("got %v, want success", err) // was ErrConflict: the assertion a replay, 401
		}
		lose.wantRetried(t)
		if err := s.UseOnce(ctx, key, now.Add(time.Minute), now); !errors.Is(err, oauth.ErrConflict) {
			t.Errorf("a second use: %v, want ErrConflict", err)
		}
	})
	t.Run("RevokeGrant", func(t *testing.T) {
		_, _, grant := issued(t)
		lose.arm("UpdateItem")
		if err := s.RevokeGrant(ctx, grant.ID, now); err != nil {
			t.Errorf("got %v, want success", err)
		}
		lose.wantRetried(t)
	})
}
