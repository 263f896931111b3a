package oauth

import (
	"context"
	"errors"
	"fmt"
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
	// IDP is the identity provider of a brokered login (federation.go), "" for a
	// password login: ID tokens of the session's reuse carry it as idp.
	IDP string
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

// SessionPolicy bounds single sign-on sessions.
type SessionPolicy struct {
	// IdleTimeout ends a session not used for this long (SESSION_IDLE_TIMEOUT); each
	// use slides it (UseSession).
	IdleTimeout time.Duration
	// Lifetime ends a session this long after its login, used or not
	// (SESSION_LIFETIME).
	Lifetime time.Duration
}

// DefaultSessionPolicy: 30 minutes idle, 12 hours in all.
var DefaultSessionPolicy = SessionPolicy{IdleTimeout: 30 * time.Minute, Lifetime: 12 * time.Hour}

func (p SessionPolicy) orDefaults() SessionPolicy {
	d := DefaultSessionPolicy
	if p.IdleTimeout > 0 {
		d.IdleTimeout = p.IdleTimeout
	}
	if p.Lifetime > 0 {
		d.Lifetime = p.Lifetime
	}
	return d
}

// slideStep is how far the idle deadline must move before a use writes it: a tenth
// of the idle timeout (3 minutes by default). A session used continuously is written
// at most once per step, whatever the traffic, and its idle deadline is never more
// than one step earlier than "last use plus IdleTimeout".
func (p SessionPolicy) slideStep() time.Duration { return p.IdleTimeout / 10 }

// SessionSID is the sid claim of the session under key (OIDC Back-Channel Logout
// §2.1: a string identifying the session at the OP, unique for it): a SHA-256 of the
// store key under a label of its own, so a relying party learns neither the cookie's
// id nor the table's key, and a logout can check an id_token_hint's sid against the
// browser's session by computing it.
func SessionSID(key string) string { return HashKey("pargate sid\x00" + key) }

// AMRPassword is the amr value of the built-in login (RFC 8176 §2: "pwd").
const AMRPassword = "pwd"

// ErrNoSession: the browser has no session that may be used (none, ended, expired, or
// its user gone, disabled, re-created or cut off since the login).
var ErrNoSession = errors.New("no usable single sign-on session")

// StartSession creates the session of a successful login of user at authTime, by
// auth's methods (amr), acr and identity provider (a brokered login's;
// Authentication.Time and SID are not read), signed in to clientID, and returns the
// session id for the browser's cookie (256 bits from crypto/rand; only its SHA-256 is
// stored, docs/design.md decision 1) with the session. The id must never be logged.
func (s *Service) StartSession(ctx context.Context, user SignedIn, clientID string, authTime time.Time, auth Authentication) (string, *Session, error) {
	amr := auth.AMR
	id, err := randomValue()
	if err != nil {
		return "", nil, ServerError(err)
	}
	p := s.cfg.Session.orDefaults()
	now := s.now()
	authTime = authTime.UTC()
	expires := authTime.Add(p.Lifetime)
	sess := &Session{
		Key:          HashKey(id),
		Username:     user.Username,
		Subject:      user.Subject,
		AuthTime:     authTime,
		AMR:          slices.Clone(amr),
		ACR:          auth.ACR,
		IDP:          auth.IDP,
		IdleDeadline: earliest(now.Add(p.IdleTimeout), expires),
		ExpiresAt:    expires,
	}
	if clientID != "" {
		sess.Clients = []string{clientID}
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		// ErrConflict too: 256 random bits do not collide; a store that says so is broken.
		return "", nil, AsError(fmt.Errorf("create session: %w", err))
	}
	return id, sess, nil
}

// CurrentSession returns the live session under the browser's session id and its user
// as read now. A session that is past a deadline, or whose user is gone, disabled,
// re-created (another sub) or cut off (TokensValidAfter at or after AuthTime: a
// disable or a password change since the login) is ended here and ErrNoSession
// returned: it ends at its next use. A store error is an outage (never ErrNoSession,
// which would send the user to the login page for nothing).
func (s *Service) CurrentSession(ctx context.Context, id string) (*Session, *User, error) {
	if id == "" {
		return nil, nil, ErrNoSession
	}
	sess, err := s.store.GetSession(ctx, HashKey(id))
	if errors.Is(err, ErrNotFound) {
		return nil, nil, ErrNoSession
	}
	if err != nil {
		return nil, nil, AsError(fmt.Errorf("load session: %w", err))
	}
	if !sess.Live(s.now()) {
		return nil, nil, s.endUnusable(ctx, sess)
	}
	user, err := s.store.GetUser(ctx, sess.Username)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, s.endUnusable(ctx, sess)
	}
	if err != nil {
		return nil, nil, AsError(fmt.Errorf("load user: %w", err))
	}
	if user.Disabled || user.Subject() != sess.Subject ||
		(!user.TokensValidAfter.IsZero() && !sess.AuthTime.After(user.TokensValidAfter)) {
		return nil, nil, s.endUnusable(ctx, sess)
	}
	return sess, user, nil
}

// endUnusable deletes a session that may no longer be used and returns ErrNoSession.
// A failed delete changes nothing for the user: the session is refused by every
// later read as well, and TTL removes it.
func (s *Service) endUnusable(ctx context.Context, sess *Session) error {
	_, _ = s.store.EndSession(ctx, sess.Key)
	return ErrNoSession
}

// UseSession records a use of sess for clientID at /authorize: it slides the idle
// deadline to now plus IdleTimeout (never past ExpiresAt) and adds the client to the
// clients the session signed in to. It writes only when the client is new to the
// session or the deadline moves by at least a tenth of IdleTimeout (slideStep), so
// the writes a session costs are bounded by its lifetime, not by its traffic; other
// uses write nothing. sess is updated to what was written. ErrNoSession if the
// session ended or expired meanwhile.
func (s *Service) UseSession(ctx context.Context, sess *Session, clientID string) error {
	p := s.cfg.Session.orDefaults()
	now := s.now()
	idle := earliest(now.Add(p.IdleTimeout), sess.ExpiresAt)
	newClient := clientID != "" && !sess.SignedInTo(clientID)
	if !newClient && idle.Sub(sess.IdleDeadline) < p.slideStep() {
		return nil
	}
	if !newClient {
		clientID = ""
	}
	err := s.store.TouchSession(ctx, sess.Key, clientID, now, idle)
	if errors.Is(err, ErrNotFound) {
		return ErrNoSession
	}
	if err != nil {
		return AsError(fmt.Errorf("touch session: %w", err))
	}
	if idle.After(sess.IdleDeadline) {
		sess.IdleDeadline = idle
	}
	if newClient {
		sess.Clients = append(sess.Clients, clientID)
		slices.Sort(sess.Clients)
	}
	return nil
}

// EndSession ends the session under the browser's session id ("Not you?", and the
// logout to come) and returns it as it was, with the clients it signed in to; nil
// and no error when there was none.
func (s *Service) EndSession(ctx context.Context, id string) (*Session, error) {
	if id == "" {
		return nil, nil
	}
	sess, err := s.store.EndSession(ctx, HashKey(id))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, AsError(fmt.Errorf("end session: %w", err))
	}
	return sess, nil
}

// SessionUse is what /authorize does with the browser's session for a request.
type SessionUse int

const (
	// NeedsLogin: the login page (no usable session, or the request requires the
	// user to authenticate again).
	NeedsLogin SessionUse = iota
	// OffersSession: the login page offering the session's user ("Continue as NAME",
	// "Not you?"): the request asked the user to select an account.
	OffersSession
	// ReusesSession: no login page; the session's user and auth_time.
	ReusesSession
)

// SessionPrompt decides, by OIDC Core §3.1.2.1 (prompt, max_age), whether the request
// may reuse sess (nil when the browser has none) at now, and answers prompt=none with
// the errors of §3.1.2.6, redirectable to the client. consentNeeded says whether the
// consent page would be shown for this request (no remembered consent covers it:
// ConsentRemembered).
func SessionPrompt(req *AuthorizationRequest, sess *Session, consentNeeded bool, now time.Time) (SessionUse, error) {
	// §3.1.2.1 max_age: "If the elapsed time is greater than the allowed number of
	// seconds, the End-User MUST be re-authenticated"; at exactly max_age the
	// authentication is no longer within it (so max_age=0 always re-authenticates,
	// as prompt=login).
	reauth := req.HasPrompt("login") ||
		(sess != nil && req.MaxAge != nil && now.Sub(sess.AuthTime) >= time.Duration(*req.MaxAge)*time.Second)
	// A login_hint naming another user than the session's: that user is not signed in.
	otherUser := sess != nil && req.LoginHint != "" && req.LoginHint != sess.Username
	if req.HasPrompt("none") {
		// §3.1.2.1 prompt=none: "The Authorization Server MUST NOT display any
		// authentication or consent user interface pages. An error is returned if an
		// End-User is not already authenticated or the Client does not have
		// pre-configured consent"; §3.1.2.6 login_required, consent_required.
		switch {
		case sess == nil:
			return NeedsLogin, LoginRequired("the user is not signed in").WithRedirect()
		case reauth:
			return NeedsLogin, LoginRequired("the user must sign in again (max_age)").WithRedirect()
		case otherUser:
			return NeedsLogin, LoginRequired("the user named by login_hint is not signed in").WithRedirect()
		case consentNeeded:
			return ReusesSession, ConsentRequired("the user must consent").WithRedirect()
		}
		return ReusesSession, nil
	}
	switch {
	case sess == nil, reauth, otherUser:
		// §3.1.2.1 prompt=login: "The Authorization Server SHOULD prompt the End-User
		// for reauthentication."
		return NeedsLogin, nil
	case req.HasPrompt("select_account"):
		// §3.1.2.1 prompt=select_account: "SHOULD prompt the End-User to select a user
		// account" — the session's, or another after "Not you?".
		return OffersSession, nil
	}
	return ReusesSession, nil
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
