package oauth

import (
	"net/url"
	"strings"
)

// CodeInvalidTarget is RFC 8707 §2's error code: "The requested resource is invalid,
// missing, unknown, or malformed."
const CodeInvalidTarget = "invalid_target"

// checkResource applies RFC 8707 §2 to the resource parameter of an authorization or
// token request: "Its value MUST be an absolute URI, as specified by Section 4.3 of
// [RFC3986]. The URI MUST NOT include a fragment component." This server issues no
// audience-restricted tokens, so a well-formed resource is otherwise ignored (RFC
// 6749 §3.1: unrecognised parameters are ignored).
func checkResource(params url.Values) *Error {
	for _, v := range params["resource"] {
		u, err := url.Parse(v)
		// RFC 3986 §4.3: absolute-URI = scheme ":" hier-part [ "?" query ]; a fragment
		// is refused, even an empty one ("#" at the end).
		if err != nil || !u.IsAbs() || strings.Contains(v, "#") {
			return newError(CodeInvalidTarget, "resource must be an absolute URI without a fragment")
		}
	}
	return nil
}
