package memory

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// consentRecords holds the remembered consents (oauth.Consents): a map of its own,
// under a lock of its own. The zero value is ready to use.
type consentRecords struct {
	mu       sync.Mutex
	consents map[string]*oauth.Consent
	swept    time.Time
}

func copyConsent(c *oauth.Consent) *oauth.Consent {
	d := *c
	d.Scopes = cloneSlice(c.Scopes)
	d.Resources = cloneSlice(c.Resources)
	d.GrantedAt = normTime(c.GrantedAt)
	d.ExpiresAt = normTime(c.ExpiresAt)
	return &d
}

// sweepConsents drops consents past ExpiresAt plus the retention, at most once a
// sweepInterval.
func (s *Store) sweepConsents(r *consentRecords) {
	now := s.now()
	if now.Sub(r.swept) < sweepInterval {
		return
	}
	r.swept = now
	for k, v := range r.consents {
		if now.After(v.ExpiresAt.Add(s.retention)) {
			delete(r.consents, k)
		}
	}
}

// RememberConsent stores a copy of c, replacing any consent under its key.
func (s *Store) RememberConsent(ctx context.Context, c *oauth.Consent) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("remember consent: %w", err)
	}
	r := &s.consents
	r.mu.Lock()
	defer r.mu.Unlock()
	s.sweepConsents(r)
	if r.consents == nil {
		r.consents = map[string]*oauth.Consent{}
	}
	r.consents[c.Key] = copyConsent(c)
	return nil
}

// GetConsent returns a copy of the consent, expired or not.
func (s *Store) GetConsent(ctx context.Context, key string) (*oauth.Consent, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get consent: %w", err)
	}
	r := &s.consents
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.consents[key]
	if !ok {
		return nil, fmt.Errorf("get consent: %w", oauth.ErrNotFound)
	}
	return copyConsent(c), nil
}

// ForgetConsent deletes the consent; none is not an error.
func (s *Store) ForgetConsent(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("forget consent: %w", err)
	}
	r := &s.consents
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.consents, key)
	return nil
}
