package oauth

import (
	"net/url"
	"slices"
	"unicode/utf8"
)

// Parameter hygiene limits. Large structured values arrive only in bodies bounded at
// 64 KiB by the edge; every other value is short.
const maxValueLen = 8 << 10

var largeParams = []string{"request", "client_assertion", "authorization_details", "claims"}

// checkParams applies RFC 6749 §3.1 ("Request and response parameters MUST NOT be
// included more than once") to every parameter, and refuses values that are not
// UTF-8 (RFC 6749 Appendix B), that contain control characters, or that are absurdly long.
func checkParams(params url.Values) *Error {
	for name, values := range params {
		// RFC 8707 §2 is the one exception: "Multiple resource parameters MAY be used
		// to indicate that the requested token is intended to be used at multiple
		// resources" (their number is bounded in parseResources).
		if len(values) > 1 && name != "resource" {
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
			// Format characters (Unicode Cf, e.g. U+202E) let a client spoof what a page
			// shows (HasFormatChar); authorization_details escapes are checked decoded (rar.go).
			if HasFormatChar(v) {
				return InvalidRequest("parameter %s contains invisible or bidirectional format characters", truncate(name))
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
