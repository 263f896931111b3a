package keys_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/oauth"
)

// A request that runs out of time while another loads the keys at a cold start is
// an outage (503 temporarily_unavailable), not a server error.
func TestSigner_WaitingForTheFirstLoadPastTheDeadlineIsUnavailable(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	s := keys.NewSigner(keys.SourceFunc(func(ctx context.Context) (*keys.Set, error) {
		close(started)
		<-release
		return nil, errors.New("never mind")
	}))
	go func() { _, _ = s.Load(context.Background()) }() // the first load, hanging
	<-started
	defer close(release)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := s.Sign(ctx, "JWT", map[string]any{"sub": "x"})
	if !errors.Is(err, oauth.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want an outage (oauth.ErrUnavailable) that wraps the deadline", err)
	}
	if e := oauth.AsError(err); e.Code != oauth.CodeTemporarilyUnavailable {
		t.Errorf("answered %s, want temporarily_unavailable", e.Code)
	}
}
