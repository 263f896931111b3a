package dynamo_test

// The store with SingleItemWrites, as on a global table with multi-Region strong
// consistency (MRSC): the whole store contract on a DynamoDB that refuses
// transactions, as MRSC replicas do, and the interleavings the contract cannot
// produce: a crash between the writes of one call, and an answer lost after the
// consume committed.

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

// mrsc is an HTTP client to DynamoDB that answers every transaction with the error an
// MRSC replica gives ("Global tables configured for multi-Region strong consistency
// (MRSC) do not support transaction operations, and will return an error if those
// operations are invoked on an MRSC replica"). Armed with an operation, it fails the
// next call of it once: before sending (a crash before the write) or, with lose, after
// the write committed (the answer lost).
type mrsc struct {
	mu   sync.Mutex
	op   string
	lose bool
}

func (m *mrsc) arm(op string, lose bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.op, m.lose = op, lose
}

func (m *mrsc) Do(r *http.Request) (*http.Response, error) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	if strings.HasPrefix(op, "Transact") {
		body := `{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"transactions are not supported on an MRSC replica"}`
		return &http.Response{
			StatusCode: http.StatusBadRequest, Status: "400 Bad Request", Request: r,
			Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
			Body:   io.NopCloser(strings.NewReader(body)),
		}, nil
	}
	m.mu.Lock()
	armed, lose := op == m.op, m.lose
	if armed {
		m.op = ""
	}
	m.mu.Unlock()
	if armed && !lose {
		return nil, fmt.Errorf("crashed before %s was sent", op)
	}
	resp, err := http.DefaultClient.Do(r)
	if armed && err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, fmt.Errorf("read tcp: connection reset by peer (after %s reached DynamoDB)", op)
	}
	return resp, err
}

// singleItemStore is a SingleItemWrites store on a new table, through m; attempts
// bounds the SDK's tries of each call (1: a failure is final, as a crash is).
func singleItemStore(t *testing.T, m *mrsc, attempts int) *dynamo.Store {
	t.Helper()
	endpoint := dynamotest.Endpoint(t)
	table := dynamotest.NewTable(t, dynamotest.Client(t, endpoint))
	return dynamo.New(dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:  m,
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		}),
	}), table, dynamo.SingleItemWrites())
}

// TestStoreContract_SingleItemWrites runs the whole store contract on a DynamoDB that
// refuses transactions: every promise holds without them.
func TestStoreContract_SingleItemWrites(t *testing.T) {
	oauthtest.RunStoreContract(t, func(t *testing.T) (oauth.Store, oauth.Registry) {
		s := singleItemStore(t, &mrsc{}, 3)
		return s, s
	})
}

// pushed stores a fresh pushed request in s.
func pushed(t *testing.T, s *dynamo.Store, now time.Time) *oauth.PushedRequest {
	t.Helper()
	r := oauthtest.PushedRequest(t, now)
	if err := s.CreatePushedRequest(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

// issueArgs is a fresh code and its grant for r.
func issueArgs(t *testing.T, r *oauth.PushedRequest, now time.Time) (oauth.Consume, *oauth.AuthorizationCode, *oauth.Grant) {
	code := oauthtest.Code(t, now)
	code.ClientID = r.ClientID
	grant := oauthtest.Grant(t, now)
	grant.ID, grant.ClientID = code.GrantID, r.ClientID
	return oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code, grant
}

// RFC 9126 §4 (the request_uri is one-time use) and FAPI 2.0 §5.3.2.2 note 3 (one-time
// use at the point of authorization): a call that stored its code and grant and
// crashed before the consume leaves no redeemable code, and the request can still be
// approved once, by a code that is then the only one.
func TestSingleItemWrites_RFC9126_4_CrashBeforeTheConsumeLeavesNoRedeemableCode(t *testing.T) {
	m := &mrsc{}
	s := singleItemStore(t, m, 1)
	ctx, now := t.Context(), time.Now()
	r := pushed(t, s, now)
	consume, crashed, grant := issueArgs(t, r, now)
	m.arm("UpdateItem", false)
	if err := s.IssueCode(ctx, consume, crashed, grant); err == nil {
		t.Fatal("IssueCode succeeded through a crash before its consume")
	}
	if _, err := s.ConsumeCode(ctx, crashed.Key, crashed.ClientID, now); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("the code of the crashed call: %v, want ErrNotFound", err)
	}
	_, code, g := issueArgs(t, r, now)
	if err := s.IssueCode(ctx, consume, code, g); err != nil {
		t.Fatalf("IssueCode after the crash: %v, want success", err)
	}
	if _, err := s.ConsumeCode(ctx, code.Key, code.ClientID, now); err != nil {
		t.Fatalf("the issued code: %v", err)
	}
	if _, err := s.ConsumeCode(ctx, crashed.Key, crashed.ClientID, now); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("the code of the crashed call, after another was issued: %v, want ErrNotFound", err)
	}
}

// RFC 9126 §4: when the consume committed and its answer was lost (the call fails,
// its code known to nobody), the request is spent: no second code is issued for it.
func TestSingleItemWrites_RFC9126_4_LostConsumeAnswerIssuesNoSecondCode(t *testing.T) {
	m := &mrsc{}
	s := singleItemStore(t, m, 1)
	ctx, now := t.Context(), time.Now()
	r := pushed(t, s, now)
	consume, first, grant := issueArgs(t, r, now)
	m.arm("UpdateItem", true)
	if err := s.IssueCode(ctx, consume, first, grant); err == nil {
		t.Fatal("IssueCode succeeded though its answer was lost and not retried")
	}
	_, second, g := issueArgs(t, r, now)
	if err := s.IssueCode(ctx, consume, second, g); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("a second IssueCode for the spent request: %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumeCode(ctx, second.Key, second.ClientID, now); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("the refused second code: %v, want ErrNotFound", err)
	}
}

// With the SDK's retries, each write whose answer is lost still succeeds exactly once
// (its retry meets its own write ID), as TestLostResponse_RetriedWritesSucceedOnce
// shows for the transactions.
func TestSingleItemWrites_LostAnswersRetriedSucceedOnce(t *testing.T) {
	for _, op := range []string{"PutItem", "UpdateItem"} {
		t.Run("IssueCode/"+op, func(t *testing.T) {
			m := &mrsc{}
			s := singleItemStore(t, m, 3)
			ctx, now := t.Context(), time.Now()
			r := pushed(t, s, now)
			consume, code, grant := issueArgs(t, r, now)
			m.arm(op, true)
			if err := s.IssueCode(ctx, consume, code, grant); err != nil {
				t.Fatalf("IssueCode: %v, want success", err)
			}
			if _, err := s.ConsumeCode(ctx, code.Key, code.ClientID, now); err != nil {
				t.Fatalf("the code: %v", err)
			}
		})
	}
	t.Run("RotateRefreshToken/UpdateItem", func(t *testing.T) {
		m := &mrsc{}
		s := singleItemStore(t, m, 3)
		ctx, now := t.Context(), time.Now()
		r := pushed(t, s, now)
		consume, code, grant := issueArgs(t, r, now)
		if err := s.IssueCode(ctx, consume, code, grant); err != nil {
			t.Fatal(err)
		}
		rt := oauthtest.RefreshToken(t, now, grant.ID)
		if err := s.CreateRefreshToken(ctx, rt); err != nil {
			t.Fatal(err)
		}
		next := oauthtest.RefreshToken(t, now, grant.ID)
		m.arm("UpdateItem", true)
		if err := s.RotateRefreshToken(ctx, rt.Key, rt.ClientID, now, next); err != nil {
			t.Fatalf("RotateRefreshToken: %v, want success", err)
		}
		if _, err := s.GetRefreshToken(ctx, next.Key); err != nil {
			t.Fatalf("the next token: %v", err)
		}
		again := oauthtest.RefreshToken(t, now, grant.ID)
		if err := s.RotateRefreshToken(ctx, rt.Key, rt.ClientID, now, again); !errors.Is(err, oauth.ErrUsed) {
			t.Fatalf("a second rotation: %v, want ErrUsed", err)
		}
	})
}

// TestAccountLinksContract_SingleItemWrites: the account links' promises without
// transactions.
func TestAccountLinksContract_SingleItemWrites(t *testing.T) {
	oauthtest.RunAccountLinksContract(t, func(t *testing.T) oauthtest.LinkStore { return singleItemStore(t, &mrsc{}, 3) })
}
