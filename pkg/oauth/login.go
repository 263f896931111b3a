package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// LoginPolicy is the brute-force protection of the built-in login form (NIST SP
// 800-63B §5.2.2: the verifier "SHALL implement a rate-limiting mechanism that
// effectively limits the number of failed authentication attempts that can be made
// on the subscriber's account").
type LoginPolicy struct {
	// MaxFailures failed sign-ins of one username, each within FailureWindow of the
	// one before, lock it (LOGIN_MAX_FAILURES).
	MaxFailures int
	// MaxFailuresPerIP does the same for one client IP, over all usernames
	// (LOGIN_MAX_FAILURES_PER_IP): higher, since many users may share one address.
	MaxFailuresPerIP int
	// FailureWindow is how long failures are remembered after the last one's lockout
	// ended (LOGIN_FAILURE_WINDOW).
	FailureWindow time.Duration
	// LockoutMax caps the lockout, which starts at one second at MaxFailures and
	// doubles with each further failure (LOGIN_LOCKOUT_MAX).
	LockoutMax time.Duration
	// AttemptsPerRequest failed sign-ins end one authorization request: the user must
	// start again from the application (LOGIN_ATTEMPTS_PER_REQUEST).
	AttemptsPerRequest int
}

// DefaultLoginPolicy: 5 failures lock a username, 20 an IP, failures are remembered
// 15 minutes, lockouts grow from 1 s to 15 minutes, and one request allows 3 failed
// attempts.
var DefaultLoginPolicy = LoginPolicy{
	MaxFailures:        5,
	MaxFailuresPerIP:   20,
	FailureWindow:      15 * time.Minute,
	LockoutMax:         15 * time.Minute,
	AttemptsPerRequest: 3,
}

func (p LoginPolicy) orDefaults() LoginPolicy {
	d := DefaultLoginPolicy
	if p.MaxFailures > 0 {
		d.MaxFailures = p.MaxFailures
	}
	if p.MaxFailuresPerIP > 0 {
		d.MaxFailuresPerIP = p.MaxFailuresPerIP
	}
	if p.FailureWindow > 0 {
		d.FailureWindow = p.FailureWindow
	}
	if p.LockoutMax > 0 {
		d.LockoutMax = p.LockoutMax
	}
	if p.AttemptsPerRequest > 0 {
		d.AttemptsPerRequest = p.AttemptsPerRequest
	}
	return d
}

// lockout is how long after its last failure a counter with failures failures is
// locked: nothing below limit, then 1 s doubling per further failure, up to most.
func lockout(failures, limit int, most time.Duration) time.Duration {
	if failures < limit {
		return 0
	}
	n := failures - limit
	if n >= 30 {
		return most
	}
	return min(time.Second<<n, most)
}

// LoginAttempt is one submission of the login form.
type LoginAttempt struct {
	Username, Password string
	// ClientIP is the address the request came from as the platform saw it (API
	// Gateway's requestContext.http.sourceIp; locally the peer address), never a
	// client-supplied header. Empty: not counted per IP.
	ClientIP string
	// RequestKey is the pushed request's storage key the form belongs to.
	RequestKey string
}

// LoginLockedError refuses a sign-in without checking the password: the username or
// the client IP had too many recent failures. It says the same whether the username
// exists or not.
type LoginLockedError struct {
	// RetryAfter is how long until a sign-in may be tried again (whole seconds, ≥ 1).
	RetryAfter time.Duration
}

func (e *LoginLockedError) Error() string {
	return fmt.Sprintf("too many failed sign-in attempts; retry after %v", e.RetryAfter)
}

// ErrTooManyAttempts: this authorization request had its share of failed sign-ins
// and must be started again from the application.
var ErrTooManyAttempts = errors.New("too many failed sign-in attempts for this request")

// UsernameHash is the pseudonym of a username in the logs: a truncated SHA-256 under a
// label of its own, so that log lines about one username can be found (hash the name
// you look for) without the logs carrying usernames.
func UsernameHash(username string) string {
	sum := sha256.Sum256([]byte("pargate login username\x00" + username))
	return hex.EncodeToString(sum[:8])
}

// Counter keys: one key space per kind, hashed, so no username or address is stored.
func loginKeyUser(username string) string { return HashKey("user\x00" + username) }
func loginKeyIP(ip string) string         { return HashKey("ip\x00" + ip) }
func loginKeyRequest(key string) string   { return HashKey("request\x00" + key) }

// SignIn checks a login form submission under the brute-force protection (NIST SP
// 800-63B §5.2.2) and returns the user. It returns ErrTooManyAttempts when the request
// had AttemptsPerRequest failures, a *LoginLockedError when the username or the
// client IP is locked — both without checking the password, and with the same store
// reads whether the user exists or not, so the answer and its timing tell nothing
// about existence — and ErrBadCredentials for a wrong username or password, which is
// counted against the username, the IP and the request. A success resets the
// username's counter (not the IP's, which one good account must not clear).
// A counter the store cannot read or write fails the sign-in (closed).
func (s *Service) SignIn(ctx context.Context, a LoginAttempt) (*User, error) {
	p := s.cfg.Login.orDefaults()
	now := s.now()
	userKey, reqKey := loginKeyUser(a.Username), loginKeyRequest(a.RequestKey)
	type counted struct {
		key string
		max int
	}
	keys := []counted{{reqKey, p.AttemptsPerRequest}, {userKey, p.MaxFailures}}
	if a.ClientIP != "" {
		keys = append(keys, counted{loginKeyIP(a.ClientIP), p.MaxFailuresPerIP})
	}
	// A counter is remembered FailureWindow after its last failure's lockout ended, so
	// that sitting out a lockout does not wipe the slate.
	windows := make([]time.Duration, len(keys))
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.key
	}
	counters, err := s.store.GetLoginFailures(ctx, names...)
	if err != nil {
		return nil, AsError(fmt.Errorf("read login failures: %w", err))
	}
	var retry time.Duration
	for i, k := range keys {
		windows[i] = p.FailureWindow
		c := counters[i]
		if i == 0 { // the request: a plain count
			if c.Failures >= k.max && c.LastFailure.After(now.Add(-p.FailureWindow)) {
				return nil, ErrTooManyAttempts
			}
			continue
		}
		lock := lockout(c.Failures, k.max, p.LockoutMax)
		windows[i] += lock
		if c.Failures == 0 || !c.LastFailure.After(now.Add(-windows[i])) {
			windows[i] = p.FailureWindow // none, or forgotten: the next failure starts again
			continue
		}
		if until := c.LastFailure.Add(lock); until.After(now) {
			retry = max(retry, until.Sub(now))
		}
	}
	if retry > 0 {
		// Whole seconds, rounded up, as Retry-After carries them.
		return nil, &LoginLockedError{RetryAfter: (retry + time.Second - 1).Truncate(time.Second)}
	}
	user, err := s.Login(ctx, a.Username, a.Password)
	if errors.Is(err, ErrBadCredentials) {
		expires := now.Add(p.FailureWindow + p.LockoutMax)
		for i, k := range keys {
			if _, err := s.store.AddLoginFailure(ctx, k.key, now, windows[i], expires); err != nil {
				return nil, AsError(fmt.Errorf("count login failure: %w", err))
			}
		}
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	// Nothing to reset when the read found no failures (one write less per login).
	if counters[1].Failures > 0 {
		if err := s.store.ResetLoginFailures(ctx, userKey); err != nil {
			return nil, AsError(fmt.Errorf("reset login failures: %w", err))
		}
	}
	return user, nil
}
