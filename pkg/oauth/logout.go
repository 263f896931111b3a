package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// RP-Initiated Logout 1.0 (docs/design.md decision 33): a relying party sends the
// browser to the end_session_endpoint; the server ends the browser's single sign-on
// session (decision 31) and, where it may, sends the browser back to the client.

// CheckPostLogoutRedirectURIs checks the client's post_logout_redirect_uris as its
// redirect URIs are checked (RFC 6749 §3.1.2: absolute, no fragment; https, http
// only on loopback, private-use schemes only for native apps: RFC 8252 §7, RFC 9700
// §2.1). RP-Initiated Logout 1.0 §2: a post_logout_redirect_uri must have been
// registered with the OP.
func CheckPostLogoutRedirectURIs(c *Client) error {
	for _, uri := range c.PostLogoutRedirectURIs {
		if err := checkRedirectURI(uri, c.Native()); err != nil {
			return fmt.Errorf("post_logout_redirect_uris: %w", err)
		}
	}
	return nil
}

// IDTokenHint is a verified id_token_hint: an ID token this server signed, for
// the client in its aud, possibly expired (RP-Initiated Logout 1.0 §2: "The OP need
// not be listed as an audience of the ID Token when it is used as an
// id_token_hint value", and an expired one identifies the session as well).
type IDTokenHint struct {
	Subject  string
	Audience []string
	// SID is the session the ID token was issued in (SessionSID), "" for none.
	SID string
}

// LogoutRequest is a validated RP-Initiated Logout 1.0 request (§2).
type LogoutRequest struct {
	// Client is the relying party (client_id, or the hint's audience), nil when the
	// request names none.
	Client *Client
	// Hint is the verified id_token_hint, nil without one.
	Hint *IDTokenHint
	// PostLogoutRedirectURI is where the browser goes after the logout: the
	// requested post_logout_redirect_uri when it is registered for Client (§3), else
	// "" (the signed-out page).
	PostLogoutRedirectURI string
	// Unregistered reports a post_logout_redirect_uri that was given but is not
	// registered for Client (or with no client to check it against): never
	// redirected to, and the user is asked before the session ends.
	Unregistered bool
	// State is returned to the client with the redirect (§3).
	State string
	// LogoutHint is the logout_hint (§2): the user the client means to sign out.
	// Never logged.
	LogoutHint string
}

// ParseLogout validates an RP-Initiated Logout request (§2 parameters, §4
// validation). A bad id_token_hint, an unknown or disabled client_id, or a client_id
// that is not the hint's audience is invalid_request, answered with a page: a
// logout error is never redirected anywhere.
func (s *Service) ParseLogout(ctx context.Context, params url.Values) (*LogoutRequest, error) {
	if err := checkParams(params); err != nil {
		return nil, err
	}
	req := &LogoutRequest{State: params.Get("state"), LogoutHint: params.Get("logout_hint")}
	if raw := params.Get("id_token_hint"); raw != "" {
		hint, err := s.verifyIDTokenHint(ctx, raw)
		if err != nil {
			return nil, err
		}
		req.Hint = hint
	}
	clientID := params.Get("client_id")
	if clientID == "" && req.Hint != nil {
		// The client the ID token was issued to: its one audience. This server
		// issues ID tokens with aud = client_id (token.go).
		if len(req.Hint.Audience) == 1 {
			clientID = req.Hint.Audience[0]
		}
	}
	if req.Hint != nil && clientID != "" && !slices.Contains(req.Hint.Audience, clientID) {
		// §2 client_id: "If both client_id and id_token_hint are present, the OP MUST
		// verify that the Client Identifier matches the one used when issuing the ID
		// Token."
		return nil, InvalidRequest("client_id is not the audience of id_token_hint")
	}
	if clientID != "" {
		c, err := s.client(ctx, clientID)
		if errors.Is(err, ErrNotFound) || (err == nil && c.Disabled) {
			return nil, InvalidRequest("client_id is not a registered client")
		}
		if err != nil {
			return nil, AsError(fmt.Errorf("load client: %w", err))
		}
		req.Client = c
	}
	if uri := params.Get("post_logout_redirect_uri"); uri != "" {
		// §2 post_logout_redirect_uri: it must have been registered with the OP
		// for the client; compared as registered, character for character (simple
		// string comparison). An unregistered one is never redirected to (§3).
		if req.Client != nil && slices.Contains(req.Client.PostLogoutRedirectURIs, uri) {
			req.PostLogoutRedirectURI = uri
		} else {
			req.Unregistered = true
		}
	}
	return req, nil
}

// verifyIDTokenHint checks that raw is an ID token this server signed with a key
// still in use (typ JWT, iss the issuer, a sub and an aud); exp is not checked
// (RP-Initiated Logout 1.0 §4: "the OP SHOULD accept ID Tokens ... when the RP
// identified by the ID Token's aud claim and/or sid claim has a current session or
// had a recent session at the OP, even when the exp time has passed").
func (s *Service) verifyIDTokenHint(ctx context.Context, raw string) (*IDTokenHint, error) {
	bad := InvalidRequest("id_token_hint is not an ID token of this server")
	if strings.Count(raw, ".") != 2 {
		return nil, bad
	}
	payload, typ, err := s.signer.Verify(ctx, raw)
	if errors.Is(err, ErrUnavailable) {
		return nil, AsError(err)
	}
	if err != nil || (typ != "" && !strings.EqualFold(typ, "JWT")) {
		return nil, bad
	}
	var c struct {
		Issuer  string          `json:"iss"`
		Subject string          `json:"sub"`
		Aud     json.RawMessage `json:"aud"`
		SID     string          `json:"sid"`
		// An access token of this server is signed by the same keys; its typ is
		// at+jwt, and a grant_id names it too.
		GrantID string `json:"grant_id"`
	}
	if json.Unmarshal(payload, &c) != nil || c.Issuer != s.cfg.Issuer || c.Subject == "" || c.GrantID != "" {
		return nil, bad
	}
	var aud []string
	var one string
	if json.Unmarshal(c.Aud, &one) == nil && one != "" {
		aud = []string{one}
	} else if json.Unmarshal(c.Aud, &aud) != nil || len(aud) == 0 {
		return nil, bad
	}
	return &IDTokenHint{Subject: c.Subject, Audience: aud, SID: c.SID}, nil
}

// HintMatches reports whether the request's id_token_hint names sess: its sid is
// the session's (SessionSID) and its sub the session's user. Only then may the
// session end without asking (§2: the End-User is asked whether to log out when no
// hint was given or the ID Token does not belong to the current session and user).
func (r *LogoutRequest) HintMatches(sess *Session) bool {
	return r.Hint != nil && sess != nil && r.Hint.SID != "" &&
		r.Hint.SID == SessionSID(sess.Key) && r.Hint.Subject == sess.Subject
}

// Logout ends the browser's session under id (EndSession) and revokes the grants
// issued in it that were not issued for offline_access (node-oidc-provider's rule:
// a refresh token is for as long as the session unless the user granted access
// while not using the application, OIDC Core §11). It returns the session as it
// was, with the clients it signed in to (the relying parties BackchannelLogout
// tells, docs/design.md decision 34), or nil when there was none.
//
// The grants are found by subject (the by-sub index, eventually consistent on
// DynamoDB: a grant issued a moment before the logout may be missed, and is cut off
// with the user's tokens_valid_after if it matters) and filtered by sid.
func (s *Service) Logout(ctx context.Context, id string) (*Session, error) {
	if id == "" {
		return nil, nil
	}
	// The grants first, the session last: a failure leaves the session to end at a
	// retry, which then finds the grants again.
	sess, err := s.store.GetSession(ctx, HashKey(id))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, AsError(fmt.Errorf("logout: load session: %w", err))
	}
	lister, ok := s.store.(GrantsBySubject)
	if !ok {
		return nil, ServerError(errors.New("logout: the store cannot list grants by subject"))
	}
	grants, err := lister.ListGrantsBySubject(ctx, sess.Subject)
	if err != nil {
		return nil, AsError(fmt.Errorf("logout: list grants: %w", err))
	}
	sid, now := SessionSID(sess.Key), s.now()
	for _, g := range grants {
		if g.SID != sid || g.RevokedAt != nil || slices.Contains(g.Scopes, "offline_access") {
			continue
		}
		if err := s.store.RevokeGrant(ctx, g.ID, now); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, AsError(fmt.Errorf("logout: revoke grant: %w", err))
		}
	}
	ended, err := s.EndSession(ctx, id)
	if err != nil {
		return nil, err
	}
	if ended == nil {
		// Ended meanwhile (another tab's logout): what it was is what was read.
		ended = sess
	}
	return ended, nil
}
