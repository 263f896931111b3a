package dynamo_test

import (
	"testing"

	"github.com/pargate/pargate/pkg/dynamo/dynamotest"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

func TestStoreContract(t *testing.T) {
	oauthtest.RunStoreContract(t, func(t *testing.T) (oauth.Store, oauth.Registry) {
		s := dynamotest.NewStore(t)
		return s, s
	})
}

func TestAccountLinksContract(t *testing.T) {
	oauthtest.RunAccountLinksContract(t, func(t *testing.T) oauthtest.LinkStore { return dynamotest.NewStore(t) })
}
