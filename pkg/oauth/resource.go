package oauth

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
)

// CodeInvalidTarget is RFC 8707 §2's error code: "The requested resource is invalid,
// missing, unknown, or malformed."
const CodeInvalidTarget = "invalid_target"

// maxResources bounds how many resource parameters one request may carry.
const maxResources = 10

// ValidResource reports whether v may be a resource indicator, RFC 8707 §2: "Its
// value MUST be an absolute URI, as specified by Section 4.3 of [RFC3986]. The URI
// MUST NOT include a fragment component." It is also the check of a client's
// registered `resources`.
func ValidResource(v string) bool {
	u, err := url.Parse(v)
	// RFC 3986 §4.3: absolute-URI = scheme ":" hier-part [ "?" query ]; a fragment
	// is refused, even an empty one ("#" at the end).
	return err == nil && u.IsAbs() && !strings.Contains(v, "#")
}

// parseResources reads the resource parameters of a request (RFC 8707 §2: "Multiple
// resource parameters MAY be used"), each an absolute URI without fragment, without
// duplicates and in the order given.
func parseResources(params url.Values) ([]string, *Error) {
	values := params["resource"]
	if len(values) > maxResources {
		return nil, newError(CodeInvalidTarget, "at most %d resource parameters are accepted", maxResources)
	}
	var out []string
	for _, v := range values {
		if !ValidResource(v) {
			return nil, newError(CodeInvalidTarget, "resource must be an absolute URI without a fragment")
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out, nil
}

// resourceAllowed reports whether client may obtain tokens for resource: the server's
// own audience (Config.AccessTokenAudience: the issuer unless configured, what
// /userinfo accepts) is every client's; any other must be among the client's
// registered `resources`. RFC 8707 §2: the server may refuse a resource by policy
// ("invalid_target ... unknown"), and RFC 9700 §2.3 asks for audience-restricted
// tokens, which an unregistered resource would defeat.
func (s *Service) resourceAllowed(client *Client, resource string) bool {
	return resource == s.cfg.AccessTokenAudience || slices.Contains(client.Resources, resource)
}

// requestResources validates the resource parameters of an authorization request
// (RFC 8707 §2, at /par and /authorize) for client. None requested is none: the
// grant is then for the server's own audience, as before resources existed.
func (s *Service) requestResources(client *Client, params url.Values) ([]string, *Error) {
	resources, err := parseResources(params)
	if err != nil {
		return nil, err
	}
	for _, r := range resources {
		if !s.resourceAllowed(client, r) {
			// The description never quotes the value (it came from the client).
			return nil, newError(CodeInvalidTarget, "a requested resource is not registered for client %s", client.ID)
		}
	}
	return resources, nil
}

// grantAudiences is what an access token of grant may be for: the grant's resources,
// or the server's own audience for a grant that named none.
func (s *Service) grantAudiences(grant *Grant) []string {
	if len(grant.Resources) > 0 {
		return grant.Resources
	}
	return []string{s.cfg.AccessTokenAudience}
}

// tokenAudience is the aud of an access token that client receives from grant at the
// token endpoint. RFC 8707 §2.2: the token request's resource parameters pick some
// of the resources the grant was authorized for ("the requested access rights MUST
// NOT exceed the scope of the authorization grant": narrow, never widen); without
// them the token is for all of them. The client's registration is the policy at
// every issuance, so a resource removed from `resources` is no longer issued, even
// to a grant that has it.
func (s *Service) tokenAudience(client *Client, grant *Grant, params url.Values) ([]string, *Error) {
	requested, err := parseResources(params)
	if err != nil {
		return nil, err
	}
	granted := s.grantAudiences(grant)
	aud := granted
	if len(requested) > 0 {
		for _, r := range requested {
			if !slices.Contains(granted, r) {
				return nil, newError(CodeInvalidTarget, "a requested resource was not authorized for this grant")
			}
		}
		aud = requested
	}
	for _, r := range aud {
		if !s.resourceAllowed(client, r) {
			return nil, newError(CodeInvalidTarget, "a resource of this grant is no longer registered for client %s", client.ID)
		}
	}
	return aud, nil
}

// audience is a JWT aud (RFC 7519 §4.1.3): one value is written as a string, as
// access tokens always had it, several as an array; both are read.
type audience []string

// MarshalJSON implements json.Marshaler.
func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// UnmarshalJSON implements json.Unmarshaler.
func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// value is the audience as a JSON value for a response: a string for one, else an
// array of strings (RFC 7662 §2.2 aud).
func (a audience) value() any {
	if len(a) == 1 {
		return a[0]
	}
	return []string(a)
}
