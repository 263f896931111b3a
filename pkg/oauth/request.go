package oauth

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Parameters this server does not read are ignored: RFC 6749 §3.1 "The
// authorization server MUST ignore unrecognized request parameters."

// maxParamLen bounds free-text parameters (state, nonce, hints) so a request cannot
// carry megabytes through the flow; FAPI 2.0 §5.3.2.2 needs nonces of up to 64
// characters, this is far above any legitimate use.
const maxParamLen = 2048

// RedirectURINotRegistered is the description of a redirect_uri that the client did
// not register; it never quotes the value.
const RedirectURINotRegistered = "redirect_uri is not registered for this client"

// requestChannel is how an authorization request reached the server.
type requestChannel int

const (
	// viaPAR: pushed to /par by an authenticated client (RFC 9126 §2).
	viaPAR requestChannel = iota + 1
	// viaAuthorize: sent straight to /authorize through the browser.
	viaAuthorize
)

// validateRequest validates an authorization request for client, as it would be
// validated at the authorization endpoint (RFC 9126 §2.1 step 3 and §4). It always
// returns the request as far as it was parsed, so that once the redirect URI is
// established an error can be delivered there with the request's state; errors after
// that point are marked redirectable.
func (s *Service) validateRequest(client *Client, params url.Values, via requestChannel) (*AuthorizationRequest, error) {
	req, err := s.requestTarget(client, params, via)
	if err != nil {
		return req, err
	}
	if err := s.validateRequestBody(client, params, req); err != nil {
		return req, err.WithRedirect()
	}
	return req, nil
}

// requestTarget establishes where the answer to an authorization request goes: the
// redirect URI, registered for client, and the state (RFC 6749 §4.1.2.1). Its errors
// are pages, except a state too long to return, which is redirected without it. The
// returned request carries RedirectURI and State once they are established, whatever
// the error.
func (s *Service) requestTarget(client *Client, params url.Values, via requestChannel) (*AuthorizationRequest, *Error) {
	req := &AuthorizationRequest{ClientID: client.ID}
	if err := checkParams(params); err != nil {
		return req, err
	}
	if id := params.Get("client_id"); id != "" && id != client.ID {
		return req, InvalidRequest("client_id does not match the authenticated client")
	}

	// Redirect URI first: until it is established no error may be redirected
	// (RFC 6749 §4.1.2.1). At PAR a bad redirect_uri is invalid_request (RFC 9126 §2.3).
	if uri := params.Get("redirect_uri"); uri != "" {
		// RFC 9700 §4.1.3 / OAuth 2.1: exact string matching against registered URIs,
		// relaxed only as RFC 9126 §2.4 allows and, for native apps' loopback
		// redirects, in the port (RFC 8252 §7.3; redirect.go).
		if !redirectAllowed(client, uri, via == viaPAR) {
			// The description is fixed (an error page may show it, pkg/httpapi pageMessage).
			return req, InvalidRequest(RedirectURINotRegistered).WithCause(errors.New("redirect_uri not registered"))
		}
		req.RedirectURI, req.RedirectURIGiven = uri, true
	} else if s.cfg.FAPI2 {
		// FAPI 2.0 §5.3.2.2 item 6: "shall require the redirect_uri parameter in pushed
		// authorization requests"; under fapi2 no other request establishes a target.
		return req, InvalidRequest("redirect_uri is required (FAPI 2.0)")
	} else {
		// RFC 6749 §3.1.2.3: the parameter may be omitted when exactly one URI is registered.
		if len(client.RedirectURIs) != 1 {
			return req, InvalidRequest("redirect_uri is required: client %s has %d registered redirect URIs", client.ID, len(client.RedirectURIs))
		}
		req.RedirectURI = client.RedirectURIs[0]
	}
	if s.cfg.FAPI2 {
		if err := checkFAPI2RedirectURI(client, req.RedirectURI); err != nil {
			req.RedirectURI, req.RedirectURIGiven = "", false
			return req, err
		}
	}
	req.State = params.Get("state")
	if len(req.State) > maxParamLen {
		req.State = ""
	}
	// The response mode next, so that every later error is delivered in it (JARM
	// §2.2, Form Post Response Mode §2); an unusable one is answered in the default
	// mode, query.
	mode, merr := parseResponseMode(params.Get("response_mode"))
	if merr == nil {
		merr = s.checkResponseAlg(client, mode)
	}
	if merr == nil && (mode == ResponseModeFormPost || mode == ResponseModeFormPostJWT) && !webRedirect(req.RedirectURI) {
		// Form Post Response Mode §2: the response is "HTTP POST"ed by the user agent
		// to the redirect URI; a browser cannot post a form to a native app's
		// private-use scheme (RFC 8252 §7.1), whose page would stay stuck.
		merr = InvalidRequest("response_mode %s needs an http or https redirect URI; use query or jwt", mode)
	}
	if merr != nil {
		return req, merr.WithRedirect()
	}
	req.ResponseMode = mode
	if req.State == "" && params.Get("state") != "" {
		return req, InvalidRequest("state is longer than %d characters", maxParamLen).WithRedirect()
	}
	return req, nil
}

// validateRequestBody checks everything after the redirect URI.
func (s *Service) validateRequestBody(client *Client, params url.Values, req *AuthorizationRequest) *Error {
	switch rt := params.Get("response_type"); {
	case rt == "":
		return InvalidRequest("response_type is required")
	case rt != "code":
		// FAPI 2.0 §5.3.2.2 and OAuth 2.1: only the authorization code flow.
		return UnsupportedResponseType("response_type %q is not supported; use code", rt)
	case len(client.ResponseTypes) > 0 && !slices.Contains(client.ResponseTypes, "code"):
		return UnauthorizedClient("client %s is not registered for response_type code", client.ID)
	}
	req.ResponseType = "code"
	if !client.AllowsGrant("authorization_code") {
		return UnauthorizedClient("client %s is not allowed the authorization_code grant", client.ID)
	}

	scopes, err := parseScope(params.Get("scope"))
	if err != nil {
		return err
	}
	// RFC 9396 §3: authorization_details may be used instead of, or with, scope.
	if len(scopes) == 0 && params.Get("authorization_details") == "" {
		return InvalidScope("scope is required")
	}
	for _, sc := range scopes {
		if !hasField(client.Scope, sc) {
			return InvalidScope("scope %q is not allowed for client %s", sc, client.ID)
		}
	}
	req.Scopes = scopes

	// PKCE with S256 for every client (docs/design.md decision 9; RFC 9700 §2.1.1).
	challenge, method := params.Get("code_challenge"), params.Get("code_challenge_method")
	switch {
	case challenge == "":
		// RFC 7636 §4.4.1: a server that requires PKCE answers invalid_request.
		return InvalidRequest("code_challenge is required (PKCE, RFC 7636)")
	case method == "":
		// RFC 7636 §4.3: the method "defaults to plain if not present", and plain is refused.
		return InvalidRequest("code_challenge_method is required and must be S256")
	case method != PKCEMethodS256:
		return InvalidRequest("code_challenge_method %q is not supported; use S256", method)
	case !validS256Challenge(challenge):
		return InvalidRequest("code_challenge must be the 43-character base64url S256 value")
	}
	req.CodeChallenge, req.CodeChallengeMethod = challenge, method

	for name, dst := range map[string]*string{
		"nonce": &req.Nonce, "login_hint": &req.LoginHint, "ui_locales": &req.UILocales, "acr_values": &req.ACRValues,
	} {
		v := params.Get(name)
		if len(v) > maxParamLen {
			return InvalidRequest("%s is longer than %d characters", name, maxParamLen)
		}
		*dst = v
	}

	if raw := params.Get("authorization_details"); raw != "" {
		details, err := s.parseAuthorizationDetails(client, raw)
		if err != nil {
			return err
		}
		req.AuthorizationDetails = details
	}
	resources, rerr := s.requestResources(client, params)
	if rerr != nil {
		return rerr
	}
	req.Resources = resources
	if jkt := params.Get("dpop_jkt"); jkt != "" {
		// RFC 9449 §10: the JWK SHA-256 thumbprint of the key the code will be bound to.
		if !validJKT(jkt) {
			return InvalidRequest("dpop_jkt must be a base64url SHA-256 JWK thumbprint")
		}
		req.DPoPJKT = jkt
	}
	if hint := params.Get("idp_hint"); hint != "" {
		// idp_hint (issue 13) preselects an upstream identity provider. RFC 6749 §3.1
		// lets a server ignore what it does not use, and a hint the client may not use
		// is ignored where it is read (the login page); its shape is checked here, so
		// only a provider id is ever kept.
		if !ValidProviderID(hint) {
			return InvalidRequest("idp_hint must be an identity provider id (1 to %d of a-z 0-9 -)", MaxProviderIDLength)
		}
		req.IDPHint = hint
	}
	if p := params.Get("prompt"); p != "" {
		values := strings.Fields(p)
		for _, v := range values {
			if !slices.Contains([]string{"none", "login", "consent", "select_account"}, v) {
				return InvalidRequest("prompt value %q is not supported", v)
			}
		}
		// OIDC Core §3.1.2.1: none with any other value is an error.
		if slices.Contains(values, "none") && len(values) > 1 {
			return InvalidRequest("prompt=none cannot be combined with other values")
		}
		req.Prompt = strings.Join(values, " ")
	}
	if ma := params.Get("max_age"); ma != "" {
		n, err := strconv.Atoi(ma)
		if err != nil || n < 0 {
			return InvalidRequest("max_age must be a non-negative integer")
		}
		req.MaxAge = &n
	}
	return nil
}

// parseScope splits a scope parameter (RFC 6749 §3.3) into unique tokens, refusing
// characters outside scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
func parseScope(s string) ([]string, *Error) {
	// One allocation: the result, sized by the tokens. The loop below is
	// strings.Split(s, " ") without its slice.
	var out []string
	for rest := s; rest != ""; {
		var tok string
		tok, rest, _ = strings.Cut(rest, " ")
		if tok == "" {
			continue
		}
		for i := 0; i < len(tok); i++ {
			c := tok[i]
			if c < 0x21 || c == 0x22 || c == 0x5C || c > 0x7E {
				return nil, InvalidScope("scope contains an invalid character")
			}
		}
		if out == nil {
			out = make([]string, 0, min(strings.Count(s, " ")+1, 101))
		}
		if !slices.Contains(out, tok) {
			out = append(out, tok)
		}
		if len(out) > 100 {
			return nil, InvalidScope("too many scope values")
		}
	}
	return out, nil
}

// hasField is slices.Contains(strings.Fields(s), f) without the slice.
func hasField(s, f string) bool {
	for field := range strings.FieldsSeq(s) {
		if field == f {
			return true
		}
	}
	return false
}
