package memory

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// loginCounters holds the login failure counters: a map of its own, under a lock of
// its own, beside the Store's records. The zero value is ready to use.
type loginCounters struct {
	mu       sync.Mutex
	counters map[string]loginCounter
}

type loginCounter struct {
	oauth.LoginCounter
	expiresAt time.Time
}

func (s *Store) loginCounters() *loginCounters { return &s.logins }

// AddLoginFailure adds one failure to the counter under key, starting it again from
// one when its last failure is at or before now-window, under one lock hold.
func (s *Store) AddLoginFailure(ctx context.Context, key string, now time.Time, window time.Duration, expiresAt time.Time) (oauth.LoginCounter, error) {
	if err := ctx.Err(); err != nil {
		return oauth.LoginCounter{}, fmt.Errorf("add login failure: %w", err)
	}
	now = normTime(now)
	l := s.loginCounters()
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, c := range l.counters { // the table is small: counters live minutes
		if !c.expiresAt.After(now) {
			delete(l.counters, k)
		}
	}
	if l.counters == nil {
		l.counters = map[string]loginCounter{}
	}
	c := l.counters[key]
	if c.Failures == 0 || !c.LastFailure.After(now.Add(-window)) {
		c.LoginCounter = oauth.LoginCounter{}
	}
	c.Failures++
	c.LastFailure = now
	c.expiresAt = latest(c.expiresAt, normTime(expiresAt))
	l.counters[key] = c
	return c.LoginCounter, nil
}

// GetLoginFailures returns the counters under keys, a zero counter where none.
func (s *Store) GetLoginFailures(ctx context.Context, keys ...string) ([]oauth.LoginCounter, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get login failures: %w", err)
	}
	l := s.loginCounters()
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]oauth.LoginCounter, len(keys))
	for i, key := range keys {
		out[i] = l.counters[key].LoginCounter
	}
	return out, nil
}

// ResetLoginFailures deletes the counter under key.
func (s *Store) ResetLoginFailures(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("reset login failures: %w", err)
	}
	l := s.loginCounters()
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.counters, key)
	return nil
}
