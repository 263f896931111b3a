package oauthtest

import (
	"slices"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// rateContract holds the promises of oauth.RequestCounters (one unconditional ADD
// per request on DynamoDB) and the per-client limit built on them (RFC 9126 §2.3:
// "429 Too Many Requests: If the request was rate-limited"; docs/design.md
// decision 23), which runs on each store with an injected clock.
var rateContract = []contractCase{
	{"RequestCounters/CountFromOnePerKey", testRateCountFromOnePerKey},
	{"RequestCounters/ConcurrentRequestsAllCount", testRateConcurrentRequestsAllCount},
	{"RequestCounters/RFC9126_2_3_LimitPassesNThenRetryAfterUntilTheNextWindow", testRateLimitPassesNThenRetryAfter},
	{"RequestCounters/RFC9126_2_3_LimitIsPerClient", testRateLimitIsPerClient},
}

func countRequest(tb testing.TB, s oauth.Store, key string, now time.Time) int {
	tb.Helper()
	n, err := s.CountRequest(tb.Context(), key, now, now.Add(time.Minute))
	if err != nil {
		tb.Fatalf("CountRequest: %v", err)
	}
	return n
}

func testRateCountFromOnePerKey(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	key, other := Key(t), Key(t)
	for i := 1; i <= 3; i++ {
		assertEqual(t, countRequest(t, s, key, now), i, "count of a key")
	}
	assertEqual(t, countRequest(t, s, other, now), 1, "count of another key")
	assertEqual(t, countRequest(t, s, key, now), 4, "count of the first key again")
}

// Fifty requests of one client at once are fifty requests: each gets its own count.
func testRateConcurrentRequestsAllCount(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	key := Key(t)
	counts := make([]int, concurrency)
	errs := race(func(i int) (err error) {
		counts[i], err = s.CountRequest(t.Context(), key, now, now.Add(time.Minute))
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent CountRequest %d: %v", i, err)
		}
	}
	slices.Sort(counts)
	for i, n := range counts {
		if n != i+1 {
			t.Fatalf("concurrent counts = %v, want 1 to %d once each", counts, concurrency)
		}
	}
	assertEqual(t, countRequest(t, s, key, now), concurrency+1, "count after the concurrent requests")
}

// rateService is a service over s with limit and an injected clock. Its counter
// deadline is long: a loaded moto_server may take more than the production 100 ms,
// and the deadline is the fault tests' business (pkg/httpapi faults_test.go).
func rateService(s oauth.Store, limit oauth.RateLimit, clock *Clock) *oauth.Service {
	return oauth.NewService(oauth.Config{Issuer: "https://as.example.com", ClientRateLimit: limit, Now: clock.Now,
		RateCounterTimeout: 30 * time.Second}, s, nil)
}

// testRateLimitPassesNThenRetryAfter: with 3 requests per 60 s, three requests of a
// window pass, the fourth is limited until the window ends (Retry-After rounded up
// to whole seconds), and the first request of the next window passes.
func testRateLimitPassesNThenRetryAfter(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	start := now.Truncate(time.Minute) // windows start on whole minutes of Unix time
	clock := NewClock(start.Add(10 * time.Second))
	svc := rateService(s, oauth.RateLimit{Requests: 3, Window: time.Minute}, clock)
	client := &oauth.Client{ID: "rate-" + Key(t)}
	for i := range 3 {
		if limited, outage := svc.LimitClient(t.Context(), client, "192.0.2.1"); limited != nil || outage != nil {
			t.Fatalf("request %d of 3: limited %v, outage %v", i+1, limited, outage)
		}
	}
	clock.Set(start.Add(20*time.Second + 300*time.Millisecond))
	limited, outage := svc.LimitClient(t.Context(), client, "192.0.2.1")
	if outage != nil || limited == nil {
		t.Fatalf("request 4 of 3: limited %v, outage %v", limited, outage)
	}
	// 39.7 s until the window ends: Retry-After 40.
	assertEqual(t, limited.RetryAfter, 40*time.Second, "RetryAfter of the fourth request")
	clock.Set(start.Add(59*time.Second + 900*time.Millisecond))
	if limited, _ := svc.LimitClient(t.Context(), client, "192.0.2.1"); limited == nil || limited.RetryAfter != time.Second {
		t.Fatalf("request at the window's last instant: limited %v, want RetryAfter 1s", limited)
	}
	clock.Set(start.Add(time.Minute))
	if limited, outage := svc.LimitClient(t.Context(), client, "192.0.2.1"); limited != nil || outage != nil {
		t.Fatalf("first request of the next window: limited %v, outage %v", limited, outage)
	}
}

// testRateLimitIsPerClient: one client over its limit leaves another's budget whole;
// a client's rate_limit overrides the server's, and "off" counts nothing.
func testRateLimitIsPerClient(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	clock := NewClock(now.Truncate(time.Minute))
	svc := rateService(s, oauth.RateLimit{Requests: 1, Window: time.Minute}, clock)
	noisy, quiet := &oauth.Client{ID: "noisy-" + Key(t)}, &oauth.Client{ID: "quiet-" + Key(t)}
	generous := &oauth.Client{ID: "generous-" + Key(t), RateLimit: "5/60"}
	unlimited := &oauth.Client{ID: "unlimited-" + Key(t), RateLimit: oauth.RateLimitOff}
	for range 3 {
		_, _ = svc.LimitClient(t.Context(), noisy, "192.0.2.1")
	}
	if limited, _ := svc.LimitClient(t.Context(), noisy, "192.0.2.1"); limited == nil {
		t.Errorf("a client over its limit was not limited")
	}
	if limited, outage := svc.LimitClient(t.Context(), quiet, "192.0.2.1"); limited != nil || outage != nil {
		t.Errorf("another client's first request: limited %v, outage %v", limited, outage)
	}
	for i := range 5 {
		if limited, _ := svc.LimitClient(t.Context(), generous, "192.0.2.1"); limited != nil {
			t.Errorf("request %d of a client's own 5/60 limited", i+1)
		}
	}
	if limited, _ := svc.LimitClient(t.Context(), generous, "192.0.2.1"); limited == nil {
		t.Errorf("request 6 of a client's own 5/60 was not limited")
	}
	for range 3 {
		if limited, outage := svc.LimitClient(t.Context(), unlimited, "192.0.2.1"); limited != nil || outage != nil {
			t.Errorf("a client with rate_limit off: limited %v, outage %v", limited, outage)
		}
	}
	// A public client has no credentials: its budget is per source address, so a
	// caller sending its client_id from one address leaves other addresses theirs;
	// a confidential client's budget is one, whatever the address.
	public := &oauth.Client{ID: "public-" + Key(t), TokenEndpointAuthMethod: oauth.AuthNone}
	_, _ = svc.LimitClient(t.Context(), public, "192.0.2.66")
	if limited, _ := svc.LimitClient(t.Context(), public, "192.0.2.66"); limited == nil {
		t.Errorf("a public client over its limit from one address was not limited")
	}
	if limited, outage := svc.LimitClient(t.Context(), public, "198.51.100.7"); limited != nil || outage != nil {
		t.Errorf("a public client from another address: limited %v, outage %v", limited, outage)
	}
	if limited, _ := svc.LimitClient(t.Context(), quiet, "198.51.100.7"); limited == nil {
		t.Errorf("a confidential client over its limit was let through from another address")
	}
}
