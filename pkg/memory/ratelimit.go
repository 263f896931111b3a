package memory

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// rateCounters holds the per-client request counters (oauth.RequestCounters): a map
// of its own, under a lock of its own, beside the Store's records. The zero value is
// ready to use.
type rateCounters struct {
	mu       sync.Mutex
	counters map[string]rateCounter
	swept    time.Time
}

type rateCounter struct {
	count     int
	expiresAt time.Time
}

// rateSweep is how often CountRequest drops expired counters: a counter lives one
// window, and every client has one per window, so the map is swept as it goes
// rather than on every call.
const rateSweep = time.Minute

// CountRequest adds one to the counter under key, under one lock hold.
func (s *Store) CountRequest(ctx context.Context, key string, now, expiresAt time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("count request: %w", err)
	}
	now = normTime(now)
	r := &s.rates
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.counters == nil {
		r.counters = map[string]rateCounter{}
	}
	if now.Sub(r.swept) >= rateSweep || now.Before(r.swept) {
		for k, c := range r.counters {
			if !c.expiresAt.After(now) {
				delete(r.counters, k)
			}
		}
		r.swept = now
	}
	c := r.counters[key]
	c.count++
	c.expiresAt = latest(c.expiresAt, normTime(expiresAt))
	r.counters[key] = c
	return c.count, nil
}
