package oauthtest

import (
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// loginContract holds the promises of oauth.LoginFailures: counters that count every
// concurrent failure (a conditional ADD on DynamoDB), restart after the window and
// reset on demand (NIST SP 800-63B §5.2.2).
var loginContract = []contractCase{
	{"LoginFailures/AddCountsAndGetReturnsTheCounter", testLoginAddCountsAndGetReturnsTheCounter},
	{"LoginFailures/UnknownKeyIsAZeroCounter", testLoginUnknownKeyIsAZeroCounter},
	{"LoginFailures/FailureInsideTheWindowCounts", testLoginFailureInsideTheWindowCounts},
	{"LoginFailures/FailureAtOrAfterTheWindowStartsAgain", testLoginFailureAfterTheWindowStartsAgain},
	{"LoginFailures/ResetDeletesOnlyThatCounter", testLoginResetDeletesOnlyThatCounter},
	{"LoginFailures/ConcurrentFailuresAllCount", testLoginConcurrentFailuresAllCount},
	{"LoginFailures/GetReadsSeveralCountersInOrder", testLoginGetReadsSeveralCountersInOrder},
}

const loginWindow = 15 * time.Minute

func addFailure(tb testing.TB, s oauth.Store, key string, at time.Time) oauth.LoginCounter {
	tb.Helper()
	c, err := s.AddLoginFailure(tb.Context(), key, at, loginWindow, at.Add(2*loginWindow))
	if err != nil {
		tb.Fatalf("AddLoginFailure: %v", err)
	}
	return c
}

func getFailures(tb testing.TB, s oauth.Store, key string) oauth.LoginCounter {
	tb.Helper()
	c, err := s.GetLoginFailures(tb.Context(), key)
	if err != nil {
		tb.Fatalf("GetLoginFailures: %v", err)
	}
	if len(c) != 1 {
		tb.Fatalf("GetLoginFailures of one key: %d counters", len(c))
	}
	return c[0]
}

func testLoginAddCountsAndGetReturnsTheCounter(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	key := Key(t)
	for i := 1; i <= 3; i++ {
		at := now.Add(time.Duration(i) * time.Second)
		assertEqual(t, addFailure(t, s, key, at), oauth.LoginCounter{Failures: i, LastFailure: at}, "counter after a failure")
	}
	assertEqual(t, getFailures(t, s, key), oauth.LoginCounter{Failures: 3, LastFailure: now.Add(3 * time.Second)}, "counter read back")
}

func testLoginUnknownKeyIsAZeroCounter(t *testing.T, s oauth.Store, _ oauth.Registry, _ time.Time) {
	assertEqual(t, getFailures(t, s, Key(t)), oauth.LoginCounter{}, "counter of an unknown key")
}

func testLoginFailureInsideTheWindowCounts(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	key := Key(t)
	addFailure(t, s, key, now)
	later := now.Add(loginWindow - time.Millisecond)
	assertEqual(t, addFailure(t, s, key, later), oauth.LoginCounter{Failures: 2, LastFailure: later}, "failure just inside the window")
	// The window runs from the last failure, not the first.
	last := later.Add(loginWindow - time.Millisecond)
	assertEqual(t, addFailure(t, s, key, last), oauth.LoginCounter{Failures: 3, LastFailure: last}, "failure inside the window of the last one")
}

func testLoginFailureAfterTheWindowStartsAgain(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	key := Key(t)
	addFailure(t, s, key, now)
	addFailure(t, s, key, now)
	at := now.Add(loginWindow)
	assertEqual(t, addFailure(t, s, key, at), oauth.LoginCounter{Failures: 1, LastFailure: at}, "failure a window after the last")
	later := at.Add(time.Hour)
	assertEqual(t, addFailure(t, s, key, later), oauth.LoginCounter{Failures: 1, LastFailure: later}, "failure an hour after the last")
}

func testLoginResetDeletesOnlyThatCounter(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	key, other := Key(t), Key(t)
	addFailure(t, s, key, now)
	addFailure(t, s, other, now)
	if err := s.ResetLoginFailures(t.Context(), key); err != nil {
		t.Fatalf("ResetLoginFailures: %v", err)
	}
	assertEqual(t, getFailures(t, s, key), oauth.LoginCounter{}, "counter after a reset")
	assertEqual(t, getFailures(t, s, other), oauth.LoginCounter{Failures: 1, LastFailure: now}, "another counter after a reset")
	if err := s.ResetLoginFailures(t.Context(), Key(t)); err != nil {
		t.Errorf("ResetLoginFailures of an unknown key: %v", err)
	}
	assertEqual(t, addFailure(t, s, key, now), oauth.LoginCounter{Failures: 1, LastFailure: now}, "failure after a reset")
}

// An attacker guessing in parallel gets no free guesses: 50 concurrent failures,
// including the ones that find the counter absent, add 50.
func testLoginConcurrentFailuresAllCount(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	key := Key(t)
	errs := race(func(int) error {
		_, err := s.AddLoginFailure(t.Context(), key, now, loginWindow, now.Add(2*loginWindow))
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent AddLoginFailure %d: %v", i, err)
		}
	}
	assertEqual(t, getFailures(t, s, key), oauth.LoginCounter{Failures: concurrency, LastFailure: now}, "counter after concurrent failures")
}

// testLoginGetReadsSeveralCountersInOrder: a sign-in reads its counters (request,
// user, IP) in one call; each comes back at its key's position, a zero counter for a
// key without one, and a key named twice twice.
func testLoginGetReadsSeveralCountersInOrder(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	a, b, none := Key(t), Key(t), Key(t)
	addFailure(t, s, a, now)
	addFailure(t, s, b, now.Add(time.Second))
	addFailure(t, s, b, now.Add(2*time.Second))
	got, err := s.GetLoginFailures(t.Context(), b, none, a, b)
	if err != nil {
		t.Fatalf("GetLoginFailures: %v", err)
	}
	want := []int{2, 0, 1, 2}
	if len(got) != len(want) {
		t.Fatalf("GetLoginFailures of %d keys: %d counters", len(want), len(got))
	}
	for i, w := range want {
		if got[i].Failures != w {
			t.Errorf("counter %d: %d failures, want %d", i, got[i].Failures, w)
		}
	}
	if !got[0].LastFailure.Equal(now.Add(2*time.Second).Truncate(time.Millisecond)) || !got[1].LastFailure.IsZero() {
		t.Errorf("last failures = %v, %v", got[0].LastFailure, got[1].LastFailure)
	}
}
