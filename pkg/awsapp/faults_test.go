package awsapp_test

// The functions' AWS clients under faults: the handler awsapp.Lambda builds,
// pointed at a DynamoDB that throttles or never answers, retries a bounded number of
// times within a per-call deadline and answers 503 temporarily_unavailable with
// Retry-After, well inside the 10 s Lambda timeout.

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pargate/pargate/pkg/app"
	"github.com/pargate/pargate/pkg/awsapp"
	"github.com/pargate/pargate/pkg/awsapp/awstable"
	"github.com/pargate/pargate/pkg/oauth"
)

// fakeAWS answers every AWS request with answer(n), n counting from 1, and counts them.
func fakeAWS(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, n int32)) (string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		answer(w, r, n.Add(1))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

func throttle(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = io.WriteString(w, `{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}`)
}

// lambdaPAR is the PAR function's handler, as functions/par/main.go builds it, with
// every AWS endpoint at endpoint and no shared configuration or credentials read.
func lambdaPAR(t *testing.T, endpoint string) http.Handler {
	t.Helper()
	h, err := awsapp.Lambda(t.Context(), lambdaEnv(t, endpoint), awstable.Table)
	if err != nil {
		t.Fatal(err)
	}
	return h.PAR()
}

// lambdaEnv is a function's environment with every AWS endpoint at endpoint and no
// shared configuration or credentials read.
func lambdaEnv(t *testing.T, endpoint string) func(string) string {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "",
		"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_PROFILE": "",
		"AWS_MAX_ATTEMPTS": "", "AWS_RETRY_MODE": "", "AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	env := map[string]string{
		"ISSUER": issuer, "TABLE_NAME": "pargate", "KEYS_SECRET_ID": "keys", "COOKIE_SECRET_ID": "cookie",
	}
	return func(k string) string { return env[k] }
}

func postPAR(h http.Handler) *httptest.ResponseRecorder {
	body := url.Values{"response_type": {"code"}, "redirect_uri": {"https://client.example.org/cb"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
	req := httptest.NewRequest(http.MethodPost, "/par", strings.NewReader(body.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-client", "demo-secret-change-me-7Q0a9sV1mXbq3R2kT8wZpL4nYc5dE6fG")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func wantUnavailable(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	var body map[string]string
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != http.StatusServiceUnavailable || body["error"] != oauth.CodeTemporarilyUnavailable {
		t.Fatalf("got %d %s, want 503 temporarily_unavailable", rec.Code, rec.Body)
	}
	if rec.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if strings.Contains(rec.Body.String(), "Throttling") || strings.Contains(rec.Body.String(), "deadline") {
		t.Errorf("the body reveals the cause: %s", rec.Body)
	}
}

func TestLambda_ThrottledDynamoDBIs503AfterBoundedRetries(t *testing.T) {
	endpoint, calls := fakeAWS(t, func(w http.ResponseWriter, _ *http.Request, _ int32) { throttle(w) })
	h := lambdaPAR(t, endpoint)
	start := time.Now()
	rec := postPAR(h)
	elapsed := time.Since(start)
	wantUnavailable(t, rec)
	if n := calls.Load(); n != awsapp.MaxAttempts {
		t.Errorf("DynamoDB was asked %d times, want %d (bounded retries)", n, awsapp.MaxAttempts)
	}
	// Two waits of at most MaxBackoff each, plus the requests themselves.
	if limit := 2*awsapp.MaxBackoff + time.Second; elapsed > limit {
		t.Errorf("took %v, want under %v", elapsed, limit)
	}
}

func TestLambda_HangingDynamoDBIs503AtTheCallDeadline(t *testing.T) {
	release := make(chan struct{})
	endpoint, calls := fakeAWS(t, func(w http.ResponseWriter, r *http.Request, _ int32) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release) // before the server closes (cleanups run after defers)
	h := lambdaPAR(t, endpoint)
	start := time.Now()
	rec := postPAR(h)
	elapsed := time.Since(start)
	wantUnavailable(t, rec)
	if elapsed < app.StoreCallTimeout || elapsed > app.StoreCallTimeout+time.Second {
		t.Errorf("answered after %v, want the store call deadline %v (the Lambda timeout is 10 s)", elapsed, app.StoreCallTimeout)
	}
	if n := calls.Load(); n < 1 || n > awsapp.MaxAttempts {
		t.Errorf("%d attempts", n)
	}
}

func TestStore_RetriesThrottlingThenAnswers(t *testing.T) {
	endpoint, calls := fakeAWS(t, func(w http.ResponseWriter, _ *http.Request, n int32) {
		if n < awsapp.MaxAttempts {
			throttle(w)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = io.WriteString(w, `{}`) // GetItem: no such item
	})
	client := dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		Retryer:     awsapp.Retryer(),
	})
	_, err := awstable.Store(client, "pargate").GetPushedRequest(t.Context(), "k")
	if !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("got %v, want the answer of the last attempt (not found)", err)
	}
	if n := calls.Load(); n != awsapp.MaxAttempts {
		t.Errorf("%d attempts, want %d", n, awsapp.MaxAttempts)
	}
}
