package oauth

import (
	"context"
	"errors"
	"time"
)

// Clients reads registered clients.
type Clients interface {
	// GetClient returns the client, or ErrNotFound.
	GetClient(ctx context.Context, id string) (*Client, error)
}

// Users reads end users of the built-in login.
type Users interface {
	// GetUser returns the user, or ErrNotFound.
	GetUser(ctx context.Context, username string) (*User, error)
}

// PushedRequests stores pushed authorization requests.
//
// Expiry is the application's business (docs/design.md decision 3): a store may keep and
// return records past their deadlines (DynamoDB TTL deletes up to two days late), so
// callers check RedeemBy and Deadline themselves, and consuming writes check them in
// their conditions.
type PushedRequests interface {
	// CreatePushedRequest stores r under r.Key; ErrConflict if the key exists.
	// The record may be deleted by the store once r.Deadline has passed.
	CreatePushedRequest(ctx context.Context, r *PushedRequest) error
	// GetPushedRequest returns the record under key with a strongly consistent read
	// (a /authorize follows /par within milliseconds), or ErrNotFound.
	GetPushedRequest(ctx context.Context, key string) (*PushedRequest, error)
}

// Consume names the pushed request a code is issued for.
type Consume struct {
	Key      string
	ClientID string
	Now      time.Time
	// User, when set, is the user as the login read it; IssueCode then also checks
	// it in the same atomic step (a condition instead of a re-read).
	// DenyPushedRequest ignores it.
	User *UserCheck
}

// UserCheck is what IssueCode requires of the user a code is issued to: the user
// exists under Username, is not disabled, and its Sub and TokensValidAfter (to the
// millisecond; zero for none) are those the login read. A disabled, deleted,
// re-created or cut-off user (TokensValidAfter moved: disable, password change)
// fails it as a read would have.
type UserCheck struct {
	Username         string
	Sub              string
	TokensValidAfter time.Time
}

// ErrUserChanged is returned by IssueCode when consume.User no longer holds.
var ErrUserChanged = errors.New("the user is gone, disabled or changed since sign-in")

// Codes stores authorization codes.
type Codes interface {
	// IssueCode stores code and, in the same atomic step, marks the pushed request
	// named by consume as consumed (FAPI 2.0 §5.3.2.2 note 3: one-time use is enforced
	// at the point of authorization). The consume succeeds only if the request exists,
	// has not been consumed, is bound to consume.ClientID and its Deadline is after
	// consume.Now; otherwise nothing is written and ErrNotFound is returned.
	// Of any number of concurrent calls for one request, at most one succeeds.
	//
	// The grant the code belongs to (grant.ID == code.GrantID) is created in the same
	// atomic step; ErrConflict if a code or grant already exists under those keys. A
	// nil grant, or one whose ID differs from code.GrantID, is an error and writes nothing.
	// With consume.User set, the user must also pass it (UserCheck) in the same atomic
	// step; otherwise nothing is written and ErrUserChanged is returned (ErrNotFound
	// when the request fails too).
	IssueCode(ctx context.Context, consume Consume, code *AuthorizationCode, grant *Grant) error
	// ConsumeCode marks the code under key as used and returns it, in one conditional
	// write: it succeeds only if the code exists, is bound to clientID, has not been
	// used and expires after now. If the code exists, is bound to clientID and was
	// already used, it returns the stored code and an error wrapping ErrUsed, so the
	// caller can revoke what was issued from it (RFC 6749 §4.1.2). Otherwise it
	// returns ErrNotFound. It changes nothing when it fails.
	// Of any number of concurrent calls for one code, at most one succeeds.
	ConsumeCode(ctx context.Context, key, clientID string, now time.Time) (*AuthorizationCode, error)
}

// Grants stores grants: what a user authorized a client to do, which every token
// issued from one authorization code refers to, so that revoking the grant revokes
// them all.
type Grants interface {
	// GetGrant returns the grant, revoked or not, or ErrNotFound.
	GetGrant(ctx context.Context, id string) (*Grant, error)
	// RevokeGrant marks the grant revoked at now; revoking a revoked grant keeps the
	// first time. ErrNotFound if there is no such grant.
	RevokeGrant(ctx context.Context, id string, now time.Time) error
	// RecordRevocation marks the grant under id revoked at now, creating it, as a
	// revoked grant of clientID that ends at expiresAt, if there is none: the record
	// of a revoked token that has no grant item of its own (a client-credentials
	// access token, whose grant ID is its own). Revoking a revoked grant keeps the
	// first time. The store may delete a grant it created once expiresAt has passed.
	RecordRevocation(ctx context.Context, id, clientID string, expiresAt, now time.Time) error
}

// RefreshTokens stores refresh tokens, keyed by the SHA-256 of their value.
type RefreshTokens interface {
	// CreateRefreshToken stores rt if its grant exists and is not revoked; otherwise
	// ErrNotFound and nothing is written. ErrConflict if rt.Key exists.
	CreateRefreshToken(ctx context.Context, rt *RefreshToken) error
	// GetRefreshToken returns the token, used or not, or ErrNotFound.
	GetRefreshToken(ctx context.Context, key string) (*RefreshToken, error)
	// RotateRefreshToken marks the token under key as used and stores next, in one
	// atomic step. It succeeds only if the old token exists, is bound to clientID,
	// is unused, expires after now, belongs to next.GrantID, and that grant exists,
	// is not revoked and has not expired. If the old token was already used it
	// returns an error wrapping ErrUsed (reuse: the caller revokes the grant);
	// otherwise ErrNotFound. Nothing is written when it fails. It returns only an
	// error: the caller read the old token before (no read-back, so a
	// rotation is one store call). Of any number of concurrent calls for one
	// token, at most one succeeds.
	RotateRefreshToken(ctx context.Context, key, clientID string, now time.Time, next *RefreshToken) error
}

// Replays remembers one-time identifiers, such as the jti of client assertions and
// request objects, until they expire.
type Replays interface {
	// UseOnce records key until expiresAt. It returns ErrConflict if key is already
	// recorded with an expiry after now; otherwise it records it (replacing an expired
	// record). Of any number of concurrent calls for one key, at most one succeeds.
	// The store may delete the record once expiresAt has passed.
	UseOnce(ctx context.Context, key string, expiresAt, now time.Time) error
}

// Denials ends pushed requests that the user refused.
type Denials interface {
	// DenyPushedRequest marks the pushed request named by consume as consumed without
	// issuing a code: the user denied it (RFC 9126 §4: one-time use; one outcome per
	// request). It succeeds under exactly the condition of IssueCode's consume (the
	// request exists, is not consumed, is bound to consume.ClientID, its Deadline is
	// after consume.Now); otherwise nothing is written and ErrNotFound is returned.
	// Of any number of concurrent DenyPushedRequest and IssueCode calls for one
	// request, at most one succeeds.
	DenyPushedRequest(ctx context.Context, consume Consume) error
}

// LoginCounter is the count of recent failed sign-ins under one key.
type LoginCounter struct {
	// Failures counts the failures since the counter (re)started; 0 when there is none.
	Failures int
	// LastFailure is the time of the latest failure.
	LastFailure time.Time
}

// LoginFailures counts failed sign-ins per key (a hash of a username, of a client IP
// or of a pushed request's key), for brute-force protection (NIST SP 800-63B §5.2.2).
type LoginFailures interface {
	// AddLoginFailure adds one failure at now to the counter under key and returns the
	// counter as written. A counter whose LastFailure is at or before now-window
	// starts again from one. Concurrent calls all count: n calls add n. The store may
	// delete the counter once expiresAt has passed.
	AddLoginFailure(ctx context.Context, key string, now time.Time, window time.Duration, expiresAt time.Time) (LoginCounter, error)
	// GetLoginFailures returns the counters under keys, in their order, with a zero
	// LoginCounter where there is none, in one strongly consistent read (a sign-in
	// reads all of its counters at once); callers judge a counter's age by LastFailure
	// (a store may keep it past expiry).
	GetLoginFailures(ctx context.Context, keys ...string) ([]LoginCounter, error)
	// ResetLoginFailures deletes the counter under key; none is not an error.
	ResetLoginFailures(ctx context.Context, key string) error
}

// RequestCounters count a client's requests per fixed window, for the per-client rate
// limit of the back channel (RFC 9126 §2.3; docs/design.md decision 23).
type RequestCounters interface {
	// CountRequest adds one to the counter under key, creating it at one, and returns
	// the count as written, in one write and no read. Concurrent calls all count: n
	// calls add n. The store may delete the counter once expiresAt has passed (judged
	// against now, the caller's clock); the caller names each window by a key of its
	// own, so a counter kept past expiresAt is never counted on again.
	CountRequest(ctx context.Context, key string, now, expiresAt time.Time) (int, error)
}

// Sessions stores single sign-on sessions (Session), keyed by the SHA-256 of the id
// the browser holds. Expiry is the caller's business as for every record (decision 3):
// GetSession returns sessions past their deadlines, TouchSession refuses them.
type Sessions interface {
	// CreateSession stores s under s.Key; ErrConflict if the key exists (and the first
	// is kept). The store may delete the record once s.ExpiresAt has passed.
	CreateSession(ctx context.Context, s *Session) error
	// GetSession returns the session under key, live or not, with a strongly
	// consistent read, or ErrNotFound.
	GetSession(ctx context.Context, key string) (*Session, error)
	// TouchSession uses the session under key at now, in one conditional write: it
	// succeeds only if the session exists and is live at now (IdleDeadline and
	// ExpiresAt after now); it then moves IdleDeadline to idle unless the stored one is
	// later already (a deadline never moves back), and adds clientID, if not empty, to
	// Clients. Otherwise it returns ErrNotFound and writes nothing. Of concurrent
	// touches of one session, every one that succeeds adds its client, and the idle
	// deadline ends at the latest idle among them. The caller bounds idle by ExpiresAt
	// and decides when a touch is worth a write (Service.UseSession).
	TouchSession(ctx context.Context, key, clientID string, now, idle time.Time) error
	// EndSession deletes the session under key and returns it as it was (a logout
	// needs its clients), live or not; ErrNotFound if there is none. Of concurrent
	// calls for one session, one returns it.
	EndSession(ctx context.Context, key string) (*Session, error)
}

// Store is everything the services need from storage.
type Store interface {
	Clients
	Users
	PushedRequests
	Codes
	Grants
	RefreshTokens
	Replays
	Denials
	LoginFailures
	RequestCounters
	Sessions
	Consents
}

// InProcess is implemented by a store whose every call completes without waiting
// on anything outside the process: pkg/memory, whose calls take a mutex and touch
// maps. No call of it can hang, so a deadline on its calls could never fire, and the
// service and the edge arm none for it (Service.StoreInProcess): each deadline is a
// context and a timer, pure cost on the /par hot path (issue 15). A remote store
// (DynamoDB, behind app.WithDeadlines) keeps the one deadline per request of
// docs/design.md decision 10. A wrapper (a fault injector, a call counter, a
// deadline) does not implement it, so its calls stay bounded as any store's.
type InProcess interface {
	// InProcess marks the store; it does nothing.
	InProcess()
}

// Registry writes clients and users: the seed import and the admin tooling use it.
type Registry interface {
	// PutClient creates or replaces the client.
	PutClient(ctx context.Context, c *Client) error
	// PutUser creates or replaces the user.
	PutUser(ctx context.Context, u *User) error
}
