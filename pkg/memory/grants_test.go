package memory_test

import (
	"testing"

	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

func TestGrantsBySubjectContract(t *testing.T) {
	oauthtest.RunGrantsBySubjectContract(t, func(*testing.T) oauth.Store { return memory.New() })
}
