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
		large := slices.Contains(largeParams, name)
		for _, v := range values {
			if plainASCII(v, large) {
				// Printable ASCII (JSON whitespace allowed where large) is valid UTF-8
				// and holds no control and no format character (Unicode Cf has none
				// below U+00AD): only the length is left to check.
				if len(v) > maxValueLen && !large {
					return InvalidRequest("parameter %s is longer than %d bytes", truncate(name), maxValueLen)
				}
				continue
			}
			if !utf8.ValidString(v) {
				return InvalidRequest("parameter %s is not valid UTF-8", truncate(name))
			}
			// JSON-valued parameters may carry JSON whitespace.
			if hasControl(v, large) {
				return InvalidRequest("parameter %s contains control characters", truncate(name))
			}
			// Format characters (Unicode Cf, e.g. U+202E) let a client spoof what a page
			// shows (HasFormatChar); authorization_details escapes are checked decoded (rar.go).
			if HasFormatChar(v) {
				return InvalidRequest("parameter %s contains invisible or bidirectional format characters", truncate(name))
			}
			if len(v) > maxValueLen && !large {
				return InvalidRequest("parameter %s is longer than %d bytes", truncate(name), maxValueLen)
			}
		}
	}
	return nil
}

// plainASCII reports whether s is all printable ASCII (0x20 to 0x7E), or also tab,
// newline and carriage return when allowJSONSpace: the values checkParams needs to
// look at byte by byte only, as nearly all are.
func plainASCII(s string, allowJSONSpace bool) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			if allowJSONSpace && (c == '\t' || c == '\n' || c == '\r') {
				continue
			}
			return false
		}
	}
	return true
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
