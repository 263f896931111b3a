package memory_test

import (
	"testing"

	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

func TestStoreContract(t *testing.T) {
	oauthtest.RunStoreContract(t, func(*testing.T) (oauth.Store, oauth.Registry) {
		s := memory.New()
		return s, s
	})
}

func TestAccountLinksContract(t *testing.T) {
	oauthtest.RunAccountLinksContract(t, func(*testing.T) oauthtest.LinkStore { return memory.New() })
}
