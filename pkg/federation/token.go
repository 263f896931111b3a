package federation

import (
	"context"
	"crypto/subtle"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/pargate/pargate/pkg/oauth"
)

// tokenResponse is what the broker reads of the token endpoint's answer (RFC 6749
// §5.1, OIDC Core §3.1.3.3).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	IDToken     string `json:"id_token"`
}

// exchange redeems the code at the token endpoint (RFC 6749 §4.1.3) with the PKCE
// verifier (RFC 7636 §4.5) and the broker's client authentication.
func (c *Client) exchange(ctx context.Context, p *oauth.IdentityProvider, up *upstream, start *oauth.UpstreamStart, callback, code string) (*tokenResponse, error) {
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {callback},
		"code_verifier": {start.CodeVerifier},
	}
	status, body, err := c.post(ctx, p, up, "token endpoint", up.meta.TokenEndpoint, form)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		// A replayed or expired code is invalid_grant (RFC 6749 §5.2): invalid,
		// as any 4xx; 5xx unavailable.
		return nil, answerError("token endpoint", status, body)
	}
	var tr tokenResponse
	if err := decodeJSON(body, &tr); err != nil {
		return nil, unavailable("token endpoint answered no JSON object")
	}
	// OIDC Core §3.1.3.3: the successful answer carries an ID token.
	if tr.IDToken == "" {
		return nil, invalid("token endpoint answered no id_token")
	}
	return &tr, nil
}

// verifyFailure names the check go-oidc's Verify failed, for logs, without its
// message (which may quote the token's claims).
func verifyFailure(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "issued by a different provider"):
		return "the ID token's iss is not the upstream's issuer (OIDC Core §3.1.3.7 item 2)"
	case strings.Contains(msg, "expected audience"):
		return "the ID token's aud does not contain the broker's client_id (OIDC Core §3.1.3.7 item 3)"
	case strings.Contains(msg, "nbf"):
		return "the ID token is not valid yet (nbf, RFC 7519 §4.1.5)"
	case strings.Contains(msg, "malformed jwt"), strings.Contains(msg, "not signed"), strings.Contains(msg, "multiple signatures"):
		return "the ID token is not a JWS signed with an algorithm the upstream advertises (OIDC Core §3.1.3.7 items 6-8)"
	case strings.Contains(msg, "verify signature"):
		return "the ID token's signature does not verify with the upstream's JWKS (OIDC Core §3.1.3.7 item 6)"
	default:
		return "the ID token failed validation (OIDC Core §3.1.3.7)"
	}
}

// protocolClaims are the ID token's claims about the token and the authentication
// rather than the user; userinfo never replaces them.
var protocolClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "iat": true, "nbf": true, "jti": true,
	"nonce": true, "azp": true, "acr": true, "amr": true, "auth_time": true, "at_hash": true,
	"c_hash": true, "sid": true,
}

// identity validates the ID token (OIDC Core §3.1.3.7), reads userinfo when the
// upstream has it, and returns the user.
func (c *Client) identity(ctx context.Context, p *oauth.IdentityProvider, up *upstream, start *oauth.UpstreamStart, tr *tokenResponse) (*oauth.UpstreamIdentity, error) {
	// §3.1.3.7 items 1-3 (iss, aud contains client_id), 6-7 (the signature with
	// the upstream's keys, alg as advertised; never none or HS*), 9 (exp) are
	// go-oidc's; nbf is checked too.
	verifier := oidc.NewVerifier(p.Issuer, up.keys, &oidc.Config{
		ClientID: p.ClientID, SupportedSigningAlgs: up.algs, Now: c.now,
	})
	note := &fetchNote{}
	tok, err := verifier.Verify(context.WithValue(ctx, fetchNoteKey{}, note), tr.IDToken)
	if err != nil {
		if note.err != nil {
			return nil, note.err // the JWKS could not be read: unavailable, or invalid jwks_uri
		}
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return nil, invalid("the ID token has expired (OIDC Core §3.1.3.7 item 9)")
		}
		return nil, invalid("%s", verifyFailure(err))
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, invalid("the ID token's claims are not a JSON object")
	}
	// §3.1.3.7 item 11: "If a nonce value was sent in the Authentication Request, a
	// nonce Claim MUST be present and its value checked to verify that it is the
	// same value as the one that was sent".
	if subtle.ConstantTimeCompare([]byte(tok.Nonce), []byte(start.Nonce)) != 1 {
		return nil, invalid("the ID token's nonce is not this transaction's (OIDC Core §3.1.3.7 item 11)")
	}
	// §3.1.3.7 items 4-5: with several audiences azp should be present, and "If an
	// azp (authorized party) Claim is present, the Client SHOULD verify that its
	// client_id is the Claim Value". Both are held as MUSTs here.
	azp, hasAZP := claims["azp"]
	if hasAZP && azp != p.ClientID {
		return nil, invalid("the ID token's azp is not the broker's client_id (OIDC Core §3.1.3.7 item 5)")
	}
	if len(tok.Audience) > 1 && !hasAZP {
		return nil, invalid("the ID token has several audiences and no azp (OIDC Core §3.1.3.7 item 4)")
	}
	// OIDC Core §2: sub and iat are REQUIRED; §3.1.3.7 item 10: iat "can be used to
	// reject tokens that were issued too far away from the current time" — here
	// one issued in the future beyond MaxClockSkew.
	if tok.Subject == "" {
		return nil, invalid("the ID token has no sub (OIDC Core §2)")
	}
	if tok.IssuedAt.IsZero() {
		return nil, invalid("the ID token has no iat (OIDC Core §2)")
	}
	if tok.IssuedAt.After(c.now().Add(MaxClockSkew)) {
		return nil, invalid("the ID token's iat is in the future (OIDC Core §3.1.3.7 item 10)")
	}
	// §3.1.3.8: at_hash is optional in the code flow, checked when present.
	if tok.AccessTokenHash != "" {
		if err := tok.VerifyAccessToken(tr.AccessToken); err != nil {
			return nil, invalid("the ID token's at_hash does not match the access token (OIDC Core §3.1.3.8)")
		}
	}
	if err := c.userinfo(ctx, up, tr, tok.Subject, claims); err != nil {
		return nil, err
	}
	id := &oauth.UpstreamIdentity{ProviderID: p.ID, Issuer: p.Issuer, Subject: tok.Subject, Claims: claims}
	if at, ok := claims["auth_time"].(float64); ok && at > 0 {
		id.AuthTime = time.Unix(int64(at), 0).UTC()
	}
	// OIDC Core §3.1.2.1 max_age: "the OP MUST attempt to actively re-authenticate
	// the End-User" when more time has elapsed, and §2 makes auth_time required "When a
	// max_age request is made"; §3.1.3.7 item 13: the client "SHOULD check the
	// auth_time Claim value and request re-authentication if it determines too much
	// time has elapsed since the last End-User authentication".
	if start.MaxAge != nil {
		switch {
		case id.AuthTime.IsZero():
			return nil, invalid("the ID token has no auth_time although max_age was requested (OIDC Core §2)")
		case c.now().Sub(id.AuthTime) > time.Duration(*start.MaxAge)*time.Second+MaxClockSkew:
			return nil, invalid("the ID token's auth_time is older than the max_age requested (OIDC Core §3.1.3.7 item 13)")
		}
	}
	if id.AuthTime.After(c.now().Add(MaxClockSkew)) {
		return nil, invalid("the ID token's auth_time is in the future")
	}
	id.ACR, _ = claims["acr"].(string)
	if amr, ok := claims["amr"].([]any); ok {
		for _, v := range amr {
			if s, ok := v.(string); ok && !slices.Contains(id.AMR, s) {
				id.AMR = append(id.AMR, s)
			}
		}
	}
	return id, nil
}

// userinfo reads the UserInfo endpoint (OIDC Core §5.3) when the upstream has one
// and issued a Bearer access token, and adds its claims to claims: many upstreams
// (node-oidc-provider by default, Cognito) return the profile and email claims
// there only. The ID token's claims win where both have one (they are signed); a
// signed or encrypted answer (application/jwt) is not read.
func (c *Client) userinfo(ctx context.Context, up *upstream, tr *tokenResponse, sub string, claims map[string]any) error {
	if up.meta.UserinfoEndpoint == "" || tr.AccessToken == "" || !strings.EqualFold(tr.TokenType, "Bearer") {
		return nil
	}
	req, err := http.NewRequest(http.MethodGet, up.meta.UserinfoEndpoint, nil)
	if err != nil {
		return invalid("userinfo_endpoint is not a URL")
	}
	// RFC 6750 §2.1.
	req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
	req.Header.Set("Accept", "application/json")
	status, header, body, err := c.do(ctx, "userinfo endpoint", req)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return answerError("userinfo endpoint", status, body)
	}
	if mt, _, _ := mime.ParseMediaType(header.Get("Content-Type")); mt == "application/jwt" {
		return nil
	}
	var info map[string]any
	if err := decodeJSON(body, &info); err != nil {
		return unavailable("userinfo endpoint answered no JSON object")
	}
	// OIDC Core §5.3.2: "The sub Claim in the UserInfo Response MUST be verified to
	// exactly match the sub Claim in the ID Token; if they do not match, the
	// UserInfo Response values MUST NOT be used."
	if s, _ := info["sub"].(string); s != sub {
		return invalid("the userinfo sub is not the ID token's (OIDC Core §5.3.2)")
	}
	for k, v := range info {
		if _, have := claims[k]; !have && !protocolClaims[k] {
			claims[k] = v
		}
	}
	return nil
}
