package app

import (
	"context"

	"github.com/pargate/pargate/pkg/oauth"
)

func (s *deadlineStore) DenyPushedRequest(ctx context.Context, consume oauth.Consume) error {
	return bounded0(s, ctx, func(ctx context.Context) error { return s.inner.DenyPushedRequest(ctx, consume) })
}
