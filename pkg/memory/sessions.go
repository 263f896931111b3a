package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// sessionRecords holds the single sign-on sessions (oauth.Sessions): a map of its own,
// under a lock of its own, beside the Store's records. The zero value is ready to use.
type sessionRecords struct {
	mu       sync.Mutex
	sessions map[string]*oauth.Session
	swept    time.Time
}

func copySession(s *oauth.Session) *oauth.Session {
	c := *s
	c.AMR = cloneSlice(s.AMR)
	c.Clients = cloneSlice(s.Clients)
	slices.Sort(c.Clients)
	c.Clients = slices.Compact(c.Clients)
	c.AuthTime = normTime(s.AuthTime)
	c.IdleDeadline = normTime(s.IdleDeadline)
	c.ExpiresAt = normTime(s.ExpiresAt)
	return &c
}

// sweep drops sessions past ExpiresAt plus the retention, at most once a sweepInterval.
func (s *Store) sweepSessions(r *sessionRecords) {
	now := s.now()
	if now.Sub(r.swept) < sweepInterval {
		return
	}
	r.swept = now
	for k, v := range r.sessions {
		if now.After(v.ExpiresAt.Add(s.retention)) {
			delete(r.sessions, k)
		}
	}
}

// CreateSession stores a copy of sess; ErrConflict if the key is taken.
func (s *Store) CreateSession(ctx context.Context, sess *oauth.Session) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	r := &s.sessions
	r.mu.Lock()
	defer r.mu.Unlock()
	s.sweepSessions(r)
	if r.sessions == nil {
		r.sessions = map[string]*oauth.Session{}
	}
	if _, taken := r.sessions[sess.Key]; taken {
		return fmt.Errorf("create session: %w", oauth.ErrConflict)
	}
	r.sessions[sess.Key] = copySession(sess)
	return nil
}

// GetSession returns a copy of the session, live or not.
func (s *Store) GetSession(ctx context.Context, key string) (*oauth.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get session: %w", err)
	}
	r := &s.sessions
	r.mu.Lock()
	defer r.mu.Unlock()
	sess, ok := r.sessions[key]
	if !ok {
		return nil, fmt.Errorf("get session: %w", oauth.ErrNotFound)
	}
	return copySession(sess), nil
}

// TouchSession slides and extends a live session under one lock hold; the stored
// record is replaced, never mutated.
func (s *Store) TouchSession(ctx context.Context, key, clientID string, now, idle time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	now, idle = normTime(now), normTime(idle)
	r := &s.sessions
	r.mu.Lock()
	defer r.mu.Unlock()
	sess, ok := r.sessions[key]
	if !ok || !sess.Live(now) {
		return fmt.Errorf("touch session: %w", oauth.ErrNotFound)
	}
	next := copySession(sess)
	next.IdleDeadline = latest(next.IdleDeadline, idle)
	if clientID != "" {
		next.Clients = append(next.Clients, clientID)
		next = copySession(next) // sorted, each once
	}
	r.sessions[key] = next
	return nil
}

// EndSession deletes the session and returns it as it was.
func (s *Store) EndSession(ctx context.Context, key string) (*oauth.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("end session: %w", err)
	}
	r := &s.sessions
	r.mu.Lock()
	defer r.mu.Unlock()
	sess, ok := r.sessions[key]
	if !ok {
		return nil, fmt.Errorf("end session: %w", oauth.ErrNotFound)
	}
	delete(r.sessions, key)
	return copySession(sess), nil
}
