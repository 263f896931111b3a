package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// StoreCallTimeout bounds the store calls of one request, the SDK's retries
// included: NewHandler gives each request one deadline this far from its start
// (httpapi.Options.RequestDeadline) and every store call of the request runs under
// it, so a store that stops answering fails the request with
// temporarily_unavailable well inside the edge's 8 s request bound and the
// functions' 10 s Lambda timeout (template.yaml), instead of the Lambda being killed
// with a 502 and no answer. One deadline per request, not one timer per store call:
// the request's calls share it.
const StoreCallTimeout = 2 * time.Second

// WithDeadlines returns store with every call bounded by d: a call whose context
// already ends within d (the request's one deadline, httpapi.Options.RequestDeadline)
// runs under that context, arming no timer of its own; any other call runs under a
// context that ends after d. A call that fails
// because that deadline passed returns an error wrapping oauth.ErrUnavailable, so
// the edge answers 503 temporarily_unavailable with Retry-After (docs/design.md decision
// 10), whatever the store made of the timeout. The stores enforce their invariants
// with conditional writes, so a call cut short either wrote everything or nothing;
// a lost answer to a write is one of the faults pkg/oauth/oauthtest.Faulty injects.
//
// A store that keeps account links (oauth.AccountLinks, brokered login) comes back
// as one too, its link calls bounded the same way.
func WithDeadlines(store oauth.Store, d time.Duration) oauth.Store {
	ds := &deadlineStore{inner: store, d: d}
	if links, ok := store.(oauth.AccountLinks); ok {
		return &deadlineLinkStore{deadlineStore: ds, links: links}
	}
	return ds
}

type deadlineStore struct {
	inner oauth.Store
	d     time.Duration
}

// bounded runs f under the deadline. An error that the deadline caused becomes
// oauth.ErrUnavailable; a definite answer (not found, conflict, used) stays what it
// is even if it came as the deadline passed.
func bounded[T any](s *deadlineStore, ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	if dl, ok := ctx.Deadline(); !ok || dl.After(time.Now().Add(s.d)) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.d)
		defer cancel()
	}
	v, err := f(ctx)
	if err == nil || errors.Is(err, oauth.ErrUnavailable) {
		return v, err
	}
	definite := errors.Is(err, oauth.ErrNotFound) || errors.Is(err, oauth.ErrConflict) || errors.Is(err, oauth.ErrUsed)
	if errors.Is(err, context.DeadlineExceeded) || (!definite && errors.Is(ctx.Err(), context.DeadlineExceeded)) {
		err = fmt.Errorf("%w: store call exceeded its deadline (at most %v): %w", oauth.ErrUnavailable, s.d, err)
	}
	return v, err
}

func bounded0(s *deadlineStore, ctx context.Context, f func(context.Context) error) error {
	_, err := bounded(s, ctx, func(ctx context.Context) (struct{}, error) { return struct{}{}, f(ctx) })
	return err
}

func (s *deadlineStore) GetClient(ctx context.Context, id string) (*oauth.Client, error) {
	return bounded(s, ctx, func(ctx context.Context) (*oauth.Client, error) { return s.inner.GetClient(ctx, id) })
}

func (s *deadlineStore) GetUser(ctx context.Context, username string) (*oauth.User, error) {
	return bounded(s, ctx, func(ctx context.Context) (*oauth.User, error) { return s.inner.GetUser(ctx, username) })
}

func (s *deadlineStore) CreatePushedRequest(ctx context.Context, r *oauth.PushedRequest) error {
	return bounded0(s, ctx, func(ctx context.Context) error { return s.inner.CreatePushedRequest(ctx, r) })
}

func (s *deadlineStore) GetPushedRequest(ctx context.Context, key string) (*oauth.PushedRequest, error) {
	return bounded(s, ctx, func(ctx context.Context) (*oauth.PushedRequest, error) { return s.inner.GetPushedRequest(ctx, key) })
}

func (s *deadlineStore) IssueCode(ctx context.Context, consume oauth.Consume, code *oauth.AuthorizationCode, grant *oauth.Grant) error {
	return bounded0(s, ctx, func(ctx context.Context) error { return s.inner.IssueCode(ctx, consume, code, grant) })
}

func (s *deadlineStore) ConsumeCode(ctx context.Context, key, clientID string, now time.Time) (*oauth.AuthorizationCode, error) {
	return bounded(s, ctx, func(ctx context.Context) (*oauth.AuthorizationCode, error) {
		return s.inner.ConsumeCode(ctx, key, clientID, now)
	})
}

func (s *deadlineStore) GetGrant(ctx context.Context, id string) (*oauth.Grant, error) {
	return bounded(s, ctx, func(ctx context.Context) (*oauth.Grant, error) { return s.inner.GetGrant(ctx, id) })
}

func (s *deadlineStore) RevokeGrant(ctx context.Context, id string, now time.Time) error {
	return bounded0(s, ctx, func(ctx context.Context) error { return s.inner.RevokeGrant(ctx, id, now) })
}

func (s *deadlineStore) RecordRevocation(ctx context.Context, id, clientID string, expiresAt, now time.Time) error {
	return bounded0(s, ctx, func(ctx context.Context) error { return s.inner.RecordRevocation(ctx, id, clientID, expiresAt, now) })
}

func (s *deadlineStore) CreateRefreshToken(ctx context.Context, rt *oauth.RefreshToken) error {
	return bounded0(s, ctx, func(ctx context.Context) error { return s.inner.CreateRefreshToken(ctx, rt) })
}

func (s *deadlineStore) GetRefreshToken(ctx context.Context, key string) (*oauth.RefreshToken, error) {
	return bounded(s, ctx, func(ctx context.Context) (*oauth.RefreshToken, error) { return s.inner.GetRefreshToken(ctx, key) })
}

func (s *deadlineStore) RotateRefreshToken(ctx context.Context, key, clientID string, now time.Time, next *oauth.RefreshToken) error {
	return bounded0(s, ctx, func(ctx context.Context) error { return s.inner.RotateRefreshToken(ctx, key, clientID, now, next) })
}

func (s *deadlineStore) UseOnce(ctx context.Context, key string, expiresAt, now time.Time) error {
	return bounded0(s, ctx, func(ctx context.Context) error { return s.inner.UseOnce(ctx, key, expiresAt, now) })
}

func (s *deadlineStore) CreateSession(ctx context.Context, sess *oauth.Session) error {
	return bounded0(s, ctx, func(ctx context.Context) error { return s.inner.CreateSession(ctx, sess) })
}

func (s *deadlineStore) GetSession(ctx context.Context, key string) (*oauth.Session, error) {
	return bounded(s, ctx, func(ctx context.Context) (*oauth.Session, error) { return s.inner.GetSession(ctx, key) })
}

func (s *deadlineStore) TouchSession(ctx context.Context, key, clientID string, now, idle time.Time) error {
	return bounded0(s, ctx, func(ctx context.Context) error { return s.inner.TouchSession(ctx, key, clientID, now, idle) })
}

func (s *deadlineStore) EndSession(ctx context.Context, key string) (*oauth.Session, error) {
	return bounded(s, ctx, func(ctx context.Context) (*oauth.Session, error) { return s.inner.EndSession(ctx, key) })
}

func (s *deadlineStore) RememberConsent(ctx context.Context, c *oauth.Consent) error {
	return bounded0(s, ctx, func(ctx context.Context) error { return s.inner.RememberConsent(ctx, c) })
}

func (s *deadlineStore) GetConsent(ctx context.Context, key string) (*oauth.Consent, error) {
	return bounded(s, ctx, func(ctx context.Context) (*oauth.Consent, error) { return s.inner.GetConsent(ctx, key) })
}

func (s *deadlineStore) ForgetConsent(ctx context.Context, key string) error {
	return bounded0(s, ctx, func(ctx context.Context) error { return s.inner.ForgetConsent(ctx, key) })
}

// ListGrantsBySubject is the inner store's (oauth.GrantsBySubject), bounded like
// every call: RP-Initiated Logout finds a session's grants with it (docs/design.md
// decision 33).
func (s *deadlineStore) ListGrantsBySubject(ctx context.Context, sub string) ([]*oauth.Grant, error) {
	g, ok := s.inner.(oauth.GrantsBySubject)
	if !ok {
		return nil, errors.New("the store cannot list grants by subject")
	}
	return bounded(s, ctx, func(ctx context.Context) ([]*oauth.Grant, error) { return g.ListGrantsBySubject(ctx, sub) })
}
