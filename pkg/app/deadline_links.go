package app

import (
	"context"

	"github.com/pargate/pargate/pkg/oauth"
)

// deadlineLinkStore is a deadlineStore whose store also keeps account links
// (brokered login, issue 13).
type deadlineLinkStore struct {
	*deadlineStore
	links oauth.AccountLinks
}

var _ oauth.AccountLinks = (*deadlineLinkStore)(nil)

func (s *deadlineLinkStore) GetAccountLink(ctx context.Context, key string) (*oauth.AccountLink, error) {
	return bounded(s.deadlineStore, ctx, func(ctx context.Context) (*oauth.AccountLink, error) { return s.links.GetAccountLink(ctx, key) })
}

func (s *deadlineLinkStore) CreateLinkedUser(ctx context.Context, link *oauth.AccountLink, user *oauth.User) error {
	return bounded0(s.deadlineStore, ctx, func(ctx context.Context) error { return s.links.CreateLinkedUser(ctx, link, user) })
}

func (s *deadlineLinkStore) LinkUser(ctx context.Context, link *oauth.AccountLink, check oauth.UserCheck) error {
	return bounded0(s.deadlineStore, ctx, func(ctx context.Context) error { return s.links.LinkUser(ctx, link, check) })
}

func (s *deadlineLinkStore) SetUserClaims(ctx context.Context, check oauth.UserCheck, claims map[string]any) error {
	return bounded0(s.deadlineStore, ctx, func(ctx context.Context) error { return s.links.SetUserClaims(ctx, check, claims) })
}

func (s *deadlineLinkStore) RelinkUser(ctx context.Context, link, stale *oauth.AccountLink, user *oauth.User) error {
	return bounded0(s.deadlineStore, ctx, func(ctx context.Context) error { return s.links.RelinkUser(ctx, link, stale, user) })
}
