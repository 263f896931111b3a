package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"time"
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
// authorization request parameters it carries (RFC 9126 §3, RFC 9101 §6) and its exp,
// which bounds the lifetime of the request_uri that will refer to it (Push). Form
// parameters outside it are not used: RFC 9126 §3 "All other request parameters ...
// MUST appear as claims of the JWT".
func (s *Service) requestObjectParams(ctx context.Context, client *Client, raw string) (url.Values, time.Time, error) {
	// RFC 9126 §3 step 2: "Validate the Request Object signature as specified in JAR
	// [RFC9101], Section 6.2"; RFC 9101 §5: only signed objects (never alg none).
	algs := s.signingAlgorithms(client, client.RequestObjectSigningAlg)
	var all map[string]any
	claims, err := s.verifyClientJWT(ctx, client, raw, algs, []string{"", "oauth-authz-req+jwt", "jwt"}, &all)
	if err != nil {
		// No library or fetch message reaches the caller: a jwks_uri error would make
		// the endpoint a port scanner. The cause goes to the log (httpapi reason.go).
		return nil, time.Time{}, invalidRequestObject("the request object signature could not be verified with the client's keys").WithCause(err)
	}
	// RFC 9126 §3 step 3: "reject the request if the authenticated client_id does not
	// match the client_id claim in the Request Object"; requiring iss to match is "at
	// the discretion of the authorization server", and this server requires it.
	if id, _ := all["client_id"].(string); id != client.ID {
		return nil, time.Time{}, invalidRequestObject("request object client_id must be the authenticated client")
	}
	if claims.Issuer != client.ID {
		return nil, time.Time{}, invalidRequestObject("request object iss must be the client_id")
	}
	// RFC 9101 §4: aud "SHOULD be the Issuer Identifier of the authorization server".
	auds, _ := claims.audiences()
	if !slices.Contains(auds, s.cfg.Issuer) {
		return nil, time.Time{}, invalidRequestObject("request object aud must contain the issuer %q", s.cfg.Issuer)
	}
	now := s.now()
	if err := checkTimes(claims, now, maxRequestObjectLifetime); err != nil {
		return nil, time.Time{}, invalidRequestObject("request object: %v", err)
	}
	// RFC 9101 §6.3 via nop's rule: a request object must not nest another request.
	for _, name := range []string{"request", "request_uri"} {
		if _, ok := all[name]; ok {
			return nil, time.Time{}, invalidRequestObject("request object must not contain %s", name)
		}
	}
	// Under the FAPI 2.0 profile every request object is single-use, so it must carry
	// a jti to be remembered by (RFC 7519 §4.1.7: "The "jti" claim can be used to
	// prevent the JWT from being replayed"; a policy of this server's FAPI profile).
	if claims.ID == "" && s.cfg.FAPI2 {
		return nil, time.Time{}, invalidRequestObject("request object jti is required (FAPI 2.0)")
	}
	if claims.ID != "" {
		// RFC 7523 §3 item 7: remembered as long as it would be accepted (exp + skew).
		if err := s.useOnce(ctx, "request", client.ID, claims.ID, lastAccepted(claims.Expiry.Time())); err != nil {
			if errors.Is(err, ErrConflict) {
				return nil, time.Time{}, invalidRequestObject("request object jti was already used")
			}
			return nil, time.Time{}, AsError(err)
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
		case []any:
			if name == "resource" {
				// RFC 8707 §2 allows several resources: in a request object, an
				// array of strings, each a resource parameter.
				for _, r := range v {
					rs, ok := r.(string)
					if !ok {
						return nil, time.Time{}, invalidRequestObject("request object claim resource must be a string or an array of strings")
					}
					params.Add(name, rs)
				}
				continue
			}
			b, err := json.Marshal(v)
			if err != nil {
				return nil, time.Time{}, invalidRequestObject("request object claim %s cannot be encoded", name)
			}
			params.Set(name, string(b))
		default:
			// Structured parameters (claims, authorization_details) travel as JSON text,
			// as they would in a form.
			b, err := json.Marshal(v)
			if err != nil {
				return nil, time.Time{}, invalidRequestObject("request object claim %s cannot be encoded", name)
			}
			params.Set(name, string(b))
		}
	}
	return params, claims.Expiry.Time(), nil
}
