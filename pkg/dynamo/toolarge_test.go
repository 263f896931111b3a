package dynamo_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/dynamo/dynamotest"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

// An item over DynamoDB's 400 KB limit is the client's oversized request, not an
// outage or a bug: the store says oauth.ErrTooLarge, which the edge answers with 400.
func TestItemOverTheSizeLimitIsErrTooLarge(t *testing.T) {
	s := dynamotest.NewStore(t)
	r := oauthtest.PushedRequest(t, time.Now().UTC().Truncate(time.Millisecond))
	r.Request.State = strings.Repeat("a", 600<<10)
	err := s.CreatePushedRequest(t.Context(), r)
	if !errors.Is(err, oauth.ErrTooLarge) || errors.Is(err, oauth.ErrUnavailable) {
		t.Fatalf("CreatePushedRequest of a 600 KiB record: %v, want oauth.ErrTooLarge", err)
	}
	if e := oauth.AsError(err); e.Code != oauth.CodeInvalidRequest {
		t.Errorf("AsError: %s, want invalid_request", e.Code)
	}
}
