package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/pargate/pargate/pkg/oauth"
)

var _ oauth.GrantsBySubject = (*Store)(nil)

// ListGrantsBySubject returns copies of every grant of sub, oldest first.
func (s *Store) ListGrantsBySubject(ctx context.Context, sub string) ([]*oauth.Grant, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []*oauth.Grant{}
	for _, g := range s.grants {
		if g.Subject != sub {
			continue
		}
		c, err := copyGrant(g)
		if err != nil {
			return nil, fmt.Errorf("list grants: %w", err)
		}
		out = append(out, c)
	}
	sortGrants(out)
	return out, nil
}

func sortGrants(gs []*oauth.Grant) {
	slices.SortFunc(gs, func(a, b *oauth.Grant) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
}
