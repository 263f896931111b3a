package oauthtest

import (
	"sync"
	"time"
)

// Clock is a settable clock for the Now of the service, the stores and the server,
// so that expiry is tested without sleeping. It is safe for concurrent use: handlers
// read it while a test advances it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock is a Clock that reads now until it is advanced.
func NewClock(now time.Time) *Clock {
	return &Clock{now: now}
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
