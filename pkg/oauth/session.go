package oauth

import (
	"slices"
	"time"
)

// Session is a single sign-on session: the record of a successful login that later
// authorizations in the same browser reuse instead of asking for the password again
// (OIDC Core §3.1.2.1 prompt and max_age, §2 auth_time, amr, acr).
//
// The browser holds the session id, 256 random bits, in a cookie; the store keeps the
// session only under its SHA-256 (Key = HashKey(id); docs/design.md decision 1), so a
// leaked table signs nobody in. Key is also the ID tokens' sid claim source: sid is
// derived from the key (SessionSID), never the id itself.
type Session struct {
	// Key is HashKey of the session id.
	Key string
	// Username names the user (User.Username) and Subject is the user's sub at login:
	// a use of the session re-reads the user and ends the session if it is gone,
	// disabled, re-created (another sub) or cut off (TokensValidAfter after AuthTime).
	Username string
	Subject  string
	// AuthTime is when the user authenticated (OIDC Core §2 auth_time).
	AuthTime time.Time
	// AMR are the authentication methods of the login (RFC 8176: "pwd" today).
	AMR []string
	// ACR is the authentication context class reference of the login, if any.
	ACR string
	// Clients are the client IDs the session signed in to, each once; stores return
	// them sorted (nil for none). They are the clients a logout (RP-initiated,
	// back-channel) must tell.
	Clients []string
	// IdleDeadline is when the session ends unless used (SESSION_IDLE_TIMEOUT after
	// its last slide); ExpiresAt is when it ends whatever its use (SESSION_LIFETIME
	// after AuthTime). The store may delete the record once ExpiresAt has passed.
	IdleDeadline time.Time
	ExpiresAt    time.Time
}

// Live reports whether the session may be used at now: before both deadlines.
func (s *Session) Live(now time.Time) bool {
	return now.Before(s.IdleDeadline) && now.Before(s.ExpiresAt)
}

// SignedInTo reports whether the session signed in to the client already.
func (s *Session) SignedInTo(clientID string) bool { return slices.Contains(s.Clients, clientID) }
