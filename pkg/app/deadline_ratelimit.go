package app

import (
	"context"
	"time"
)

func (s *deadlineStore) CountRequest(ctx context.Context, key string, now, expiresAt time.Time) (int, error) {
	return bounded(s, ctx, func(ctx context.Context) (int, error) { return s.inner.CountRequest(ctx, key, now, expiresAt) })
}
