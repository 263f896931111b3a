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

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// DaysApart is a clock that moves a day forward each time it is read, so that the
// key rotations of a test are days apart, as scheduled rotations are: each successor
// has been published for longer than the minimum (keys.MinPublished) when the next
// rotation promotes it.
func DaysApart() func() time.Time {
	var mu sync.Mutex
	t := time.Now().UTC()
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(24 * time.Hour)
		return t
	}
}
