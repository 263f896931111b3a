package oauth

import (
	"context"
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
// Expiry is the application's business (DESIGN.md decision 3): a store may keep and
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
}

// Codes stores authorization codes.
type Codes interface {
	// IssueCode stores code and, in the same atomic step, marks the pushed request
	// named by consume as consumed (FAPI 2.0 §5.3.2.2 note 3: one-time use is enforced
	// at the point of authorization). The consume succeeds only if the request exists,
	// has not been consumed, is bound to consume.ClientID and its Deadline is after
	// consume.Now; otherwise nothing is written and ErrNotFound is returned.
	// Of any number of concurrent calls for one request, at most one succeeds.
	IssueCode(ctx context.Context, consume Consume, code *AuthorizationCode) error
	// ConsumeCode marks the code under key as used and returns it, in one conditional
	// write: it succeeds only if the code exists, is bound to clientID, has not been
	// used and expires after now. Otherwise it returns ErrNotFound and changes nothing.
	// Of any number of concurrent calls for one code, at most one succeeds.
	ConsumeCode(ctx context.Context, key, clientID string, now time.Time) (*AuthorizationCode, error)
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

// Store is everything the services need from storage.
type Store interface {
	Clients
	Users
	PushedRequests
	Codes
	Replays
}

// Registry writes clients and users: the seed import and the admin tooling use it.
type Registry interface {
	// PutClient creates or replaces the client.
	PutClient(ctx context.Context, c *Client) error
	// PutUser creates or replaces the user.
	PutUser(ctx context.Context, u *User) error
}
