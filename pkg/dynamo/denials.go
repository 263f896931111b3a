package dynamo

import (
	"context"
	"fmt"

	"github.com/pargate/pargate/pkg/oauth"
)

// DenyPushedRequest marks the pushed request as consumed in one conditional
// UpdateItem with the condition IssueCode's consume carries, so that of concurrent
// denials and approvals at most one succeeds. It returns oauth.ErrNotFound, with
// nothing written, unless the request exists, is unconsumed, is bound to
// consume.ClientID and its Deadline is after consume.Now. A retry that finds its own
// write (the write ID in consumed_by) succeeds.
func (s *Store) DenyPushedRequest(ctx context.Context, consume oauth.Consume) error {
	if err := s.consumeRequest(ctx, consume, newWriteID(), ""); err != nil {
		return fmt.Errorf("deny pushed request: %w", err)
	}
	return nil
}
