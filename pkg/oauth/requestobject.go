package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// maxRequestObjectLifetime bounds exp of a request object (FAPI 2.0 Message Signing
// §5.3.1: "exp ... no longer than 60 minutes after the nbf").
const maxRequestObjectLifetime = 60 * time.Minute

// registeredJWTClaims are JWT claims of a request object that are not authorization
// request parameters.
var registeredJWTClaims = []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti"}

func invalidRequestObject(format string, args ...any) *Error {
	return newError(CodeInvalidRequestObject, format, args...)
}

// requestObjectParams verifies a request object pushed by client and returns the
// authorization request parameters it carries (RFC 9126 §3, RFC 9101 §6). Form
// parameters outside it are not used: RFC 9126 §3 "All other request parameters ...
// MUST appear as claims of the JWT".
func (s *Service) requestObjectParams(ctx context.Context, client *Client, raw string) (url.Values, error) {
	// RFC 9126 §3 step 2: "Validate the Request Object signature as specified in JAR
	// [RFC9101], Section 6.2"; RFC 9101 §5: only signed objects (never alg none).
	algs := s.signingAlgorithms(client, client.RequestObjectSigningAlg)
	var all map[string]any
	claims, err := s.verifyClientJWT(ctx, client, raw, algs, []string{"", "oauth-authz-req+jwt", "jwt"}, &all)
	if err != nil {
		return nil, invalidRequestObject("request object: %v", err)
	}
	// RFC 9126 §3 step 3: "reject the request if the authenticated client_id does not
	// match the client_id claim in the Request Object"; requiring iss to match is "at
	// the discretion of the authorization server", and this server requires it.
	if id, _ := all["client_id"].(string); id != client.ID {
		return nil, invalidRequestObject("request object client_id must be the authenticated client")
	}
	if claims.Issuer != client.ID {
		return nil, invalidRequestObject("request object iss must be the client_id")
	}
	// RFC 9101 §4: aud "SHOULD be the Issuer Identifier of the authorization server".
	auds, _ := claims.audiences()
	if !slices.Contains(auds, s.cfg.Issuer) {
		return nil, invalidRequestObject("request object aud must contain the issuer %q", s.cfg.Issuer)
	}
	now := s.now()
	if err := checkTimes(claims, now, maxRequestObjectLifetime); err != nil {
		return nil, invalidRequestObject("request object: %v", err)
	}
	// RFC 9101 §6.3 via nop's rule: a request object must not nest another request.
	for _, name := range []string{"request", "request_uri"} {
		if _, ok := all[name]; ok {
			return nil, invalidRequestObject("request object must not contain %s", name)
		}
	}
	if claims.ID != "" {
		if err := s.useOnce(ctx, "request", client.ID, claims.ID, claims.Expiry.Time()); err != nil {
			if errors.Is(err, ErrConflict) {
				return nil, invalidRequestObject("request object jti was already used")
			}
			return nil, AsError(err)
		}
	}
	params := url.Values{}
	for name, v := range all {
		if slices.Contains(registeredJWTClaims, name) {
			continue
		}
		switch v := v.(type) {
		case string:
			params.Set(name, v)
		case float64:
			params.Set(name, strconv.FormatFloat(v, 'f', -1, 64))
		case bool:
			params.Set(name, strconv.FormatBool(v))
		case nil:
		default:
			// Structured parameters (claims, authorization_details) travel as JSON text,
			// as they would in a form.
			b, err := json.Marshal(v)
			if err != nil {
				return nil, invalidRequestObject("request object claim %s cannot be encoded", name)
			}
			params.Set(name, string(b))
		}
	}
	return params, nil
}

// Parameter hygiene limits. Large structured values arrive only in bodies bounded at
// 64 KiB by the edge; every other value is short.
const maxValueLen = 8 << 10

var largeParams = []string{"request", "client_assertion", "authorization_details", "claims"}

// checkParams applies RFC 6749 §3.1 ("Request and response parameters MUST NOT be
// included more than once") to every parameter, and refuses values that are not
// UTF-8 (RFC 6749 Appendix B), that contain control characters, or that are absurdly long.
func checkParams(params url.Values) *Error {
	for name, values := range params {
		if len(values) > 1 {
			return InvalidRequest("parameter %s is included more than once", truncate(name))
		}
		if !utf8.ValidString(name) || hasControl(name, false) {
			return InvalidRequest("a parameter name is not valid UTF-8 text")
		}
		for _, v := range values {
			if !utf8.ValidString(v) {
				return InvalidRequest("parameter %s is not valid UTF-8", truncate(name))
			}
			// JSON-valued parameters may carry JSON whitespace.
			if hasControl(v, slices.Contains(largeParams, name)) {
				return InvalidRequest("parameter %s contains control characters", truncate(name))
			}
			if len(v) > maxValueLen && !slices.Contains(largeParams, name) {
				return InvalidRequest("parameter %s is longer than %d bytes", truncate(name), maxValueLen)
			}
		}
	}
	return nil
}

func hasControl(s string, allowJSONSpace bool) bool {
	for _, r := range s {
		if allowJSONSpace && (r == '\t' || r == '\n' || r == '\r') {
			continue
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}

// truncate keeps parameter names short in error descriptions.
func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
