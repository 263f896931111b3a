package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Transaction is an authorization request in progress at /authorize: the client and
// the stored request, resolved and checked.
type Transaction struct {
	Client  *Client
	Request *PushedRequest
}

// RequestKey returns the storage key of a request_uri issued by this server.
func RequestKey(requestURI string) (string, bool) {
	ref, ok := strings.CutPrefix(requestURI, RequestURIPrefix)
	if !ok || ref == "" {
		return "", false
	}
	return HashKey(ref), true
}

// errUnusableRequestURI is one message for every way a request_uri can fail, so the
// page tells an attacker nothing about which references exist.
func errUnusableRequestURI() *Error {
	return InvalidRequestURI("the request_uri is invalid, expired, or was already used; return to the application and start again")
}

// Redemption says whether a request_uri is being redeemed or was redeemed earlier in
// the same browser.
type Redemption int

const (
	// FirstRedemption: the request_uri is presented for the first time, so its
	// expires_in applies (RFC 9126 §2.2 and §4).
	FirstRedemption Redemption = iota
	// Redeemed: the browser already holds this transaction (its sealed cookie), so only
	// the transaction deadline applies, not expires_in (docs/design.md decision 2).
	Redeemed
)

// Resume loads the authorization transaction named by client_id and a request_uri's
// storage key (RFC 9126 §4). requestKey is RequestKey(request_uri), computed once by
// the caller, which needs it for its own state too; it is empty when the request_uri
// is not one this server issued. Errors before the request resolves are never
// redirectable: nothing about it is trusted until then. An error with Redirect set
// comes with the Transaction, whose request names the target (RFC 6749 §4.1.2.1).
func (s *Service) Resume(ctx context.Context, clientID, requestKey string, redemption Redemption) (*Transaction, error) {
	client, err := s.frontChannelClient(ctx, clientID)
	if err != nil {
		return nil, err
	}
	if requestKey == "" {
		return nil, errUnusableRequestURI()
	}
	rec, err := s.store.GetPushedRequest(ctx, requestKey)
	if errors.Is(err, ErrNotFound) {
		return nil, errUnusableRequestURI()
	}
	if err != nil {
		return nil, AsError(fmt.Errorf("load pushed request: %w", err))
	}
	now := s.now()
	switch {
	// RFC 9126 §4 via RFC 9101 §6.3: the client_id "MUST match" the one bound to the request.
	case rec.ClientID != client.ID:
		return nil, errUnusableRequestURI()
	// RFC 9126 §4: Authorization servers SHOULD treat request_uri values as one-time use.
	case rec.ConsumedAt != nil:
		return nil, errUnusableRequestURI()
	// RFC 9126 §4: "An expired request_uri MUST be rejected as invalid." The store may
	// return expired records (DynamoDB TTL is lazy), so expiry is checked here.
	case !now.Before(rec.Deadline), redemption == FirstRedemption && !now.Before(rec.RedeemBy):
		return nil, errUnusableRequestURI()
	}
	// RFC 9126 §4: validate "as it would any other authorization request"; §7.4: check
	// the request against the client policy now, which may have changed since the push.
	if !redirectAllowed(client, rec.Request.RedirectURI, rec.Pushed) {
		return nil, InvalidRequest("the redirect URI of this request is no longer registered for the client")
	}
	if s.cfg.FAPI2 {
		if err := checkFAPI2RedirectURI(client, rec.Request.RedirectURI); err != nil {
			return nil, err
		}
	}
	tx := &Transaction{Client: client, Request: rec}
	// RFC 9126 §4: a request stored from /authorize before the client came to require
	// PAR; the client and the redirect URI are established, so the refusal is theirs.
	if !rec.Pushed && s.parRequired(client) {
		return tx, s.parRequiredError().WithRedirect()
	}
	return tx, nil
}

// ResumeRequest is Resume for an authorization request at /authorize that names a
// request_uri; params are all of its parameters, of which only client_id and
// request_uri are used (docs/design.md decision 5) and request is refused.
func (s *Service) ResumeRequest(ctx context.Context, params url.Values, requestKey string, redemption Redemption) (*Transaction, error) {
	tx, err := s.Resume(ctx, params.Get("client_id"), requestKey, redemption)
	if err != nil {
		return tx, err
	}
	// OIDC Core §6: "If one of these parameters is used, the other MUST NOT be used in
	// the same request"; RFC 9101 §5 makes request_uri the alternative to request.
	// Refused once the request_uri resolved, so the error goes to the client with the
	// pushed request's state, never merged or ignored (the reference stays usable).
	// RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were
	// omitted from the request."
	if params.Get("request") != "" {
		return tx, InvalidRequest("request and request_uri must not both be sent").WithRedirect()
	}
	return tx, nil
}

// ResumeSignIn resolves the client of a login form without re-reading the pushed
// request (one DynamoDB call less per login). boundClientID is the
// client the request is bound to, as the sealed transaction cookie carries it from
// the Resume at /authorize; clientID is the one the form names. The Transaction's
// Request is nil: the login needs only the client. Whether the request is still
// alive is checked by the next Resume (the consent page) and by the condition of the
// write that consumes it (IssueCode, DenyPushedRequest), so a request consumed,
// denied or expired in between yields no code.
func (s *Service) ResumeSignIn(ctx context.Context, clientID, boundClientID string) (*Transaction, error) {
	client, err := s.frontChannelClient(ctx, clientID)
	if err != nil {
		return nil, err
	}
	// RFC 9126 §4 via RFC 9101 §6.3: the client_id "MUST match" the one bound to the request.
	if client.ID != boundClientID {
		return nil, errUnusableRequestURI()
	}
	return &Transaction{Client: client}, nil
}

// StartDirect handles an authorization request sent to /authorize without PAR: it is
// validated like a pushed one and stored the same way, so the rest of the flow (login,
// consent, one-time code issuance) has a single path. It returns the request_uri to
// continue with. A returned *Error with Redirect set goes to the client's redirect
// URI, with the request's state.
func (s *Service) StartDirect(ctx context.Context, params url.Values) (string, *AuthorizationRequest, error) {
	if len(params["client_id"]) > 1 {
		return "", nil, InvalidRequest("parameter client_id is included more than once")
	}
	client, err := s.frontChannelClient(ctx, params.Get("client_id"))
	if err != nil {
		return "", nil, err
	}
	req, terr := s.requestTarget(client, params, viaAuthorize)
	if terr != nil {
		return "", req, terr
	}
	// RFC 9126 §4: when policy requires PAR, "the authorization server will refuse,
	// using the invalid_request error code, to process any request to the
	// authorization endpoint that does not have a request_uri parameter with a value
	// obtained from the PAR endpoint." The client and its redirect URI are established,
	// so the refusal goes to the client (RFC 6749 §4.1.2.1), before anything else of
	// the request is judged.
	if s.parRequired(client) {
		return "", req, s.parRequiredError().WithRedirect()
	}
	if verr := s.validateRequestBody(client, params, req); verr != nil {
		return "", req, verr.WithRedirect()
	}
	if params.Get("request") != "" {
		return "", req, RequestNotSupported("request objects are not supported by this server").WithRedirect()
	}
	uri, err := s.storeRequest(ctx, client, req, viaAuthorize, s.cfg.PushedRequestLifetime)
	if err != nil {
		return "", req, err
	}
	return uri, req, nil
}

func (s *Service) parRequired(c *Client) bool {
	return s.cfg.RequirePAR || c.RequirePushedAuthorizationRequests
}

func (s *Service) parRequiredError() *Error {
	return InvalidRequest("pushed authorization requests are required for this client (RFC 9126): push the request to the PAR endpoint first")
}

// frontChannelClient looks up the client named at /authorize. Failures are pages, not
// redirects (RFC 6749 §4.1.2.1).
func (s *Service) frontChannelClient(ctx context.Context, clientID string) (*Client, error) {
	if clientID == "" {
		return nil, InvalidRequest("client_id is required")
	}
	client, err := s.client(ctx, clientID)
	if errors.Is(err, ErrNotFound) {
		return nil, InvalidRequest("unknown client")
	}
	if err != nil {
		return nil, AsError(fmt.Errorf("load client: %w", err))
	}
	if client.Disabled {
		return nil, InvalidRequest("unknown client")
	}
	return client, nil
}

// ErrBadCredentials is returned by Login for a wrong username or password.
var ErrBadCredentials = errors.New("wrong username or password")

// dummyHash is verified against when the user does not exist, so a login attempt
// for an unknown user costs the same as one for a known user.
// It is computed on first need, not at package init: an argon2id hash costs ~50 ms and
// 19 MiB, which every Lambda function importing this package would otherwise pay at
// cold start, though only the authorize function ever verifies passwords.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("pargate-dummy-password")
	if err != nil {
		panic(err)
	}
	return h
})

// Bounds of what Login accepts; the admin CLI creates no user beyond them.
const (
	MaxUsernameBytes = 256
	MaxPasswordBytes = 1024
)

// Login checks a username and password against the user store.
func (s *Service) Login(ctx context.Context, username, password string) (*User, error) {
	if username == "" || password == "" || len(username) > MaxUsernameBytes || len(password) > MaxPasswordBytes {
		return nil, ErrBadCredentials
	}
	user, err := s.store.GetUser(ctx, username)
	if errors.Is(err, ErrNotFound) {
		_, _ = VerifyPassword(dummyHash(), password)
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, AsError(fmt.Errorf("load user: %w", err))
	}
	if user.PasswordHash == "" {
		// A brokered user (federation.go) has no password: it signs in only through
		// its identity provider. Checked like a missing user, at the same cost.
		_, _ = VerifyPassword(dummyHash(), password)
		return nil, ErrBadCredentials
	}
	ok, err := VerifyPassword(user.PasswordHash, password)
	if err != nil {
		return nil, ServerError(fmt.Errorf("verify password: stored hash: %w", err))
	}
	if !ok || user.Disabled {
		return nil, ErrBadCredentials
	}
	return user, nil
}

// SignedIn is the user as the login read it: what the approval needs of the user
// (docs/design.md decision 4), carried to it in the sealed transaction cookie
// so that approval does not read the user again. The approval's
// conditional write checks that the user is still as read (UserCheck), so a user
// deleted, disabled or cut off since the login gets no code.
type SignedIn struct {
	Username string
	// Sub is User.Sub as read ("" for a user stored before subjects were random);
	// Subject is User.Subject(), the `sub` the code carries.
	Sub, Subject     string
	TokensValidAfter time.Time
	// Claims are the user's claims that a scope can release (OIDC Core §5.4), as
	// read at the login: the code carries those of the request's scopes.
	Claims map[string]any
}

// SignedInAs is u as the approval needs it.
func SignedInAs(u *User) SignedIn {
	var claims map[string]any
	for _, names := range scopeClaims {
		for _, name := range names {
			if v, ok := u.Claims[name]; ok {
				if claims == nil {
					claims = map[string]any{}
				}
				claims[name] = v
			}
		}
	}
	return SignedIn{Username: u.Username, Sub: u.Sub, Subject: u.Subject(), TokensValidAfter: u.TokensValidAfter, Claims: claims}
}

// Approve issues the authorization code for tx on behalf of the user who consented,
// consuming the request in the same atomic step (docs/design.md decision 4; FAPI 2.0
// §5.3.2.2 note 3), and returns the authorization response. It reads the user;
// ApproveAs does not.
func (s *Service) Approve(ctx context.Context, tx *Transaction, username string, auth Authentication) (*AuthorizationResponse, error) {
	user, err := s.store.GetUser(ctx, username)
	if errors.Is(err, ErrNotFound) {
		return nil, AccessDenied("the user no longer exists").WithRedirect()
	}
	if err != nil {
		return nil, AsError(fmt.Errorf("load user: %w", err))
	}
	if user.Disabled {
		return nil, AccessDenied("the user is disabled").WithRedirect()
	}
	return s.approve(ctx, tx, SignedInAs(user), auth, nil)
}

// ApproveAs is Approve for the user as the login read it, without reading the user
// again: the write that consumes the request and issues the code also checks, in the
// same atomic step, that the user still exists, is not disabled, and has the subject
// and TokensValidAfter the login read (UserCheck), so a user deleted, disabled or cut
// off (password change) since the login is refused as the read refused it.
func (s *Service) ApproveAs(ctx context.Context, tx *Transaction, user SignedIn, auth Authentication) (*AuthorizationResponse, error) {
	return s.approve(ctx, tx, user, auth, &UserCheck{Username: user.Username, Sub: user.Sub, TokensValidAfter: user.TokensValidAfter})
}

// Authentication is how and when the user of an approval authenticated: the ID
// token's auth_time and amr (OIDC Core §2), and the single sign-on session's sid
// (SessionSID; empty for none).
type Authentication struct {
	Time time.Time
	AMR  []string
	SID  string
	// ACR and IDP are a brokered login's: the upstream's acr, passed through, and
	// the provider's id (the ID token's acr and idp claims); empty for none.
	ACR string
	IDP string
}

func (s *Service) approve(ctx context.Context, tx *Transaction, user SignedIn, auth Authentication, check *UserCheck) (*AuthorizationResponse, error) {
	value, err := randomValue()
	if err != nil {
		return nil, ServerError(err)
	}
	grantID, err := randomValue()
	if err != nil {
		return nil, ServerError(err)
	}
	req := tx.Request.Request
	now := s.now()
	claims := releasedClaims(user.Claims, req.Scopes)
	code := &AuthorizationCode{
		Key:                  HashKey(value),
		ClientID:             tx.Client.ID,
		RedirectURI:          req.RedirectURI,
		RedirectURIGiven:     req.RedirectURIGiven,
		Scopes:               req.Scopes,
		Nonce:                req.Nonce,
		CodeChallenge:        req.CodeChallenge,
		CodeChallengeMethod:  req.CodeChallengeMethod,
		Subject:              user.Subject,
		AuthTime:             auth.Time.UTC(),
		AMR:                  auth.AMR,
		SID:                  auth.SID,
		ACR:                  auth.ACR,
		IDP:                  auth.IDP,
		Claims:               claims,
		DPoPJKT:              req.DPoPJKT,
		AuthorizationDetails: req.AuthorizationDetails,
		Resources:            req.Resources,
		GrantID:              grantID,
		IssuedAt:             now,
		// RFC 6749 §4.1.2: the code "MUST expire shortly after it is issued".
		ExpiresAt: now.Add(s.cfg.CodeLifetime),
	}
	grant := &Grant{
		ID:                   grantID,
		ClientID:             tx.Client.ID,
		Subject:              code.Subject,
		Username:             user.Username,
		Scopes:               req.Scopes,
		AuthTime:             code.AuthTime,
		AMR:                  auth.AMR,
		SID:                  auth.SID,
		ACR:                  auth.ACR,
		IDP:                  auth.IDP,
		Claims:               claims,
		AuthorizationDetails: req.AuthorizationDetails,
		Resources:            req.Resources,
		CreatedAt:            now,
		ExpiresAt:            now.Add(s.grantLifetime(tx.Client)),
	}
	// The response first (a JARM response is signed): a key outage or a key of
	// another algorithm than the client registered spends no request.
	resp, err := s.response(ctx, tx.Client, &req, url.Values{"code": {value}, "state": {req.State}})
	if err != nil {
		return nil, err
	}
	err = s.store.IssueCode(ctx, Consume{Key: tx.Request.Key, ClientID: tx.Client.ID, Now: now, User: check}, code, grant)
	if errors.Is(err, ErrNotFound) {
		// Consumed by a concurrent approval, or past its deadline: RFC 9126 §4 one-time use.
		return nil, errUnusableRequestURI()
	}
	if errors.Is(err, ErrUserChanged) {
		return nil, AccessDenied("the user no longer exists, is disabled or was changed since sign-in").WithRedirect()
	}
	if err != nil {
		return nil, AsError(fmt.Errorf("issue code: %w", err))
	}
	return resp, nil
}

// Deny ends tx because the user refused it and returns the access_denied response.
// RFC 9126 §4: request_uri values are one-time use; a denial consumes the request
// in the same conditional way an approval does, so one request has one outcome and a
// denied request can be neither approved afterwards nor started again.
func (s *Service) Deny(ctx context.Context, tx *Transaction) (*AuthorizationResponse, error) {
	req := &tx.Request.Request
	resp, err := s.response(ctx, tx.Client, req, errorParams(req, AccessDenied("the user denied the request")))
	if err != nil {
		return nil, err
	}
	err = s.store.DenyPushedRequest(ctx, Consume{Key: tx.Request.Key, ClientID: tx.Client.ID, Now: s.now()})
	if errors.Is(err, ErrNotFound) {
		// Approved or denied concurrently, or past its deadline.
		return nil, errUnusableRequestURI()
	}
	if err != nil {
		return nil, AsError(fmt.Errorf("deny request: %w", err))
	}
	return resp, nil
}

// scopeClaims is the claim set each standard scope releases (OIDC Core §5.4).
var scopeClaims = map[string][]string{
	"profile": {"name", "family_name", "given_name", "middle_name", "nickname", "preferred_username",
		"profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at"},
	"email":   {"email", "email_verified"},
	"address": {"address"},
	"phone":   {"phone_number", "phone_number_verified"},
}

func releasedClaims(userClaims map[string]any, scopes []string) map[string]any {
	out := map[string]any{}
	for _, sc := range scopes {
		for _, name := range scopeClaims[sc] {
			if v, ok := userClaims[name]; ok {
				out[name] = v
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
