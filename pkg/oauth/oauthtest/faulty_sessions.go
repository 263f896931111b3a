package oauthtest

import (
	"context"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// Method names of oauth.Sessions.
const (
	MethodCreateSession = "CreateSession"
	MethodGetSession    = "GetSession"
	MethodTouchSession  = "TouchSession"
	MethodEndSession    = "EndSession"
)

// CreateSession logs the session key.
func (f *Faulty) CreateSession(ctx context.Context, s *oauth.Session) error {
	return f.do(ctx, Call{Method: MethodCreateSession, Keys: []string{s.Key}}, func() error {
		return f.inner.CreateSession(ctx, s)
	})
}

// GetSession logs the session key.
func (f *Faulty) GetSession(ctx context.Context, key string) (*oauth.Session, error) {
	var out *oauth.Session
	err := f.do(ctx, Call{Method: MethodGetSession, Keys: []string{key}}, func() (err error) {
		out, err = f.inner.GetSession(ctx, key)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TouchSession logs the session key and the client.
func (f *Faulty) TouchSession(ctx context.Context, key, clientID string, now, idle time.Time) error {
	return f.do(ctx, Call{Method: MethodTouchSession, Keys: []string{key}, ClientID: clientID}, func() error {
		return f.inner.TouchSession(ctx, key, clientID, now, idle)
	})
}

// EndSession logs the session key.
func (f *Faulty) EndSession(ctx context.Context, key string) (*oauth.Session, error) {
	var out *oauth.Session
	err := f.do(ctx, Call{Method: MethodEndSession, Keys: []string{key}}, func() (err error) {
		out, err = f.inner.EndSession(ctx, key)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
