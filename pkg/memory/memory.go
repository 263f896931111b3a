// Package memory is an in-memory implementation of oauth.Store and oauth.Registry: the
// store of the local server (`make run`) and of unit tests. It is a real store, not a
// mock: it honours every contract of pkg/oauth/store.go, including the atomic
// consume-and-issue of IssueCode, the reuse detection of ConsumeCode and
// RotateRefreshToken and the replay check of UseOnce, and the shared
// contract suite in pkg/oauth/oauthtest runs against it and against DynamoDB so the
// two cannot drift. Values are copied on the way in and out, times are kept in UTC to
// the millisecond and claims are kept as encoding/json would decode them, exactly as
// the DynamoDB store returns them.
package memory

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

var (
	_ oauth.Store    = (*Store)(nil)
	_ oauth.Registry = (*Store)(nil)
)

const (
	// DefaultRetention is how long pushed requests, codes, grants, refresh tokens and
	// replay records are kept past their deadlines, like the TTL slack of the
	// DynamoDB store: expiry is checked by callers and by the conditional writes, so
	// keeping records a little longer is harmless.
	DefaultRetention = time.Hour
	// sweepInterval spaces the sweeps of expired records, so a sweep (a walk over
	// every record) costs little per write even under a burst of pushes.
	sweepInterval = time.Minute
)

// Store keeps clients, users, pushed requests, codes, grants, refresh tokens and
// replay records in maps behind one mutex. The zero value is not usable; call New.
//
// Stored records are never mutated, only replaced: a record handed to a map is a
// private deep copy, and an update stores a shallow copy with the changed field.
type Store struct {
	now       func() time.Time
	retention time.Duration

	mu        sync.Mutex
	clients   map[string]*oauth.Client
	users     map[string]*oauth.User
	pushed    map[string]*oauth.PushedRequest
	codes     map[string]*oauth.AuthorizationCode
	grants    map[string]*oauth.Grant
	refresh   map[string]*oauth.RefreshToken
	replays   map[string]time.Time // key → expiresAt
	lastSweep time.Time

	logins loginCounters // logins.go, under a lock of its own
	rates  rateCounters  // ratelimit.go, under a lock of its own

	sessions sessionRecords // sessions.go, under a lock of its own
	consents consentRecords // consents.go, under a lock of its own

	// Brokered login (federation.go): providers under a lock of their own; account
	// links under mu, since a first login creates a user with its link atomically.
	providers providerRecords
	links     map[string]*oauth.AccountLink
}

// InProcess marks the store as oauth.InProcess: every call takes a mutex and touches
// maps, none waits on anything else, so the service and the edge give its calls no
// deadline (a timer each that could never fire).
func (s *Store) InProcess() {}

var _ oauth.InProcess = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock that decides when expired records are pruned (time.Now by
// default). It never affects the contract checks, which use the times callers pass.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// WithRetention sets how long pushed requests, codes, grants, refresh tokens and
// replay records are kept past their deadlines before they are pruned
// (DefaultRetention by default).
func WithRetention(d time.Duration) Option {
	return func(s *Store) { s.retention = d }
}

// New returns an empty store.
func New(opts ...Option) *Store {
	s := &Store{
		now:       time.Now,
		retention: DefaultRetention,
		clients:   make(map[string]*oauth.Client),
		users:     make(map[string]*oauth.User),
		pushed:    make(map[string]*oauth.PushedRequest),
		codes:     make(map[string]*oauth.AuthorizationCode),
		grants:    make(map[string]*oauth.Grant),
		refresh:   make(map[string]*oauth.RefreshToken),
		replays:   make(map[string]time.Time),
	}
	for _, opt := range opts {
		opt(s)
	}
	// The first sweep is one interval after creation, not on the first write, so
	// short-lived stores (tests) never lose records to the wall clock.
	s.lastSweep = s.now()
	return s
}

// GetClient returns a copy of the client, or oauth.ErrNotFound.
func (s *Store) GetClient(ctx context.Context, id string) (*oauth.Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get client: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return nil, fmt.Errorf("get client: %w", oauth.ErrNotFound)
	}
	return copyClient(c), nil
}

// PutClient creates or replaces the client with a copy of c.
func (s *Store) PutClient(ctx context.Context, c *oauth.Client) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put client: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[c.ID] = copyClient(c)
	return nil
}

// GetUser returns a copy of the user, or oauth.ErrNotFound.
func (s *Store) GetUser(ctx context.Context, username string) (*oauth.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[username]
	if !ok {
		return nil, fmt.Errorf("get user: %w", oauth.ErrNotFound)
	}
	return copyUser(u)
}

// PutUser creates or replaces the user with a copy of u. It fails if the claims
// cannot be represented as JSON, as they could not be stored in DynamoDB either.
func (s *Store) PutUser(ctx context.Context, u *oauth.User) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put user: %w", err)
	}
	c, err := copyUser(u)
	if err != nil {
		return fmt.Errorf("put user: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.Username] = c
	return nil
}

// CreatePushedRequest stores a copy of r under r.Key, or returns oauth.ErrConflict.
func (s *Store) CreatePushedRequest(ctx context.Context, r *oauth.PushedRequest) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("create pushed request: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	if _, ok := s.pushed[r.Key]; ok {
		return fmt.Errorf("create pushed request: %w", oauth.ErrConflict)
	}
	s.pushed[r.Key] = copyPushedRequest(r)
	return nil
}

// GetPushedRequest returns a copy of the record under key, expired or not, or
// oauth.ErrNotFound. Every read of this store is strongly consistent.
func (s *Store) GetPushedRequest(ctx context.Context, key string) (*oauth.PushedRequest, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get pushed request: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.pushed[key]
	if !ok {
		return nil, fmt.Errorf("get pushed request: %w", oauth.ErrNotFound)
	}
	return copyPushedRequest(r), nil
}

// IssueCode marks the pushed request named by consume as consumed and stores copies
// of code and grant, under one lock hold so that of concurrent calls at most one
// succeeds. It returns oauth.ErrNotFound, writing nothing, unless the request exists,
// is not consumed, is bound to consume.ClientID and its Deadline is after
// consume.Now; oauth.ErrConflict if a code is already stored under code.Key or a
// grant under grant.ID; and oauth.ErrUserChanged if consume.User is set and the user
// fails it.
func (s *Store) IssueCode(ctx context.Context, consume oauth.Consume, code *oauth.AuthorizationCode, grant *oauth.Grant) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("issue code: %w", err)
	}
	if err := oauth.CheckGrantOfCode(code, grant); err != nil {
		return fmt.Errorf("issue code: %w", err)
	}
	c, err := copyCode(code)
	if err != nil {
		return fmt.Errorf("issue code: %w", err)
	}
	g, err := copyGrant(grant)
	if err != nil {
		return fmt.Errorf("issue code: %w", err)
	}
	now := normTime(consume.Now)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	r, ok := s.consumable(consume.Key, consume.ClientID, now)
	if !ok {
		return fmt.Errorf("issue code: consume pushed request: %w", oauth.ErrNotFound)
	}
	if _, ok := s.codes[code.Key]; ok {
		return fmt.Errorf("issue code: %w", oauth.ErrConflict)
	}
	if _, ok := s.grants[grant.ID]; ok {
		return fmt.Errorf("issue code: grant: %w", oauth.ErrConflict)
	}
	if uc := consume.User; uc != nil {
		u, ok := s.users[uc.Username]
		if !ok || u.Disabled || u.Sub != uc.Sub || !normTime(u.TokensValidAfter).Equal(normTime(uc.TokensValidAfter)) {
			return fmt.Errorf("issue code: user: %w", oauth.ErrUserChanged)
		}
	}
	consumed := *r
	consumed.ConsumedAt = &now
	s.pushed[consume.Key] = &consumed
	s.codes[code.Key] = c
	s.grants[grant.ID] = g
	return nil
}

// ConsumeCode marks the code under key as used and returns a copy if it exists, is
// bound to clientID, is unused and its ExpiresAt is after now. If it exists, is bound
// to clientID and was used, it returns a copy of it and an error wrapping
// oauth.ErrUsed; otherwise oauth.ErrNotFound. It changes nothing when it fails.
func (s *Store) ConsumeCode(ctx context.Context, key, clientID string, now time.Time) (*oauth.AuthorizationCode, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("consume code: %w", err)
	}
	now = normTime(now)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[key]
	switch {
	case !ok || c.ClientID != clientID:
		return nil, fmt.Errorf("consume code: %w", oauth.ErrNotFound)
	case c.ConsumedAt != nil:
		out, err := copyCode(c)
		if err != nil {
			return nil, fmt.Errorf("consume code: %w", err)
		}
		return out, fmt.Errorf("consume code: %w", oauth.ErrUsed)
	case !c.ExpiresAt.After(now):
		return nil, fmt.Errorf("consume code: %w", oauth.ErrNotFound)
	}
	consumed := *c
	consumed.ConsumedAt = &now
	s.codes[key] = &consumed
	out, err := copyCode(&consumed)
	if err != nil {
		return nil, fmt.Errorf("consume code: %w", err)
	}
	return out, nil
}

// GetGrant returns a copy of the grant, revoked or expired or not, or
// oauth.ErrNotFound.
func (s *Store) GetGrant(ctx context.Context, id string) (*oauth.Grant, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get grant: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.grants[id]
	if !ok {
		return nil, fmt.Errorf("get grant: %w", oauth.ErrNotFound)
	}
	out, err := copyGrant(g)
	if err != nil {
		return nil, fmt.Errorf("get grant: %w", err)
	}
	return out, nil
}

// RevokeGrant marks the grant revoked at now, keeping the first time if it was
// revoked already, or returns oauth.ErrNotFound.
func (s *Store) RevokeGrant(ctx context.Context, id string, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("revoke grant: %w", err)
	}
	now = normTime(now)
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.grants[id]
	if !ok {
		return fmt.Errorf("revoke grant: %w", oauth.ErrNotFound)
	}
	if g.RevokedAt == nil {
		revoked := *g
		revoked.RevokedAt = &now
		s.grants[id] = &revoked
	}
	return nil
}

// RecordRevocation marks the grant revoked at now, keeping the first time, or stores
// a revoked grant of clientID under id that ends at expiresAt if there is none.
func (s *Store) RecordRevocation(ctx context.Context, id, clientID string, expiresAt, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("record revocation: %w", err)
	}
	now = normTime(now)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	g, ok := s.grants[id]
	switch {
	case !ok:
		s.grants[id] = &oauth.Grant{ID: id, ClientID: clientID, CreatedAt: now, ExpiresAt: normTime(expiresAt), RevokedAt: &now}
	case g.RevokedAt == nil:
		revoked := *g
		revoked.RevokedAt = &now
		s.grants[id] = &revoked
	}
	return nil
}

// CreateRefreshToken stores a copy of rt if its grant exists and is not revoked;
// otherwise it returns oauth.ErrNotFound. oauth.ErrConflict if rt.Key is taken.
func (s *Store) CreateRefreshToken(ctx context.Context, rt *oauth.RefreshToken) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("create refresh token: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	if g, ok := s.grants[rt.GrantID]; !ok || g.RevokedAt != nil {
		return fmt.Errorf("create refresh token: grant: %w", oauth.ErrNotFound)
	}
	if _, ok := s.refresh[rt.Key]; ok {
		return fmt.Errorf("create refresh token: %w", oauth.ErrConflict)
	}
	s.refresh[rt.Key] = copyRefreshToken(rt)
	return nil
}

// GetRefreshToken returns a copy of the token, used or expired or not, or
// oauth.ErrNotFound.
func (s *Store) GetRefreshToken(ctx context.Context, key string) (*oauth.RefreshToken, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get refresh token: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.refresh[key]
	if !ok {
		return nil, fmt.Errorf("get refresh token: %w", oauth.ErrNotFound)
	}
	return copyRefreshToken(rt), nil
}

// RotateRefreshToken marks the token under key as used at now and stores a copy of
// next, under one lock hold. It succeeds only if the
// old token exists, is bound to clientID, is unused, expires after now and belongs to
// next's grant, and that grant exists, is not revoked and expires after now. If the
// old token exists, is bound to clientID and was used, it returns an error wrapping
// oauth.ErrUsed; oauth.ErrConflict if next.Key is taken; otherwise
// oauth.ErrNotFound. It changes nothing when it fails.
func (s *Store) RotateRefreshToken(ctx context.Context, key, clientID string, now time.Time, next *oauth.RefreshToken) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	if next == nil {
		return errors.New("rotate refresh token: no next token")
	}
	if next.Key == key {
		return fmt.Errorf("rotate refresh token: next token under the old key: %w", oauth.ErrConflict)
	}
	now = normTime(now)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	old, ok := s.refresh[key]
	switch {
	case !ok || old.ClientID != clientID:
		return fmt.Errorf("rotate refresh token: %w", oauth.ErrNotFound)
	case old.UsedAt != nil:
		return fmt.Errorf("rotate refresh token: %w", oauth.ErrUsed)
	case !old.ExpiresAt.After(now) || old.GrantID != next.GrantID:
		return fmt.Errorf("rotate refresh token: %w", oauth.ErrNotFound)
	}
	if g, ok := s.grants[old.GrantID]; !ok || g.RevokedAt != nil || !g.ExpiresAt.After(now) {
		return fmt.Errorf("rotate refresh token: grant: %w", oauth.ErrNotFound)
	}
	if _, ok := s.refresh[next.Key]; ok {
		return fmt.Errorf("rotate refresh token: %w", oauth.ErrConflict)
	}
	used := *old
	used.UsedAt = &now
	s.refresh[key] = &used
	s.refresh[next.Key] = copyRefreshToken(next)
	return nil
}

// UseOnce records key until expiresAt, or returns oauth.ErrConflict if it is
// recorded with an expiry after now; an expired record is replaced.
func (s *Store) UseOnce(ctx context.Context, key string, expiresAt, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("use once: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	if prev, ok := s.replays[key]; ok && prev.After(normTime(now)) {
		return fmt.Errorf("use once: %w", oauth.ErrConflict)
	}
	s.replays[key] = normTime(expiresAt)
	return nil
}

// sweep drops pushed requests, codes, grants, refresh tokens and replay records whose
// deadlines passed more than the retention ago, at most once per sweepInterval, so
// that a long-running local server taking a stream of pushes does not grow without
// bound. The caller holds s.mu.
func (s *Store) sweep() {
	now := s.now()
	if now.Sub(s.lastSweep) < sweepInterval {
		return
	}
	s.lastSweep = now
	cutoff := now.Add(-s.retention)
	for k, r := range s.pushed {
		if latest(r.RedeemBy, r.Deadline).Before(cutoff) {
			delete(s.pushed, k)
		}
	}
	for k, c := range s.codes {
		if c.ExpiresAt.Before(cutoff) {
			delete(s.codes, k)
		}
	}
	for k, g := range s.grants {
		if g.ExpiresAt.Before(cutoff) {
			delete(s.grants, k)
		}
	}
	for k, rt := range s.refresh {
		if rt.ExpiresAt.Before(cutoff) {
			delete(s.refresh, k)
		}
	}
	for k, exp := range s.replays {
		if exp.Before(cutoff) {
			delete(s.replays, k)
		}
	}
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// consumable returns the pushed request under key if it may be consumed now (docs/design.md
// decision 4): it exists, is not consumed, is bound to clientID and its deadline is
// after now. IssueCode and DenyPushedRequest both ask it, under s.mu.
func (s *Store) consumable(key, clientID string, now time.Time) (*oauth.PushedRequest, bool) {
	r, ok := s.pushed[key]
	if !ok || r.ConsumedAt != nil || r.ClientID != clientID || !r.Deadline.After(now) {
		return nil, false
	}
	return r, true
}
