package oauthtest

import (
	"context"
	"time"
)

// MethodCountRequest is the method name of oauth.RequestCounters.
const MethodCountRequest = "CountRequest"

// CountRequest logs the counter key.
func (f *Faulty) CountRequest(ctx context.Context, key string, now, expiresAt time.Time) (int, error) {
	var out int
	err := f.do(ctx, Call{Method: MethodCountRequest, Keys: []string{key}}, func() (err error) {
		out, err = f.inner.CountRequest(ctx, key, now, expiresAt)
		return err
	})
	if err != nil {
		return 0, err
	}
	return out, nil
}
