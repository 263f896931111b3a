package dynamo_test

import (
	"testing"

	"github.com/pargate/pargate/pkg/dynamo/dynamotest"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

func TestGrantsBySubjectContract(t *testing.T) {
	oauthtest.RunGrantsBySubjectContract(t, func(t *testing.T) oauth.Store { return dynamotest.NewStore(t) })
}
