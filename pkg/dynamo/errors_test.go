package dynamo_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pargate/pargate/pkg/dynamo"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

// fakeDynamo answers every request with status and body (awsJson1_0 errors carry
// their type in "__type") and counts the requests.
func fakeDynamo(t *testing.T, status int, body string) (*dynamo.Store, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return dynamo.New(fastClient(srv.URL), "table"), &calls
}

// fastClient does not retry, so that each test sees the first answer.
func fastClient(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 1,
	})
}

func dynamoError(typ string) string {
	return `{"__type":"com.amazonaws.dynamodb.v20120810#` + typ + `","message":"injected"}`
}

func TestErrors_OutagesAndThrottlingAreUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
	}{
		{"ProvisionedThroughputExceeded", 400, dynamoError("ProvisionedThroughputExceededException")},
		{"RequestLimitExceeded", 400, dynamoError("RequestLimitExceeded")},
		{"ThrottlingException", 400, dynamoError("ThrottlingException")},
		{"InternalServerError", 500, dynamoError("InternalServerError")},
		{"ServiceUnavailable", 503, dynamoError("ServiceUnavailable")},
		{"BareGatewayError", 502, "<html>Bad Gateway</html>"},
		{"TransactionConflictOnAWrite", 400, dynamoError("TransactionConflictException")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := fakeDynamo(t, tc.status, tc.body)
			_, err := s.GetPushedRequest(t.Context(), oauthtest.Key(t))
			if !errors.Is(err, oauth.ErrUnavailable) {
				t.Errorf("GetPushedRequest: got %v, want oauth.ErrUnavailable", err)
			}
			_, err = s.ConsumeCode(t.Context(), oauthtest.Key(t), oauthtest.ClientID, time.Now())
			if !errors.Is(err, oauth.ErrUnavailable) {
				t.Errorf("ConsumeCode: got %v, want oauth.ErrUnavailable", err)
			}
			if err := s.PutClient(t.Context(), oauthtest.Client(t)); !errors.Is(err, oauth.ErrUnavailable) {
				t.Errorf("PutClient: got %v, want oauth.ErrUnavailable", err)
			}
			if err := s.UseOnce(t.Context(), oauthtest.Key(t), time.Now().Add(time.Minute), time.Now()); !errors.Is(err, oauth.ErrUnavailable) {
				t.Errorf("UseOnce: got %v, want oauth.ErrUnavailable", err)
			}
			now := time.Now()
			r := oauthtest.PushedRequest(t, now)
			code, grant := codeAndGrant(t, now)
			if err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code, grant); !errors.Is(err, oauth.ErrUnavailable) {
				t.Errorf("IssueCode: got %v, want oauth.ErrUnavailable", err)
			}
			if _, err := s.GetGrant(t.Context(), grant.ID); !errors.Is(err, oauth.ErrUnavailable) {
				t.Errorf("GetGrant: got %v, want oauth.ErrUnavailable", err)
			}
			if err := s.RevokeGrant(t.Context(), grant.ID, now); !errors.Is(err, oauth.ErrUnavailable) {
				t.Errorf("RevokeGrant: got %v, want oauth.ErrUnavailable", err)
			}
			rt := oauthtest.RefreshToken(t, now, grant.ID)
			if err := s.CreateRefreshToken(t.Context(), rt); !errors.Is(err, oauth.ErrUnavailable) {
				t.Errorf("CreateRefreshToken: got %v, want oauth.ErrUnavailable", err)
			}
			if _, err := s.GetRefreshToken(t.Context(), rt.Key); !errors.Is(err, oauth.ErrUnavailable) {
				t.Errorf("GetRefreshToken: got %v, want oauth.ErrUnavailable", err)
			}
			next := oauthtest.RefreshToken(t, now, grant.ID)
			if err := s.RotateRefreshToken(t.Context(), rt.Key, rt.ClientID, now, next); !errors.Is(err, oauth.ErrUnavailable) {
				t.Errorf("RotateRefreshToken: got %v, want oauth.ErrUnavailable", err)
			}
		})
	}
}

func TestErrors_MistakesAreNotUnavailable(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"Validation", dynamoError("ValidationException")},
		{"MissingTable", dynamoError("ResourceNotFoundException")},
		{"AccessDenied", `{"__type":"com.amazon.coral.service#AccessDeniedException","message":"injected"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := fakeDynamo(t, 400, tc.body)
			_, err := s.GetClient(t.Context(), oauthtest.ClientID)
			if err == nil || errors.Is(err, oauth.ErrUnavailable) || errors.Is(err, oauth.ErrNotFound) {
				t.Errorf("GetClient: got %v, want an error that is neither unavailable nor not found", err)
			}
		})
	}
}

func TestErrors_UnreachableEndpointIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	s := dynamo.New(fastClient("http://"+addr), "table")
	if _, err := s.GetUser(t.Context(), "janedoe"); !errors.Is(err, oauth.ErrUnavailable) {
		t.Errorf("GetUser: got %v, want oauth.ErrUnavailable", err)
	}
}

func TestErrors_DeadlineExceededIsUnavailable(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block }))
	t.Cleanup(func() { close(block); srv.Close() })
	s := dynamo.New(fastClient(srv.URL), "table")
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.GetPushedRequest(ctx, oauthtest.Key(t)); !errors.Is(err, oauth.ErrUnavailable) {
		t.Errorf("GetPushedRequest: got %v, want oauth.ErrUnavailable", err)
	}
}

func canceled(reasons ...string) string {
	var list []string
	for _, r := range reasons {
		list = append(list, `{"Code":"`+r+`"}`)
	}
	return `{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException",` +
		`"message":"Transaction cancelled","CancellationReasons":[` + strings.Join(list, ",") + `]}`
}

func TestIssueCode_CancellationReasons(t *testing.T) {
	for _, tc := range []struct {
		name      string
		reasons   []string
		want      error
		wantCalls int32
	}{
		{"PushedRequestConditionFailed", []string{"ConditionalCheckFailed", "None", "None"}, oauth.ErrNotFound, 1},
		{"AllConditionsFailed", []string{"ConditionalCheckFailed", "ConditionalCheckFailed", "ConditionalCheckFailed"}, oauth.ErrNotFound, 1},
		{"CodeKeyTaken", []string{"None", "ConditionalCheckFailed", "None"}, oauth.ErrConflict, 1},
		{"GrantIDTaken", []string{"None", "None", "ConditionalCheckFailed"}, oauth.ErrConflict, 1},
		{"Throttled", []string{"ThrottlingError", "None", "None"}, oauth.ErrUnavailable, 1},
		{"ThroughputExceeded", []string{"None", "ProvisionedThroughputExceeded", "None"}, oauth.ErrUnavailable, 1},
		// Another transaction holds the request: retried, then reported as a
		// transient failure rather than a verdict on the request.
		{"ConflictsPersist", []string{"TransactionConflict", "None", "None"}, oauth.ErrUnavailable, 4},
		// A condition failure is the verdict even when another item conflicted.
		{"ConflictAndConditionFailed", []string{"ConditionalCheckFailed", "None", "TransactionConflict"}, oauth.ErrNotFound, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, calls := fakeDynamo(t, 400, canceled(tc.reasons...))
			now := time.Now()
			r := oauthtest.PushedRequest(t, now)
			code, grant := codeAndGrant(t, now)
			err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code, grant)
			if !errors.Is(err, tc.want) {
				t.Errorf("IssueCode: got %v, want %v", err, tc.want)
			}
			if got := calls.Load(); got != tc.wantCalls {
				t.Errorf("TransactWriteItems called %d times, want %d", got, tc.wantCalls)
			}
		})
	}
}

func TestIssueCode_RetriesATransactionConflict(t *testing.T) {
	var calls atomic.Int32
	tokens := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if i := strings.Index(string(body), `"ClientRequestToken":"`); i >= 0 {
			tokens <- string(body[i : i+60])
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		if calls.Add(1) == 1 {
			w.WriteHeader(400)
			_, _ = io.WriteString(w, canceled("TransactionConflict", "None", "None"))
			return
		}
		_, _ = io.WriteString(w, `{}`)
	}))
	t.Cleanup(srv.Close)
	s := dynamo.New(fastClient(srv.URL), "table")
	now := time.Now()
	r := oauthtest.PushedRequest(t, now)
	code, grant := codeAndGrant(t, now)
	if err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code, grant); err != nil {
		t.Fatalf("IssueCode after one conflict: %v", err)
	}
	if got := calls.Load(); got != 2 {
		t.Errorf("TransactWriteItems called %d times, want 2", got)
	}
	if first, second := <-tokens, <-tokens; first == second {
		t.Errorf("the retry reused the idempotency token %s", first)
	}
}

// codeAndGrant returns a code and its grant.
func codeAndGrant(tb testing.TB, now time.Time) (*oauth.AuthorizationCode, *oauth.Grant) {
	tb.Helper()
	code := oauthtest.Code(tb, now)
	grant := oauthtest.Grant(tb, now)
	grant.ID = code.GrantID
	return code, grant
}
