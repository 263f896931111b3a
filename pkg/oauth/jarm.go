package oauth

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// The response modes of the authorization endpoint (docs/design.md decision 24).
const (
	// ResponseModeQuery is RFC 6749 §4.1.2 (OAuth 2.0 Multiple Response Type
	// Encoding Practices §2.1): the parameters in the redirect URI's query. The
	// default for response_type code.
	ResponseModeQuery = "query"
	// ResponseModeFormPost is OAuth 2.0 Form Post Response Mode §2: "the
	// Authorization Response parameters are encoded as HTML form values that are
	// auto-submitted in the User Agent, and thus are transmitted via the HTTP POST
	// method to the Client".
	ResponseModeFormPost = "form_post"
	// ResponseModeJWT is JARM §2.3.4: "a shortcut and indicates the default redirect
	// encoding (query, fragment) for the requested response type. The default for
	// response type "code" is "query.jwt"."
	ResponseModeJWT = "jwt"
	// ResponseModeQueryJWT is JARM §2.3.1: the response JWT in the `response`
	// query parameter of the redirect URI.
	ResponseModeQueryJWT = "query.jwt"
	// ResponseModeFormPostJWT is JARM §2.3.3: the response JWT posted as the
	// `response` form field, as form_post posts its parameters.
	ResponseModeFormPostJWT = "form_post.jwt"
)

// ResponseModes are the response_mode values this server accepts, as discovery
// publishes them (RFC 8414 §2 response_modes_supported). fragment and fragment.jwt
// are not among them: they exist for response types that return tokens in the
// front channel, and only code is supported (FAPI 2.0 §5.3.2.2, OAuth 2.1).
var ResponseModes = []string{ResponseModeQuery, ResponseModeFormPost, ResponseModeJWT, ResponseModeQueryJWT, ResponseModeFormPostJWT}

// ResponseLifetime is how long a JARM response JWT is valid (its exp). JARM §2.1:
// "A maximum JWT lifetime of 10 minutes is RECOMMENDED." Five minutes: the JWT
// only has to travel through the browser to the client, which verifies it at
// once, but relying parties check exp against their own clock, often without
// leeway, so a minute or two of clock skew must not break the flow. It extends
// nothing: the code inside is bound by CODE_LIFETIME, one-time use and PKCE.
const ResponseLifetime = 5 * time.Minute

// jarm reports whether mode is one of JARM's (JARM §2.3).
func jarm(mode string) bool { return mode == ResponseModeQueryJWT || mode == ResponseModeFormPostJWT }

// parseResponseMode resolves the response_mode parameter for response_type code:
// "" and query are the default (stored as ""), jwt is query.jwt (JARM §2.3.4).
// fragment and fragment.jwt are refused (see ResponseModes).
func parseResponseMode(v string) (string, *Error) {
	switch v {
	case "", ResponseModeQuery:
		return "", nil
	case ResponseModeJWT:
		return ResponseModeQueryJWT, nil
	case ResponseModeFormPost, ResponseModeQueryJWT, ResponseModeFormPostJWT:
		return v, nil
	}
	return "", InvalidRequest("response_mode %q is not supported; use one of %v", v, ResponseModes)
}

// checkResponseAlg checks, when the response is a JWT, that the client's
// authorization_signed_response_alg (JARM §3) is one this profile may sign with
// (FAPI 2.0 §5.4.1: PS256, ES256 or EdDSA under fapi2). Whether the server's key has
// that algorithm is known only where the key is (signResponse).
func (s *Service) checkResponseAlg(client *Client, mode string) *Error {
	alg := client.AuthorizationSignedResponseAlg
	if !jarm(mode) || alg == "" || len(s.signingAlgorithms(client, alg)) > 0 {
		return nil
	}
	return InvalidRequest("response_mode %s: the client's authorization_signed_response_alg %s is not allowed by this server's profile", mode, alg)
}

// AuthorizationResponse is an authorization response ready to be delivered to the
// client: the parameters, or for JARM the one `response` parameter holding the JWT,
// and how the user agent carries them to the redirect URI.
type AuthorizationResponse struct {
	RedirectURI string
	// FormPost: by an auto-submitted HTML form (form_post, form_post.jwt); else in the
	// query of a 303 redirect (query, query.jwt).
	FormPost bool
	Params   url.Values
}

// URL is the redirect URI with Params in its query, for query delivery. RFC 6749
// §3.1.2: the redirect URI's query component "MUST be retained when adding
// additional query parameters"; its fragment is dropped.
func (r *AuthorizationResponse) URL() string {
	u, err := url.Parse(r.RedirectURI)
	if err != nil {
		// Registered URIs are validated when clients are registered; this cannot happen.
		return r.RedirectURI
	}
	q := u.Query()
	for k, vs := range r.Params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	u.Fragment = ""
	return u.String()
}

// response builds the authorization response of req carrying params (the code and
// state, or an error), for client, in the request's response mode. Empty values are
// left out. Plain modes add iss (RFC 9207 §2); JARM modes put everything, iss
// included, in one signed JWT (JARM §2.1) and add nothing outside it (RFC 9207 §2.4:
// "an additional iss parameter outside the JWT is not necessary when JARM is used").
func (s *Service) response(ctx context.Context, client *Client, req *AuthorizationRequest, params url.Values) (*AuthorizationResponse, error) {
	out := &AuthorizationResponse{
		RedirectURI: req.RedirectURI,
		FormPost:    req.ResponseMode == ResponseModeFormPost || req.ResponseMode == ResponseModeFormPostJWT,
		Params:      url.Values{},
	}
	for k, vs := range params {
		if len(vs) > 0 && vs[0] != "" {
			out.Params.Set(k, vs[0])
		}
	}
	// RFC 9207 §2: "an authorization server supporting this specification MUST
	// indicate its identity by including the iss parameter in the response".
	out.Params.Set("iss", s.cfg.Issuer)
	if !jarm(req.ResponseMode) {
		return out, nil
	}
	jwt, err := s.signResponse(ctx, client, out.Params)
	if err != nil {
		return nil, err
	}
	// JARM §2.3.1 and §2.3.3: the JWT is the one parameter, named response.
	out.Params = url.Values{"response": {jwt}}
	return out, nil
}

// signResponse is JARM §2.1's JWT: the response parameters as claims (§2.1.1 code
// and state; §2.2 error, error_description and state; iss), plus "aud – the
// client_id of the client the response is intended for" and "exp – expiration of
// the JWT". It is signed with the server's active key, as ID tokens are (JARM §2.4:
// "the authorization server determines what algorithm to employ"). A client that
// registered authorization_signed_response_alg (JARM §3: "REQUIRED for signing
// authorization responses") gets that algorithm or no response: when the server's
// key has another one, it is a server error, not a JWT the client would refuse.
func (s *Service) signResponse(ctx context.Context, client *Client, params url.Values) (string, error) {
	claims := make(map[string]any, len(params)+2)
	for k := range params {
		claims[k] = params.Get(k)
	}
	claims["aud"] = client.ID
	claims["exp"] = s.now().Add(ResponseLifetime).Unix()
	// No typ header: JARM registers none, and the claims (no sub, no iat) cannot pass
	// for an ID token or an access token (at+jwt).
	jwt, err := s.signer.Sign(ctx, "", claims)
	if err != nil {
		return "", AsError(fmt.Errorf("sign authorization response: %w", err))
	}
	if want := client.AuthorizationSignedResponseAlg; want != "" {
		if got := signedAlg(jwt); got != want {
			return "", ServerError(fmt.Errorf("sign authorization response: client %s registered authorization_signed_response_alg %s, the server's key signs %s", client.ID, want, got))
		}
	}
	return jwt, nil
}

// signedAlg is the alg header of a compact JWS the server just made.
func signedAlg(token string) string {
	jws, err := jose.ParseSignedCompact(token, SigningAlgorithms)
	if err != nil || len(jws.Signatures) != 1 {
		return ""
	}
	return jws.Signatures[0].Protected.Algorithm
}

// ErrorResponse is the authorization response that delivers e to the client
// (RFC 6749 §4.1.2.1), with the request's state and the issuer (RFC 9207 §2:
// "including error responses"), in the request's response mode: JARM §2.2, "the
// authorization server ... encodes the error response parameters in a JWT" too.
func (s *Service) ErrorResponse(ctx context.Context, req *AuthorizationRequest, e *Error) (*AuthorizationResponse, error) {
	client := &Client{ID: req.ClientID}
	if jarm(req.ResponseMode) {
		c, err := s.client(ctx, req.ClientID)
		if err != nil {
			return nil, AsError(fmt.Errorf("load client: %w", err))
		}
		client = c
	}
	return s.response(ctx, client, req, errorParams(req, e))
}

// errorParams are RFC 6749 §4.1.2.1's error response parameters: error,
// error_description if there is one, and the request's state.
func errorParams(req *AuthorizationRequest, e *Error) url.Values {
	q := url.Values{"error": {e.Code}, "state": {req.State}}
	if e.Description != "" {
		q.Set("error_description", e.Description)
	}
	return q
}
