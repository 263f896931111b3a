package oauthtest

import (
	"context"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// Method names of oauth.LoginFailures.
const (
	MethodAddLoginFailure    = "AddLoginFailure"
	MethodGetLoginFailures   = "GetLoginFailures"
	MethodResetLoginFailures = "ResetLoginFailures"
)

// AddLoginFailure logs the counter key.
func (f *Faulty) AddLoginFailure(ctx context.Context, key string, now time.Time, window time.Duration, expiresAt time.Time) (oauth.LoginCounter, error) {
	var out oauth.LoginCounter
	err := f.do(ctx, Call{Method: MethodAddLoginFailure, Keys: []string{key}}, func() (err error) {
		out, err = f.inner.AddLoginFailure(ctx, key, now, window, expiresAt)
		return err
	})
	if err != nil {
		return oauth.LoginCounter{}, err
	}
	return out, nil
}

// GetLoginFailures logs the counter keys.
func (f *Faulty) GetLoginFailures(ctx context.Context, keys ...string) ([]oauth.LoginCounter, error) {
	var out []oauth.LoginCounter
	err := f.do(ctx, Call{Method: MethodGetLoginFailures, Keys: keys}, func() (err error) {
		out, err = f.inner.GetLoginFailures(ctx, keys...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ResetLoginFailures logs the counter key.
func (f *Faulty) ResetLoginFailures(ctx context.Context, key string) error {
	return f.do(ctx, Call{Method: MethodResetLoginFailures, Keys: []string{key}}, func() error {
		return f.inner.ResetLoginFailures(ctx, key)
	})
}
