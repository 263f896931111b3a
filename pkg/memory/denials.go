package memory

import (
	"context"
	"fmt"

	"github.com/pargate/pargate/pkg/oauth"
)

// DenyPushedRequest marks the pushed request named by consume as consumed, under the
// lock IssueCode takes, so that of concurrent denials and approvals at most one
// succeeds. It returns oauth.ErrNotFound, writing nothing, unless the request exists,
// is not consumed, is bound to consume.ClientID and its Deadline is after consume.Now.
func (s *Store) DenyPushedRequest(ctx context.Context, consume oauth.Consume) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deny pushed request: %w", err)
	}
	now := normTime(consume.Now)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	r, ok := s.consumable(consume.Key, consume.ClientID, now)
	if !ok {
		return fmt.Errorf("deny pushed request: %w", oauth.ErrNotFound)
	}
	consumed := *r
	consumed.ConsumedAt = &now
	s.pushed[consume.Key] = &consumed
	return nil
}
