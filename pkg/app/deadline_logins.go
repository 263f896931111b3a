package app

import (
	"context"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

func (s *deadlineStore) AddLoginFailure(ctx context.Context, key string, now time.Time, window time.Duration, expiresAt time.Time) (oauth.LoginCounter, error) {
	return bounded(s, ctx, func(ctx context.Context) (oauth.LoginCounter, error) {
		return s.inner.AddLoginFailure(ctx, key, now, window, expiresAt)
	})
}

func (s *deadlineStore) GetLoginFailures(ctx context.Context, keys ...string) ([]oauth.LoginCounter, error) {
	return bounded(s, ctx, func(ctx context.Context) ([]oauth.LoginCounter, error) { return s.inner.GetLoginFailures(ctx, keys...) })
}

func (s *deadlineStore) ResetLoginFailures(ctx context.Context, key string) error {
	return bounded0(s, ctx, func(ctx context.Context) error { return s.inner.ResetLoginFailures(ctx, key) })
}
