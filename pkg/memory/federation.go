package memory

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/pargate/pargate/pkg/oauth"
)

var (
	_ oauth.IdentityProviders = (*Store)(nil)
	_ oauth.ProviderRegistry  = (*Store)(nil)
	_ oauth.AccountLinks      = (*Store)(nil)
)

// providerRecords are the upstream identity providers (the seed's
// identity_providers), secrets included: this store lives in one process's memory.
type providerRecords struct {
	mu sync.Mutex
	m  map[string]*oauth.IdentityProvider
}

func copyProvider(p *oauth.IdentityProvider) *oauth.IdentityProvider {
	out := *p
	out.Claims = maps.Clone(p.Claims)
	return &out
}

// PutIdentityProvider creates or replaces the provider with a copy of p.
func (s *Store) PutIdentityProvider(ctx context.Context, p *oauth.IdentityProvider) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put identity provider: %w", err)
	}
	s.providers.mu.Lock()
	defer s.providers.mu.Unlock()
	if s.providers.m == nil {
		s.providers.m = map[string]*oauth.IdentityProvider{}
	}
	s.providers.m[p.ID] = copyProvider(p)
	return nil
}

// GetIdentityProvider returns a copy of the provider, or oauth.ErrNotFound.
func (s *Store) GetIdentityProvider(ctx context.Context, id string) (*oauth.IdentityProvider, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get identity provider: %w", err)
	}
	s.providers.mu.Lock()
	defer s.providers.mu.Unlock()
	p, ok := s.providers.m[id]
	if !ok {
		return nil, fmt.Errorf("get identity provider: %w", oauth.ErrNotFound)
	}
	return copyProvider(p), nil
}

// ListIdentityProviders returns copies of every provider, ordered by ID.
func (s *Store) ListIdentityProviders(ctx context.Context) ([]*oauth.IdentityProvider, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list identity providers: %w", err)
	}
	s.providers.mu.Lock()
	defer s.providers.mu.Unlock()
	out := make([]*oauth.IdentityProvider, 0, len(s.providers.m))
	for _, p := range s.providers.m {
		out = append(out, copyProvider(p))
	}
	slices.SortFunc(out, func(a, b *oauth.IdentityProvider) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func copyLink(l *oauth.AccountLink) *oauth.AccountLink {
	out := *l
	out.CreatedAt = normTime(l.CreatedAt)
	return &out
}

// GetAccountLink returns a copy of the link under key, or oauth.ErrNotFound.
func (s *Store) GetAccountLink(ctx context.Context, key string) (*oauth.AccountLink, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get account link: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[key]
	if !ok {
		return nil, fmt.Errorf("get account link: %w", oauth.ErrNotFound)
	}
	return copyLink(l), nil
}

// CreateLinkedUser stores copies of user and link under one lock hold, or returns
// oauth.ErrConflict, writing nothing, if either exists.
func (s *Store) CreateLinkedUser(ctx context.Context, link *oauth.AccountLink, user *oauth.User) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("create linked user: %w", err)
	}
	if link.Username != user.Username {
		return fmt.Errorf("create linked user: the link names %q, not the user", link.Username)
	}
	u, err := copyUser(user)
	if err != nil {
		return fmt.Errorf("create linked user: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.links[link.Key]; ok {
		return fmt.Errorf("create linked user: link: %w", oauth.ErrConflict)
	}
	if _, ok := s.users[user.Username]; ok {
		return fmt.Errorf("create linked user: user: %w", oauth.ErrConflict)
	}
	if s.links == nil {
		s.links = map[string]*oauth.AccountLink{}
	}
	s.links[link.Key] = copyLink(link)
	s.users[user.Username] = u
	return nil
}

// userFails reports whether the stored user fails check (oauth.UserCheck). Called
// with s.mu held.
func (s *Store) userFails(check oauth.UserCheck) bool {
	u, ok := s.users[check.Username]
	return !ok || u.Disabled || u.Sub != check.Sub || !normTime(u.TokensValidAfter).Equal(normTime(check.TokensValidAfter))
}

// LinkUser stores a copy of link if there is none under its key and the user passes
// check, under one lock hold.
func (s *Store) LinkUser(ctx context.Context, link *oauth.AccountLink, check oauth.UserCheck) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("link user: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.links[link.Key]; ok {
		return fmt.Errorf("link user: %w", oauth.ErrConflict)
	}
	if s.userFails(check) {
		return fmt.Errorf("link user: %w", oauth.ErrUserChanged)
	}
	if s.links == nil {
		s.links = map[string]*oauth.AccountLink{}
	}
	s.links[link.Key] = copyLink(link)
	return nil
}

// SetUserClaims replaces the user's claims if the user passes check.
func (s *Store) SetUserClaims(ctx context.Context, check oauth.UserCheck, claims map[string]any) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("set user claims: %w", err)
	}
	norm, err := oauth.NormalizeClaims(claims)
	if err != nil {
		return fmt.Errorf("set user claims: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.userFails(check) {
		return fmt.Errorf("set user claims: %w", oauth.ErrUserChanged)
	}
	u := *s.users[check.Username]
	u.Claims = norm
	s.users[check.Username] = &u
	return nil
}

// RelinkUser replaces the link, if it still names stale's user, and creates user,
// under one lock hold.
func (s *Store) RelinkUser(ctx context.Context, link, stale *oauth.AccountLink, user *oauth.User) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("relink user: %w", err)
	}
	if link.Username != user.Username || link.Key != stale.Key {
		return fmt.Errorf("relink user: the link names %q under %q, not the user and the stale link", link.Username, link.Key)
	}
	u, err := copyUser(user)
	if err != nil {
		return fmt.Errorf("relink user: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.links[link.Key]
	if !ok || old.Username != stale.Username || old.Subject != stale.Subject {
		return fmt.Errorf("relink user: link: %w", oauth.ErrConflict)
	}
	if _, ok := s.users[user.Username]; ok {
		return fmt.Errorf("relink user: user: %w", oauth.ErrConflict)
	}
	s.links[link.Key] = copyLink(link)
	s.users[user.Username] = u
	return nil
}

// DeleteUser deletes the user, or returns oauth.ErrNotFound if there is none (what
// `pargate user delete` does to the table; the tests of brokered login use it).
func (s *Store) DeleteUser(ctx context.Context, username string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[username]; !ok {
		return fmt.Errorf("delete user: %w", oauth.ErrNotFound)
	}
	delete(s.users, username)
	return nil
}
