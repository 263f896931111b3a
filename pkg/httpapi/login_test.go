package httpapi_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/dynamo/dynamotest"
	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

// signInOnce pushes a fresh request, opens its login page in a fresh browser and
// submits user and pass.
func (ts *testServer) signInOnce(tb testing.TB, user, pass string) response {
	tb.Helper()
	b := ts.browser(tb)
	return ts.signInAgain(tb, b, b.get(tb, authorizePath(confID, ts.push(tb, confID, confSecret, pushParams()))), user, pass)
}

func (ts *testServer) signInAgain(tb testing.TB, b *browser, login response, user, pass string) response {
	tb.Helper()
	if !strings.Contains(login.Body, `name="password"`) {
		tb.Fatalf("not a login page: %d %s", login.Status, login.Body)
	}
	return b.submit(tb, login, url.Values{"username": {user}, "password": {pass}})
}

func isLocked(r response) bool {
	return r.Status == http.StatusTooManyRequests && r.Header.Get("Retry-After") != "" &&
		strings.Contains(r.Body, "Too many failed sign-in attempts. Try again in") && strings.Contains(r.Body, `name="password"`)
}

// NIST SP 800-63B §5.2.2: the verifier "SHALL implement a rate-limiting mechanism that
// effectively limits the number of failed authentication attempts". 10 wrong
// passwords, then the right one is refused during the lockout, without the password
// being checked, and accepted after it; on both stores, with the injected clock.
func TestConformance_LoginLockoutAfterRepeatedFailures(t *testing.T) {
	for name, store := range map[string]func() oauth.Store{
		"memory":   func() oauth.Store { return seededStore(t, memory.New()) },
		"dynamodb": func() oauth.Store { return seededStore(t, dynamotest.NewStore(t)) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			logs := &syncBuffer{}
			ts := newServer(t, withStore(store()), withLogs(logs))
			for i := range 10 {
				r := ts.signInOnce(t, username, "wrong-"+password)
				switch {
				case i < 5 && (r.Status != http.StatusOK || !strings.Contains(r.Body, "The username or password is incorrect.")):
					t.Fatalf("failure %d: %d %s", i+1, r.Status, r.Body)
				case i >= 5 && !isLocked(r):
					t.Fatalf("attempt %d after 5 failures: %d %v, want the locked login page", i+1, r.Status, r.Header)
				}
			}
			r := ts.signInOnce(t, username, password)
			if !isLocked(r) || r.Header.Get("Retry-After") != "1" {
				t.Fatalf("right password during the lockout: %d Retry-After %q, want locked for 1 s", r.Status, r.Header.Get("Retry-After"))
			}
			ts.clock.Advance(time.Second)
			if r := ts.signInOnce(t, username, password); r.Status != http.StatusSeeOther {
				t.Fatalf("right password after the lockout: %d %s", r.Status, r.Body)
			}
			// The success reset the counter: 4 more failures do not lock.
			for range 4 {
				ts.signInOnce(t, username, "wrong-"+password)
			}
			if r := ts.signInOnce(t, username, password); r.Status != http.StatusSeeOther {
				t.Fatalf("right password after a reset and 4 failures: %d %s", r.Status, r.Body)
			}
			out := logs.String()
			if !strings.Contains(out, `"outcome":"login_locked"`) || !strings.Contains(out, `"user_hash":"`+oauth.UsernameHash(username)+`"`) {
				t.Errorf("no login_locked line with the username's hash in the access log:\n%s", out)
			}
			if strings.Contains(out, username) {
				t.Errorf("the access log names the user:\n%s", out)
			}
		})
	}
}

// The lockout grows exponentially from 1 s, up to LOGIN_LOCKOUT_MAX: each failure
// after a lockout doubles it. Each refusal is counted in the LoginsLocked metric.
func TestConformance_LoginLockoutGrows(t *testing.T) {
	metrics := &syncBuffer{}
	ts := newServer(t, withEnv(map[string]string{"LOGIN_MAX_FAILURES": "2", "LOGIN_LOCKOUT_MAX": "3", "METRICS": "true"}), withMetrics(metrics))
	defer func() {
		if n := strings.Count(metrics.String(), `"LoginsLocked":1`); n != 4 {
			t.Errorf("%d LoginsLocked metrics, want 4:\n%s", n, metrics.String())
		}
	}()
	ts.signInOnce(t, username, "wrong")
	ts.signInOnce(t, username, "wrong") // 2 failures: locked for 1 s
	for _, want := range []string{"1", "2", "3", "3"} {
		r := ts.signInOnce(t, username, "wrong")
		if !isLocked(r) || r.Header.Get("Retry-After") != want {
			t.Fatalf("locked attempt: %d Retry-After %q, want %s", r.Status, r.Header.Get("Retry-After"), want)
		}
		n, _ := time.ParseDuration(want + "s")
		ts.clock.Advance(n)
		if r := ts.signInOnce(t, username, "wrong"); r.Status != http.StatusOK || isLocked(r) {
			t.Fatalf("wrong password after the lockout: %d, want it checked and counted", r.Status)
		}
	}
}

var csrfOrHidden = regexp.MustCompile(`value="[^"]*"`)

// The refusal does not reveal whether the username exists: an unknown username is
// counted and locked the same way, with the same page, status and Retry-After; and a
// refusal makes the same store calls for both and never reads the user, so no
// password is checked (no argon2id: one timing class).
func TestConformance_LoginLockoutSameForUnknownUsers(t *testing.T) {
	faulty := oauthtest.NewFaulty(seededStore(t, memory.New()))
	ts := newServer(t, withStore(faulty))
	const ghost = "no-such-user"
	for range 5 {
		ts.signInOnce(t, username, "wrong")
		ts.signInOnce(t, ghost, "wrong")
	}
	refuse := func(user string) (response, []string) {
		b := ts.browser(t)
		login := b.get(t, authorizePath(confID, ts.push(t, confID, confSecret, pushParams())))
		mark := faulty.Mark()
		r := ts.signInAgain(t, b, login, user, "wrong")
		var methods []string
		for _, c := range faulty.Calls()[mark:] {
			methods = append(methods, c.Method)
		}
		return r, methods
	}
	known, knownCalls := refuse(username)
	unknown, unknownCalls := refuse(ghost)
	if !isLocked(known) || !isLocked(unknown) {
		t.Fatalf("locked pages: known %d, unknown %d", known.Status, unknown.Status)
	}
	if known.Header.Get("Retry-After") != unknown.Header.Get("Retry-After") {
		t.Errorf("Retry-After: known %q, unknown %q", known.Header.Get("Retry-After"), unknown.Header.Get("Retry-After"))
	}
	a := csrfOrHidden.ReplaceAllString(known.Body, "")
	b := csrfOrHidden.ReplaceAllString(unknown.Body, "")
	if a != b {
		t.Errorf("the locked pages differ between a known and an unknown user:\n%s\n----\n%s", a, b)
	}
	if !slices.Equal(knownCalls, unknownCalls) || slices.Contains(knownCalls, oauthtest.MethodGetUser) {
		t.Errorf("store calls of a locked refusal: known %v, unknown %v; want the same, without GetUser", knownCalls, unknownCalls)
	}
}

// A transaction allows LOGIN_ATTEMPTS_PER_REQUEST (3) failed attempts; then even the
// right password is refused there and the user starts again.
func TestConformance_LoginAttemptsPerRequest(t *testing.T) {
	ts := newServer(t)
	b := ts.browser(t)
	login := b.get(t, authorizePath(confID, ts.push(t, confID, confSecret, pushParams())))
	for range 3 {
		login = ts.signInAgain(t, b, login, "other-"+username, "wrong")
	}
	r := ts.signInAgain(t, b, login, username, password)
	if r.Status != http.StatusTooManyRequests || strings.Contains(r.Body, `name="password"`) || !strings.Contains(r.Body, "start again") {
		t.Fatalf("4th attempt in one request: %d %s, want the start-again page", r.Status, r.Body)
	}
	// Another request may sign in: the three failures were of another username.
	if r := ts.signInOnce(t, username, password); r.Status != http.StatusSeeOther {
		t.Fatalf("sign-in in a fresh request: %d", r.Status)
	}
}

// Failures are counted per client IP too (20 by default, over all usernames), from
// the peer address: an X-Forwarded-For header changes nothing.
func TestConformance_LoginLockoutPerClientIP(t *testing.T) {
	ts := newServer(t, withEnv(map[string]string{"LOGIN_MAX_FAILURES_PER_IP": "3"}))
	for i := range 3 {
		ts.signInOnce(t, "user-"+string(rune('a'+i)), "wrong")
	}
	b := ts.browser(t)
	login := b.get(t, authorizePath(confID, ts.push(t, confID, confSecret, pushParams())))
	v := url.Values{}
	for k, vs := range httpapitest.HiddenFields(login.Body) {
		v[k] = vs
	}
	v.Set("username", username)
	v.Set("password", password)
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/authorize", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", form)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	req.Header.Set("Forwarded", "for=203.0.113.9")
	if r := asResponse(t, b.Do(t, req)); !isLocked(r) {
		t.Fatalf("right password from a locked IP with a forged X-Forwarded-For: %d", r.Status)
	}
}
