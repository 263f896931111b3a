package dynamo_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/dynamo"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

// routedDynamo answers each operation (the X-Amz-Target suffix) with its own status
// and body, 500 for any other, and counts the calls per operation.
func routedDynamo(t *testing.T, answers map[string]func() (int, string)) (*dynamo.Store, map[string]*atomic.Int32) {
	t.Helper()
	calls := make(map[string]*atomic.Int32)
	for op := range answers {
		calls[op] = new(atomic.Int32)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		op := r.Header.Get("X-Amz-Target")
		op = op[strings.LastIndex(op, ".")+1:]
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		answer, ok := answers[op]
		if !ok {
			t.Errorf("unexpected %s", op)
			w.WriteHeader(500)
			return
		}
		calls[op].Add(1)
		status, body := answer()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return dynamo.New(fastClient(srv.URL), "table"), calls
}

// reasonsJSON is a TransactionCanceledException whose reasons are given as JSON.
func reasonsJSON(reasons ...string) string {
	return `{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException",` +
		`"message":"Transaction cancelled","CancellationReasons":[` + strings.Join(reasons, ",") + `]}`
}

// storedRT is the DynamoDB JSON of a refresh token item bound to oauthtest.ClientID,
// used at usedAt (epoch ms) unless it is 0.
func storedRT(key string, usedAt int64) string {
	item := map[string]map[string]string{
		"pk":         {"S": "rt#" + key},
		"grant_id":   {"S": "g1"},
		"client_id":  {"S": oauthtest.ClientID},
		"issued_at":  {"N": "1000"},
		"expires_at": {"N": "2000"},
		"ttl":        {"N": "3602"},
	}
	if usedAt != 0 {
		item["used_at"] = map[string]string{"N": strconv.FormatInt(usedAt, 10)}
	}
	b, _ := json.Marshal(item)
	return string(b)
}

func TestRotateRefreshToken_CancellationReasons(t *testing.T) {
	const none, failed = `{"Code":"None"}`, `{"Code":"ConditionalCheckFailed"}`
	key := oauthtest.Key(t)
	withItem := func(item string) string { return `{"Code":"ConditionalCheckFailed","Item":` + item + `}` }
	for _, tc := range []struct {
		name    string
		reasons []string
		getItem string // the GetItem answer, if the store should ask
		want    error
		wantTx  int32
	}{
		{"ReusedTokenReturnedWithTheCancellation", []string{withItem(storedRT(key, 1500)), none, none}, "", oauth.ErrUsed, 1},
		// The token's condition wins over the grant's: reuse is reported even when
		// the grant is revoked, so the caller revokes (again) and logs the reuse.
		{"ReusedTokenOfARevokedGrant", []string{withItem(storedRT(key, 1500)), failed, none}, "", oauth.ErrUsed, 1},
		{"UnusedTokenRefused", []string{withItem(storedRT(key, 0)), none, none}, "", oauth.ErrNotFound, 1},
		// A stand-in that does not return the item: a consistent read decides.
		{"NoItemReturnedAndTheTokenIsUsed", []string{failed, none, none}, `{"Item":` + storedRT(key, 1500) + `}`, oauth.ErrUsed, 1},
		{"NoItemReturnedAndNoToken", []string{failed, none, none}, `{}`, oauth.ErrNotFound, 1},
		{"GrantRefused", []string{none, failed, none}, "", oauth.ErrNotFound, 1},
		{"NextKeyTaken", []string{none, none, failed}, "", oauth.ErrConflict, 1},
		{"ConflictsPersist", []string{`{"Code":"TransactionConflict"}`, none, none}, "", oauth.ErrUnavailable, 4},
		{"Throttled", []string{none, `{"Code":"ThrottlingError"}`, none}, "", oauth.ErrUnavailable, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			answers := map[string]func() (int, string){
				"TransactWriteItems": func() (int, string) { return 400, reasonsJSON(tc.reasons...) },
			}
			if tc.getItem != "" {
				answers["GetItem"] = func() (int, string) { return 200, tc.getItem }
			}
			s, calls := routedDynamo(t, answers)
			now := time.Now()
			err := s.RotateRefreshToken(t.Context(), key, oauthtest.ClientID, now, oauthtest.RefreshToken(t, now, "g1"))
			if !errors.Is(err, tc.want) {
				t.Fatalf("RotateRefreshToken: got %v, want %v", err, tc.want)
			}
			if got := calls["TransactWriteItems"].Load(); got != tc.wantTx {
				t.Errorf("TransactWriteItems called %d times, want %d", got, tc.wantTx)
			}
			if tc.getItem != "" && calls["GetItem"].Load() != 1 {
				t.Errorf("GetItem called %d times, want 1", calls["GetItem"].Load())
			}
		})
	}
}

func TestCreateRefreshToken_CancellationReasons(t *testing.T) {
	for _, tc := range []struct {
		name    string
		reasons []string
		want    error
	}{
		{"GrantMissingOrRevoked", []string{"ConditionalCheckFailed", "None"}, oauth.ErrNotFound},
		{"BothConditionsFailed", []string{"ConditionalCheckFailed", "ConditionalCheckFailed"}, oauth.ErrNotFound},
		{"KeyTaken", []string{"None", "ConditionalCheckFailed"}, oauth.ErrConflict},
		{"ConflictsPersist", []string{"TransactionConflict", "None"}, oauth.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := fakeDynamo(t, 400, canceled(tc.reasons...))
			err := s.CreateRefreshToken(t.Context(), oauthtest.RefreshToken(t, time.Now(), oauthtest.Key(t)))
			if !errors.Is(err, tc.want) {
				t.Errorf("CreateRefreshToken: got %v, want %v", err, tc.want)
			}
		})
	}
}

// A cancellation whose reasons name none of the items is an error, never success.
func TestTransactions_UnexpectedReasonsAreErrors(t *testing.T) {
	now := time.Now()
	s, _ := fakeDynamo(t, 400, canceled("None", "None", "None", "ConditionalCheckFailed"))
	code, grant := codeAndGrant(t, now)
	r := oauthtest.PushedRequest(t, now)
	err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code, grant)
	if err == nil || errors.Is(err, oauth.ErrNotFound) || errors.Is(err, oauth.ErrConflict) {
		t.Errorf("IssueCode with a reason for a fourth item: got %v, want an unexpected error", err)
	}
}

// A rotation is one call, the TransactWriteItems; the old token is
// not read back after it commits.
func TestRotateRefreshToken_IsOneCall(t *testing.T) {
	key := oauthtest.Key(t)
	s, calls := routedDynamo(t, map[string]func() (int, string){
		"TransactWriteItems": func() (int, string) { return 200, `{}` },
	})
	now := time.Now()
	if err := s.RotateRefreshToken(t.Context(), key, oauthtest.ClientID, now, oauthtest.RefreshToken(t, now, "g1")); err != nil {
		t.Fatalf("RotateRefreshToken: %v", err)
	}
	if got := calls["TransactWriteItems"].Load(); got != 1 {
		t.Errorf("TransactWriteItems called %d times, want 1", got)
	}
}
